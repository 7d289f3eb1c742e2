package analytics

import (
	"strconv"
	"strings"
	"time"

	"github.com/floodgate-dev/floodgate/internal/emulator/conversations"
	"github.com/floodgate-dev/floodgate/internal/emulator/platform"
)

// Predicate is one test of a filter: dimension operator value.
type Predicate struct {
	Type      string `json:"type,omitempty"`
	Dimension string `json:"dimension,omitempty"`
	Operator  string `json:"operator,omitempty"`
	Value     string `json:"value,omitempty"`
}

// Clause groups predicates joined by Type ("and" or "or").
type Clause struct {
	Type       string      `json:"type"`
	Predicates []Predicate `json:"predicates"`
}

// Filter joins its predicates and clauses by Type ("and" or "or"). Several
// filters in a query must all match.
type Filter struct {
	Type       string      `json:"type"`
	Clauses    []Clause    `json:"clauses,omitempty"`
	Predicates []Predicate `json:"predicates,omitempty"`
}

// Paging is the sync query's page selection.
type Paging struct {
	PageSize   int `json:"pageSize"`
	PageNumber int `json:"pageNumber"`
}

// Query is the part of ConversationQuery and AsyncConversationQuery the
// emulator understands. Other fields (evaluationFilters,
// surveyFilters, aggregations, …) are accepted and ignored.
type Query struct {
	Interval            string   `json:"interval"`
	ConversationFilters []Filter `json:"conversationFilters,omitempty"`
	SegmentFilters      []Filter `json:"segmentFilters,omitempty"`
	Order               string   `json:"order,omitempty"`
	OrderBy             string   `json:"orderBy,omitempty"`
	Paging              *Paging  `json:"paging,omitempty"`
	// Limit and StartOfDayIntervalMatching apply to async jobs.
	Limit                      int  `json:"limit,omitempty"`
	StartOfDayIntervalMatching bool `json:"startOfDayIntervalMatching,omitempty"`
}

// Dimensions the emulator can filter on. Conversation filters see the
// conversation's dimensions; segment filters see one session (of the
// customer or the internal participant) at a time, and match when any
// session matches.
var (
	conversationDims = []string{"conversationId", "originatingDirection", "mediaType", "divisionId"}
	segmentDims      = []string{"conversationId", "mediaType", "direction", "queueId", "userId", "purpose",
		"messageType", "ani", "dnis", "addressFrom", "addressTo", "participantId", "sessionId"}
	operators = []string{"matches", "exists", "notExists"}
)

// ParseInterval parses an ISO-8601 interval "start/end" of two date-times.
func ParseInterval(s string) (from, to time.Time, ok bool) {
	a, b, found := strings.Cut(s, "/")
	if !found {
		return time.Time{}, time.Time{}, false
	}
	from, err1 := time.Parse(time.RFC3339Nano, a)
	to, err2 := time.Parse(time.RFC3339Nano, b)
	if err1 != nil || err2 != nil || !from.Before(to) {
		return time.Time{}, time.Time{}, false
	}
	return from, to, true
}

// Matcher decides which conversations a checked Query selects.
type Matcher struct {
	From, To   time.Time
	StartOfDay bool // also require a start on a UTC day the interval touches
	conv, seg  []Filter
}

// Check validates q, recording problems under field prefix (e.g.
// "conversationQuery."), and returns its matcher. forJob selects the async
// job rules (lifetime overlap unless startOfDayIntervalMatching).
func (q *Query) Check(p *platform.Problems, prefix string, forJob bool) *Matcher {
	m := &Matcher{conv: q.ConversationFilters, seg: q.SegmentFilters, StartOfDay: !forJob || q.StartOfDayIntervalMatching}
	switch from, to, ok := ParseInterval(q.Interval); {
	case q.Interval == "":
		p.Required(prefix + "interval")
	case !ok:
		p.Invalid(prefix+"interval", prefix+`interval must be an ISO-8601 interval "start/end" of two date-times, start before end.`)
	default:
		m.From, m.To = from, to
	}
	switch q.Order {
	case "", "asc", "desc":
	default:
		p.Invalid(prefix+"order", prefix+"order must be asc or desc.")
	}
	switch q.OrderBy {
	case "", "conversationStart", "segmentStart", "segmentEnd", "conversationEnd":
	default:
		p.Invalid(prefix+"orderBy", prefix+"orderBy must be conversationStart, conversationEnd, segmentStart or segmentEnd.")
	}
	if q.Limit < 0 {
		p.Invalid(prefix+"limit", prefix+"limit must be >= 0.")
	}
	checkFilters(p, prefix+"conversationFilters", q.ConversationFilters, conversationDims)
	checkFilters(p, prefix+"segmentFilters", q.SegmentFilters, segmentDims)
	return m
}

func checkFilters(p *platform.Problems, field string, fs []Filter, dims []string) {
	for i, f := range fs {
		ff := field + "[" + strconv.Itoa(i) + "]"
		checkJoin(p, ff+".type", f.Type)
		if len(f.Predicates) == 0 && len(f.Clauses) == 0 {
			p.Required(ff + ".predicates")
		}
		for j, c := range f.Clauses {
			cf := ff + ".clauses[" + strconv.Itoa(j) + "]"
			checkJoin(p, cf+".type", c.Type)
			if len(c.Predicates) == 0 {
				p.Required(cf + ".predicates")
			}
			checkPredicates(p, cf+".predicates", c.Predicates, dims)
		}
		checkPredicates(p, ff+".predicates", f.Predicates, dims)
	}
}

func checkJoin(p *platform.Problems, field, t string) {
	switch t {
	case "and", "or":
	case "":
		p.Required(field)
	default:
		p.Invalid(field, field+" must be and or or.")
	}
}

func checkPredicates(p *platform.Problems, field string, ps []Predicate, dims []string) {
	for i, pr := range ps {
		pf := field + "[" + strconv.Itoa(i) + "]"
		if pr.Type != "" && pr.Type != "dimension" {
			p.Invalid(pf+".type", pf+".type "+strconv.Quote(pr.Type)+" is not supported by the emulator; use dimension.")
		}
		switch {
		case pr.Dimension == "":
			p.Required(pf + ".dimension")
		case !contains(dims, pr.Dimension):
			p.Invalid(pf+".dimension", pf+".dimension "+strconv.Quote(pr.Dimension)+" is not supported; use one of "+strings.Join(dims, ", ")+".")
		}
		op := pr.Operator
		if op == "" {
			op = "matches"
		}
		if !contains(operators, op) {
			p.Invalid(pf+".operator", pf+".operator must be matches, exists or notExists.")
		}
		if op == "matches" && pr.Value == "" {
			p.Required(pf + ".value")
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// RangeFrom returns the earliest start a selected conversation can have,
// given that conversations live at most maxLife.
func (m *Matcher) RangeFrom(maxLife time.Duration) time.Time {
	if m.StartOfDay {
		return dayStart(m.From)
	}
	return m.From.Add(-maxLife)
}

func dayStart(t time.Time) time.Time {
	y, mo, d := t.UTC().Date()
	return time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)
}

// Match reports whether c is selected: its lifetime [Start, End) overlaps
// the interval (with StartOfDay, it also started on a UTC day the interval
// touches) and every filter matches.
func (m *Matcher) Match(c *conversations.Conversation) bool {
	if !c.Start.Before(m.To) || !c.End.After(m.From) {
		return false
	}
	if m.StartOfDay && c.Start.Before(dayStart(m.From)) {
		return false
	}
	for _, f := range m.conv {
		if !f.match(func(dim string) string { return conversationValue(c, dim) }) {
			return false
		}
	}
	for _, f := range m.seg {
		any := false
		for _, internal := range []bool{false, true} {
			if f.match(func(dim string) string { return segmentValue(c, internal, dim) }) {
				any = true
				break
			}
		}
		if !any {
			return false
		}
	}
	return true
}

func (f *Filter) match(value func(string) string) bool {
	and := f.Type == "and"
	n := 0
	for _, p := range f.Predicates {
		ok := p.match(value)
		if and && !ok {
			return false
		}
		if !and && ok {
			return true
		}
		n++
	}
	for _, c := range f.Clauses {
		ok := c.match(value)
		if and && !ok {
			return false
		}
		if !and && ok {
			return true
		}
		n++
	}
	return and || n == 0
}

func (c *Clause) match(value func(string) string) bool {
	f := Filter{Type: c.Type, Predicates: c.Predicates}
	return f.match(value)
}

func (p *Predicate) match(value func(string) string) bool {
	v := value(p.Dimension)
	switch p.Operator {
	case "exists":
		return v != ""
	case "notExists":
		return v == ""
	default:
		return v == p.Value
	}
}

// mediaType maps a conversation's media to the analytics mediaType.
func mediaType(c *conversations.Conversation) string {
	if c.Media == conversations.MediaCall {
		return "voice"
	}
	return "message"
}

func conversationValue(c *conversations.Conversation, dim string) string {
	switch dim {
	case "conversationId":
		return c.ID
	case "originatingDirection":
		return c.Direction
	case "mediaType":
		return mediaType(c)
	}
	return ""
}

func segmentValue(c *conversations.Conversation, internal bool, dim string) string {
	switch dim {
	case "conversationId":
		return c.ID
	case "mediaType":
		return mediaType(c)
	case "direction":
		return c.Direction
	case "queueId":
		if internal {
			return c.QueueID
		}
	case "userId":
		if internal {
			return c.UserID
		}
	case "purpose":
		return purpose(c, internal)
	case "messageType":
		if c.Media == conversations.MediaMessage {
			return c.MessengerType
		}
	case "ani":
		if c.Media == conversations.MediaCall {
			return c.FromAddress
		}
	case "dnis":
		if c.Media == conversations.MediaCall {
			return c.Address
		}
	case "addressFrom":
		return c.FromAddress
	case "addressTo":
		return c.Address
	case "participantId":
		if internal {
			return conversations.DerivedID(c.ID, conversations.InternalParticipant)
		}
		return conversations.DerivedID(c.ID, conversations.CustomerParticipant)
	case "sessionId":
		if internal {
			return conversations.DerivedID(c.ID, conversations.InternalSession)
		}
		return conversations.DerivedID(c.ID, conversations.CustomerSession)
	}
	return ""
}

func purpose(c *conversations.Conversation, internal bool) string {
	switch {
	case !internal:
		return "customer"
	case c.UserID != "":
		return "agent"
	case c.QueueID != "":
		return "acd"
	default:
		return "workflow"
	}
}
