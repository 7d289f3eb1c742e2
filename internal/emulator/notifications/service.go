package notifications

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/floodgate-dev/floodgate/internal/emulator/events"
	"github.com/floodgate-dev/floodgate/internal/emulator/platform"
)

// Options configures a Service. Durations are already time-scaled.
type Options struct {
	Bus *events.Bus
	// Now is the clock (the server's); channel lifetimes use it.
	Now func() time.Time
	// ChannelsPerClient: one more evicts the least recently used channel,
	// unconnected ones first. TopicsPerChannel: more answer 400.
	ChannelsPerClient, TopicsPerChannel int
	// QueueSize bounds the events waiting for one socket.
	QueueSize int
	// Lifetime is how long a channel lives after creation or its last
	// subscription change. Heartbeat is the heartbeat interval (a real
	// timer).
	Lifetime, Heartbeat time.Duration
	Logger              *slog.Logger
}

// Service holds the channels. It is safe for concurrent use.
type Service struct {
	o Options

	mu       sync.Mutex
	channels map[string]*channel
	byClient map[string][]*channel // creation order

	closing                          atomic.Bool
	sockets                          atomic.Int64
	handlers                         sync.WaitGroup // socket handlers running
	delivered, dropped, unconnected  atomic.Int64
	connections, replaced, evictions atomic.Int64
}

// New returns a service with no channels.
func New(o Options) *Service {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{o: o, channels: map[string]*channel{}, byClient: map[string][]*channel{}}
}

// channel is one notification channel. Fields after the first group are
// guarded by Service.mu; cur is read without it by Deliver.
type channel struct {
	svc                      *Service
	id, clientID, token, uri string
	expires, lastUsed        time.Time
	topics                   []string // in subscription order
	sock                     *socket
	cur                      atomic.Pointer[socket]
}

// Deliver implements events.Subscriber: the event goes to the connected
// socket's queue, or nowhere when no socket is connected (the platform
// does not replay).
func (ch *channel) Deliver(e events.Event) {
	s := ch.cur.Load()
	switch {
	case s == nil:
		ch.svc.unconnected.Add(1)
	case s.q.Push(e):
		ch.svc.delivered.Add(1)
	default:
		ch.svc.dropped.Add(1)
	}
}

// Stats are the service's counters.
type Stats struct {
	Channels, Sockets int64
	// Events: queued to a socket, dropped because its queue was full,
	// published while the channel had no socket.
	Delivered, Dropped, Unconnected int64
	// Connections accepted, connections replaced by a newer one, channels
	// evicted by the per-client limit.
	Connections, Replaced, Evictions int64
}

// Stats returns the counters.
func (s *Service) Stats() Stats {
	s.mu.Lock()
	n := len(s.channels)
	s.mu.Unlock()
	return Stats{Channels: int64(n), Sockets: s.sockets.Load(), Delivered: s.delivered.Load(), Dropped: s.dropped.Load(),
		Unconnected: s.unconnected.Load(), Connections: s.connections.Load(), Replaced: s.replaced.Load(), Evictions: s.evictions.Load()}
}

// Routes returns the channel and subscription routes. None needs a
// permission; subscribing checks each topic's.
func (s *Service) Routes() []platform.Route {
	const fam = "notifications"
	base := "/api/v2/notifications/channels"
	return []platform.Route{
		{Method: http.MethodPost, Path: base, Family: fam, Handle: s.create},
		{Method: http.MethodGet, Path: base, Family: fam, Handle: s.list},
		{Method: http.MethodHead, Path: base + "/{channelId}", Family: fam, Handle: s.head},
		{Method: http.MethodGet, Path: base + "/{channelId}/subscriptions", Family: fam, Handle: s.getSubscriptions},
		{Method: http.MethodPost, Path: base + "/{channelId}/subscriptions", Family: fam, Handle: s.subscribe(false)},
		{Method: http.MethodPut, Path: base + "/{channelId}/subscriptions", Family: fam, Handle: s.subscribe(true)},
		{Method: http.MethodDelete, Path: base + "/{channelId}/subscriptions", Family: fam, Handle: s.unsubscribeAll},
	}
}

// removeLocked forgets ch, unsubscribes it and closes its socket with
// reason. Callers hold s.mu.
func (s *Service) removeLocked(ch *channel, reason string) {
	delete(s.channels, ch.id)
	list := s.byClient[ch.clientID]
	if i := slices.Index(list, ch); i >= 0 {
		list = slices.Delete(list, i, i+1)
	}
	if len(list) == 0 {
		delete(s.byClient, ch.clientID)
	} else {
		s.byClient[ch.clientID] = list
	}
	if s.o.Bus != nil && len(ch.topics) > 0 {
		s.o.Bus.Unsubscribe(ch, ch.topics...)
	}
	if ch.sock != nil {
		ch.sock.stop(closeNormal, reason, false)
		ch.sock = nil
		ch.cur.Store(nil)
	}
}

// Sweep forgets every channel expired at now, closing its socket.
func (s *Service) Sweep(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ch := range s.channels {
		if !now.Before(ch.expires) {
			s.removeLocked(ch, "channel expired")
		}
	}
}

// lookupLocked returns the caller's live channel id. Callers hold s.mu.
func (s *Service) lookupLocked(id, clientID string, now time.Time) *channel {
	ch, ok := s.channels[id]
	if !ok {
		return nil
	}
	if !now.Before(ch.expires) {
		s.removeLocked(ch, "channel expired")
		return nil
	}
	if ch.clientID != clientID {
		return nil
	}
	return ch
}

type channelBody struct {
	ConnectURI string `json:"connectUri"`
	ID         string `json:"id"`
	Expires    string `json:"expires"`
}

func (ch *channel) body() channelBody {
	return channelBody{ConnectURI: ch.uri, ID: ch.id, Expires: platform.FormatTime(ch.expires)}
}

// connectURI points at the emulator's own WebSocket endpoint, on the host
// the client used.
func connectURI(r *http.Request, id string) string {
	scheme := "ws"
	if r.TLS != nil {
		scheme = "wss"
	}
	return scheme + "://" + r.Host + "/channels/streaming-0-" + id
}

// create answers POST /api/v2/notifications/channels. A client holding
// ChannelsPerClient channels loses its least recently used one
// (unconnected first; used = created, connected or subscriptions changed).
func (s *Service) create(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	id := platform.NewID()
	ch := &channel{svc: s, id: id, clientID: c.ClientID, token: c.Token, uri: connectURI(r, id),
		expires: c.Now.Add(s.o.Lifetime), lastUsed: c.Now}
	s.mu.Lock()
	for _, old := range slices.Clone(s.byClient[c.ClientID]) {
		if !c.Now.Before(old.expires) {
			s.removeLocked(old, "channel expired")
		}
	}
	if list := s.byClient[c.ClientID]; len(list) >= s.o.ChannelsPerClient {
		victim := lru(list)
		s.evictions.Add(1)
		s.o.Logger.Info("notification channel evicted", "client", c.ClientID, "channel", victim.id,
			"connected", victim.sock != nil, "limit", s.o.ChannelsPerClient)
		s.removeLocked(victim, "channel evicted: the client opened more than "+strconv.Itoa(s.o.ChannelsPerClient)+" channels")
	}
	s.channels[id] = ch
	s.byClient[c.ClientID] = append(s.byClient[c.ClientID], ch)
	body := ch.body()
	s.mu.Unlock()
	platform.WriteJSON(w, http.StatusOK, body)
}

// lru returns the least recently used unconnected channel, or the least
// recently used one when all are connected.
func lru(list []*channel) *channel {
	var best *channel
	for _, unconnectedOnly := range []bool{true, false} {
		for _, ch := range list {
			if unconnectedOnly && ch.sock != nil {
				continue
			}
			if best == nil || ch.lastUsed.Before(best.lastUsed) {
				best = ch
			}
		}
		if best != nil {
			return best
		}
	}
	return best
}

type entities[T any] struct {
	Entities []T `json:"entities"`
}

// list answers GET /api/v2/notifications/channels: the channels created
// with the caller's token (includechannels=token, the default) or by its
// OAuth client (includechannels=oauthclient).
func (s *Service) list(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	include := r.URL.Query().Get("includechannels")
	if include != "" && include != "token" && include != "oauthclient" {
		var p platform.Problems
		p.Invalid("includechannels", "includechannels must be token or oauthclient.")
		p.Write(w, c)
		return
	}
	out := entities[channelBody]{Entities: []channelBody{}}
	s.mu.Lock()
	for _, ch := range slices.Clone(s.byClient[c.ClientID]) {
		if !c.Now.Before(ch.expires) {
			s.removeLocked(ch, "channel expired")
			continue
		}
		if include == "oauthclient" || ch.token == c.Token {
			out.Entities = append(out.Entities, ch.body())
		}
	}
	s.mu.Unlock()
	platform.WriteJSON(w, http.StatusOK, &out)
}

// head answers HEAD .../channels/{channelId}: 200 while the channel lives,
// else 404.
func (s *Service) head(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	s.mu.Lock()
	ch := s.lookupLocked(r.PathValue("channelId"), c.ClientID, c.Now)
	s.mu.Unlock()
	if ch == nil {
		platform.NotFound(w, c.ContextID)
		return
	}
	w.WriteHeader(http.StatusOK)
}

type topicReq struct {
	ID string `json:"id"`
}

type topicBody struct {
	ID                 string   `json:"id"`
	State              string   `json:"state"`
	RejectionReason    string   `json:"rejectionReason,omitempty"`
	MissingPermissions []string `json:"missingPermissions,omitempty"`
}

func topicBodies(topics []string) []topicBody {
	out := make([]topicBody, 0, len(topics))
	for _, t := range topics {
		out = append(out, topicBody{ID: t, State: "Permitted"})
	}
	return out
}

func (s *Service) getSubscriptions(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	s.mu.Lock()
	ch := s.lookupLocked(r.PathValue("channelId"), c.ClientID, c.Now)
	var out entities[topicBody]
	if ch != nil {
		out.Entities = topicBodies(ch.topics)
	}
	s.mu.Unlock()
	if ch == nil {
		platform.NotFound(w, c.ContextID)
		return
	}
	platform.WriteJSON(w, http.StatusOK, &out)
}

// subscribe answers POST (add) and PUT (replace) .../subscriptions. Every
// topic must be known and permitted, else the whole request fails (400
// for an unknown topic, 403 missing.permissions) unless ignoreErrors=true,
// which subscribes the rest and lists the others as Rejected. More than
// TopicsPerChannel topics answer 400. Subscribing renews the channel's
// lifetime.
func (s *Service) subscribe(replace bool) platform.Handler {
	return func(w http.ResponseWriter, r *http.Request, c *platform.Call) {
		ignore := false
		if v := r.URL.Query().Get("ignoreErrors"); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				var p platform.Problems
				p.Invalid("ignoreErrors", "ignoreErrors must be true or false.")
				p.Write(w, c)
				return
			}
			ignore = b
		}
		var req []topicReq
		if !platform.DecodeJSON(w, r, c, &req) {
			return
		}
		var permitted []string
		var rejected []topicBody
		var unknown, missing []string
		seen := map[string]bool{}
		for i, t := range req {
			if t.ID == "" {
				var p platform.Problems
				p.Required("[" + strconv.Itoa(i) + "].id")
				p.Write(w, c)
				return
			}
			if seen[t.ID] {
				continue
			}
			seen[t.ID] = true
			perm, ok := topicPermission(t.ID)
			switch {
			case !ok:
				unknown = append(unknown, t.ID)
				rejected = append(rejected, topicBody{ID: t.ID, State: "Rejected", RejectionReason: "UnknownTopic"})
			case c.Grants == nil || !c.Grants.Allowed(perm):
				if !slices.Contains(missing, perm) {
					missing = append(missing, perm)
				}
				rejected = append(rejected, topicBody{ID: t.ID, State: "Rejected", RejectionReason: "MissingPermissions", MissingPermissions: []string{perm}})
			default:
				permitted = append(permitted, t.ID)
			}
		}
		if !ignore && len(unknown) > 0 {
			platform.WriteErrorBody(w, &platform.ErrorBody{Status: http.StatusBadRequest, Code: platform.CodeBadRequest,
				Message: "Unknown notification topic " + strconv.Quote(unknown[0]) + ".", ContextID: c.ContextID,
				Details: []platform.Detail{{FieldName: "id", ErrorCode: platform.DetailInvalid}}})
			return
		}
		if !ignore && len(missing) > 0 {
			platform.MissingPermissions(w, c.ContextID, missing, false)
			return
		}
		s.mu.Lock()
		ch := s.lookupLocked(r.PathValue("channelId"), c.ClientID, c.Now)
		if ch == nil {
			s.mu.Unlock()
			platform.NotFound(w, c.ContextID)
			return
		}
		next := permitted
		if !replace {
			next = slices.Clone(ch.topics)
			for _, t := range permitted {
				if !slices.Contains(next, t) {
					next = append(next, t)
				}
			}
		}
		if len(next) > s.o.TopicsPerChannel {
			s.mu.Unlock()
			platform.WriteErrorBody(w, &platform.ErrorBody{Status: http.StatusBadRequest, Code: platform.CodeBadRequest,
				Message:   "A channel can subscribe to at most " + strconv.Itoa(s.o.TopicsPerChannel) + " topics; this request would make " + strconv.Itoa(len(next)) + ".",
				ContextID: c.ContextID, Details: []platform.Detail{{FieldName: "topics", ErrorCode: "topics.limit.exceeded"}}})
			return
		}
		s.setTopicsLocked(ch, next)
		ch.expires, ch.lastUsed = c.Now.Add(s.o.Lifetime), c.Now
		out := entities[topicBody]{Entities: append(topicBodies(next), rejected...)}
		s.mu.Unlock()
		platform.WriteJSON(w, http.StatusOK, &out)
	}
}

// setTopicsLocked changes ch's bus subscriptions to next. Callers hold
// s.mu.
func (s *Service) setTopicsLocked(ch *channel, next []string) {
	var added, removed []string
	for _, t := range next {
		if !slices.Contains(ch.topics, t) {
			added = append(added, t)
		}
	}
	for _, t := range ch.topics {
		if !slices.Contains(next, t) {
			removed = append(removed, t)
		}
	}
	if s.o.Bus != nil {
		s.o.Bus.Unsubscribe(ch, removed...)
		s.o.Bus.Subscribe(ch, added...)
	}
	ch.topics = next
}

// unsubscribeAll answers DELETE .../subscriptions with 204.
func (s *Service) unsubscribeAll(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	s.mu.Lock()
	ch := s.lookupLocked(r.PathValue("channelId"), c.ClientID, c.Now)
	if ch != nil {
		s.setTopicsLocked(ch, nil)
		ch.lastUsed = c.Now
	}
	s.mu.Unlock()
	if ch == nil {
		platform.NotFound(w, c.ContextID)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// Shutdown sends v2.system.socket_closing on every socket, closes them and
// waits (until ctx is done) for their handlers to finish. New sockets are
// refused afterwards.
func (s *Service) Shutdown(ctx context.Context) error {
	s.closing.Store(true)
	s.mu.Lock()
	for _, ch := range s.channels {
		if ch.sock != nil {
			ch.sock.stop(closeGoingAway, "server shutting down", true)
		}
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.handlers.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
