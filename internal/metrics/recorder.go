package metrics

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram bounds, in microseconds: 1 µs to 1 hour. Three significant
// figures for the run's totals (0.1% error), two for the per-second
// series, which only feed charts.
const (
	histMin     = 1
	histMax     = int64(time.Hour / time.Microsecond)
	histSigFigs = 3
	seriesFigs  = 2
)

// Histogram kinds kept per step.
const (
	KindFromSend = "from_send" // logical request: first send to final response
	KindFromDue  = "from_due"  // logical request: due time to final response
	KindAttempt  = "attempt"   // one attempt: send to last byte
)

// StepKey names a step in metrics.
type StepKey struct {
	Scenario string `json:"scenario"`
	Step     string `json:"step"`
}

// Attempt is one HTTP attempt as the server saw it.
type Attempt struct {
	Step     int // index into the recorder's steps
	Start    time.Time
	Latency  time.Duration
	Status   int // 0 when no response was received
	Class    Class
	BytesIn  int64
	BytesOut int64
	// Retry is true for every attempt after a logical request's first.
	Retry bool
	// RateLimit* come from the response's rate-limit headers; Has is
	// false when it carried none.
	HasRateLimit bool
	Remaining    int
	Reset        time.Duration
	Limit        int // 0 when the headers did not state it
	// Code is the platform error code a refusal's body named;
	// RetryAfter is true when the response carried a Retry-After.
	Code       ErrCode
	RetryAfter bool
	// AcceptedAt, when set, is the time an acceptance counts at in the
	// step's acceptance times instead of Start (a JTL's samples start
	// long before their request is sent: their end is nearer the
	// server's decision).
	AcceptedAt time.Time
}

// Logical is one logical request as the integration saw it.
type Logical struct {
	Step     int
	Due      time.Time // when it was scheduled (open model) or started (closed)
	Start    time.Time // first send
	End      time.Time // final response or give-up
	Status   int       // final status, 0 if none
	Class    Class
	Attempts int
	Lost     bool // exhausted retries or budget
	Err      string
	// Time spent waiting before attempts, by reason.
	RetryAfterWait, BackoffWait, GateWait time.Duration
}

// Recorder collects samples from many goroutines and hands out per-second
// buckets and merged histograms. It is safe for concurrent use; samples
// are spread over shards, one mutex each, so VUs rarely contend.
type Recorder struct {
	start time.Time
	steps []StepKey
	// endpoints holds each request step's "METHOD /path" (see SetEndpoint).
	endpoints []string
	// control holds each control step's kind (group, repeat, choose; see
	// SetControl), "" for a step that makes requests.
	control []string
	shards  []shard
	next    atomic.Uint32

	inflight    atomic.Int64
	inflightMax atomic.Int64 // max since the last bucket was cut

	lostMu   sync.Mutex
	lostList []LostRequest
	lostN    int64
	graceCut *GraceCut // under lostMu

	// series: the reporter's view, built by Cut.
	// cutIdx is the index of the first second not yet cut; an event
	// timestamped in an already-cut second lands in this one.
	cutIdx atomic.Int64

	obs Observer

	seriesMu sync.Mutex
	series   []Bucket
	cutAt    time.Time
	infSum   float64
	infN     int
}

// Observer sees every sample as it is recorded, outside the recorder's
// locks (live exporters use it). Its methods must be safe for concurrent
// use and quick.
type Observer interface {
	ObserveAttempt(a *Attempt)
	ObserveLogical(l *Logical)
	ObserveDropped(step int)
}

// SetObserver installs o; call it before recording starts.
func (r *Recorder) SetObserver(o Observer) { r.obs = o }

// MaxLostListed caps the lost requests listed individually in results.
const MaxLostListed = 1000

// LostRequest is a logical request that ran out of retries or budget.
type LostRequest struct {
	Scenario string    `json:"scenario"`
	Step     string    `json:"step"`
	Time     time.Time `json:"time"`
	Attempts int       `json:"attempts"`
	Status   int       `json:"status,omitempty"`
	Error    string    `json:"error"`
}

type shard struct {
	mu    sync.Mutex
	steps []stepHists
	// ring holds the open seconds' intervals, indexed by second % ringLen:
	// each event lands in the second of its own timestamp, whatever the
	// moment the reporter cuts.
	ring [ringLen]interval
	_    [64]byte // keep shards on separate cache lines
}

type stepHists struct {
	fromSend, fromDue, attempt *hdr.Histogram
	counts                     counts
	// accepts holds the send times (ms since start) of the step's first
	// 2xx attempts on this shard after its first refusal (403 or 429),
	// up to acceptsPerShard: the rhythm of acceptances a cap on open jobs
	// or a short window leaves.
	accepts []int64
}

// acceptsPerShard bounds the acceptance times a shard keeps per step;
// MaxAcceptTimes bounds those a summary lists per step.
const (
	acceptsPerShard = 2000
	MaxAcceptTimes  = 2000
)

// counts are additive counters kept per step and per second.
type counts struct {
	Offered, Started, Completed, Dropped int64
	Attempts, Retries, Lost, Goodput     int64
	Statuses                             [600]int64        // attempt statuses; index 0 = no response
	Final                                [600]int64        // logical final statuses
	Classes                              [numClasses]int64 // logical requests
	AttemptClasses                       [numClasses]int64
	BytesIn, BytesOut                    int64
	RetryAfterWait, BackoffWait          time.Duration
	GateWait                             time.Duration
	Codes                                [numCodes]int64 // attempts by platform error code
	WithRetryAfter                       int64           // attempts whose response had a Retry-After
	Wire                                 time.Duration   // attempts' time on the wire
}

type interval struct {
	counts
	// fromSend and fromDue hold the second's successes, koSend and koDue
	// its failures (made at the first); Cut adds them up.
	fromSend, fromDue *hdr.Histogram
	koSend, koDue     *hdr.Histogram
	rlSeen            bool
	rlRemaining       int
	rlReset           time.Duration
	rlLimit           int
	// steps holds each step's share of the second; a step's latency
	// histogram is made the first time it records in this slot.
	steps []stepSecond
}

type stepSecond struct {
	counts
	fromDue *hdr.Histogram
}

func newHist(figs int) *hdr.Histogram { return hdr.New(histMin, histMax, figs) }

// NewRecorder returns a recorder for the given steps; samples name a step
// by its index in steps. start is the run's time zero for buckets.
func NewRecorder(start time.Time, steps []StepKey) *Recorder {
	n := runtime.GOMAXPROCS(0) * 2
	if n > 16 {
		n = 16
	}
	r := &Recorder{start: start, steps: steps, shards: make([]shard, n), cutAt: start}
	for i := range r.shards {
		s := &r.shards[i]
		s.steps = make([]stepHists, len(steps))
		for j := range s.steps {
			s.steps[j] = stepHists{fromSend: newHist(histSigFigs), fromDue: newHist(histSigFigs), attempt: newHist(histSigFigs)}
		}
		for k := range s.ring {
			s.ring[k].fromSend = newHist(seriesFigs)
			s.ring[k].fromDue = newHist(seriesFigs)
			s.ring[k].steps = make([]stepSecond, len(steps))
		}
	}
	return r
}

// SetEndpoint names what step sends, e.g. "POST /api/v2/recording/jobs"
// (its path as the plan writes it, templates unrendered): the diagnosis
// names the resource a cap is on by it. Call it before recording.
func (r *Recorder) SetEndpoint(step int, endpoint string) {
	if r.endpoints == nil {
		r.endpoints = make([]string, len(r.steps))
	}
	r.endpoints[step] = endpoint
}

// SetControl marks step as a control step of kind (group, repeat or
// choose): its samples span the steps it runs, which are recorded on
// their own, so it keeps its own counters and latency but adds nothing to
// the run's totals, per second or overall, except the iterations dropped
// on it (a scenario's first step is where drops land). Call it before
// recording.
func (r *Recorder) SetControl(step int, kind string) {
	if r.control == nil {
		r.control = make([]string, len(r.steps))
	}
	r.control[step] = kind
}

// isControl reports whether step is a control step.
func (r *Recorder) isControl(step int) bool { return r.control != nil && r.control[step] != "" }

// SetStart moves the recorder's time zero; call it before recording.
func (r *Recorder) SetStart(t time.Time) {
	r.seriesMu.Lock()
	r.start, r.cutAt = t, t
	r.seriesMu.Unlock()
}

// Start is the recorder's time zero.
func (r *Recorder) Start() time.Time { return r.start }

// Steps returns the steps the recorder was made for.
func (r *Recorder) Steps() []StepKey { return r.steps }

// Shard returns a shard index for a new worker; workers pass it to every
// Record call so that one worker always lands on one shard.
func (r *Recorder) Shard() int { return int(r.next.Add(1)-1) % len(r.shards) }

func micros(d time.Duration) int64 {
	us := int64(d / time.Microsecond)
	if us < histMin {
		return histMin
	}
	if us > histMax {
		return histMax
	}
	return us
}

func statusIndex(s int) int {
	if s < 0 || s >= 600 {
		return 0
	}
	return s
}

const ringLen = 4

// at returns the interval for an event at t. Call with s.mu held.
func (r *Recorder) at(s *shard, t time.Time) *interval {
	idx := int64(t.Sub(r.start) / time.Second)
	if c := r.cutIdx.Load(); idx < c {
		idx = c
	}
	return &s.ring[idx%ringLen]
}

// Offered counts an iteration of step that became due at due (open and
// batch executors) or began then (closed).
func (r *Recorder) Offered(shardIdx, step int, due time.Time) {
	s := &r.shards[shardIdx]
	s.mu.Lock()
	s.steps[step].counts.Offered++
	cur := r.at(s, due)
	if !r.isControl(step) {
		cur.Offered++ // a control step's offers are its first child's
	}
	cur.steps[step].Offered++
	s.mu.Unlock()
}

// Dropped counts an iteration that was due but found no free VU.
func (r *Recorder) Dropped(shardIdx, step int, due time.Time) {
	s := &r.shards[shardIdx]
	s.mu.Lock()
	s.steps[step].counts.Dropped++
	cur := r.at(s, due)
	if r.isControl(step) {
		cur.Offered++ // the offer Offered left out of the total
	}
	cur.Dropped++
	cur.steps[step].Dropped++
	s.mu.Unlock()
	if r.obs != nil {
		r.obs.ObserveDropped(step)
	}
}

// DroppedObserver is an Observer that can take many drops at once;
// DroppedN uses it when the recorder's observer has it.
type DroppedObserver interface {
	ObserveDroppedN(step int, n int64)
}

// DroppedN counts n iterations, due up to due, that were offered and
// dropped at once: a generator too far behind its schedule passes over
// what it can no longer send on time rather than offering each one.
func (r *Recorder) DroppedN(shardIdx, step int, due time.Time, n int64) {
	if n <= 0 {
		return
	}
	s := &r.shards[shardIdx]
	s.mu.Lock()
	st := &s.steps[step].counts
	st.Offered += n
	st.Dropped += n
	cur := r.at(s, due)
	cur.Offered += n
	cur.Dropped += n
	cur.steps[step].Offered += n
	cur.steps[step].Dropped += n
	s.mu.Unlock()
	switch o := r.obs.(type) {
	case nil:
	case DroppedObserver:
		o.ObserveDroppedN(step, n)
	default:
		for range n {
			o.ObserveDropped(step)
		}
	}
}

// Begin marks a logical request in flight from now; RecordLogical ends it.
// A control step's span is not a request in flight.
func (r *Recorder) Begin(shardIdx, step int, now time.Time) {
	control := r.isControl(step)
	if !control {
		n := r.inflight.Add(1)
		for {
			m := r.inflightMax.Load()
			if n <= m || r.inflightMax.CompareAndSwap(m, n) {
				break
			}
		}
	}
	s := &r.shards[shardIdx]
	s.mu.Lock()
	s.steps[step].counts.Started++
	cur := r.at(s, now)
	if !control {
		cur.Started++
	}
	cur.steps[step].Started++
	s.mu.Unlock()
}

// InFlight returns the number of logical requests in flight.
func (r *Recorder) InFlight() int64 { return r.inflight.Load() }

// NoteGraceCut records that the grace period ran out at t with the
// requests now in flight about to be cancelled; the first cut's time is
// kept, and the largest count. A cut with nothing in flight is no cut.
func (r *Recorder) NoteGraceCut(t time.Time) {
	n := r.inflight.Load()
	if n <= 0 {
		return
	}
	r.lostMu.Lock()
	defer r.lostMu.Unlock()
	if r.graceCut == nil {
		r.graceCut = &GraceCut{AtS: t.Sub(r.start).Seconds()}
	}
	r.graceCut.InFlight = max(r.graceCut.InFlight, n)
}

// GraceCut returns a copy of the cut NoteGraceCut recorded, or nil.
func (r *Recorder) GraceCut() *GraceCut {
	r.lostMu.Lock()
	defer r.lostMu.Unlock()
	if r.graceCut == nil {
		return nil
	}
	c := *r.graceCut
	return &c
}

// RecordAttempt records one attempt. It does not allocate.
func (r *Recorder) RecordAttempt(shardIdx int, a *Attempt) {
	s := &r.shards[shardIdx]
	s.mu.Lock()
	r.attemptLocked(s, a)
	s.mu.Unlock()
	if r.obs != nil {
		r.obs.ObserveAttempt(a)
	}
}

// RecordLast records a logical request and its last attempt, which
// RecordAttempt has not: RecordAttempt then RecordLogical, with one lock
// for the two. It does not allocate unless the request was lost.
func (r *Recorder) RecordLast(shardIdx int, a *Attempt, l *Logical) { r.recordLogical(shardIdx, a, l) }

// attemptLocked records a; s.mu is held.
func (r *Recorder) attemptLocked(s *shard, a *Attempt) {
	st := &s.steps[a.Step]
	_ = st.attempt.RecordValue(micros(a.Latency))
	addAttempt(&st.counts, a)
	end := a.Start.Add(a.Latency)
	switch {
	case a.Status >= 200 && a.Status < 300 && len(st.accepts) < cap(st.accepts):
		// The send time: the server decided on receipt, and a busy
		// generator reads the answer late, not the request.
		at := a.Start
		if !a.AcceptedAt.IsZero() {
			at = a.AcceptedAt
		}
		st.accepts = append(st.accepts, at.Sub(r.start).Milliseconds())
	case (a.Status == 403 || a.Status == 429) && st.accepts == nil:
		// Kept from the step's first refusal on: the rhythm of a wall.
		st.accepts = make([]int64, 0, acceptsPerShard)
	}
	cur := r.at(s, end)
	addAttempt(&cur.counts, a)
	addAttempt(&cur.steps[a.Step].counts, a)
	if a.HasRateLimit {
		if !cur.rlSeen || a.Remaining < cur.rlRemaining {
			cur.rlRemaining = a.Remaining
		}
		if a.Reset > cur.rlReset {
			cur.rlReset = a.Reset
		}
		if a.Limit > cur.rlLimit {
			cur.rlLimit = a.Limit
		}
		cur.rlSeen = true
	}
}

func addAttempt(c *counts, a *Attempt) {
	c.Attempts++
	if a.Retry {
		c.Retries++
	}
	c.Statuses[statusIndex(a.Status)]++
	c.AttemptClasses[a.Class]++
	c.BytesIn += a.BytesIn
	c.BytesOut += a.BytesOut
	if a.Code < numCodes {
		c.Codes[a.Code]++
	}
	if a.RetryAfter {
		c.WithRetryAfter++
	}
	c.Wire += a.Latency
}

// RecordLogical records a completed logical request and ends its
// in-flight span. It does not allocate unless the request was lost.
func (r *Recorder) RecordLogical(shardIdx int, l *Logical) { r.recordLogical(shardIdx, nil, l) }

// recordLogical records l, and first its last attempt a unless a is nil,
// under one lock.
func (r *Recorder) recordLogical(shardIdx int, a *Attempt, l *Logical) {
	if !r.isControl(l.Step) {
		r.inflight.Add(-1)
	}
	s := &r.shards[shardIdx]
	s.mu.Lock()
	if a != nil {
		r.attemptLocked(s, a)
	}
	r.logicalLocked(s, l)
	s.mu.Unlock()
	if r.obs != nil {
		if a != nil {
			r.obs.ObserveAttempt(a)
		}
		r.obs.ObserveLogical(l)
	}
	if l.Lost {
		r.addLost(l)
	}
}

// logicalLocked records l; s.mu is held.
func (r *Recorder) logicalLocked(s *shard, l *Logical) {
	send, due := micros(l.End.Sub(l.Start)), micros(l.End.Sub(l.Due))
	st := &s.steps[l.Step]
	_ = st.fromSend.RecordValue(send)
	_ = st.fromDue.RecordValue(due)
	cur := r.at(s, l.End)
	control := r.isControl(l.Step)
	switch {
	case control: // the second's totals are its requests'
	case l.Class == OK:
		_ = cur.fromSend.RecordValue(send)
		_ = cur.fromDue.RecordValue(due)
	default:
		if cur.koSend == nil {
			cur.koSend, cur.koDue = newHist(seriesFigs), newHist(seriesFigs)
		}
		_ = cur.koSend.RecordValue(send)
		_ = cur.koDue.RecordValue(due)
	}
	addLogical(&st.counts, l)
	if !control {
		addLogical(&cur.counts, l)
	}
	ss := &cur.steps[l.Step]
	addLogical(&ss.counts, l)
	if len(r.steps) > 1 { // one step's second is the interval's: Cut uses cur.fromDue
		if ss.fromDue == nil {
			ss.fromDue = newHist(seriesFigs)
		}
		_ = ss.fromDue.RecordValue(due)
	}
}

// addLost lists a lost request (the first MaxLostListed) and counts it.
func (r *Recorder) addLost(l *Logical) {
	r.lostMu.Lock()
	r.lostN++
	if len(r.lostList) < MaxLostListed {
		k := r.steps[l.Step]
		r.lostList = append(r.lostList, LostRequest{Scenario: k.Scenario, Step: k.Step, Time: l.End, Attempts: l.Attempts, Status: l.Status, Error: l.Err})
	}
	r.lostMu.Unlock()
}

func addLogical(c *counts, l *Logical) {
	c.Completed++
	c.Final[statusIndex(l.Status)]++
	c.Classes[l.Class]++
	if l.Class == OK {
		c.Goodput++
	}
	if l.Lost {
		c.Lost++
	}
	c.RetryAfterWait += l.RetryAfterWait
	c.BackoffWait += l.BackoffWait
	c.GateWait += l.GateWait
}

// SampleInFlight feeds the in-flight mean of the current bucket; the
// reporter calls it at a fixed period between cuts.
func (r *Recorder) SampleInFlight() {
	n := r.inflight.Load()
	r.seriesMu.Lock()
	r.infSum += float64(n)
	r.infN++
	r.seriesMu.Unlock()
}
