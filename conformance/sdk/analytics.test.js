// Conversation details (reference §6) through the SDK's AnalyticsApi, against
// the emulator run.sh starts with emulator-jobs.yaml (FLOODGATE_JOBS_URL): the
// sync query and its ingestion lag, and an async job from submission to
// FULFILLED with its results paged by cursor.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
	ISO_TIME, UUID, assertErrorBody, assertModel, connect, idFilter, interval, jobsTimings, login, openConversations,
	platformClient, poll, rateHeaders, rejection,
} from './common.js';

connect('FLOODGATE_JOBS_URL');
const timings = jobsTimings();
const INGESTION_LAG = timings['analytics.ingestion_lag'];
const DATA_LAG = timings['analytics.job_data_lag'];
const QUEUED_FOR = timings['analytics.job_queued_for'];
const RUNS_FOR = timings['analytics.job_runs_for'];
assert.ok(INGESTION_LAG > 0 && DATA_LAG > 0 && QUEUED_FOR > 0 && RUNS_FOR > 0, `emulator-jobs.yaml timings: ${JSON.stringify(timings)}`);
const SLACK = 5; // server times are truncated to the millisecond

const analyticsApi = new platformClient.AnalyticsApi();
const conversationsApi = new platformClient.ConversationsApi();

const N = 5; // conversations; results are paged 2 at a time

// checkConversation checks one AnalyticsConversation of ours.
function checkConversation(c) {
	assert.match(c.conversationId, UUID, 'conversationId');
	assert.match(c.conversationStart, ISO_TIME, 'conversationStart');
	assert.ok(c.participants.length >= 1, 'participants');
	const customer = c.participants.find((p) => p.purpose === 'customer');
	assert.ok(customer, `a customer participant: ${JSON.stringify(c.participants)}`);
	for (const p of c.participants) {
		for (const s of p.sessions) {
			assert.equal(s.mediaType, 'message', `session ${JSON.stringify(s)}`);
			assert.ok(s.segments.length >= 1, 'segments');
		}
	}
}

async function query(body) {
	const res = await analyticsApi.postAnalyticsConversationsDetailsQuery(body);
	assert.equal(res.status, 200);
	rateHeaders(res);
	assertModel(res.body, 'AnalyticsConversationQueryResponse');
	for (const c of res.body.conversations ?? []) checkConversation(c);
	return res.body;
}

test('details query: a conversation is visible only after the ingestion lag; paging and order', { timeout: 60_000 }, async (t) => {
	await login();
	const t0 = Date.now();
	const ids = await openConversations(conversationsApi, N, 'query');
	const body = { interval: interval(t0), conversationFilters: [idFilter(ids)], order: 'asc', orderBy: 'conversationStart' };

	// Right after creation (if the client got here within the lag): nothing.
	const early = await query(body);
	if (Date.now() < t0 + INGESTION_LAG) {
		assert.deepEqual(early, { totalHits: 0 }, 'no conversation before the ingestion lag');
	} else {
		t.diagnostic(`early query skipped: creating ${N} conversations took ${Date.now() - t0} ms >= ingestion_lag`);
	}

	const all = await poll('all conversations visible', async () => {
		const res = await query(body);
		if (res.totalHits < N) return undefined;
		return res;
	}, { deadline: INGESTION_LAG + 20_000 });
	const now = Date.now();
	assert.equal(all.totalHits, N);
	assert.deepEqual(all.conversations.map((c) => c.conversationId), ids, 'every conversation once, by conversationStart');
	for (const c of all.conversations) {
		assert.ok(now >= Date.parse(c.conversationStart) + INGESTION_LAG - SLACK, `${c.conversationId} visible ${now - Date.parse(c.conversationStart)} ms after its start`);
		assert.equal(c.conversationEnd, undefined, 'still connected: no conversationEnd');
	}

	// Paging (pageNumber counts from 1) and order desc.
	const page3 = await query({ ...body, paging: { pageSize: 2, pageNumber: 3 } });
	assert.equal(page3.totalHits, N);
	assert.deepEqual(page3.conversations.map((c) => c.conversationId), ids.slice(4, 5));
	const beyond = await query({ ...body, paging: { pageSize: 2, pageNumber: 4 } });
	assert.deepEqual(beyond, { totalHits: N }, 'a page past the end has no conversations');
	const desc = await query({ ...body, order: 'desc' });
	assert.deepEqual(desc.conversations.map((c) => c.conversationId), ids.toReversed());

	// A bad interval is a 400 with details.
	const bad = assertErrorBody(await rejection(analyticsApi.postAnalyticsConversationsDetailsQuery({ interval: 'yesterday' })), 400, 'invalid.value');
	assert.deepEqual(bad.details.map((d) => d.fieldName), ['interval']);
});

test('details job: QUEUED → PENDING → FULFILLED, results paged by cursor exactly once', { timeout: 60_000 }, async (t) => {
	await login();
	const t0 = Date.now();
	const ids = await openConversations(conversationsApi, N, 'job');

	// Availability: job data lags job_data_lag behind now.
	const before = Date.now();
	const avail = await analyticsApi.getAnalyticsConversationsDetailsJobsAvailability();
	assert.equal(avail.status, 200);
	assertModel(avail.body, 'DataAvailabilityResponse');
	const availAt = Date.parse(avail.body.dataAvailabilityDate);
	assert.ok(availAt >= before - DATA_LAG - SLACK && availAt <= Date.now() - DATA_LAG + SLACK, `dataAvailabilityDate ${avail.body.dataAvailabilityDate}, job_data_lag ${DATA_LAG} ms`);

	// Wait out the data lag for the N conversations, then start one more
	// that is too new for the job.
	const newest = Math.max(...(await Promise.all(ids.map(async (id) => Date.parse((await conversationsApi.getConversation(id)).body.startTime)))));
	const wait = newest + DATA_LAG + SLACK - Date.now();
	if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
	const freshStart = Date.now();
	const [fresh] = await openConversations(conversationsApi, 1, 'job-fresh');

	const submitStart = Date.now();
	const submitted = await analyticsApi.postAnalyticsConversationsDetailsJobs({
		interval: interval(t0),
		conversationFilters: [idFilter([...ids, fresh])],
		order: 'asc',
		orderBy: 'conversationStart',
	});
	const submitEnd = Date.now();
	assert.equal(submitted.status, 202);
	assertModel(submitted.body, 'AsyncQueryResponse');
	const jobId = submitted.body.jobId;
	assert.match(jobId ?? '', UUID, 'jobId');

	// Results before FULFILLED: 400.
	const early = await analyticsApi.getAnalyticsConversationsDetailsJobResults(jobId).catch((err) => err);
	if (Date.now() - submitStart < QUEUED_FOR + RUNS_FOR) {
		assertErrorBody(early, 400, 'bad.request');
	}

	// Status: QUEUED, then PENDING, then FULFILLED, by the clock.
	const seen = [];
	const status = await poll('job FULFILLED', async () => {
		const res = await analyticsApi.getAnalyticsConversationsDetailsJob(jobId);
		assert.equal(res.status, 200);
		const s = res.body;
		assertModel(s, 'AsyncQueryStatus');
		assert.match(s.submissionDate, ISO_TIME);
		assert.match(s.expirationDate, ISO_TIME);
		if (seen.at(-1) !== s.state) seen.push(s.state);
		if (s.state !== 'FULFILLED') {
			assert.equal(s.completionDate, undefined, `no completionDate while ${s.state}`);
			return undefined;
		}
		return s;
	}, { every: 100, deadline: QUEUED_FOR + RUNS_FOR + 20_000 });
	assert.ok(['QUEUED,PENDING,FULFILLED', 'PENDING,FULFILLED', 'QUEUED,FULFILLED', 'FULFILLED'].includes(seen.join()), `states ${seen}`);
	const submittedAt = Date.parse(status.submissionDate);
	assert.ok(submittedAt >= submitStart - SLACK && submittedAt <= submitEnd + SLACK, `submissionDate ${status.submissionDate}`);
	assert.equal(Date.parse(status.completionDate), submittedAt + QUEUED_FOR + RUNS_FOR, 'completionDate');
	assert.ok(Date.parse(status.expirationDate) > Date.parse(status.completionDate), 'expirationDate after completionDate');
	assert.equal(status.errorMessage, undefined);

	// Results, 2 per page: every conversation exactly once, in order, the
	// last page without a cursor, dataAvailabilityDate = submission - lag.
	const got = [];
	const cursors = new Set();
	let cursor;
	for (let pages = 1; ; pages++) {
		assert.ok(pages <= N + 2, `more than ${N + 2} pages`);
		const res = await analyticsApi.getAnalyticsConversationsDetailsJobResults(jobId, { pageSize: 2, ...(cursor ? { cursor } : {}) });
		assert.equal(res.status, 200);
		const page = res.body;
		assertModel(page, 'AnalyticsConversationAsyncQueryResponse');
		assert.equal(Date.parse(page.dataAvailabilityDate), submittedAt - DATA_LAG, 'dataAvailabilityDate');
		for (const c of page.conversations ?? []) {
			checkConversation(c);
			assert.ok(Date.parse(c.conversationStart) <= Date.parse(page.dataAvailabilityDate), 'nothing newer than dataAvailabilityDate');
			got.push(c.conversationId);
		}
		if (page.cursor === undefined) break;
		assert.ok((page.conversations ?? []).length === 2, 'a page with a cursor is full');
		assert.ok(!cursors.has(page.cursor), `cursor ${page.cursor} repeats`);
		cursors.add(page.cursor);
		cursor = page.cursor;
	}
	// The fresh conversation started after dataAvailabilityDate unless this
	// machine took longer than job_data_lag between creating it and
	// submitting the job.
	const freshAt = Date.parse((await conversationsApi.getConversation(fresh)).body.startTime);
	const availDate = submittedAt - DATA_LAG;
	let want = ids;
	if (freshAt < availDate || (freshAt === availDate && got.includes(fresh))) {
		t.diagnostic(`the fresh conversation is older than dataAvailabilityDate: ${submitEnd - freshStart} ms from its creation to the job's`);
		want = [...ids, fresh];
	}
	assert.deepEqual(got, want, 'every conversation exactly once, by conversationStart');
	assert.equal(cursors.size, Math.ceil(want.length / 2) - 1, 'pages');

	// A cursor that is not this job's: 400.
	assertErrorBody(await rejection(analyticsApi.getAnalyticsConversationsDetailsJobResults(jobId, { cursor: 'bm90LWEtY3Vyc29y' })), 400, 'invalid.value');

	// DELETE forgets a finished job.
	assert.equal((await analyticsApi.deleteAnalyticsConversationsDetailsJob(jobId)).status, 204);
	assertErrorBody(await rejection(analyticsApi.getAnalyticsConversationsDetailsJob(jobId)), 404, 'not.found');
});
