// Conformance of `floodgate emulate` with the official Genesys Cloud
// JavaScript SDK (purecloud-platform-client-v2). run.sh starts the emulator
// with emulator.yaml and passes its address in FLOODGATE_URL; expectations
// come from shared/reference/genesys-cloud-api.md §1–§4 and from the SDK's
// own models (index.d.ts, see models.js).

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
	ISO_TIME, UUID, assertErrorBody, assertModel, clientId, clientSecret, connect, correlationId, intHeader, login, openMessage,
	platformClient, rateHeaders, rejection,
} from './common.js';

// The KNOWN deviations, assertModel and the other helpers are in common.js.
const { client } = connect('FLOODGATE_URL');
const conversationsApi = new platformClient.ConversationsApi();
const tokensApi = new platformClient.TokensApi();

const TOO_MANY = /^Rate limit exceeded the maximum\. Retry the request in \[(\d+)\] seconds$/;

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
