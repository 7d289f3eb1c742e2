package conversations

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/floodgate-dev/floodgate/internal/emulator/events"
	"github.com/floodgate-dev/floodgate/internal/emulator/platform"
)

// Permissions the routes require (reference §4).
const (
	PermMessageReceive = "conversation:message:receive"
	PermMessageCreate  = "conversation:message:create"
	PermConferenceAdd  = "conversation:conference:add"
	PermView           = "conversation:communication:view"
)

// textBody limits of agentless messages, in characters.
const (
	maxTextSMS   = 765
	maxTextOther = 2000
)

// Options configures a Service. Durations are already time-scaled.
type Options struct {
	// ActiveFor is how long a conversation stays connected.
	ActiveFor time.Duration
	// MessageWindow is how long after disconnecting a message conversation
	// still counts for POST /api/v2/conversations/messages.
	MessageWindow time.Duration
	// RecordingDuration is the duration given to each conversation's
	// recording, in platform time.
	RecordingDuration time.Duration
	// OpenMessagingQueue, when set, is the queue open-messaging
	// conversations are routed to (as a platform inbound-message flow
	// would): they get an acd participant on it and publish its topics.
	OpenMessagingQueue string
	// Bus receives conversation events (see Topics); nil publishes none.
	Bus *events.Bus
	// Logger receives eviction notices; nil discards them.
	Logger *slog.Logger
}

// Service serves the conversation routes over a Store. It is safe for
// concurrent use.
type Service struct {
	store Store
	opts  Options

	mu      sync.Mutex
	latest  map[string]*Conversation // address key → latest conversation
	evicted atomic.Int64
}

// New returns a service storing conversations in store.
func New(store Store, opts Options) *Service {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{store: store, opts: opts, latest: map[string]*Conversation{}}
}

// Store returns the service's store, for resources that list
// conversations.
func (s *Service) Store() Store { return s.store }

// Evicted returns how many conversations were evicted to make room.
func (s *Service) Evicted() int64 { return s.evicted.Load() }

// Reset forgets every conversation.
func (s *Service) Reset() {
	s.mu.Lock()
	clear(s.latest)
	s.store.Reset()
	s.mu.Unlock()
}

// Routes returns the conversation routes.
func (s *Service) Routes() []platform.Route {
	const fam = "conversations"
	return []platform.Route{
		{Method: http.MethodPost, Path: "/api/v2/conversations/messages/{integrationId}/inbound/open/message", Family: fam, Permission: PermMessageReceive, Handle: s.inboundOpen},
		{Method: http.MethodPost, Path: "/api/v2/conversations/messages/agentless", Family: fam, Permission: PermMessageCreate, Handle: s.agentless},
		{Method: http.MethodPost, Path: "/api/v2/conversations/messages", Family: fam, Permission: PermMessageCreate, Handle: s.createMessage},
		{Method: http.MethodPost, Path: "/api/v2/conversations/calls", Family: fam, Permission: PermConferenceAdd, Handle: s.createCall},
		{Method: http.MethodGet, Path: "/api/v2/conversations/{conversationId}", Family: fam, Permission: PermView, Handle: s.get("")},
		{Method: http.MethodGet, Path: "/api/v2/conversations/messages/{conversationId}", Family: fam, Permission: PermView, Handle: s.get(MediaMessage)},
		{Method: http.MethodGet, Path: "/api/v2/conversations/calls/{conversationId}", Family: fam, Permission: PermView, Handle: s.get(MediaCall)},
	}
}

// add stores c and indexes it under key (if not empty).
func (s *Service) add(c *Conversation, key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if key != "" {
		c.key = key
	}
	if ev := s.store.Add(c); ev != nil {
		n := s.evicted.Add(1)
		if ev.key != "" && s.latest[ev.key] == ev {
			delete(s.latest, ev.key)
		}
		if n == 1 || n%10000 == 0 {
			s.opts.Logger.Info("conversation store full: evicting oldest", "evicted_total", n, "oldest_id", ev.ID, "oldest_start", platform.FormatTime(ev.Start))
		}
	}
	if key != "" {
		s.latest[key] = c
	}
}

func (s *Service) lookup(key string) *Conversation {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.latest[key]
}

func (s *Service) newConversation(c *platform.Call, media, direction string) *Conversation {
	return &Conversation{ID: platform.NewID(), OrgID: c.OrgID, Media: media, Direction: direction,
		Start: c.Now, End: c.Now.Add(s.opts.ActiveFor),
		RecordingID: platform.NewID(), RecordingDuration: s.opts.RecordingDuration}
}

// Topics returns the notification topics a conversation's events are
// published on: v2.users.{userId}.conversations[.calls|.messages] when it
// has a user, v2.routing.queues.{queueId}.conversations[.calls|.messages]
// when it has a queue (topic names from the SDKs' topic list).
func Topics(c *Conversation) []string {
	var out []string
	media := ".calls"
	if c.Media == MediaMessage {
		media = ".messages"
	}
	if c.UserID != "" {
		out = append(out, "v2.users."+c.UserID+".conversations", "v2.users."+c.UserID+".conversations"+media)
	}
	if c.QueueID != "" {
		out = append(out, "v2.routing.queues."+c.QueueID+".conversations", "v2.routing.queues."+c.QueueID+".conversations"+media)
	}
	return out
}

// notify publishes the conversation as it is now (the body of GET
// /api/v2/conversations/{id}) on its topics. It never blocks.
func (s *Service) notify(c *platform.Call, conv *Conversation) {
	if s.opts.Bus == nil {
		return
	}
	topics := Topics(conv)
	if len(topics) == 0 || !s.opts.Bus.Subscribed(topics...) {
		return
	}
	s.opts.Bus.Publish(c.ContextID, renderEvent(conv, c.Now), topics...)
}

// --- POST /api/v2/conversations/messages/{integrationId}/inbound/open/message

type openFrom struct {
	ID        string `json:"id"`
	IDType    string `json:"idType"`
	FirstName string `json:"firstName,omitempty"`
	LastName  string `json:"lastName,omitempty"`
	Nickname  string `json:"nickname,omitempty"`
	Email     string `json:"email,omitempty"`
}

type openMessageReq struct {
	Channel *struct {
		From      *openFrom       `json:"from"`
		Time      string          `json:"time"`
		MessageID string          `json:"messageId"`
		Metadata  json.RawMessage `json:"metadata"`
	} `json:"channel"`
	Text     *string           `json:"text"`
	Content  []json.RawMessage `json:"content"`
	Metadata json.RawMessage   `json:"metadata"`
}

type openMessageResp struct {
	ID      string `json:"id"`
	Channel struct {
		ID        string `json:"id"`
		Platform  string `json:"platform"`
		Type      string `json:"type"`
		MessageID string `json:"messageId"`
		To        struct {
			ID string `json:"id"`
		} `json:"to"`
		From openFrom `json:"from"`
		Time string   `json:"time"`
	} `json:"channel"`
	Type           string            `json:"type"`
	Text           string            `json:"text,omitempty"`
	Content        []json.RawMessage `json:"content,omitempty"`
	Metadata       json.RawMessage   `json:"metadata,omitempty"`
	ConversationID string            `json:"conversationId,omitempty"`
}

var idTypes = map[string]bool{"Email": true, "Phone": true, "Opaque": true}

func (s *Service) inboundOpen(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	integrationID := r.PathValue("integrationId")
	prefetch := false
	if v := r.URL.Query().Get("prefetchConversationId"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			var p platform.Problems
			p.Invalid("prefetchConversationId", "prefetchConversationId must be true or false.")
			p.Write(w, c)
			return
		}
		prefetch = b
	}
	var req openMessageReq
	if !platform.DecodeJSON(w, r, c, &req) {
		return
	}
	var p platform.Problems
	msgTime := c.Now
	switch {
	case req.Channel == nil:
		p.Required("channel")
	case req.Channel.From == nil:
		p.Required("channel.from")
	default:
		if req.Channel.From.ID == "" {
			p.Required("channel.from.id")
		}
		switch t := req.Channel.From.IDType; {
		case t == "":
			p.Required("channel.from.idType")
		case !idTypes[t]:
			p.Invalid("channel.from.idType", "channel.from.idType must be one of Email, Phone, Opaque.")
		}
		if req.Channel.Time != "" {
			t, err := time.Parse(time.RFC3339Nano, req.Channel.Time)
			if err != nil {
				p.Invalid("channel.time", "channel.time must be an ISO-8601 date-time.")
			}
			msgTime = t
		}
	}
	if (req.Text == nil || *req.Text == "") && len(req.Content) == 0 {
		p.Required("text")
	}
	if !p.Empty() {
		p.Write(w, c)
		return
	}
	key := "open|" + c.OrgID + "|" + integrationID + "|" + req.Channel.From.ID
	conv := s.lookup(key)
	if conv == nil || conv.State(c.Now) != "connected" {
		conv = s.newConversation(c, MediaMessage, "inbound")
		conv.MessengerType, conv.Address, conv.IntegrationID = "open", req.Channel.From.ID, integrationID
		conv.FromAddress, conv.QueueID = integrationID, s.opts.OpenMessagingQueue
		s.add(conv, key)
	}
	conv.AddMessage()
	s.notify(c, conv)
	var resp openMessageResp
	resp.ID = platform.NewID()
	resp.Channel.ID, resp.Channel.Platform, resp.Channel.Type = integrationID, "Open", "Private"
	resp.Channel.MessageID = req.Channel.MessageID
	if resp.Channel.MessageID == "" {
		resp.Channel.MessageID = resp.ID
	}
	resp.Channel.To.ID = integrationID
	resp.Channel.From = *req.Channel.From
	resp.Channel.Time = platform.FormatTime(msgTime)
	resp.Type = "Text"
	if req.Text != nil {
		resp.Text = *req.Text
	} else {
		resp.Type = "Structured"
	}
	resp.Content, resp.Metadata = req.Content, req.Metadata
	if prefetch {
		resp.ConversationID = conv.ID
	}
	platform.WriteJSON(w, http.StatusOK, &resp)
}

// --- POST /api/v2/conversations/messages/agentless

type agentlessReq struct {
	FromAddress                   string          `json:"fromAddress"`
	ToAddress                     string          `json:"toAddress"`
	ToAddressMessengerType        string          `json:"toAddressMessengerType"`
	ExternalContactID             string          `json:"externalContactId"`
	TextBody                      *string         `json:"textBody"`
	MessagingTemplate             json.RawMessage `json:"messagingTemplate"`
	UseExistingActiveConversation bool            `json:"useExistingActiveConversation"`
}

type agentlessResp struct {
	ID             string          `json:"id"`
	ConversationID string          `json:"conversationId"`
	FromAddress    string          `json:"fromAddress"`
	ToAddress      string          `json:"toAddress,omitempty"`
	MessengerType  string          `json:"messengerType"`
	TextBody       string          `json:"textBody,omitempty"`
	Message        agentlessMsg    `json:"message"`
	Timestamp      string          `json:"timestamp"`
	Template       json.RawMessage `json:"messagingTemplate,omitempty"`
	SelfURI        string          `json:"selfUri"`
}

type agentlessMsg struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	Direction string `json:"direction"`
	SelfURI   string `json:"selfUri"`
}

var messengerTypes = map[string]bool{"sms": true, "whatsapp": true, "open": true}

func isNull(raw json.RawMessage) bool { return len(raw) == 0 || string(raw) == "null" }

func (s *Service) agentless(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	var req agentlessReq
	if !platform.DecodeJSON(w, r, c, &req) {
		return
	}
	var p platform.Problems
	if req.FromAddress == "" {
		p.Required("fromAddress")
	}
	if req.ToAddress == "" && req.ExternalContactID == "" {
		p.Required("toAddress")
	}
	mt := req.ToAddressMessengerType
	switch {
	case mt == "":
		p.Required("toAddressMessengerType")
	case !messengerTypes[mt]:
		p.Invalid("toAddressMessengerType", "toAddressMessengerType must be one of sms, whatsapp, open.")
	}
	if mt == "whatsapp" && isNull(req.MessagingTemplate) {
		p.Required("messagingTemplate")
	}
	if mt != "whatsapp" && (req.TextBody == nil || *req.TextBody == "") && isNull(req.MessagingTemplate) {
		p.Required("textBody")
	}
	if req.TextBody != nil {
		max := maxTextOther
		if mt == "sms" {
			max = maxTextSMS
		}
		if utf8.RuneCountInString(*req.TextBody) > max {
			p.TooLong("textBody", max)
		}
	}
	if !p.Empty() {
		p.Write(w, c)
		return
	}
	addr := req.ToAddress
	if addr == "" {
		addr = "externalContact:" + req.ExternalContactID
	}
	key := "out|" + c.OrgID + "|" + mt + "|" + addr
	conv := s.lookup(key)
	if !req.UseExistingActiveConversation || conv == nil || conv.State(c.Now) != "connected" {
		conv = s.newConversation(c, MediaMessage, "outbound")
		conv.MessengerType, conv.Address, conv.FromAddress = mt, req.ToAddress, req.FromAddress
		conv.ExternalContactID = req.ExternalContactID
		s.add(conv, key)
	}
	conv.AddMessage()
	s.notify(c, conv)
	id := platform.NewID()
	resp := agentlessResp{ID: id, ConversationID: conv.ID, FromAddress: req.FromAddress, ToAddress: req.ToAddress,
		MessengerType: mt, Timestamp: platform.FormatTime(c.Now), Template: req.MessagingTemplate,
		SelfURI: "/api/v2/conversations/messages/" + conv.ID + "/messages/" + id}
	if req.TextBody != nil {
		resp.TextBody = *req.TextBody
	}
	resp.Message = agentlessMsg{ID: id, Status: "queued", Direction: "outbound", SelfURI: resp.SelfURI}
	platform.WriteJSON(w, http.StatusOK, &resp)
}

// --- POST /api/v2/conversations/messages

type createMessageReq struct {
	QueueID                 string `json:"queueId"`
	ToAddress               string `json:"toAddress"`
	ToAddressMessengerType  string `json:"toAddressMessengerType"`
	UseExistingConversation bool   `json:"useExistingConversation"`
	ExternalContactID       string `json:"externalContactId"`
	UseUserFromAddress      bool   `json:"useUserFromAddress"`
}

type createResp struct {
	ID      string `json:"id"`
	SelfURI string `json:"selfUri"`
}

// createMessage applies the platform's existing-conversation rule: an
// alerting or connected conversation with the address always fails; a
// disconnected one still inside the message window fails unless
// useExistingConversation is true, in which case it is returned. The
// platform does not document the failure's status and code; the emulator
// answers 400 bad.request.
func (s *Service) createMessage(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	var req createMessageReq
	if !platform.DecodeJSON(w, r, c, &req) {
		return
	}
	var p platform.Problems
	if req.QueueID == "" {
		p.Required("queueId")
	}
	if req.ToAddress == "" {
		p.Required("toAddress")
	}
	mt := req.ToAddressMessengerType
	switch {
	case mt == "":
		p.Required("toAddressMessengerType")
	case !messengerTypes[mt]:
		p.Invalid("toAddressMessengerType", "toAddressMessengerType must be one of sms, whatsapp, open.")
	}
	if !p.Empty() {
		p.Write(w, c)
		return
	}
	key := "out|" + c.OrgID + "|" + mt + "|" + req.ToAddress
	if prev := s.lookup(key); prev != nil {
		switch {
		case prev.State(c.Now) == "connected":
			platform.WriteErrorBody(w, &platform.ErrorBody{Status: http.StatusBadRequest, Code: platform.CodeBadRequest,
				Message: "An existing conversation with this address is alerting or connected.", ContextID: c.ContextID,
				Details: []platform.Detail{{FieldName: "toAddress", ErrorCode: "conversation.exists"}}})
			return
		case c.Now.Before(prev.End.Add(s.opts.MessageWindow)):
			if !req.UseExistingConversation {
				platform.WriteErrorBody(w, &platform.ErrorBody{Status: http.StatusBadRequest, Code: platform.CodeBadRequest,
					Message:   "An existing conversation with this address is within the conversation window; set useExistingConversation to reuse it.",
					ContextID: c.ContextID, Details: []platform.Detail{{FieldName: "useExistingConversation", ErrorCode: "conversation.exists"}}})
				return
			}
			platform.WriteJSON(w, http.StatusOK, createResp{ID: prev.ID, SelfURI: "/api/v2/conversations/messages/" + prev.ID})
			return
		}
	}
	conv := s.newConversation(c, MediaMessage, "outbound")
	conv.MessengerType, conv.Address, conv.QueueID = mt, req.ToAddress, req.QueueID
	conv.ExternalContactID = req.ExternalContactID
	s.add(conv, key)
	s.notify(c, conv)
	platform.WriteJSON(w, http.StatusOK, createResp{ID: conv.ID, SelfURI: "/api/v2/conversations/messages/" + conv.ID})
}

// --- POST /api/v2/conversations/calls

type createCallReq struct {
	PhoneNumber       string            `json:"phoneNumber"`
	CallerID          string            `json:"callerId"`
	CallerIDName      string            `json:"callerIdName"`
	CallFromQueueID   string            `json:"callFromQueueId"`
	CallQueueID       string            `json:"callQueueId"`
	CallUserID        string            `json:"callUserId"`
	ExternalContactID string            `json:"externalContactId"`
	Attributes        map[string]string `json:"attributes"`
	Participants      []json.RawMessage `json:"participants"`
}

func (s *Service) createCall(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	var req createCallReq
	if !platform.DecodeJSON(w, r, c, &req) {
		return
	}
	if req.PhoneNumber == "" && req.CallUserID == "" && req.CallQueueID == "" && req.ExternalContactID == "" && len(req.Participants) == 0 {
		var p platform.Problems
		p.Required("phoneNumber")
		p.Write(w, c)
		return
	}
	conv := s.newConversation(c, MediaCall, "outbound")
	conv.Address = req.PhoneNumber
	conv.FromAddress = req.CallerID
	conv.QueueID = req.CallQueueID
	if conv.QueueID == "" {
		conv.QueueID = req.CallFromQueueID
	}
	conv.UserID, conv.ExternalContactID = req.CallUserID, req.ExternalContactID
	s.add(conv, "")
	s.notify(c, conv)
	platform.WriteJSON(w, http.StatusOK, createResp{ID: conv.ID, SelfURI: "/api/v2/conversations/calls/" + conv.ID})
}

// --- GETs

func (s *Service) get(media string) platform.Handler {
	return func(w http.ResponseWriter, r *http.Request, c *platform.Call) {
		conv, ok := s.store.Get(r.PathValue("conversationId"))
		if !ok || conv.OrgID != c.OrgID || (media != "" && conv.Media != media) {
			platform.NotFound(w, c.ContextID)
			return
		}
		platform.WriteJSON(w, http.StatusOK, render(conv, media, c.Now))
	}
}
