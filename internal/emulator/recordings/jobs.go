package recordings

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/floodgate-dev/floodgate/internal/emulator/analytics"
	"github.com/floodgate-dev/floodgate/internal/emulator/conversations"
	"github.com/floodgate-dev/floodgate/internal/emulator/events"
	"github.com/floodgate-dev/floodgate/internal/emulator/platform"
)

// Job states (RecordingJob.state).
const (
	StatePending    = "PENDING"
	StateReady      = "READY"
	StateProcessing = "PROCESSING"
	StateFulfilled  = "FULFILLED"
	StateFailed     = "FAILED"
	StateCancelled  = "CANCELLED"
)

// States lists the job states, for metrics.
var States = []string{StatePending, StateReady, StateProcessing, StateFulfilled, StateFailed, StateCancelled}

// Actions of RecordingJobsQuery.action.
const (
	ActionExport  = "EXPORT"
	ActionDelete  = "DELETE"
	ActionArchive = "ARCHIVE"
)

// Topic returns the notification topic a job's state changes are
// published on: v2.recording.jobs.{jobId}. The platform documents no
// topic for recording jobs; the name is the emulator's.
func Topic(jobID string) string { return "v2.recording.jobs." + jobID }

func terminal(state string) bool {
	return state == StateFulfilled || state == StateFailed || state == StateCancelled
}

// Answer is the error answer above the active-jobs cap.
type Answer struct {
	Status        int
	Code, Message string
	// RetryAfter adds Retry-After (whole seconds, rounded up) and
	// X-Floodgate-Retry-After-Ms: the time until the org's first active
	// job stops counting. The platform documents none: inferred.
	RetryAfter bool
}

// Options configures a Service. Durations are already time-scaled.
type Options struct {
	Store conversations.Store
	// Bus receives job state changes on Topic(id); nil publishes none.
	Bus *events.Bus
	// Sink receives EXPORT jobs' files.
	Sink Sink
	// Now is the clock (the server's).
	Now func() time.Time
	// MaxLife bounds a conversation's lifetime (active_for).
	MaxLife time.Duration
	// MaxJobs bounds the jobs kept; ActiveJobsPerOrg caps an org's jobs in
	// PENDING or PROCESSING, answered with ActiveAnswer.
	MaxJobs, ActiveJobsPerOrg int
	ActiveAnswer              Answer
	// ReadyAfter: PENDING → READY. ExportTime: per recording while
	// PROCESSING. MatchLag: a conversation is matchable this long after
	// its start.
	ReadyAfter, ExportTime, MatchLag time.Duration
	// FailureProbability is each recording's chance to fail, drawn from a
	// source seeded by Seed and the job's sequence number.
	FailureProbability float64
	Seed               int64
	Logger             *slog.Logger
}

// Service serves the recording job routes and advances the jobs. It is
// safe for concurrent use.
type Service struct {
	o Options

	mu    sync.Mutex
	jobs  map[string]*job
	order []*job // creation order
	seq   uint64

	processed, failed, skipped atomic.Int64
	refused                    atomic.Int64 // creates and executes refused by the active-jobs cap
}

// New returns a service; jobs advance when they are read and when the
// server calls Advance.
func New(o Options) *Service {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{o: o, jobs: map[string]*job{}}
}

// Exported returns how many recordings jobs have processed, failed and
// skipped since start.
func (s *Service) Exported() (processed, failed, skipped int64) {
	return s.processed.Load(), s.failed.Load(), s.skipped.Load()
}

// Capped returns how many creates and executes the per-org active-jobs
// cap refused since start.
func (s *Service) Capped() int64 { return s.refused.Load() }

// Reset forgets every job.
func (s *Service) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.jobs)
	s.order = nil
}

// Count returns the number of jobs kept in each state.
func (s *Service) Count() map[string]int {
	out := map[string]int{}
	for _, j := range s.snapshot() {
		j.mu.Lock()
		out[j.state]++
		j.mu.Unlock()
	}
	return out
}

// Len returns the number of jobs kept.
func (s *Service) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.order)
}

func (s *Service) snapshot() []*job {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*job(nil), s.order...)
}

// Advance moves every job along to now: PENDING jobs whose time has come
// become READY, PROCESSING jobs export what is due. The server calls it
// periodically; reads of a job advance it too.
func (s *Service) Advance(ctx context.Context, now time.Time) {
	for _, j := range s.snapshot() {
		if ctx.Err() != nil {
			return
		}
		s.advance(ctx, j, now, "")
	}
}

// job is one recording bulk job. adv serializes advancing (which may
// write files) and is taken before mu; mu guards the fields and is never
// held during I/O.
type job struct {
	adv sync.Mutex
	mu  sync.Mutex

	id, orgID, clientID string
	action              string
	query               *jobsQuery // as accepted, echoed as recordingJobsQuery
	matcher             *analytics.Matcher
	created, readyAt    time.Time
	rng                 *rand.Rand // used only under adv

	state           string
	convs           []*conversations.Conversation // matched at READY, dropped when finished
	processingStart time.Time
	next            int // recordings resolved so far
	totalConvs      int
	totalRecs       int
	processed       int
	skipped         int
	failed          int
	failedList      []failedRecording
	errorMessage    string
}

type failedRecording struct {
	conversationID, recordingID string
}

// activeUntil is when the job stops counting against the per-org cap: its READY
// time while PENDING, its last recording's due time while PROCESSING, the
// zero time otherwise. Callers hold j.mu.
func (j *job) activeUntil(exportTime time.Duration) time.Time {
	switch j.state {
	case StatePending:
		return j.readyAt
	case StateProcessing:
		return j.processingStart.Add(time.Duration(len(j.convs)) * exportTime)
	}
	return time.Time{}
}

// publish sends the job's current body on its topic. Callers hold j.mu,
// so events leave in the order of the state changes.
func (s *Service) publish(j *job, corrID string) {
	if s.o.Bus == nil || !s.o.Bus.Subscribed(Topic(j.id)) {
		return
	}
	if corrID == "" {
		corrID = platform.NewID()
	}
	s.o.Bus.Publish(corrID, j.body(), Topic(j.id))
}

// advance moves j along to now. Export I/O happens with adv held but not
// mu, so reads of the job's state never wait for the disk.
func (s *Service) advance(ctx context.Context, j *job, now time.Time, corrID string) {
	j.adv.Lock()
	defer j.adv.Unlock()
	j.mu.Lock()
	if j.state == StatePending && !now.Before(j.readyAt) {
		s.match(j)
		j.state = StateReady
		s.publish(j, corrID)
	}
	if j.state != StateProcessing {
		j.mu.Unlock()
		return
	}
	due := len(j.convs)
	if s.o.ExportTime > 0 {
		due = min(due, int(now.Sub(j.processingStart)/s.o.ExportTime))
	}
	batch := j.convs[j.next:max(due, j.next)]
	j.mu.Unlock()

	results := make([]result, len(batch))
	for i, c := range batch {
		results[i] = s.process(ctx, j, c, now)
	}

	j.mu.Lock()
	defer j.mu.Unlock()
	for i, r := range results {
		switch r {
		case resultProcessed:
			j.processed++
			s.processed.Add(1)
		case resultSkipped:
			j.skipped++
			s.skipped.Add(1)
		case resultFailed:
			j.failed++
			s.failed.Add(1)
			j.failedList = append(j.failedList, failedRecording{batch[i].ID, batch[i].RecordingID})
		}
	}
	j.next += len(batch)
	if j.state == StateProcessing && j.next == len(j.convs) {
		j.state = StateFulfilled
		if j.totalRecs > 0 && j.failed == j.totalRecs {
			j.state, j.errorMessage = StateFailed, "Every recording of the job failed."
		}
		j.convs = nil
		s.publish(j, corrID)
	}
}

// match fills j.convs with the org's conversations the query selects that
// were matchable when the job became READY. Callers hold j.mu.
func (s *Service) match(j *job) {
	newest := j.readyAt.Add(-s.o.MatchLag)
	s.o.Store.Range(j.matcher.RangeFrom(s.o.MaxLife), j.matcher.To, func(c *conversations.Conversation) bool {
		if c.OrgID == j.orgID && !c.Start.After(newest) && j.matcher.Match(c) {
			j.convs = append(j.convs, c)
		}
		return true
	})
	j.totalConvs = len(j.convs)
	for _, c := range j.convs {
		if c.RecordingID != "" {
			j.totalRecs++
		}
	}
}

type result uint8

const (
	resultProcessed result = iota
	resultSkipped
	resultFailed
)

// process applies the job's action to one conversation's recording. A
// deleted recording is skipped; a failure is drawn from the job's seeded
// source; an EXPORT writes the recording, then its metadata, and counts
// as processed only once both are durable.
func (s *Service) process(ctx context.Context, j *job, c *conversations.Conversation, now time.Time) result {
	if c.RecordingID == "" || c.RecordingDeleted() {
		return resultSkipped
	}
	if s.o.FailureProbability > 0 && j.rng.Float64() < s.o.FailureProbability {
		return resultFailed
	}
	switch j.action {
	case ActionDelete:
		c.DeleteRecording()
	case ActionArchive:
		c.ArchiveRecording()
	case ActionExport:
		key := ExportKey(c)
		if err := s.o.Sink.Put(ctx, key, silence); err != nil {
			s.o.Logger.Error("recording export failed", "job", j.id, "recording", c.RecordingID, "err", err)
			return resultFailed
		}
		if err := s.o.Sink.Put(ctx, key+"_metadata.json", metadata(c, j.id, now)); err != nil {
			s.o.Logger.Error("recording export failed", "job", j.id, "recording", c.RecordingID, "err", err)
			return resultFailed
		}
	}
	return resultProcessed
}
