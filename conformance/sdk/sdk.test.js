// Conformance of `floodgate emulate` with the official Genesys Cloud
// JavaScript SDK (purecloud-platform-client-v2). run.sh starts the emulator
// with emulator.yaml and passes its address in FLOODGATE_URL; expectations
// come from shared/reference/genesys-cloud-api.md §1–§4 and from the SDK's
// own models (index.d.ts, see models.js).

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import platformClient from 'purecloud-platform-client-v2';
import { deviations } from './models.js';

const base = process.env.FLOODGATE_URL;
if (!base) throw new Error('FLOODGATE_URL is not set: run conformance/sdk/run.sh');
const gateway = new URL(base);
const clientId = process.env.GC_CLIENT_ID || 'floodgate-demo-client';
const clientSecret = process.env.GC_CLIENT_SECRET || 'floodgate-demo-secret';

// Both API and login requests go to the gateway: the SDK builds
// `${protocol}://${host}:${port}/oauth/token` for loginClientCredentialsGrant
// and `.../api/v2/...` for API calls (configuration.js getConfUrl).
const client = platformClient.ApiClient.instance;
client.setGateway({ host: gateway.hostname, protocol: gateway.protocol.replace(/:$/, ''), port: Number(gateway.port) });
// Resolve {status, headers, body}, and reject with the same shape.
client.setReturnExtendedResponses(true);
const conversationsApi = new platformClient.ConversationsApi();
const tokensApi = new platformClient.TokensApi();

// Where the emulator's bodies differ from the SDK v262 models today: each is a
// non-conformance to fix in internal/emulator. A test fails on a deviation not
// listed here and on a listed one that no longer occurs (then delete it).
const KNOWN = {
	TokenInfo: [],
	OpenMessageNormalizedMessage: [],
	Conversation: [],
	MessageConversation: [],
	ErrorBody: [],
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
const TOO_MANY = /^Rate limit exceeded the maximum\. Retry the request in \[(\d+)\] seconds$/;

// assertModel checks body against Models.<model> of the SDK.
function assertModel(body, model) {
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
function header(res, name) {
	const v = res.headers?.[name];
	assert.equal(typeof v, 'string', `header ${name} missing; headers: ${JSON.stringify(res.headers)}`);
	return v;
}

function intHeader(res, name) {
	const v = header(res, name);
	assert.match(v, /^\d+$/, `header ${name}: ${v}`);
	return Number(v);
}

function correlationId(res) {
	const id = header(res, 'inin-correlation-id');
	assert.match(id, UUID, 'inin-correlation-id');
	return id;
}

// rateHeaders checks inin-ratelimit-* (§2) and returns them as numbers.
function rateHeaders(res) {
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
async function rejection(call) {
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
function assertErrorBody(err, status, code) {
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

async function login() {
	const auth = await client.loginClientCredentialsGrant(clientId, clientSecret);
	assert.equal(typeof auth.accessToken, 'string');
	assert.ok(auth.accessToken.length >= 16, `access token ${auth.accessToken}`);
	return auth;
}

function openMessage(from, text) {
	return { channel: { from, time: new Date().toISOString(), messageId: randomUUID() }, text };
}

test('client credentials login reaches /oauth/token through setGateway', { timeout: 30_000 }, async () => {
	const before = Date.now();
	const auth = await login();
	// expires_in: the client's lifetime, 24 h by default (§1).
	const lifetime = (auth.tokenExpiryTime - before) / 1000;
	assert.ok(Math.abs(lifetime - 86400) < 120, `token lifetime ${lifetime} s, want about 86400`);

	const me = await tokensApi.getTokensMe();
	assert.equal(me.status, 200);
	assert.match(me.body.organization?.id ?? '', UUID, 'organization.id');
	assertModel(me.body, 'TokenInfo');

	// Wrong secret: {error: invalid_client, ...} (§1; status 400 or 401).
	const err = await rejection(client.loginClientCredentialsGrant(clientId, `${clientSecret}-wrong`));
	assert.ok([400, 401].includes(err.response?.status), `bad secret: status ${err.response?.status}`);
	assert.deepEqual(err.response.data, {
		error: 'invalid_client',
		description: 'authentication failed',
		error_description: 'authentication failed',
	});
});

test('open messages create conversations that read back', { timeout: 30_000 }, async () => {
	await login();
	const run = randomUUID().slice(0, 8);
	const integrationId = randomUUID();
	const senders = [
		{ id: `+1555${String(Date.now()).slice(-7)}`, idType: 'Phone' },
		{ id: `sdk-${run}@example.com`, idType: 'Email', firstName: 'Ada', lastName: 'Lovelace' },
		{ id: `sdk-${run}-opaque`, idType: 'Opaque', nickname: 'conformance' },
	];

	const created = [];
	for (const [i, from] of senders.entries()) {
		const req = openMessage(from, `hello ${i}`);
		const res = await conversationsApi.postConversationsMessageInboundOpenMessage(integrationId, req, { prefetchConversationId: true });
		assert.equal(res.status, 200);
		const m = res.body;
		assertModel(m, 'OpenMessageNormalizedMessage');
		assert.equal(typeof m.id, 'string');
		assert.equal(m.type, 'Text');
		assert.equal(m.text, `hello ${i}`);
		assert.deepEqual(m.channel.from, from, 'channel.from echoes the sender');
		assert.equal(m.channel.messageId, req.channel.messageId);
		assert.equal(typeof m.channel.to.id, 'string');
		assert.match(m.channel.time, ISO_TIME, 'channel.time');
		assert.match(m.conversationId, UUID, 'conversationId (prefetched)');
		correlationId(res);
		rateHeaders(res);
		created.push(m.conversationId);
	}
	assert.equal(new Set(created).size, senders.length, `one conversation per sender: ${created}`);

	// Without prefetchConversationId the response has no conversationId; a
	// sender with a connected conversation joins it.
	const plain = await conversationsApi.postConversationsMessageInboundOpenMessage(integrationId, openMessage(senders[0], 'again'));
	assert.equal(plain.status, 200);
	assert.equal(plain.body.conversationId, undefined, 'conversationId without prefetch');
	const joined = await conversationsApi.postConversationsMessageInboundOpenMessage(integrationId, openMessage(senders[0], 'and again'), { prefetchConversationId: true });
	assert.equal(joined.body.conversationId, created[0], 'the same sender joins its conversation');

	const id = created[0];
	const conv = await conversationsApi.getConversation(id);
	assert.equal(conv.status, 200);
	assertModel(conv.body, 'Conversation');
	assert.equal(conv.body.id, id);
	assert.match(conv.body.startTime, ISO_TIME, 'startTime');
	assert.equal(conv.body.selfUri, `/api/v2/conversations/${id}`);
	assert.ok(conv.body.participants.length >= 1, 'participants');
	const customer = conv.body.participants.find((p) => p.purpose === 'customer');
	assert.ok(customer, `a customer participant: ${JSON.stringify(conv.body.participants)}`);
	assert.ok(customer.messages?.length >= 1, 'the customer has a message session');

	const msg = await conversationsApi.getConversationsMessage(id);
	assert.equal(msg.status, 200);
	assertModel(msg.body, 'MessageConversation');
	assert.equal(msg.body.id, id);
	assert.equal(msg.body.selfUri, `/api/v2/conversations/messages/${id}`);
	assert.ok(msg.body.participants.length >= 1, 'participants');
});

test('400 validation errors carry details[]', { timeout: 30_000 }, async () => {
	await login();
	const err = await rejection(conversationsApi.postConversationsMessageInboundOpenMessage(randomUUID(), { channel: { from: { idType: 'Fax' } } }));
	const body = assertErrorBody(err, 400, 'bad.request');
	assert.ok(Array.isArray(body.details) && body.details.length > 0, 'details[]');
	for (const d of body.details) {
		assert.equal(typeof d.fieldName, 'string', `detail ${JSON.stringify(d)}`);
		assert.equal(typeof d.errorCode, 'string', `detail ${JSON.stringify(d)}`);
	}
	const fields = body.details.map((d) => d.fieldName).sort();
	assert.deepEqual(fields, ['channel.from.id', 'channel.from.idType', 'text']);
	assert.deepEqual(body.errors, []);

	const missing = await rejection(conversationsApi.getConversation(randomUUID()));
	assertErrorBody(missing, 404, 'not.found');
});

test('401 for a bad or missing bearer token', { timeout: 30_000 }, async () => {
	try {
		client.setAccessToken('not-a-token-the-emulator-issued');
		const bad = await rejection(conversationsApi.getConversation(randomUUID()));
		const body = assertErrorBody(bad, 401, 'bad.credentials');
		assert.equal(body.message, 'Invalid login credentials.');

		client.setAccessToken('');
		const none = await rejection(conversationsApi.getConversation(randomUUID()));
		assertErrorBody(none, 401, 'authentication.required');
	} finally {
		client.setAccessToken('');
	}
});

test('429 past the per-token limit, then Retry-After is enough', { timeout: 30_000 }, async () => {
	await login(); // a fresh token: its own, empty window
	const first = await conversationsApi.postConversationsMessageInboundOpenMessage(randomUUID(), openMessage({ id: `sdk-429-${randomUUID()}`, idType: 'Opaque' }, 'hi'), { prefetchConversationId: true });
	const id = first.body.conversationId;
	const { allowed } = rateHeaders(first);
	assert.ok(allowed <= 100, `inin-ratelimit-allowed ${allowed}: emulator.yaml's small limit is not in force`);

	let ok = 1;
	let limited;
	while (!limited && ok <= 2 * allowed) {
		try {
			const res = await conversationsApi.getConversation(id);
			ok++;
			assert.equal(rateHeaders(res).allowed, allowed);
		} catch (err) {
			if (err.status !== 429) throw err;
			limited = err;
		}
	}
	assert.ok(limited, `no 429 after ${ok} requests with inin-ratelimit-allowed ${allowed}`);
	assert.equal(ok, allowed, 'the 429 comes right after the allowed requests');

	const body = assertErrorBody(limited, 429, 'too.many.requests.retry.after');
	const retryAfter = intHeader(limited, 'retry-after');
	assert.ok(retryAfter >= 1, `Retry-After ${retryAfter}`);
	const m = TOO_MANY.exec(body.message);
	assert.ok(m, `429 message: ${body.message}`);
	assert.equal(Number(m[1]), retryAfter, 'the message names the Retry-After seconds');
	assert.deepEqual(body.details, []);
	assert.deepEqual(body.errors, []);
	const rate = rateHeaders(limited);
	assert.equal(rate.count, allowed, 'inin-ratelimit-count on the 429');
	assert.equal(rate.allowed, allowed, 'inin-ratelimit-allowed on the 429');
	assert.ok(rate.reset >= 1 && Math.abs(rate.reset - retryAfter) <= 1, `inin-ratelimit-reset ${rate.reset}, Retry-After ${retryAfter}`);

	await sleep(retryAfter * 1000);
	const after = await conversationsApi.getConversation(id);
	assert.equal(after.status, 200, 'after waiting Retry-After seconds');
});
