// Package notifications holds the emulator's notification channels
// (reference §7): POST/GET /api/v2/notifications/channels, HEAD
// .../channels/{id}, GET/POST/PUT/DELETE .../channels/{id}/subscriptions,
// the topic catalogue with each topic's permission, the per-client channel
// limit with least-recently-used eviction, channel lifetime, and the
// WebSocket endpoint (/channels/streaming-0-{id}) that streams subscribed
// events from the event bus with heartbeats, ping/pong and a
// v2.system.socket_closing notice at shutdown.
package notifications
