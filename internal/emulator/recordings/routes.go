package recordings

import (
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/floodgate-dev/floodgate/internal/emulator/analytics"
	"github.com/floodgate-dev/floodgate/internal/emulator/platform"
)

// Permissions the routes require (reference §5 and the SDKs' docs).
const (
	PermJobAdd                   = "recording:job:add"
	PermJobView                  = "recording:job:view"
	PermJobEdit                  = "recording:job:edit"
	PermJobDelete                = "recording:job:delete"
	PermRecordingEditRetention   = "recording:recording:editRetention"
	PermScreenEditRetention      = "recording:screenRecording:editRetention"
	PermSnippetEditRetention     = "recording:snippetRecording:editRetention"
	PermRecordingViewSensitive   = "recording:recording:viewSensitiveData"
	conversationQueryMaxAgeYears = 5
	agedIntervalMax              = 183 * 24 * time.Hour // "≤ 6 months"
)

// Paging of the job list and the failed recordings.
const (
	DefaultPageSize   = 25
	MaxPageSize       = 100
	recordingJobsPath = "/api/v2/recording/jobs"
)

// Routes returns the recording job routes.
func (s *Service) Routes() []platform.Route {
	const fam = "recordings"
	return []platform.Route{
		{Method: http.MethodPost, Path: recordingJobsPath, Family: fam, Permission: PermJobAdd, Handle: s.create},
		{Method: http.MethodGet, Path: recordingJobsPath, Family: fam, Permission: PermJobView, Handle: s.list},
		{Method: http.MethodGet, Path: recordingJobsPath + "/{jobId}", Family: fam, Permission: PermJobView, Handle: s.get},
		{Method: http.MethodPut, Path: recordingJobsPath + "/{jobId}", Family: fam, Permission: PermJobEdit,
			AllOf: []string{PermRecordingEditRetention, PermScreenEditRetention, PermSnippetEditRetention}, Handle: s.execute},
		{Method: http.MethodDelete, Path: recordingJobsPath + "/{jobId}", Family: fam, Permission: PermJobDelete, Handle: s.cancel},
		{Method: http.MethodGet, Path: recordingJobsPath + "/{jobId}/failedrecordings", Family: fam, Permission: PermJobView, Handle: s.failedRecordings},
	}
}

// jobsQuery is RecordingJobsQuery as the emulator reads and echoes it.
type jobsQuery struct {
	Action                             string           `json:"action"`
	ActionDate                         string           `json:"actionDate,omitempty"`
	ActionAge                          *int             `json:"actionAge,omitempty"`
	IntegrationID                      string           `json:"integrationId,omitempty"`
	IncludeRecordingsWithSensitiveData bool             `json:"includeRecordingsWithSensitiveData"`
	IncludeScreenRecordings            *bool            `json:"includeScreenRecordings,omitempty"`
	ClearExport                        *bool            `json:"clearExport,omitempty"`
	ConversationQuery                  *analytics.Query `json:"conversationQuery,omitempty"`
	AgedConversationInterval           string           `json:"agedConversationInterval,omitempty"`
}

type ref struct {
	ID      string `json:"id"`
	SelfURI string `json:"selfUri,omitempty"`
}

// jobBody is RecordingJob.
type jobBody struct {
	ID                       string     `json:"id"`
	State                    string     `json:"state"`
	RecordingJobsQuery       *jobsQuery `json:"recordingJobsQuery"`
	DateCreated              string     `json:"dateCreated"`
	TotalConversations       int        `json:"totalConversations"`
	TotalRecordings          int        `json:"totalRecordings"`
	TotalSkippedRecordings   int        `json:"totalSkippedRecordings"`
	TotalFailedRecordings    int        `json:"totalFailedRecordings"`
	TotalProcessedRecordings int        `json:"totalProcessedRecordings"`
	PercentProgress          int        `json:"percentProgress"`
	ErrorMessage             string     `json:"errorMessage,omitempty"`
	FailedRecordings         string     `json:"failedRecordings"`
	SelfURI                  string     `json:"selfUri"`
	User                     ref        `json:"user"`
}

// body renders the job. Callers hold j.mu.
func (j *job) body() *jobBody {
	b := &jobBody{ID: j.id, State: j.state, RecordingJobsQuery: j.query, DateCreated: platform.FormatTime(j.created),
		TotalConversations: j.totalConvs, TotalRecordings: j.totalRecs, TotalSkippedRecordings: j.skipped,
		TotalFailedRecordings: j.failed, TotalProcessedRecordings: j.processed, ErrorMessage: j.errorMessage,
		FailedRecordings: recordingJobsPath + "/" + j.id + "/failedrecordings", SelfURI: recordingJobsPath + "/" + j.id,
		User: ref{ID: j.clientID}}
	switch done := j.processed + j.failed + j.skipped; {
	case j.totalRecs > 0:
		b.PercentProgress = done * 100 / j.totalRecs
	case j.state == StateFulfilled:
		b.PercentProgress = 100
	}
	return b
}

var actions = []string{ActionExport, ActionDelete, ActionArchive}

// check validates a RecordingJobsQuery and returns the matcher of its
// conversations.
func (q *jobsQuery) check(p *platform.Problems, now time.Time) *analytics.Matcher {
	switch {
	case q.Action == "":
		p.Required("action")
	case !slices.Contains(actions, q.Action):
		p.Invalid("action", "action must be one of EXPORT, DELETE, ARCHIVE.")
	}
	switch {
	case q.ActionDate == "" && q.ActionAge == nil:
		p.Required("actionDate")
	case q.ActionDate != "" && q.ActionAge != nil:
		p.Invalid("actionAge", "Set actionDate or actionAge, not both.")
	case q.ActionDate != "":
		if _, err := time.Parse(time.RFC3339Nano, q.ActionDate); err != nil {
			p.Invalid("actionDate", "actionDate must be an ISO-8601 date-time.")
		}
	case *q.ActionAge < 1:
		p.Invalid("actionAge", "actionAge must be a number of days >= 1.")
	}
	if q.Action == ActionExport && q.IntegrationID == "" {
		p.Required("integrationId")
	}
	if q.ClearExport != nil && *q.ClearExport && q.Action != ActionDelete {
		p.Invalid("clearExport", "clearExport is allowed only with action DELETE.")
	}
	oldest := now.AddDate(-conversationQueryMaxAgeYears, 0, 0)
	switch {
	case q.ConversationQuery == nil && q.AgedConversationInterval == "":
		p.Required("conversationQuery")
	case q.ConversationQuery != nil && q.AgedConversationInterval != "":
		p.Invalid("agedConversationInterval", "Set conversationQuery or agedConversationInterval, not both.")
	case q.ConversationQuery != nil:
		m := q.ConversationQuery.Check(p, "conversationQuery.", true)
		if !m.From.IsZero() && m.From.Before(oldest) {
			p.Invalid("conversationQuery.interval", "conversationQuery covers conversations up to 5 years old; use agedConversationInterval for older ones.")
		}
		return m
	default:
		from, to, ok := analytics.ParseInterval(q.AgedConversationInterval)
		switch {
		case !ok:
			p.Invalid("agedConversationInterval", `agedConversationInterval must be an ISO-8601 interval "start/end".`)
		case to.After(oldest) || to.Sub(from) > agedIntervalMax:
			p.Invalid("agedConversationInterval", "agedConversationInterval must end more than 5 years ago and span at most 6 months.")
		}
		return &analytics.Matcher{From: from, To: to}
	}
	return nil
}

// create answers POST /api/v2/recording/jobs: 202 with the PENDING job.
func (s *Service) create(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	var q jobsQuery
	if !platform.DecodeJSON(w, r, c, &q) {
		return
	}
	var p platform.Problems
	m := q.check(&p, c.Now)
	if !p.Empty() {
		p.Write(w, c)
		return
	}
	if q.IncludeRecordingsWithSensitiveData && (c.Grants == nil || !c.Grants.Allowed(PermRecordingViewSensitive)) {
		platform.MissingPermissions(w, c.ContextID, []string{PermRecordingViewSensitive}, false)
		return
	}
	j := &job{id: platform.NewID(), orgID: c.OrgID, clientID: c.ClientID, action: q.Action, query: &q, matcher: m,
		created: c.Now, readyAt: c.Now.Add(s.o.ReadyAfter), state: StatePending}
	s.mu.Lock()
	if len(s.order) >= s.o.MaxJobs && !s.evictLocked() {
		s.mu.Unlock()
		platform.WriteError(w, c.ContextID, http.StatusTooManyRequests, platform.CodeTooManyRequests,
			"The emulator keeps at most "+strconv.Itoa(s.o.MaxJobs)+" recording jobs (recordings.max_jobs) and none of them is finished; cancel (DELETE) one.")
		return
	}
	if n, free := s.activeLocked(c.OrgID, c.Now, nil); n >= s.o.ActiveJobsPerOrg {
		s.mu.Unlock()
		s.capped(w, c, free)
		return
	}
	s.seq++
	j.rng = rand.New(rand.NewPCG(uint64(s.o.Seed), s.seq))
	s.jobs[j.id] = j
	s.order = append(s.order, j)
	j.mu.Lock()
	s.publish(j, c.ContextID)
	body := j.body()
	j.mu.Unlock()
	s.mu.Unlock()
	platform.WriteJSON(w, http.StatusAccepted, body)
}

// capped answers the active-jobs cap; free is how long until a job stops
// counting against it.
func (s *Service) capped(w http.ResponseWriter, c *platform.Call, free time.Duration) {
	s.refused.Add(1)
	a := s.o.ActiveAnswer
	if a.RetryAfter {
		free = max(free, time.Millisecond)
		h := w.Header()
		h[platform.HeaderRetryAfter] = []string{strconv.FormatInt(int64((free+time.Second-1)/time.Second), 10)}
		h[platform.HeaderRetryAfterMs] = []string{strconv.FormatInt(int64((free+time.Millisecond-1)/time.Millisecond), 10)}
	}
	platform.WriteErrorBody(w, &platform.ErrorBody{Status: a.Status, Code: a.Code, Message: a.Message, ContextID: c.ContextID,
		MessageParams: []platform.Param{{Key: "limit", Value: strconv.Itoa(s.o.ActiveJobsPerOrg)}}})
}

// activeLocked counts the org's jobs in PENDING or PROCESSING at now,
// except skip, and says how long until the first of them stops counting.
// Callers hold s.mu.
func (s *Service) activeLocked(orgID string, now time.Time, skip *job) (n int, free time.Duration) {
	for _, j := range s.order {
		if j.orgID != orgID || j == skip {
			continue
		}
		j.mu.Lock()
		if until := j.activeUntil(s.o.ExportTime); until.After(now) {
			if d := until.Sub(now); n == 0 || d < free {
				free = d
			}
			n++
		}
		j.mu.Unlock()
	}
	return n, free
}

// evictLocked forgets the oldest finished job; false when none is.
func (s *Service) evictLocked() bool {
	for i, j := range s.order {
		j.mu.Lock()
		done := terminal(j.state)
		j.mu.Unlock()
		if done {
			s.order = slices.Delete(s.order, i, i+1)
			delete(s.jobs, j.id)
			return true
		}
	}
	return false
}

// lookup finds a job of the caller's org (jobs are visible org-wide) and
// advances it to now.
func (s *Service) lookup(w http.ResponseWriter, r *http.Request, c *platform.Call) (*job, bool) {
	s.mu.Lock()
	j, ok := s.jobs[r.PathValue("jobId")]
	s.mu.Unlock()
	if !ok || j.orgID != c.OrgID {
		platform.NotFound(w, c.ContextID)
		return nil, false
	}
	s.advance(r.Context(), j, c.Now, c.ContextID)
	return j, true
}

func (s *Service) get(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	j, ok := s.lookup(w, r, c)
	if !ok {
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	platform.WriteJSON(w, http.StatusOK, j.body())
}

type executeReq struct {
	State string `json:"state"`
}

// execute answers PUT /api/v2/recording/jobs/{jobId} {"state":"PROCESSING"}:
// only the job's creator may execute it, only when READY, and only while
// the org stays within its active-jobs cap.
func (s *Service) execute(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	var req executeReq
	if !platform.DecodeJSON(w, r, c, &req) {
		return
	}
	if req.State != StateProcessing {
		var p platform.Problems
		if req.State == "" {
			p.Required("state")
		} else {
			p.Invalid("state", "state must be PROCESSING, the only value accepted.")
		}
		p.Write(w, c)
		return
	}
	j, ok := s.lookup(w, r, c)
	if !ok {
		return
	}
	if j.clientID != c.ClientID {
		platform.WriteError(w, c.ContextID, http.StatusForbidden, platform.CodeNotAuthorized,
			"A recording job must be executed by the user who created it.")
		return
	}
	s.mu.Lock()
	j.mu.Lock()
	st := j.state
	j.mu.Unlock()
	if st != StateReady {
		s.mu.Unlock()
		platform.WriteErrorBody(w, &platform.ErrorBody{Status: http.StatusBadRequest, Code: platform.CodeBadRequest,
			Message: "The job is " + st + "; only a READY job can be executed.", ContextID: c.ContextID,
			Details: []platform.Detail{{FieldName: "state", ErrorCode: platform.DetailInvalid}}})
		return
	}
	if n, free := s.activeLocked(c.OrgID, c.Now, j); n >= s.o.ActiveJobsPerOrg {
		s.mu.Unlock()
		s.capped(w, c, free)
		return
	}
	j.mu.Lock()
	j.state, j.processingStart = StateProcessing, c.Now
	s.publish(j, c.ContextID)
	body := j.body()
	j.mu.Unlock()
	s.mu.Unlock()
	platform.WriteJSON(w, http.StatusAccepted, body)
}

// cancel answers DELETE /api/v2/recording/jobs/{jobId}: a job not yet
// finished becomes CANCELLED (files already exported stay); a finished one
// is forgotten. 204 either way.
func (s *Service) cancel(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	j, ok := s.lookup(w, r, c)
	if !ok {
		return
	}
	s.mu.Lock()
	j.mu.Lock()
	if terminal(j.state) {
		if i := slices.Index(s.order, j); i >= 0 {
			s.order = slices.Delete(s.order, i, i+1)
		}
		delete(s.jobs, j.id)
	} else {
		j.state, j.convs = StateCancelled, nil
		s.publish(j, c.ContextID)
	}
	j.mu.Unlock()
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// paging reads pageSize (1..MaxPageSize, default 25) and pageNumber (>= 1).
func paging(q url.Values, p *platform.Problems) (size, number int) {
	size, number = DefaultPageSize, 1
	if v := q.Get("pageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxPageSize {
			p.Invalid("pageSize", "pageSize must be between 1 and "+strconv.Itoa(MaxPageSize)+".")
		}
		size = n
	}
	if v := q.Get("pageNumber"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			p.Invalid("pageNumber", "pageNumber must be >= 1.")
		}
		number = n
	}
	return size, number
}

type listing[T any] struct {
	Entities    []T    `json:"entities"`
	PageSize    int    `json:"pageSize"`
	PageNumber  int    `json:"pageNumber"`
	Total       int    `json:"total"`
	PageCount   int    `json:"pageCount"`
	FirstURI    string `json:"firstUri"`
	SelfURI     string `json:"selfUri"`
	LastURI     string `json:"lastUri"`
	NextURI     string `json:"nextUri,omitempty"`
	PreviousURI string `json:"previousUri,omitempty"`
}

func page[T any](all []T, size, number int, path string, q url.Values) listing[T] {
	l := listing[T]{Entities: []T{}, PageSize: size, PageNumber: number, Total: len(all)}
	l.PageCount = (len(all) + size - 1) / size
	uri := func(n int) string {
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		v.Set("pageSize", strconv.Itoa(size))
		v.Set("pageNumber", strconv.Itoa(n))
		return path + "?" + v.Encode()
	}
	l.FirstURI, l.SelfURI, l.LastURI = uri(1), uri(number), uri(max(l.PageCount, 1))
	if number < l.PageCount {
		l.NextURI = uri(number + 1)
	}
	if number > 1 {
		l.PreviousURI = uri(number - 1)
	}
	if from := (number - 1) * size; from < len(all) {
		l.Entities = all[from:min(from+size, len(all))]
	}
	return l
}

// list answers GET /api/v2/recording/jobs: the org's jobs, newest first
// (sortBy=userId groups them by creator), filtered by state, jobType and
// showOnlyMyJobs.
func (s *Service) list(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	q := r.URL.Query()
	var p platform.Problems
	size, number := paging(q, &p)
	state := q.Get("state")
	if state != "" && !slices.Contains(States, state) {
		p.Invalid("state", "state must be one of "+strings.Join(States, ", ")+".")
	}
	jobType := q.Get("jobType")
	if jobType != "" && !slices.Contains(actions, jobType) {
		p.Invalid("jobType", "jobType must be one of EXPORT, DELETE, ARCHIVE.")
	}
	mine := false
	if v := q.Get("showOnlyMyJobs"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			p.Invalid("showOnlyMyJobs", "showOnlyMyJobs must be true or false.")
		}
		mine = b
	}
	sortBy := q.Get("sortBy")
	if sortBy != "" && sortBy != "userId" && sortBy != "dateCreated" {
		p.Invalid("sortBy", "sortBy must be userId or dateCreated.")
	}
	if !p.Empty() {
		p.Write(w, c)
		return
	}
	var bodies []*jobBody
	all := s.snapshot()
	for i := len(all) - 1; i >= 0; i-- {
		j := all[i]
		if j.orgID != c.OrgID || (mine && j.clientID != c.ClientID) || (jobType != "" && j.action != jobType) {
			continue
		}
		s.advance(r.Context(), j, c.Now, c.ContextID)
		j.mu.Lock()
		if state == "" || j.state == state {
			bodies = append(bodies, j.body())
		}
		j.mu.Unlock()
	}
	if sortBy == "userId" {
		slices.SortStableFunc(bodies, func(a, b *jobBody) int { return strings.Compare(a.User.ID, b.User.ID) })
	}
	l := page(bodies, size, number, recordingJobsPath, q)
	platform.WriteJSON(w, http.StatusOK, &l)
}

type failedBody struct {
	Conversation ref `json:"conversation"`
	Recording    ref `json:"recording"`
}

// failedRecordings answers GET .../failedrecordings: every recording the
// job failed, in processing order.
func (s *Service) failedRecordings(w http.ResponseWriter, r *http.Request, c *platform.Call) {
	q := r.URL.Query()
	var p platform.Problems
	size, number := paging(q, &p)
	if !p.Empty() {
		p.Write(w, c)
		return
	}
	j, ok := s.lookup(w, r, c)
	if !ok {
		return
	}
	j.mu.Lock()
	all := make([]failedBody, len(j.failedList))
	for i, f := range j.failedList {
		all[i] = failedBody{Conversation: ref{f.conversationID, "/api/v2/conversations/" + f.conversationID},
			Recording: ref{f.recordingID, "/api/v2/conversations/" + f.conversationID + "/recordings/" + f.recordingID}}
	}
	j.mu.Unlock()
	l := page(all, size, number, recordingJobsPath+"/"+j.id+"/failedrecordings", q)
	platform.WriteJSON(w, http.StatusOK, &l)
}
