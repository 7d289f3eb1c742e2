package analytics

import (
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/floodgate-dev/floodgate/internal/emulator/conversations"
	"github.com/floodgate-dev/floodgate/internal/emulator/faults"
	"github.com/floodgate-dev/floodgate/internal/emulator/platform"
)

// Permissions the routes require (reference §6).
const (
	PermDetailView      = "analytics:conversationDetail:view"
	PermAgentDetailView = "analytics:agentConversationDetail:view"
)

// Paging limits. The sync query's 200 is the platform's (per a Genesys
// blog); the rest are the emulator's.
const (
	DefaultPageSize        = 25
	MaxPageSize            = 200
	DefaultResultsPageSize = 1000
	MaxResultsPageSize     = 10000
)

// Job states (AsyncQueryStatus.state).
const (
	StateQueued    = "QUEUED"
	StatePending   = "PENDING"
	StateFulfilled = "FULFILLED"
	StateFailed    = "FAILED"
	StateCancelled = "CANCELLED"
	StateExpired   = "EXPIRED"
)

// States lists the job states, for metrics.
var States = []string{StateQueued, StatePending, StateFulfilled, StateFailed, StateCancelled, StateExpired}

// Options configures a Service. Durations are already time-scaled.
type Options struct {
	Store conversations.Store
	// Now is the clock (the server's).
	Now func() time.Time
	// MaxLife bounds a conversation's lifetime (active_for), so a query
	// knows how far before its interval to look.
	MaxLife time.Duration
	// IngestionLag hides a conversation from the query until this long
	// after its start.
	IngestionLag time.Duration
	// JobDataLag puts a job's dataAvailabilityDate this far before its
	// submission.
	JobDataLag time.Duration
	// JobQueuedFor, JobRunsFor: a job is QUEUED, then PENDING, then done.
	JobQueuedFor, JobRunsFor time.Duration
	// JobResultsTTL: a done job is EXPIRED this long after completion.
	JobResultsTTL time.Duration
	// JobFailureProbability is the chance a job ends FAILED, drawn from
	// Seed's source in submission order.
	JobFailureProbability float64
	Seed                  int64
	// MaxJobs bounds the jobs kept.
	MaxJobs int
}

// Service serves the conversation details routes. It is safe for
// concurrent use.
type Service struct {
	o   Options
	rng *faults.RNG

	mu    sync.Mutex
	jobs  map[string]*job
	order []*job // submission order, for evicting the oldest finished
}

type job struct {
	id, clientID string
	submitted    time.Time
	queuedUntil  time.Time
	doneAt       time.Time
	availability time.Time
	failed       bool
	cancelled    time.Time // zero unless cancelled
	results      []*conversations.Conversation
}

// state returns the job's state at now; the timing model makes it a
// function of time, except for cancellation.
func (j *job) state(now time.Time, ttl time.Duration) string {
	switch {
	case !j.cancelled.IsZero():
		return StateCancelled
	case now.Before(j.queuedUntil):
		return StateQueued
	case now.Before(j.doneAt):
		return StatePending
	case !now.Before(j.doneAt.Add(ttl)):
		return StateExpired
	case j.failed:
		return StateFailed
	}
	return StateFulfilled
}

func terminal(state string) bool {
	return state != StateQueued && state != StatePending
}

// New returns a service over o.Store.
func New(o Options) *Service {
	return &Service{o: o, rng: faults.NewRNG(o.Seed), jobs: map[string]*job{}}
}

// Routes returns the analytics routes.
func (s *Service) Routes() []platform.Route {
	const fam = "analytics"
	base := "/api/v2/analytics/conversations/details"
	return []platform.Route{
		{Method: http.MethodPost, Path: base + "/query", Family: fam, AnyOf: []string{PermDetailView, PermAgentDetailView}, Handle: s.query},
		{Method: http.MethodPost, Path: base + "/jobs", Family: fam, Permission: PermDetailView, Handle: s.submit},
		{Method: http.MethodGet, Path: base + "/jobs/availability", Family: fam, Permission: PermDetailView, Handle: s.availability},
		{Method: http.MethodGet, Path: base + "/jobs/{jobId}", Family: fam, Permission: PermDetailView, Handle: s.status},
		{Method: http.MethodDelete, Path: base + "/jobs/{jobId}", Family: fam, Permission: PermDetailView, Handle: s.cancel},
		{Method: http.MethodGet, Path: base + "/jobs/{jobId}/results", Family: fam, Permission: PermDetailView, Handle: s.results},
	}
}

// Reset forgets every job.
func (s *Service) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.jobs)
	s.order = nil
}

// Count returns the number of jobs kept in each state at now.
func (s *Service) Count(now time.Time) map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for _, j := range s.order {
		out[j.state(now, s.o.JobResultsTTL)]++
	}
	return out
}

// Len returns the number of jobs kept.
func (s *Service) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.order)
}

// collect returns the org's conversations m selects that were started no
// later than newest, in start order (reversed for desc).
func (s *Service) collect(orgID string, m *Matcher, newest time.Time, desc bool) []*conversations.Conversation {
	var out []*conversations.Conversation
	s.o.Store.Range(m.RangeFrom(s.o.MaxLife), m.To, func(c *conversations.Conversation) bool {
		if c.OrgID == orgID && !c.Start.After(newest) && m.Match(c) {
			out = append(out, c)
		}
		return true
	})
	if desc {
		slices.Reverse(out)
	}
	return out
}

// --- POST /api/v2/analytics/conversations/details/query

type queryResp struct {
	Conversations []conversationBody `json:"conversations,omitempty"`
	TotalHits     int                `json:"totalHits"`
}

// query answers the sync details query: conversations of the caller's org
// whose lifetime overlaps the interval and that started on a UTC day the
// interval touches, once IngestionLag has passed since their start.
func (s *Service) query(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	var q Query
	if !platform.DecodeJSON(w, r, c, &q) {
		return
	}
	var p platform.Problems
	m := q.Check(&p, "", false)
	size, number := DefaultPageSize, 1
	if pg := q.Paging; pg != nil {
		if pg.PageSize != 0 {
			size = pg.PageSize
		}
		if pg.PageNumber != 0 {
			number = pg.PageNumber
		}
		if size < 1 || size > MaxPageSize {
			p.Invalid("paging.pageSize", "paging.pageSize must be between 1 and "+strconv.Itoa(MaxPageSize)+".")
		}
		if number < 1 {
			p.Invalid("paging.pageNumber", "paging.pageNumber must be >= 1.")
		}
	}
	if !p.Empty() {
		p.Write(w, c)
		return
	}
	all := s.collect(c.OrgID, m, c.Now.Add(-s.o.IngestionLag), q.Order == "desc")
	resp := queryResp{TotalHits: len(all)}
	if from := (number - 1) * size; from < len(all) {
		for _, conv := range all[from:min(from+size, len(all))] {
			resp.Conversations = append(resp.Conversations, render(conv, c.Now))
		}
	}
	platform.WriteJSON(w, http.StatusOK, &resp)
}

// --- async jobs

type submitResp struct {
	JobID string `json:"jobId"`
}

func (s *Service) submit(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	var q Query
	if !platform.DecodeJSON(w, r, c, &q) {
		return
	}
	var p platform.Problems
	m := q.Check(&p, "", true)
	if !p.Empty() {
		p.Write(w, c)
		return
	}
	avail := c.Now.Add(-s.o.JobDataLag)
	results := s.collect(c.OrgID, m, avail, q.Order == "desc")
	if q.Limit > 0 && len(results) > q.Limit {
		results = results[:q.Limit]
	}
	j := &job{id: platform.NewID(), clientID: c.ClientID, submitted: c.Now,
		queuedUntil: c.Now.Add(s.o.JobQueuedFor), doneAt: c.Now.Add(s.o.JobQueuedFor + s.o.JobRunsFor),
		availability: avail, results: results}
	s.mu.Lock()
	if len(s.order) >= s.o.MaxJobs && !s.evictLocked(c.Now) {
		s.mu.Unlock()
		platform.WriteError(w, c.ContextID, http.StatusTooManyRequests, platform.CodeTooManyRequests,
			"The emulator keeps at most "+strconv.Itoa(s.o.MaxJobs)+" analytics jobs (analytics.max_jobs) and none of them is finished; delete one or wait.")
		return
	}
	// Drawn under the lock so that the n-th job's outcome depends only on
	// the seed.
	j.failed = s.o.JobFailureProbability > 0 && s.rng.Float64() < s.o.JobFailureProbability
	s.jobs[j.id] = j
	s.order = append(s.order, j)
	s.mu.Unlock()
	platform.WriteJSON(w, http.StatusAccepted, submitResp{JobID: j.id})
}

// evictLocked forgets the oldest finished job; it reports false when every
// job is still QUEUED or PENDING.
func (s *Service) evictLocked(now time.Time) bool {
	for i, j := range s.order {
		if terminal(j.state(now, s.o.JobResultsTTL)) {
			s.order = slices.Delete(s.order, i, i+1)
			delete(s.jobs, j.id)
			return true
		}
	}
	return false
}

// lookup returns the caller's job: jobs are visible only to the client
// that submitted them.
func (s *Service) lookup(w http.ResponseWriter, r *http.Request, c *platform.Call) (*job, string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.jobs[r.PathValue("jobId")]
	if !ok || j.clientID != c.ClientID {
		platform.NotFound(w, c.ContextID)
		return nil, "", false
	}
	st := j.state(c.Now, s.o.JobResultsTTL)
	if st == StateExpired {
		j.results = nil // results are gone; the status stays readable
	}
	return j, st, true
}

type statusResp struct {
	State          string `json:"state"`
	ErrorMessage   string `json:"errorMessage,omitempty"`
	ExpirationDate string `json:"expirationDate"`
	SubmissionDate string `json:"submissionDate"`
	CompletionDate string `json:"completionDate,omitempty"`
}

func (s *Service) status(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	j, st, ok := s.lookup(w, r, c)
	if !ok {
		return
	}
	resp := statusResp{State: st, SubmissionDate: platform.FormatTime(j.submitted),
		ExpirationDate: platform.FormatTime(j.doneAt.Add(s.o.JobResultsTTL))}
	switch st {
	case StateCancelled:
		resp.CompletionDate = platform.FormatTime(j.cancelled)
	case StateFulfilled, StateFailed, StateExpired:
		resp.CompletionDate = platform.FormatTime(j.doneAt)
	}
	if st == StateFailed {
		resp.ErrorMessage = "The job failed (injected by analytics.job_failure_probability)."
	}
	platform.WriteJSON(w, http.StatusOK, &resp)
}

func (s *Service) cancel(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	j, st, ok := s.lookup(w, r, c)
	if !ok {
		return
	}
	s.mu.Lock()
	if terminal(st) {
		if i := slices.Index(s.order, j); i >= 0 {
			s.order = slices.Delete(s.order, i, i+1)
		}
		delete(s.jobs, j.id)
	} else {
		j.cancelled, j.results = c.Now, nil
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

type availabilityResp struct {
	DataAvailabilityDate string `json:"dataAvailabilityDate"`
}

func (s *Service) availability(w http.ResponseWriter, _ *http.Request, c *platform.Call) {
	platform.WriteJSON(w, http.StatusOK, availabilityResp{platform.FormatTime(c.Now.Add(-s.o.JobDataLag))})
}

type resultsResp struct {
	Conversations        []conversationBody `json:"conversations,omitempty"`
	Cursor               string             `json:"cursor,omitempty"`
	DataAvailabilityDate string             `json:"dataAvailabilityDate"`
}

// results pages through a FULFILLED job's conversations by cursor; the
// last page carries no cursor.
func (s *Service) results(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	var p platform.Problems
	size := DefaultResultsPageSize
	if v := r.URL.Query().Get("pageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxResultsPageSize {
			p.Invalid("pageSize", "pageSize must be between 1 and "+strconv.Itoa(MaxResultsPageSize)+".")
		}
		size = n
	}
	j, st, ok := s.lookup(w, r, c)
	if !ok {
		return
	}
	offset := 0
	if v := r.URL.Query().Get("cursor"); v != "" {
		n, ok := decodeCursor(j.id, v)
		if !ok {
			p.Invalid("cursor", "cursor is not a cursor of this job.")
		}
		offset = n
	}
	if !p.Empty() {
		p.Write(w, c)
		return
	}
	if st != StateFulfilled {
		platform.WriteErrorBody(w, &platform.ErrorBody{Status: http.StatusBadRequest, Code: platform.CodeBadRequest,
			Message: "The job is " + st + "; results are available only when it is FULFILLED.", ContextID: c.ContextID})
		return
	}
	s.mu.Lock()
	all := j.results
	s.mu.Unlock()
	resp := resultsResp{DataAvailabilityDate: platform.FormatTime(j.availability)}
	end := min(offset+size, len(all))
	for _, conv := range all[min(offset, len(all)):end] {
		resp.Conversations = append(resp.Conversations, render(conv, j.doneAt))
	}
	if end < len(all) {
		resp.Cursor = encodeCursor(j.id, end)
	}
	platform.WriteJSON(w, http.StatusOK, &resp)
}

// Cursors are opaque to clients: the job id's first group and an offset.
func encodeCursor(jobID string, offset int) string {
	prefix, _, _ := strings.Cut(jobID, "-")
	return base64.RawURLEncoding.EncodeToString([]byte(prefix + ":" + strconv.Itoa(offset)))
}

func decodeCursor(jobID, cursor string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return 0, false
	}
	prefix, n, ok := strings.Cut(string(b), ":")
	want, _, _ := strings.Cut(jobID, "-")
	off, err := strconv.Atoi(n)
	return off, ok && err == nil && prefix == want && off >= 0
}
