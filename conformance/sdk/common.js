// Helpers shared by the conformance tests: the SDK pointed at an emulator,
// shape checks against the SDK's models with the list of known deviations,
// and assertions on headers and error bodies. Every *.test.js runs in its own
// process (node --test), so each gets its own ApiClient.instance.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import platformClient from 'purecloud-platform-client-v2';
import { deviations } from './models.js';

export { platformClient };

export const clientId = process.env.GC_CLIENT_ID || 'floodgate-demo-client';
export const clientSecret = process.env.GC_CLIENT_SECRET || 'floodgate-demo-secret';

// Where the emulator's bodies differ from the SDK v262 models today: each is a
// non-conformance to fix in internal/emulator. A test fails on a deviation not
// listed here and on a listed one that no longer occurs (then delete it).
export const KNOWN = {
	TokenInfo: [],
	OpenMessageNormalizedMessage: [],
	Conversation: [],
	MessageConversation: [],
	ErrorBody: [],
	CreateCallResponse: [],
	RecordingJob: [],
	FailedRecordingEntityListing: [],
	RecordingJobEntityListing: [],
	AnalyticsConversationQueryResponse: [],
	AsyncQueryResponse: [],
	AsyncQueryStatus: [],
	AnalyticsConversationAsyncQueryResponse: [],
	DataAvailabilityResponse: [],
	Channel: [],
	ChannelEntityListing: [],
	ChannelTopicEntityListing: [],
	ConversationEventTopicConversation: [],
};

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

// connect points the SDK's ApiClient.instance at the emulator whose address
// is in the environment variable env (set by run.sh) and returns it.
// Both API and login requests go to the gateway: the SDK builds
// `${protocol}://${host}:${port}/oauth/token` for loginClientCredentialsGrant
// and `.../api/v2/...` for API calls (configuration.js getConfUrl).
export function connect(env = 'FLOODGATE_URL') {
	const base = process.env[env];
	if (!base) throw new Error(`${env} is not set: run conformance/sdk/run.sh`);
	const gateway = new URL(base);
	const client = platformClient.ApiClient.instance;
	client.setGateway({ host: gateway.hostname, protocol: gateway.protocol.replace(/:$/, ''), port: Number(gateway.port) });
	// Resolve {status, headers, body}, and reject with the same shape.
	client.setReturnExtendedResponses(true);
	return { client, gateway };
}

// assertModel checks body against Models.<model> of the SDK.
export function assertModel(body, model) {
	const found = deviations(body, `Models.${model}`);
	const known = KNOWN[model] ?? [];
	const seen = new Set(found.map((d) => d.key));
	const problems = [
		...found.filter((d) => !known.includes(d.key)).map((d) => `${d.key} at ${d.at}: ${d.what}`),
		...known.filter((k) => !seen.has(k)).map((k) => `${k}: listed in KNOWN.${model} but no longer seen; delete it`),
	];
	if (problems.length > 0) {
		assert.fail(`body does not match the SDK's ${model}:\n  - ${[...new Set(problems)].join('\n  - ')}\nbody: ${JSON.stringify(body)}`);
	}
}

// header reads a response header (axios lower-cases names).
export function header(res, name) {
	const v = res.headers?.[name];
	assert.equal(typeof v, 'string', `header ${name} missing; headers: ${JSON.stringify(res.headers)}`);
	return v;
}

export function intHeader(res, name) {
	const v = header(res, name);
	assert.match(v, /^\d+$/, `header ${name}: ${v}`);
	return Number(v);
}

export function correlationId(res) {
	const id = header(res, 'inin-correlation-id');
	assert.match(id, UUID, 'inin-correlation-id');
	return id;
}

// rateHeaders checks inin-ratelimit-* (§2) and returns them as numbers.
export function rateHeaders(res) {
	const h = {
		count: intHeader(res, 'inin-ratelimit-count'),
		allowed: intHeader(res, 'inin-ratelimit-allowed'),
		reset: intHeader(res, 'inin-ratelimit-reset'),
	};
	assert.ok(h.allowed >= 1 && h.count >= 1 && h.count <= h.allowed, `inin-ratelimit-*: ${JSON.stringify(h)}`);
	return h;
}

// rejection awaits an SDK call that must fail and returns what it rejected
// with: {status, headers, body, error} for API calls.
export async function rejection(call) {
	let res;
	try {
		res = await call;
	} catch (err) {
		return err;
	}
	assert.fail(`expected an error response, got ${res?.status}: ${JSON.stringify(res?.body)}`);
}

// assertErrorBody checks a rejected API call: status, ErrorBody (§3) with the
// given code, and contextId equal to the correlation id.
export function assertErrorBody(err, status, code) {
	assert.equal(err.status, status, `status; body ${JSON.stringify(err.body)}`);
	const body = err.body;
	assert.equal(body.status, status, 'body.status');
	assert.equal(body.code, code, 'body.code');
	assert.equal(typeof body.message, 'string');
	assert.notEqual(body.message, '');
	assert.equal(body.contextId, correlationId(err), 'contextId is the inin-correlation-id');
	assertModel(body, 'ErrorBody');
	return body;
}

// login gets a fresh token (its own, empty rate-limit window) for the SDK's
// ApiClient.instance.
export async function login() {
	const auth = await platformClient.ApiClient.instance.loginClientCredentialsGrant(clientId, clientSecret);
	assert.equal(typeof auth.accessToken, 'string');
	assert.ok(auth.accessToken.length >= 16, `access token ${auth.accessToken}`);
	return auth;
}

export function openMessage(from, text) {
	return { channel: { from, time: new Date().toISOString(), messageId: randomUUID() }, text };
}

// openConversations starts n open-messaging conversations, one sender each,
// and returns their ids in creation order.
export async function openConversations(conversationsApi, n, tag) {
	const integrationId = randomUUID();
	const ids = [];
	for (let i = 0; i < n; i++) {
		const from = { id: `sdk-${tag}-${randomUUID()}`, idType: 'Opaque' };
		const res = await conversationsApi.postConversationsMessageInboundOpenMessage(integrationId, openMessage(from, `${tag} ${i}`), { prefetchConversationId: true });
		assert.equal(res.status, 200);
		assertModel(res.body, 'OpenMessageNormalizedMessage');
		assert.match(res.body.conversationId, UUID, 'conversationId (prefetched)');
		ids.push(res.body.conversationId);
	}
	return ids;
}

// idFilter is a conversationFilters entry selecting exactly the given
// conversations, so that other tests' conversations never match.
export function idFilter(ids) {
	return { type: 'or', predicates: ids.map((value) => ({ type: 'dimension', dimension: 'conversationId', operator: 'matches', value })) };
}

// interval returns the ISO-8601 interval [from - before ms, now + after ms].
export function interval(from, before = 60_000, after = 60_000) {
	return `${new Date(from - before).toISOString()}/${new Date(Date.now() + after).toISOString()}`;
}

// poll calls fn every `every` ms until it returns a value other than
// undefined, and fails after `deadline` ms: bounded, for a loaded machine.
export async function poll(what, fn, { every = 100, deadline = 20_000 } = {}) {
	const end = Date.now() + deadline;
	for (;;) {
		const v = await fn();
		if (v !== undefined) return v;
		if (Date.now() >= end) assert.fail(`${what}: not reached within ${deadline} ms`);
		await sleep(every);
	}
}

// jobsTimings reads the timings of emulator-jobs.yaml (the config of the
// second emulator, FLOODGATE_JOBS_URL) in milliseconds, as
// {"recordings.ready_after": 2000, ...}: the file is the one source of the
// delays the tests wait out. time_scale must be 1 there.
export function jobsTimings() {
	const text = readFileSync(new URL('./emulator-jobs.yaml', import.meta.url), 'utf8');
	const out = {};
	let section = '';
	for (const line of text.split('\n')) {
		const top = /^(\w+):\s*(\S*)\s*(#.*)?$/.exec(line);
		if (top) {
			section = top[1];
			if (top[1] === 'time_scale') assert.equal(Number(top[2]), 1, 'emulator-jobs.yaml: time_scale must be 1');
			continue;
		}
		const m = /^\s+(\w+):\s*(\d+(?:\.\d+)?)(ms|s|m)\s*(#.*)?$/.exec(line);
		if (m) out[`${section}.${m[1]}`] = Number(m[2]) * { ms: 1, s: 1000, m: 60_000 }[m[3]];
	}
	return out;
}
