package analytics

import (
	"testing"
	"time"

	"github.com/floodgate-dev/floodgate/internal/emulator/conversations"
	"github.com/floodgate-dev/floodgate/internal/emulator/platform"
)

func TestMatcher(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 5, 1, 23, 55, 0, 0, time.UTC)
	c := &conversations.Conversation{ID: "c1", Media: conversations.MediaCall, Direction: "outbound", QueueID: "q1",
		Start: t0, End: t0.Add(10 * time.Minute)}
	for _, tc := range []struct {
		name   string
		q      Query
		forJob bool
		want   bool
	}{
		{"inside", Query{Interval: "2026-05-01T00:00:00Z/2026-05-02T00:00:00Z"}, false, true},
		{"overlap next day, query", Query{Interval: "2026-05-02T00:00:00Z/2026-05-03T00:00:00Z"}, false, false},
		{"overlap next day, job", Query{Interval: "2026-05-02T00:00:00Z/2026-05-03T00:00:00Z"}, true, true},
		{"overlap, job, start of day", Query{Interval: "2026-05-02T00:00:00Z/2026-05-03T00:00:00Z", StartOfDayIntervalMatching: true}, true, false},
		{"ended before", Query{Interval: "2026-05-02T01:00:00Z/2026-05-03T00:00:00Z"}, true, false},
		{"and", Query{Interval: "2026-05-01T00:00:00Z/2026-05-02T00:00:00Z", SegmentFilters: []Filter{{Type: "and",
			Predicates: []Predicate{{Dimension: "mediaType", Value: "voice"}, {Dimension: "queueId", Value: "q1"}}}}}, false, true},
		{"and fails", Query{Interval: "2026-05-01T00:00:00Z/2026-05-02T00:00:00Z", SegmentFilters: []Filter{{Type: "and",
			Predicates: []Predicate{{Dimension: "mediaType", Value: "voice"}, {Dimension: "queueId", Value: "q2"}}}}}, false, false},
		{"or", Query{Interval: "2026-05-01T00:00:00Z/2026-05-02T00:00:00Z", ConversationFilters: []Filter{{Type: "or",
			Predicates: []Predicate{{Dimension: "conversationId", Value: "x"}, {Dimension: "originatingDirection", Value: "outbound"}}}}}, false, true},
		{"notExists", Query{Interval: "2026-05-01T00:00:00Z/2026-05-02T00:00:00Z", SegmentFilters: []Filter{{Type: "and",
			Predicates: []Predicate{{Dimension: "userId", Operator: "notExists"}}}}}, false, true},
	} {
		var p platform.Problems
		m := tc.q.Check(&p, "", tc.forJob)
		if !p.Empty() {
			t.Fatalf("%s: problems", tc.name)
		}
		if got := m.Match(c); got != tc.want {
			t.Errorf("%s: Match = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestParseInterval(t *testing.T) {
	t.Parallel()
	for s, ok := range map[string]bool{
		"2026-05-01T00:00:00.000Z/2026-05-02T00:00:00.000Z": true,
		"2026-05-01T00:00:00+02:00/2026-05-01T00:00:00Z":    true,
		"2026-05-02T00:00:00Z/2026-05-01T00:00:00Z":         false,
		"2026-05-01T00:00:00Z":                              false,
		"P1D/2026-05-01T00:00:00Z":                          false,
		"2026-05-01T00:00:00Z/2026-05-01T00:00:00Z":         false,
	} {
		if _, _, got := ParseInterval(s); got != ok {
			t.Errorf("ParseInterval(%q) ok = %v", s, got)
		}
	}
}

func FuzzCursor(f *testing.F) {
	f.Add("e91693bc-580f", "ZTkxNjkzYmM6Mw")
	f.Fuzz(func(t *testing.T, id, cursor string) {
		if n, ok := decodeCursor(id, cursor); ok && n < 0 {
			t.Errorf("negative offset %d accepted", n)
		}
		if n, ok := decodeCursor(id, encodeCursor(id, 7)); !ok || n != 7 {
			t.Errorf("round trip: %d %v", n, ok)
		}
	})
}
