package notifications

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/floodgate-dev/floodgate/internal/emulator/events"
	"github.com/floodgate-dev/floodgate/internal/emulator/platform"
)

// Close codes the emulator sends. The platform documents none; the
// reasons say what happened.
const (
	closeNormal    = websocket.StatusNormalClosure // replaced, evicted, expired
	closeGoingAway = websocket.StatusGoingAway     // server shutdown
)

// Frames the emulator sends besides events.
var (
	heartbeatFrame = []byte(`{"topicName":"channel.metadata","eventBody":{"message":"WebSocket Heartbeat"}}`)
	pongFrame      = []byte(`{"topicName":"channel.metadata","eventBody":{"message":"pong"}}`)
)

// writeTimeout bounds one frame's write: a client that stops reading is
// disconnected rather than holding the socket's writer.
const writeTimeout = 10 * time.Second

// socket is one WebSocket connection of a channel.
type socket struct {
	conn   *websocket.Conn
	q      *events.Queue
	ctx    context.Context
	cancel context.CancelFunc
	guard  *frameGuard // the client's byte stream, checked frame by frame

	once     sync.Once
	code     websocket.StatusCode
	reason   string
	shutdown bool
}

// stop asks the socket's writer to close the connection with code and
// reason (after a v2.system.socket_closing frame when shutdown). Only the
// first call counts. It does not block.
func (k *socket) stop(code websocket.StatusCode, reason string, shutdown bool) {
	k.once.Do(func() {
		k.code, k.reason, k.shutdown = code, reason, shutdown
		k.cancel()
	})
}

type frame struct {
	TopicName string          `json:"topicName"`
	Version   string          `json:"version,omitempty"`
	EventBody json.RawMessage `json:"eventBody"`
	Metadata  *frameMetadata  `json:"metadata,omitempty"`
}

type frameMetadata struct {
	CorrelationID string `json:"CorrelationId"`
}

func eventFrame(e events.Event) []byte {
	b, _ := json.Marshal(frame{TopicName: e.Topic, Version: "2", EventBody: e.Body, Metadata: &frameMetadata{e.CorrelationID}})
	return b
}

func closingFrame() []byte {
	b, _ := json.Marshal(frame{TopicName: "v2.system.socket_closing", Version: "2",
		EventBody: json.RawMessage(`{"message":"The server is shutting down; open a new channel and socket."}`),
		Metadata:  &frameMetadata{platform.NewID()}})
	return b
}

// channelID extracts the channel id from the last path segment
// "streaming-{n}-{channelId}".
func channelID(name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, "streaming-")
	if !ok {
		return "", false
	}
	_, id, ok := strings.Cut(rest, "-")
	return id, ok && id != ""
}

// ServeWS serves GET /channels/{name}, the WebSocket a channel's
// connectUri points at. It is outside the API pipeline: no bearer token
// (the channel id is the credential) and no API rate limit. A second
// connection to a channel closes the first.
func (s *Service) ServeWS(w http.ResponseWriter, r *http.Request) {
	ctxID := platform.NewID()
	id, ok := channelID(r.PathValue("name"))
	now := s.o.Now()
	s.mu.Lock()
	var ch *channel
	if ok {
		if ch = s.channels[id]; ch != nil && !now.Before(ch.expires) {
			s.removeLocked(ch, "channel expired")
			ch = nil
		}
	}
	s.mu.Unlock()
	if ch == nil {
		platform.NotFound(w, ctxID)
		return
	}
	if s.closing.Load() {
		platform.WriteError(w, ctxID, http.StatusServiceUnavailable, platform.CodeServiceUnavailable, platform.MsgServiceUnavailable)
		return
	}
	gw := &guardedWriter{ResponseWriter: w}
	conn, err := websocket.Accept(gw, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return // Accept has answered
	}
	conn.SetReadLimit(MaxFrameBytes)
	ctx, cancel := context.WithCancel(context.Background())
	k := &socket{conn: conn, q: events.NewQueue(s.o.QueueSize), ctx: ctx, cancel: cancel, guard: gw.guard}

	s.mu.Lock()
	if s.channels[id] != ch || s.closing.Load() { // evicted or shutting down meanwhile
		s.mu.Unlock()
		cancel()
		_ = conn.Close(closeNormal, "channel not found")
		return
	}
	if old := ch.sock; old != nil {
		s.replaced.Add(1)
		old.stop(closeNormal, "replaced by a newer connection to the channel", false)
	}
	ch.sock, ch.lastUsed = k, now
	ch.cur.Store(k)
	s.handlers.Add(1)
	s.mu.Unlock()
	defer s.handlers.Done()
	s.connections.Add(1)
	s.sockets.Add(1)
	defer s.sockets.Add(-1)

	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		s.write(k, ch)
	}()
	s.read(k)
	k.stop(closeNormal, "", false)
	<-writerDone

	s.mu.Lock()
	if ch.sock == k {
		ch.sock = nil
		ch.cur.Store(nil)
	}
	s.mu.Unlock()
}

// read handles client frames until the connection ends: {"message":"ping"}
// answers a channel.metadata pong; anything else is ignored.
func (s *Service) read(k *socket) {
	for {
		_, data, err := k.conn.Read(context.Background())
		if err != nil {
			if k.guard.tooLarge() {
				k.stop(websocket.StatusMessageTooBig, "frame over 64 KiB", false)
			}
			return
		}
		var msg struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(data, &msg) == nil && msg.Message == "ping" {
			if !s.send(k, pongFrame) {
				return
			}
		}
	}
}

func (s *Service) send(k *socket, b []byte) bool {
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	if err := k.conn.Write(ctx, websocket.MessageText, b); err != nil {
		k.stop(websocket.StatusInternalError, "write failed", false)
		return false
	}
	return true
}

// write sends queued events and heartbeats until the socket is stopped,
// then closes the connection. At each heartbeat it checks the channel's
// lifetime.
func (s *Service) write(k *socket, ch *channel) {
	hb := time.NewTimer(s.o.Heartbeat)
	defer hb.Stop()
	for {
		select {
		case <-k.ctx.Done():
			if k.shutdown {
				s.send(k, closingFrame())
			}
			_ = k.conn.Close(k.code, k.reason)
			return
		case e := <-k.q.C():
			s.send(k, eventFrame(e))
		case <-hb.C:
			now := s.o.Now()
			s.mu.Lock()
			expired := s.channels[ch.id] == ch && !now.Before(ch.expires)
			if expired {
				s.removeLocked(ch, "channel expired") // stops k
			}
			s.mu.Unlock()
			if !expired {
				s.send(k, heartbeatFrame)
			}
			hb.Reset(s.o.Heartbeat)
		}
	}
}
