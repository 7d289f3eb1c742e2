package analytics

import (
	"time"

	"github.com/floodgate-dev/floodgate/internal/emulator/conversations"
	"github.com/floodgate-dev/floodgate/internal/emulator/platform"
)

// The AnalyticsConversation subset the emulator answers with. Empty
// optional fields are omitted, as the platform does.
type conversationBody struct {
	ConversationID       string            `json:"conversationId"`
	ConversationStart    string            `json:"conversationStart"`
	ConversationEnd      string            `json:"conversationEnd,omitempty"`
	OriginatingDirection string            `json:"originatingDirection"`
	DivisionIDs          []string          `json:"divisionIds"`
	Participants         []participantBody `json:"participants"`
}

type participantBody struct {
	ParticipantID     string        `json:"participantId"`
	Purpose           string        `json:"purpose"`
	UserID            string        `json:"userId,omitempty"`
	ExternalContactID string        `json:"externalContactId,omitempty"`
	Sessions          []sessionBody `json:"sessions"`
}

type sessionBody struct {
	SessionID   string        `json:"sessionId"`
	MediaType   string        `json:"mediaType"`
	Direction   string        `json:"direction"`
	MessageType string        `json:"messageType,omitempty"`
	Ani         string        `json:"ani,omitempty"`
	Dnis        string        `json:"dnis,omitempty"`
	AddressFrom string        `json:"addressFrom,omitempty"`
	AddressTo   string        `json:"addressTo,omitempty"`
	Recording   bool          `json:"recording,omitempty"`
	Segments    []segmentBody `json:"segments"`
}

type segmentBody struct {
	SegmentStart   string `json:"segmentStart"`
	SegmentEnd     string `json:"segmentEnd,omitempty"`
	SegmentType    string `json:"segmentType"`
	QueueID        string `json:"queueId,omitempty"`
	DisconnectType string `json:"disconnectType,omitempty"`
}

// render builds the analytics view of c as known at now: a customer and an
// internal participant, one session each with one "interact" segment;
// conversationEnd and segmentEnd once it has disconnected.
func render(c *conversations.Conversation, now time.Time) conversationBody {
	start := platform.FormatTime(c.Start)
	end, disconnect := "", ""
	if !now.Before(c.End) {
		end, disconnect = platform.FormatTime(c.End), "endpoint"
	}
	b := conversationBody{ConversationID: c.ID, ConversationStart: start, ConversationEnd: end,
		OriginatingDirection: c.Direction, DivisionIDs: []string{}}
	for _, internal := range []bool{false, true} {
		p := participantBody{Purpose: purpose(c, internal)}
		sess := sessionBody{MediaType: mediaType(c), Direction: c.Direction,
			AddressFrom: c.FromAddress, AddressTo: c.Address, Recording: c.RecordingID != ""}
		seg := segmentBody{SegmentStart: start, SegmentEnd: end, SegmentType: "interact", DisconnectType: disconnect}
		if internal {
			p.ParticipantID = conversations.DerivedID(c.ID, conversations.InternalParticipant)
			p.UserID = c.UserID
			sess.SessionID = conversations.DerivedID(c.ID, conversations.InternalSession)
			seg.QueueID = c.QueueID
		} else {
			p.ParticipantID = conversations.DerivedID(c.ID, conversations.CustomerParticipant)
			p.ExternalContactID = c.ExternalContactID
			sess.SessionID = conversations.DerivedID(c.ID, conversations.CustomerSession)
		}
		if c.Media == conversations.MediaCall {
			sess.Ani, sess.Dnis = c.FromAddress, c.Address
		} else {
			sess.MessageType = c.MessengerType
		}
		sess.Segments = []segmentBody{seg}
		p.Sessions = []sessionBody{sess}
		b.Participants = append(b.Participants, p)
	}
	return b
}
