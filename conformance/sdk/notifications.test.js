// Notifications (reference §7) through the SDK's NotificationsApi and the
// `ws` package, against the emulator run.sh starts with emulator-jobs.yaml
// (FLOODGATE_JOBS_URL, heartbeat every second): a channel, its WebSocket, a
// subscription, one conversation event, ping → pong and a heartbeat.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import {
	ISO_TIME, UUID, assertErrorBody, assertModel, connect, correlationId, jobsTimings, login, platformClient, rateHeaders,
	rejection,
} from './common.js';
import { Socket, rejectedUpgrade } from './ws.js';

const { gateway } = connect('FLOODGATE_JOBS_URL');
const HEARTBEAT = jobsTimings()['notifications.heartbeat_interval'];
assert.ok(HEARTBEAT > 0, 'emulator-jobs.yaml: notifications.heartbeat_interval');

const notificationsApi = new platformClient.NotificationsApi();
const conversationsApi = new platformClient.ConversationsApi();

test('notification channel: subscription, a conversation event, ping → pong, heartbeat', { timeout: 60_000 }, async (t) => {
	await login();

	// The channel: connectUri on the host the SDK called, 24 h of life.
	const before = Date.now();
	const created = await notificationsApi.postNotificationsChannels();
	assert.equal(created.status, 200);
	rateHeaders(created);
	const channel = created.body;
	assertModel(channel, 'Channel');
	assert.match(channel.id ?? '', UUID, 'id');
	assert.equal(channel.connectUri, `ws://${gateway.host}/channels/streaming-0-${channel.id}`);
	assert.match(channel.expires, ISO_TIME, 'expires');
	const life = (Date.parse(channel.expires) - before) / 1000;
	assert.ok(Math.abs(life - 86400) < 120, `channel lifetime ${life} s, want about 86400`);

	assert.equal((await notificationsApi.headNotificationsChannel(channel.id)).status, 200, 'HEAD of a live channel');
	assertErrorBody(await rejection(notificationsApi.getNotificationsChannelSubscriptions(randomUUID())), 404, 'not.found');
	const listed = await notificationsApi.getNotificationsChannels({ includechannels: 'token' });
	assert.equal(listed.status, 200);
	assertModel(listed.body, 'ChannelEntityListing');
	assert.deepEqual(listed.body.entities.filter((c) => c.id === channel.id), [channel]);

	// The WebSocket: an unknown channel is refused before the upgrade.
	assert.equal(await rejectedUpgrade(`ws://${gateway.host}/channels/streaming-0-${randomUUID()}`), 404);
	const socket = await Socket.open(channel.connectUri);
	t.after(() => socket.close());

	// Subscriptions: PUT replaces, POST adds; an unknown topic fails the
	// request unless ignoreErrors=true, which lists it Rejected.
	const userId = randomUUID();
	const topic = `v2.users.${userId}.conversations`;
	const put = await notificationsApi.putNotificationsChannelSubscriptions(channel.id, [{ id: topic }]);
	assert.equal(put.status, 200);
	assertModel(put.body, 'ChannelTopicEntityListing');
	assert.deepEqual(put.body.entities, [{ id: topic, state: 'Permitted' }]);
	const unknown = 'v2.floodgate.no.such.topic';
	assertErrorBody(await rejection(notificationsApi.postNotificationsChannelSubscriptions(channel.id, [{ id: unknown }])), 400, 'bad.request');
	const ignored = await notificationsApi.postNotificationsChannelSubscriptions(channel.id, [{ id: unknown }], { ignoreErrors: true });
	assertModel(ignored.body, 'ChannelTopicEntityListing');
	assert.deepEqual(ignored.body.entities, [
		{ id: topic, state: 'Permitted' },
		{ id: unknown, state: 'Rejected', rejectionReason: 'UnknownTopic' },
	]);
	const current = await notificationsApi.getNotificationsChannelSubscriptions(channel.id);
	assertModel(current.body, 'ChannelTopicEntityListing');
	assert.deepEqual(current.body.entities, [{ id: topic, state: 'Permitted' }]);

	// One event: a call with that user publishes the conversation on the
	// user's topic, with the creating request's correlation id.
	const call = await conversationsApi.postConversationsCalls({ phoneNumber: '+15555550100', callUserId: userId });
	assert.equal(call.status, 200);
	assertModel(call.body, 'CreateCallResponse');
	const conversationId = call.body.id;
	assert.match(conversationId ?? '', UUID, 'conversation id');
	const event = await socket.next('conversation event', (f) => f.topicName === topic);
	assert.deepEqual(Object.keys(event).sort(), ['eventBody', 'metadata', 'topicName', 'version']);
	assert.equal(event.version, '2');
	assert.deepEqual(event.metadata, { CorrelationId: correlationId(call) });
	assert.equal(event.eventBody.id, conversationId);
	assert.ok(event.eventBody.participants.some((p) => p.userId === userId), `a participant with userId ${userId}: ${JSON.stringify(event.eventBody.participants)}`);
	// v2.users.{id}.conversations carries ConversationEventTopicConversation
	// (the SDKs' topic → type map, e.g. the .NET SDK's NotificationTopics).
	assertModel(event.eventBody, 'ConversationEventTopicConversation');

	// ping → pong.
	const mark = socket.frames.length;
	socket.send({ message: 'ping' });
	const pong = await socket.next('pong', (f) => f.topicName === 'channel.metadata' && f.eventBody?.message === 'pong', { from: mark });
	assert.deepEqual(pong, { topicName: 'channel.metadata', eventBody: { message: 'pong' } });

	// A heartbeat every heartbeat_interval.
	const heartbeat = await socket.next('heartbeat', (f) => f.eventBody?.message === 'WebSocket Heartbeat', { timeout: HEARTBEAT + 15_000 });
	assert.deepEqual(heartbeat, { topicName: 'channel.metadata', eventBody: { message: 'WebSocket Heartbeat' } });

	// Every frame so far is an event of ours or channel.metadata.
	for (const f of socket.frames) assert.ok([topic, 'channel.metadata'].includes(f.topicName), `frame ${JSON.stringify(f)}`);

	// DELETE drops every subscription; the channel stays.
	assert.equal((await notificationsApi.deleteNotificationsChannelSubscriptions(channel.id)).status, 204);
	assert.deepEqual((await notificationsApi.getNotificationsChannelSubscriptions(channel.id)).body, { entities: [] });
	assert.equal((await notificationsApi.headNotificationsChannel(channel.id)).status, 200);
	assert.equal(socket.closed, null, 'the socket is still open');
});
