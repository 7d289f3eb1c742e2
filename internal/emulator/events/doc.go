// Package events holds the emulator's in-process event bus: resources
// (conversations, recording jobs) publish notification events by topic,
// and notification channels subscribe to topics. Publishing never blocks:
// each subscriber takes events without waiting, and a connected socket
// buffers them in a bounded Queue that drops what does not fit, as the
// platform gives no delivery guarantee.
package events
