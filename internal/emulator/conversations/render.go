package conversations

import (
	"time"

	"github.com/floodgate-dev/floodgate/internal/emulator/platform"
)

type conversationBody struct {
	ID              string            `json:"id"`
	StartTime       string            `json:"startTime,omitempty"` // Conversation only
	EndTime         string            `json:"endTime,omitempty"`
	Address         string            `json:"address,omitempty"` // Conversation only
	Participants    []participantBody `json:"participants"`
	ConversationIDs []string          `json:"conversationIds,omitempty"`
	MaxParticipants int               `json:"maxParticipants,omitempty"`
	OtherMediaURIs  []string          `json:"otherMediaUris,omitempty"`
	RecordingState  string            `json:"recordingState,omitempty"` // Conversation only
	State           string            `json:"state,omitempty"`
	Divisions       []any             `json:"divisions,omitempty"`
	SelfURI         string            `json:"selfUri"`
}

type addressBody struct {
	AddressNormalized string `json:"addressNormalized"`
}

type participantBody struct {
	ID              string            `json:"id"`
	StartTime       string            `json:"startTime"`
	EndTime         string            `json:"endTime,omitempty"`
	ConnectedTime   string            `json:"connectedTime,omitempty"`
	Name            string            `json:"name,omitempty"`
	UserID          string            `json:"userId,omitempty"`
	QueueID         string            `json:"queueId,omitempty"`
	ExternalContact string            `json:"externalContactId,omitempty"`
	Purpose         string            `json:"purpose"`
	ParticipantType string            `json:"participantType,omitempty"`
	Address         string            `json:"address,omitempty"`
	Ani             string            `json:"ani,omitempty"`
	Dnis            string            `json:"dnis,omitempty"`
	Attributes      map[string]string `json:"attributes,omitempty"`
	Calls           []sessionBody     `json:"calls,omitempty"`
	Messages        []sessionBody     `json:"messages,omitempty"`

	// Media-specific GETs flatten the session into the participant.
	State       string       `json:"state,omitempty"`
	Direction   string       `json:"direction,omitempty"`
	Type        string       `json:"type,omitempty"`
	ToAddress   *addressBody `json:"toAddress,omitempty"`
	FromAddress *addressBody `json:"fromAddress,omitempty"`
}

type sessionBody struct {
	ID               string `json:"id"`
	State            string `json:"state"`
	Direction        string `json:"direction"`
	Type             string `json:"type,omitempty"`
	ConnectedTime    string `json:"connectedTime"`
	DisconnectedTime string `json:"disconnectedTime,omitempty"`
}

// render builds the Conversation (media "") or the media-specific
// CallConversation / MessageConversation body.
func render(c *Conversation, media string, now time.Time) *conversationBody {
	state := c.State(now)
	start := platform.FormatTime(c.Start)
	end := ""
	if state == "disconnected" {
		end = platform.FormatTime(c.End)
	}
	selfURI := "/api/v2/conversations/" + c.ID
	if media != "" {
		selfURI = "/api/v2/conversations/" + media + "s/" + c.ID
	}
	// The media-specific bodies (CallConversation, MessageConversation)
	// have no startTime, address or recordingState, and their
	// participants no participantType: the SDK's types declare none.
	b := &conversationBody{ID: c.ID, EndTime: end, SelfURI: selfURI}
	if media == "" {
		b.StartTime, b.Address, b.RecordingState = start, c.Address, "none"
		b.ConversationIDs, b.MaxParticipants, b.State, b.Divisions = []string{c.ID}, 2, state, []any{}
	} else {
		b.OtherMediaURIs = []string{}
	}
	customer := participantBody{ID: derivedID(c.ID, 1), StartTime: start, EndTime: end, ConnectedTime: start,
		Purpose: "customer", ParticipantType: "External", Address: c.Address, ExternalContact: c.ExternalContactID}
	internal := participantBody{ID: derivedID(c.ID, 2), StartTime: start, EndTime: end, ConnectedTime: start,
		UserID: c.UserID, QueueID: c.QueueID, Address: c.FromAddress}
	switch {
	case c.UserID != "":
		internal.Purpose, internal.ParticipantType = "agent", "Internal"
	case c.QueueID != "":
		internal.Purpose, internal.ParticipantType = "acd", "Internal"
	default:
		internal.Purpose, internal.ParticipantType = "workflow", "Internal"
	}
	sess := func(p *participantBody, n byte) {
		s := sessionBody{ID: derivedID(c.ID, n), State: state, Direction: c.Direction, ConnectedTime: start}
		if end != "" {
			s.DisconnectedTime = end
		}
		if c.Media == MediaCall {
			p.Ani, p.Dnis = c.FromAddress, c.Address
			if media == "" {
				p.Calls = []sessionBody{s}
			}
		} else {
			s.Type = c.MessengerType
			if media == "" {
				p.Messages = []sessionBody{s}
			}
		}
		if media != "" {
			p.State, p.Direction = state, c.Direction
			if c.Media == MediaMessage {
				p.Type = c.MessengerType
				p.ToAddress = &addressBody{c.Address}
				p.FromAddress = &addressBody{c.FromAddress}
			}
		}
	}
	sess(&customer, 3)
	sess(&internal, 4)
	if media != "" {
		customer.ParticipantType, internal.ParticipantType = "", ""
	}
	b.Participants = []participantBody{customer, internal}
	return b
}

// Ids derived from a conversation's id (DerivedID's n): its customer and
// internal participants and their sessions.
const (
	CustomerParticipant = 1
	InternalParticipant = 2
	CustomerSession     = 3
	InternalSession     = 4
)

// DerivedID returns the stable id n (one of CustomerParticipant …
// InternalSession) derived from a conversation id, so that participant and
// session ids are the same across GETs and analytics.
func DerivedID(id string, n byte) string { return derivedID(id, n) }

// derivedID returns a stable id derived from a conversation id, so that
// participant and session ids stay the same across GETs.
func derivedID(id string, n byte) string {
	b := []byte(id)
	if len(b) > 0 {
		b[len(b)-1] = "0123456789abcdef"[(int(b[len(b)-1])+int(n))%16]
	}
	return string(b)
}

// The notification topics v2.users.{id}.conversations and
// v2.routing.queues.{id}.conversations carry the SDK's
// ConversationEventTopicConversation, not the REST Conversation: no
// startTime, state, conversationIds or selfUri, and participants without
// startTime, participantType or ani/dnis.
type eventConversation struct {
	ID              string             `json:"id"`
	MaxParticipants int                `json:"maxParticipants"`
	Participants    []eventParticipant `json:"participants"`
	RecordingState  string             `json:"recordingState"`
	Address         string             `json:"address,omitempty"`
}

type eventParticipant struct {
	ID                string            `json:"id"`
	ConnectedTime     string            `json:"connectedTime,omitempty"`
	EndTime           string            `json:"endTime,omitempty"`
	UserID            string            `json:"userId,omitempty"`
	ExternalContactID string            `json:"externalContactId,omitempty"`
	QueueID           string            `json:"queueId,omitempty"`
	Purpose           string            `json:"purpose"`
	Address           string            `json:"address,omitempty"`
	Attributes        map[string]string `json:"attributes,omitempty"`
	Calls             []eventSession    `json:"calls,omitempty"`
	Messages          []eventSession    `json:"messages,omitempty"`
}

type eventSession struct {
	ID               string        `json:"id"`
	State            string        `json:"state"`
	Direction        string        `json:"direction"`
	ConnectedTime    string        `json:"connectedTime,omitempty"`
	DisconnectedTime string        `json:"disconnectedTime,omitempty"`
	ToAddress        *eventAddress `json:"toAddress,omitempty"`
	FromAddress      *eventAddress `json:"fromAddress,omitempty"`
}

type eventAddress struct {
	AddressNormalized string `json:"addressNormalized"`
}

// renderEvent builds a conversation's notification body from its REST
// rendering, keeping the fields the event type declares.
func renderEvent(c *Conversation, now time.Time) *eventConversation {
	b := render(c, "", now)
	e := &eventConversation{ID: b.ID, MaxParticipants: b.MaxParticipants, RecordingState: b.RecordingState, Address: b.Address}
	for _, p := range b.Participants {
		ep := eventParticipant{ID: p.ID, ConnectedTime: p.ConnectedTime, EndTime: p.EndTime, UserID: p.UserID,
			ExternalContactID: p.ExternalContact, QueueID: p.QueueID, Purpose: p.Purpose, Address: p.Address, Attributes: p.Attributes}
		for _, s := range p.Calls {
			ep.Calls = append(ep.Calls, eventSession{ID: s.ID, State: s.State, Direction: s.Direction,
				ConnectedTime: s.ConnectedTime, DisconnectedTime: s.DisconnectedTime})
		}
		for _, s := range p.Messages {
			ep.Messages = append(ep.Messages, eventSession{ID: s.ID, State: s.State, Direction: s.Direction,
				ConnectedTime: s.ConnectedTime, DisconnectedTime: s.DisconnectedTime,
				ToAddress: &eventAddress{c.Address}, FromAddress: &eventAddress{c.FromAddress}})
		}
		e.Participants = append(e.Participants, ep)
	}
	return e
}
