package recordings

import (
	"encoding/binary"
	"encoding/json"
	"strconv"
	"time"

	"github.com/floodgate-dev/floodgate/internal/emulator/conversations"
	"github.com/floodgate-dev/floodgate/internal/emulator/platform"
)

// silence is the synthetic audio every exported recording holds: a valid
// WAV file of one second of 8 kHz 8-bit mono silence (8,044 bytes), the
// same whatever the recording's duration, so exports stay small.
var silence = func() []byte {
	const rate, n = 8000, 8000
	b := make([]byte, 44+n)
	copy(b[0:], "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+n))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)   // fmt chunk size
	binary.LittleEndian.PutUint16(b[20:], 1)    // PCM
	binary.LittleEndian.PutUint16(b[22:], 1)    // mono
	binary.LittleEndian.PutUint32(b[24:], rate) // sample rate
	binary.LittleEndian.PutUint32(b[28:], rate) // byte rate
	binary.LittleEndian.PutUint16(b[32:], 1)    // block align
	binary.LittleEndian.PutUint16(b[34:], 8)    // bits per sample
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], n)
	for i := 44; i < len(b); i++ {
		b[i] = 0x80 // unsigned 8-bit silence
	}
	return b
}()

// ExportKey returns the key of a conversation's exported recording, laid
// out like the platform's S3 export (UTC start of the conversation):
// {orgId}/year=Y/month=M/day=D/hour=H/conversation_id={id}/{recordingId}.
// Month, day and hour are written without leading zeros.
func ExportKey(c *conversations.Conversation) string {
	t := c.Start.UTC()
	return c.OrgID + "/year=" + strconv.Itoa(t.Year()) + "/month=" + strconv.Itoa(int(t.Month())) +
		"/day=" + strconv.Itoa(t.Day()) + "/hour=" + strconv.Itoa(t.Hour()) +
		"/conversation_id=" + c.ID + "/" + c.RecordingID
}

// Metadata is the body of {recordingId}_metadata.json: a plausible subset
// of the platform's metadata schema plus the exporting job's id.
type Metadata struct {
	OrganizationID string   `json:"organizationId"`
	ConversationID string   `json:"conversationId"`
	RecordingID    string   `json:"recordingId"`
	JobID          string   `json:"jobId"`
	MediaType      string   `json:"mediaType"` // Call or Message
	MessageType    string   `json:"messageType,omitempty"`
	Provider       string   `json:"provider"`
	Direction      string   `json:"direction"`
	StartTime      string   `json:"startTime"`
	EndTime        string   `json:"endTime"`
	DurationMs     int64    `json:"durationMs"`
	UserIDs        []string `json:"userIds"`
	QueueIDs       []string `json:"queueIds"`
	Ani            string   `json:"ani,omitempty"`
	Dnis           string   `json:"dnis,omitempty"`
	AddressFrom    string   `json:"addressFrom,omitempty"`
	AddressTo      string   `json:"addressTo,omitempty"`
	ContentType    string   `json:"contentType"`
	ContentLength  int      `json:"contentLength"`
	ExportDate     string   `json:"exportDate"`
}

func metadata(c *conversations.Conversation, jobID string, now time.Time) []byte {
	m := Metadata{OrganizationID: c.OrgID, ConversationID: c.ID, RecordingID: c.RecordingID, JobID: jobID,
		MediaType: "Call", Provider: "floodgate-emulator", Direction: c.Direction,
		StartTime: platform.FormatTime(c.Start), EndTime: platform.FormatTime(c.Start.Add(c.RecordingDuration)),
		DurationMs: c.RecordingDuration.Milliseconds(), UserIDs: []string{}, QueueIDs: []string{},
		AddressFrom: c.FromAddress, AddressTo: c.Address,
		ContentType: "audio/wav", ContentLength: len(silence), ExportDate: platform.FormatTime(now)}
	if c.Media == conversations.MediaMessage {
		m.MediaType, m.MessageType = "Message", c.MessengerType
	} else {
		m.Ani, m.Dnis = c.FromAddress, c.Address
	}
	if c.UserID != "" {
		m.UserIDs = append(m.UserIDs, c.UserID)
	}
	if c.QueueID != "" {
		m.QueueIDs = append(m.QueueIDs, c.QueueID)
	}
	b, _ := json.MarshalIndent(&m, "", "  ")
	return append(b, '\n')
}
