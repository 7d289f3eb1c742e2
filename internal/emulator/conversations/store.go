package conversations

import (
	"sync"
	"sync/atomic"
	"time"
)

// Media kinds of a Conversation.
const (
	MediaCall    = "call"
	MediaMessage = "message"
)

// Conversation is one stored conversation. Its fields are set before it is
// added to a Store and read-only afterwards.
type Conversation struct {
	ID    string
	OrgID string
	// Media is MediaCall or MediaMessage.
	Media string
	// Direction is "inbound" or "outbound".
	Direction string
	Start     time.Time
	// End is when the emulator disconnects it (Start + active_for).
	End time.Time
	// Address is the remote party's address (phone number, messaging
	// address or open-messaging from.id).
	Address string
	// FromAddress is the local address (caller id, sender address).
	FromAddress string
	// MessengerType is sms, whatsapp or open for message conversations.
	MessengerType     string
	QueueID, UserID   string
	IntegrationID     string
	ExternalContactID string
	// RecordingID and RecordingDuration describe the conversation's one
	// recording: calls and message conversations get one each when they
	// are created. The duration is in platform time (active_for, not
	// time-scaled).
	RecordingID       string
	RecordingDuration time.Duration

	messages       atomic.Int64
	recordingState atomic.Int32 // recordingKept, recordingDeleted, recordingArchived
	key            string       // the Service's address index key, "" if none
}

// State returns "connected" before End and "disconnected" from End on.
func (c *Conversation) State(now time.Time) string {
	if now.Before(c.End) {
		return "connected"
	}
	return "disconnected"
}

const (
	recordingKept int32 = iota
	recordingDeleted
	recordingArchived
)

// RecordingDeleted reports whether a DELETE recording job removed the
// recording.
func (c *Conversation) RecordingDeleted() bool { return c.recordingState.Load() == recordingDeleted }

// DeleteRecording marks the recording deleted (a DELETE recording job).
func (c *Conversation) DeleteRecording() { c.recordingState.Store(recordingDeleted) }

// ArchiveRecording marks the recording archived (an ARCHIVE recording
// job) unless it was deleted.
func (c *Conversation) ArchiveRecording() {
	c.recordingState.CompareAndSwap(recordingKept, recordingArchived)
}

// Messages returns the number of messages exchanged so far.
func (c *Conversation) Messages() int64 { return c.messages.Load() }

// AddMessage counts one more message.
func (c *Conversation) AddMessage() { c.messages.Add(1) }

// Store keeps conversations. Implementations are safe for concurrent use.
type Store interface {
	// Add stores c. When the store is full it evicts its oldest
	// conversation and returns it.
	Add(c *Conversation) (evicted *Conversation)
	// Get returns the conversation with id.
	Get(id string) (*Conversation, bool)
	// Range calls fn on the conversations whose Start is in [from, to),
	// in the order they were added (start-time order), until fn returns
	// false. A zero to means no upper bound.
	Range(from, to time.Time, fn func(*Conversation) bool)
	// Len returns the number of conversations stored.
	Len() int
	// Reset forgets every conversation.
	Reset()
}

// Memory is a Store bounded to Max conversations, evicting the oldest.
// It is safe for concurrent use.
type Memory struct {
	max int

	mu    sync.RWMutex
	byID  map[string]*Conversation
	ring  []*Conversation
	start int // index of the oldest in ring once it is full
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty store holding at most max conversations.
func NewMemory(max int) *Memory {
	return &Memory{max: max, byID: map[string]*Conversation{}}
}

// Add implements Store.
func (m *Memory) Add(c *Conversation) (evicted *Conversation) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.ring) < m.max {
		m.ring = append(m.ring, c)
	} else {
		evicted = m.ring[m.start]
		delete(m.byID, evicted.ID)
		m.ring[m.start] = c
		m.start = (m.start + 1) % m.max
	}
	m.byID[c.ID] = c
	return evicted
}

// Get implements Store.
func (m *Memory) Get(id string) (*Conversation, bool) {
	m.mu.RLock()
	c, ok := m.byID[id]
	m.mu.RUnlock()
	return c, ok
}

// Range implements Store. It holds a read lock while it runs; fn must not
// call the store's writing methods.
func (m *Memory) Range(from, to time.Time, fn func(*Conversation) bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	n := len(m.ring)
	for i := range n {
		c := m.ring[(m.start+i)%n]
		if c.Start.Before(from) || (!to.IsZero() && !c.Start.Before(to)) {
			continue
		}
		if !fn(c) {
			return
		}
	}
}

// Len implements Store.
func (m *Memory) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.byID)
}

// Reset implements Store.
func (m *Memory) Reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	clear(m.byID)
	m.ring, m.start = nil, 0
}
