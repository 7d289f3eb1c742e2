// Recording bulk jobs (reference §5) through the SDK's RecordingApi, against
// the emulator run.sh starts with emulator-jobs.yaml (FLOODGATE_JOBS_URL):
// an EXPORT job over conversations made here, from PENDING through READY and
// PROCESSING to FULFILLED, the per-org cap of 2 active jobs, cancellation,
// the failed-recordings listing, the job's notification topic, and the files
// written to the export directory.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import {
	ISO_TIME, UUID, assertErrorBody, assertModel, clientId, connect, correlationId, idFilter, interval, jobsTimings, login,
	openConversations, platformClient, poll, rateHeaders, rejection,
} from './common.js';
import { Socket } from './ws.js';

connect('FLOODGATE_JOBS_URL');
const timings = jobsTimings();
const READY_AFTER = timings['recordings.ready_after'];
const EXPORT_TIME = timings['recordings.export_time'];
assert.ok(READY_AFTER > 0 && EXPORT_TIME > 0, `emulator-jobs.yaml timings: ${JSON.stringify(timings)}`);
// Server times are formatted to the millisecond (truncated): a little slack
// for comparing them with Date.now() on the same machine.
const SLACK = 5;

const recordingApi = new platformClient.RecordingApi();
const conversationsApi = new platformClient.ConversationsApi();
const notificationsApi = new platformClient.NotificationsApi();

const N = 3; // conversations, one recording each

// checkJob checks a RecordingJob body's invariants.
function checkJob(job, id) {
	assertModel(job, 'RecordingJob');
	assert.equal(job.id, id);
	assert.equal(job.selfUri, `/api/v2/recording/jobs/${id}`);
	assert.equal(job.failedRecordings, `/api/v2/recording/jobs/${id}/failedrecordings`);
	assert.equal(job.user?.id, clientId, 'user is the creating client');
	assert.match(job.dateCreated, ISO_TIME, 'dateCreated');
	const done = job.totalProcessedRecordings + job.totalFailedRecordings + job.totalSkippedRecordings;
	assert.ok(done <= job.totalRecordings, `resolved ${done} of ${job.totalRecordings}`);
	if (job.totalRecordings > 0) assert.equal(job.percentProgress, Math.floor((done * 100) / job.totalRecordings), 'percentProgress');
	return job;
}

async function getJob(id) {
	const res = await recordingApi.getRecordingJob(id);
	assert.equal(res.status, 200);
	return checkJob(res.body, id);
}

test('recording EXPORT job: PENDING → READY → PROCESSING → FULFILLED, cap, cancel, events, files', { timeout: 60_000 }, async (t) => {
	await login();
	const t0 = Date.now();
	const ids = await openConversations(conversationsApi, N, 'rec');
	const query = {
		action: 'EXPORT',
		actionDate: new Date().toISOString(),
		integrationId: randomUUID(),
		conversationQuery: { interval: interval(t0), conversationFilters: [idFilter(ids)] },
	};

	// 1. POST: 202 with the PENDING job, echoing the query.
	const capStart = Date.now();
	const created = await recordingApi.postRecordingJobs(query);
	assert.equal(created.status, 202);
	rateHeaders(created);
	const jobId = created.body.id;
	assert.match(jobId ?? '', UUID, 'id');
	const pending = checkJob(created.body, jobId);
	assert.equal(pending.state, 'PENDING');
	assert.deepEqual(pending.recordingJobsQuery, { ...query, includeRecordingsWithSensitiveData: false }, 'recordingJobsQuery echoes the request');
	assert.equal(pending.totalRecordings, 0, 'totals are set at READY');
	assert.equal(pending.percentProgress, 0);
	const createdAt = Date.parse(pending.dateCreated);
	assert.ok(createdAt >= capStart - SLACK && createdAt <= Date.now() + SLACK, `dateCreated ${pending.dateCreated}`);

	// 2. The per-org cap: a second PENDING job is accepted, a third is not
	// (README: 429 too.many.requests, no Retry-After). Only meaningful while
	// both are PENDING, i.e. within ready_after of the first.
	const second = await recordingApi.postRecordingJobs(query);
	assert.equal(second.status, 202);
	assert.equal(checkJob(second.body, second.body.id).state, 'PENDING');
	let third;
	try {
		third = await recordingApi.postRecordingJobs(query);
	} catch (err) {
		third = err;
	}
	if (Date.now() - capStart < READY_AFTER) {
		const body = assertErrorBody(third, 429, 'too.many.requests');
		assert.equal(third.headers['retry-after'], undefined, 'no Retry-After on the cap answer');
		assert.match(body.message, /READY/, 'the message says what to wait for');
		rateHeaders(third);
	} else {
		t.diagnostic(`cap check skipped: the three POSTs took ${Date.now() - capStart} ms >= ready_after`);
		if (third.status === 202) await recordingApi.deleteRecordingJob(third.body.id);
	}

	// 3. DELETE of an unfinished job cancels it; DELETE of a finished one
	// forgets it.
	const cancelled = await recordingApi.deleteRecordingJob(second.body.id);
	assert.equal(cancelled.status, 204);
	assert.equal((await getJob(second.body.id)).state, 'CANCELLED');
	assert.equal((await recordingApi.deleteRecordingJob(second.body.id)).status, 204);
	assertErrorBody(await rejection(recordingApi.getRecordingJob(second.body.id)), 404, 'not.found');

	// 4. A channel on the job's topic (v2.recording.jobs.{id}, the emulator's).
	const topic = `v2.recording.jobs.${jobId}`;
	const channel = (await notificationsApi.postNotificationsChannels()).body;
	assertModel(channel, 'Channel');
	const socket = await Socket.open(channel.connectUri);
	t.after(() => socket.close());
	const sub = await notificationsApi.putNotificationsChannelSubscriptions(channel.id, [{ id: topic }]);
	assertModel(sub.body, 'ChannelTopicEntityListing');
	assert.deepEqual(sub.body.entities.map((e) => [e.id, e.state]), [[topic, 'Permitted']]);

	// 5. READY after ready_after, with the totals of the matched conversations.
	const ready = await poll('job READY', async () => {
		const before = Date.now();
		const job = await getJob(jobId);
		if (job.state === 'PENDING') {
			assert.ok(before < createdAt + READY_AFTER + SLACK, `still PENDING ${before - createdAt} ms after dateCreated`);
			return undefined;
		}
		assert.equal(job.state, 'READY');
		assert.ok(Date.now() >= createdAt + READY_AFTER - SLACK, `READY ${Date.now() - createdAt} ms after dateCreated, ready_after ${READY_AFTER}`);
		return job;
	}, { deadline: READY_AFTER + 20_000 });
	assert.equal(ready.totalConversations, N, 'totalConversations');
	assert.equal(ready.totalRecordings, N, 'totalRecordings');
	assert.equal(ready.totalProcessedRecordings, 0);
	assert.equal(ready.percentProgress, 0);

	// 6. PUT: only {"state":"PROCESSING"}; 202 with the PROCESSING job.
	assertErrorBody(await rejection(recordingApi.putRecordingJob(jobId, { state: 'FULFILLED' })), 400, 'invalid.value');
	const putStart = Date.now();
	const executed = await recordingApi.putRecordingJob(jobId, { state: 'PROCESSING' });
	assert.equal(executed.status, 202);
	assert.equal(checkJob(executed.body, jobId).state, 'PROCESSING');
	const putCorrelation = correlationId(executed);
	assertErrorBody(await rejection(recordingApi.putRecordingJob(jobId, { state: 'PROCESSING' })), 400, 'bad.request');

	// 7. FULFILLED once every recording is exported (export_time each);
	// percentProgress never goes back.
	let progress = 0;
	const fulfilled = await poll('job FULFILLED', async () => {
		const job = await getJob(jobId);
		assert.ok(job.percentProgress >= progress, `percentProgress went from ${progress} to ${job.percentProgress}`);
		progress = job.percentProgress;
		if (job.state === 'PROCESSING') return undefined;
		assert.equal(job.state, 'FULFILLED', `job: ${JSON.stringify(job)}`);
		return job;
	}, { deadline: N * EXPORT_TIME + 20_000 });
	assert.ok(Date.now() - putStart >= N * EXPORT_TIME - SLACK, `FULFILLED ${Date.now() - putStart} ms after the PUT, want >= ${N} x ${EXPORT_TIME}`);
	assert.equal(fulfilled.totalProcessedRecordings, N);
	assert.equal(fulfilled.totalFailedRecordings, 0);
	assert.equal(fulfilled.totalSkippedRecordings, 0);
	assert.equal(fulfilled.percentProgress, 100);
	assert.equal(fulfilled.errorMessage, undefined);

	// 8. The state changes arrived on the topic, in order, as RecordingJob
	// bodies; the PUT's change carries the PUT's correlation id.
	await socket.next('FULFILLED event', (f) => f.topicName === topic && f.eventBody?.state === 'FULFILLED');
	for (const f of socket.frames) assert.ok([topic, 'channel.metadata'].includes(f.topicName), `frame ${JSON.stringify(f)}`);
	const events = socket.frames.filter((f) => f.topicName === topic);
	for (const e of events) {
		assert.equal(e.version, '2');
		assert.match(e.metadata?.CorrelationId ?? '', UUID, 'metadata.CorrelationId');
		checkJob(e.eventBody, jobId);
	}
	const states = events.map((e) => e.eventBody.state);
	assert.ok(['READY,PROCESSING,FULFILLED', 'PROCESSING,FULFILLED'].includes(states.join()), `event states ${states}`);
	assert.equal(events.find((e) => e.eventBody.state === 'PROCESSING').metadata.CorrelationId, putCorrelation);
	assert.deepEqual(events.at(-1).eventBody, fulfilled, 'the FULFILLED event is the job as GET shows it');

	// 9. No failed recordings.
	const failed = await recordingApi.getRecordingJobFailedrecordings(jobId);
	assert.equal(failed.status, 200);
	assertModel(failed.body, 'FailedRecordingEntityListing');
	assert.deepEqual(failed.body.entities, []);
	assert.equal(failed.body.total, 0);
	assert.equal(failed.body.pageNumber, 1);

	// 10. The job list shows it.
	const list = await recordingApi.getRecordingJobs({ jobType: 'EXPORT', showOnlyMyJobs: true, pageSize: 100 });
	assert.equal(list.status, 200);
	assertModel(list.body, 'RecordingJobEntityListing');
	assert.deepEqual(list.body.entities.find((j) => j.id === jobId), fulfilled);

	// 11. The export: one recording and its metadata per conversation, laid
	// out like the platform's S3 export.
	const exportDir = process.env.FLOODGATE_JOBS_EXPORT_DIR;
	if (exportDir) {
		const files = readdirSync(exportDir, { recursive: true }).map(String);
		for (const id of ids) {
			const dir = files.find((f) => new RegExp(`^${UUID.source.slice(1, -1)}/year=\\d+/month=\\d+/day=\\d+/hour=\\d+/conversation_id=${id}$`).test(f));
			assert.ok(dir, `export directory of conversation ${id}; files: ${files.join(' ')}`);
			const inside = readdirSync(path.join(exportDir, dir)).sort();
			assert.equal(inside.length, 2, `files of ${id}: ${inside}`);
			const [recording, meta] = inside;
			assert.equal(meta, `${recording}_metadata.json`);
			assert.ok(statSync(path.join(exportDir, dir, recording)).size > 0, 'recording file');
			const metadata = JSON.parse(readFileSync(path.join(exportDir, dir, meta), 'utf8'));
			assert.equal(metadata.conversationId, id);
			assert.equal(metadata.recordingId, recording);
			assert.equal(metadata.jobId, jobId);
		}
	} else {
		t.diagnostic('FLOODGATE_JOBS_EXPORT_DIR not set: export files not checked');
	}

	// 12. A finished job is forgotten by DELETE.
	assert.equal((await recordingApi.deleteRecordingJob(jobId)).status, 204);
	assertErrorBody(await rejection(recordingApi.getRecordingJob(jobId)), 404, 'not.found');
});
