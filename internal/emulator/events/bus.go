package events

import (
	"encoding/json"
	"sync"
	"sync/atomic"
)

// Event is one notification: the topic it was published on, its body
// (already JSON) and the correlation id of the request that caused it.
type Event struct {
	Topic         string
	Body          json.RawMessage
	CorrelationID string
}

// Subscriber receives events. Deliver is called by publishers while they
// may hold their own locks: it must return at once, never block.
type Subscriber interface {
	Deliver(e Event)
}

// Bus routes published events to the subscribers of their topic. The zero
// value is not usable; call New. A Bus is safe for concurrent use.
type Bus struct {
	mu     sync.RWMutex
	topics map[string]map[Subscriber]struct{}

	published atomic.Int64 // events that had at least one subscriber
}

// New returns an empty bus.
func New() *Bus { return &Bus{topics: map[string]map[Subscriber]struct{}{}} }

// Subscribe adds s to each topic's subscribers.
func (b *Bus) Subscribe(s Subscriber, topics ...string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, t := range topics {
		set, ok := b.topics[t]
		if !ok {
			set = map[Subscriber]struct{}{}
			b.topics[t] = set
		}
		set[s] = struct{}{}
	}
}

// Unsubscribe removes s from each topic's subscribers.
func (b *Bus) Unsubscribe(s Subscriber, topics ...string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, t := range topics {
		if set, ok := b.topics[t]; ok {
			delete(set, s)
			if len(set) == 0 {
				delete(b.topics, t)
			}
		}
	}
}

// Subscribed reports whether any topic has a subscriber, so publishers can
// skip building bodies nobody will read.
func (b *Bus) Subscribed(topics ...string) bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, t := range topics {
		if len(b.topics[t]) > 0 {
			return true
		}
	}
	return false
}

// Publish delivers body, encoded as JSON once, to the subscribers of each
// topic (a subscriber of several of them gets one event per topic). It
// returns at once: subscribers never block. body is not encoded when no
// topic has a subscriber; a body that cannot be encoded is dropped.
func (b *Bus) Publish(correlationID string, body any, topics ...string) {
	if b == nil || !b.Subscribed(topics...) {
		return
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, t := range topics {
		set := b.topics[t]
		if len(set) == 0 {
			continue
		}
		b.published.Add(1)
		e := Event{Topic: t, Body: raw, CorrelationID: correlationID}
		for s := range set {
			s.Deliver(e)
		}
	}
}

// Published returns how many (event, topic) pairs found a subscriber.
func (b *Bus) Published() int64 { return b.published.Load() }

// Queue is a bounded FIFO of events for one consumer (a WebSocket
// writer). Push never blocks: when the queue is full the new event is
// dropped and counted. It is safe for concurrent use.
type Queue struct {
	ch      chan Event
	dropped atomic.Int64
}

// NewQueue returns a queue holding at most size events (at least 1).
func NewQueue(size int) *Queue { return &Queue{ch: make(chan Event, max(size, 1))} }

// Push appends e, or drops it when the queue is full. It reports whether e
// was queued.
func (q *Queue) Push(e Event) bool {
	select {
	case q.ch <- e:
		return true
	default:
		q.dropped.Add(1)
		return false
	}
}

// C returns the channel the consumer receives events from.
func (q *Queue) C() <-chan Event { return q.ch }

// Dropped returns how many events did not fit.
func (q *Queue) Dropped() int64 { return q.dropped.Load() }

// Len returns the number of events waiting.
func (q *Queue) Len() int { return len(q.ch) }
