package metrics

import (
	"strconv"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Bucket is one row of the time series: what happened in one interval
// (normally one second) of the run. Keys are stable; see docs/results.md.
type Bucket struct {
	// T is the bucket's start, in seconds since the run's start.
	T float64 `json:"t"`
	// Time is the bucket's start as wall-clock time.
	Time time.Time `json:"time"`
	// Seconds is the bucket's length (1 except for the last).
	Seconds float64 `json:"seconds"`

	Flow

	InFlightMax  int64   `json:"inflight_max"`
	InFlightMean float64 `json:"inflight_mean"`

	BytesIn  int64 `json:"bytes_in"`
	BytesOut int64 `json:"bytes_out"`

	// WireMs is the attempts' time on the wire (send to last byte) that
	// ended in the bucket: over Seconds, the mean number of requests on
	// the wire, which in-flight (logical requests, waits included) is not.
	WireMs float64 `json:"wire_ms,omitempty"`

	// Latency percentiles of logical requests completed in the bucket, ms.
	FromSend Percentiles `json:"latency_from_send_ms"`
	FromDue  Percentiles `json:"latency_from_due_ms"`
	// OK and KO split FromSend and FromDue between the requests that
	// succeeded and those that failed, whose latencies differ in kind
	// (a refusal is fast). Both are nil when none failed: OK is then the
	// whole.
	OK *BucketLatency `json:"ok,omitempty"`
	KO *BucketLatency `json:"ko,omitempty"`

	RetryAfterWaitMs float64 `json:"retry_after_wait_ms"`
	BackoffWaitMs    float64 `json:"backoff_wait_ms"`
	GateWaitMs       float64 `json:"gate_wait_ms"`

	// RateLimit is the lowest remaining quota and longest reset that
	// responses in the bucket reported; nil when none carried headers.
	RateLimit *RateLimitPoint `json:"ratelimit,omitempty"`

	// Steps is each step's share of the bucket, for steps active in it.
	Steps []StepBucket `json:"steps,omitempty"`
}

// Flow is what went through a bucket, or through one step in it.
type Flow struct {
	Offered   int64 `json:"offered"`
	Started   int64 `json:"started"`
	Completed int64 `json:"completed"`
	Dropped   int64 `json:"dropped"`
	Attempts  int64 `json:"attempts"`
	Retries   int64 `json:"retries"`
	Lost      int64 `json:"lost"`
	Goodput   int64 `json:"goodput"`
	// Statuses counts attempts by HTTP status ("0" = no response).
	Statuses map[string]int64 `json:"statuses"`
	// Errors counts logical requests by outcome class other than ok.
	Errors map[string]int64 `json:"errors,omitempty"`
	// Codes counts attempts by the platform error code their body named
	// (see ErrCode); WithRetryAfter counts attempts answered with a
	// Retry-After.
	Codes          map[string]int64 `json:"codes,omitempty"`
	WithRetryAfter int64            `json:"with_retry_after,omitempty"`
	// AttemptErrors counts attempts by outcome class other than ok: a
	// refused connection shows here as "connect" while the request it
	// belonged to may end as "budget".
	AttemptErrors map[string]int64 `json:"attempt_errors,omitempty"`
}

// Add adds o's counts to f.
func (f *Flow) Add(o *Flow) {
	f.Offered += o.Offered
	f.Started += o.Started
	f.Completed += o.Completed
	f.Dropped += o.Dropped
	f.Attempts += o.Attempts
	f.Retries += o.Retries
	f.Lost += o.Lost
	f.Goodput += o.Goodput
	f.Statuses = addCounts(f.Statuses, o.Statuses)
	f.Errors = addCounts(f.Errors, o.Errors)
	f.Codes = addCounts(f.Codes, o.Codes)
	f.WithRetryAfter += o.WithRetryAfter
	f.AttemptErrors = addCounts(f.AttemptErrors, o.AttemptErrors)
}

func addCounts(m, o map[string]int64) map[string]int64 {
	for k, n := range o {
		if m == nil {
			m = map[string]int64{}
		}
		m[k] += n
	}
	return m
}

// StepBucket is one step's share of a Bucket.
type StepBucket struct {
	Scenario string `json:"scenario"`
	Step     string `json:"step"`
	Flow
	// FromDue are the latency percentiles of the step's logical requests
	// completed in the bucket, from their due time, ms.
	FromDue Percentiles `json:"latency_from_due_ms"`
}

// RateLimitPoint is rate-limit header state within one bucket.
type RateLimitPoint struct {
	Remaining int     `json:"remaining"`
	ResetS    float64 `json:"reset_s"`
	// Limit is the largest window capacity responses stated (0: none did).
	Limit int `json:"limit,omitempty"`
}

// BucketLatency is a bucket's latency percentiles of some of its requests.
type BucketLatency struct {
	FromSend Percentiles `json:"latency_from_send_ms"`
	FromDue  Percentiles `json:"latency_from_due_ms"`
}

// Split returns b's latencies of the requests that succeeded and of
// those that failed.
func (b *Bucket) Split() (ok, ko BucketLatency) {
	if b.KO == nil {
		return BucketLatency{FromSend: b.FromSend, FromDue: b.FromDue}, BucketLatency{}
	}
	if b.OK != nil {
		ok = *b.OK
	}
	return ok, *b.KO
}

// Percentiles are latency percentiles in milliseconds.
type Percentiles struct {
	Count int64   `json:"count"`
	Mean  float64 `json:"mean"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P95   float64 `json:"p95"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p99_9"`
	Max   float64 `json:"max"`
}

// PercentilesOf reads a histogram of microseconds.
func PercentilesOf(h *hdr.Histogram) Percentiles {
	if h.TotalCount() == 0 {
		return Percentiles{}
	}
	ms := func(us int64) float64 { return float64(us) / 1000 }
	v := h.ValueAtPercentilesSlice([]float64{50, 90, 95, 99, 99.9})
	return Percentiles{
		Count: h.TotalCount(),
		Mean:  h.Mean() / 1000,
		P50:   ms(v[0]), P90: ms(v[1]), P95: ms(v[2]), P99: ms(v[3]), P999: ms(v[4]),
		Max: ms(h.Max()),
	}
}

// Cut closes the open second at now and appends its bucket to the
// series. The reporter calls it at each second's end; the final call
// (final true) closes every second still open, at the run's end.
func (r *Recorder) Cut(now time.Time, final bool) Bucket {
	var c counts
	send, due := newHist(seriesFigs), newHist(seriesFigs)
	koSend, koDue := newHist(seriesFigs), newHist(seriesFigs)
	var rl *RateLimitPoint
	steps := make([]counts, len(r.steps))
	stepDue := make([]*hdr.Histogram, len(r.steps))
	idx := r.cutIdx.Add(1) - 1
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.Lock()
		for k := range s.ring {
			if !final && int64(k) != idx%ringLen {
				continue
			}
			cur := &s.ring[k]
			c.add(&cur.counts)
			send.Merge(cur.fromSend)
			due.Merge(cur.fromDue)
			if cur.koSend != nil && cur.koSend.TotalCount() > 0 {
				koSend.Merge(cur.koSend)
				koDue.Merge(cur.koDue)
				cur.koSend.Reset()
				cur.koDue.Reset()
			}
			if cur.rlSeen {
				if rl == nil {
					rl = &RateLimitPoint{Remaining: cur.rlRemaining, ResetS: cur.rlReset.Seconds(), Limit: cur.rlLimit}
				} else {
					rl.Remaining = min(rl.Remaining, cur.rlRemaining)
					rl.ResetS = max(rl.ResetS, cur.rlReset.Seconds())
					rl.Limit = max(rl.Limit, cur.rlLimit)
				}
			}
			for j := range cur.steps {
				ss := &cur.steps[j]
				steps[j].add(&ss.counts)
				if ss.fromDue != nil && ss.fromDue.TotalCount() > 0 {
					if stepDue[j] == nil {
						stepDue[j] = newHist(seriesFigs)
					}
					stepDue[j].Merge(ss.fromDue)
					ss.fromDue.Reset()
				}
				ss.counts = counts{}
			}
			cur.counts = counts{}
			cur.fromSend.Reset()
			cur.fromDue.Reset()
			cur.rlSeen, cur.rlRemaining, cur.rlReset, cur.rlLimit = false, 0, 0, 0
		}
		s.mu.Unlock()
	}
	if len(r.steps) == 1 && due.TotalCount() > 0 { // RecordLogical kept no copy
		stepDue[0] = due
	}
	var split *[2]BucketLatency
	if koSend.TotalCount() > 0 { // send and due hold the successes so far
		split = &[2]BucketLatency{{FromSend: PercentilesOf(send), FromDue: PercentilesOf(due)},
			{FromSend: PercentilesOf(koSend), FromDue: PercentilesOf(koDue)}}
		send.Merge(koSend)
		due.Merge(koDue)
	}
	r.seriesMu.Lock()
	defer r.seriesMu.Unlock()
	b := c.bucket()
	b.T = r.cutAt.Sub(r.start).Seconds()
	b.Time = r.cutAt
	b.Seconds = now.Sub(r.cutAt).Seconds()
	b.FromSend, b.FromDue = PercentilesOf(send), PercentilesOf(due)
	if split != nil {
		b.OK, b.KO = &split[0], &split[1]
	}
	b.RateLimit = rl
	for j := range steps {
		c := &steps[j]
		if c.Offered+c.Started+c.Completed+c.Dropped+c.Attempts == 0 {
			continue
		}
		sb := StepBucket{Scenario: r.steps[j].Scenario, Step: r.steps[j].Step, Flow: c.flow()}
		if stepDue[j] != nil {
			sb.FromDue = PercentilesOf(stepDue[j])
		}
		b.Steps = append(b.Steps, sb)
	}
	b.InFlightMax = r.inflightMax.Swap(r.inflight.Load())
	if r.infN > 0 {
		b.InFlightMean = r.infSum / float64(r.infN)
	} else {
		b.InFlightMean = float64(r.inflight.Load())
	}
	r.infSum, r.infN = 0, 0
	r.cutAt = now
	r.series = append(r.series, b)
	return b
}

// Series returns the buckets cut so far.
func (r *Recorder) Series() []Bucket {
	r.seriesMu.Lock()
	defer r.seriesMu.Unlock()
	return append([]Bucket(nil), r.series...)
}

func (c *counts) add(o *counts) {
	c.Offered += o.Offered
	c.Started += o.Started
	c.Completed += o.Completed
	c.Dropped += o.Dropped
	c.Attempts += o.Attempts
	c.Retries += o.Retries
	c.Lost += o.Lost
	c.Goodput += o.Goodput
	for i, n := range o.Statuses {
		c.Statuses[i] += n
	}
	for i, n := range o.Final {
		c.Final[i] += n
	}
	for i, n := range o.Classes {
		c.Classes[i] += n
	}
	for i, n := range o.Codes {
		c.Codes[i] += n
	}
	c.WithRetryAfter += o.WithRetryAfter
	c.Wire += o.Wire
	for i, n := range o.AttemptClasses {
		c.AttemptClasses[i] += n
	}
	c.BytesIn += o.BytesIn
	c.BytesOut += o.BytesOut
	c.RetryAfterWait += o.RetryAfterWait
	c.BackoffWait += o.BackoffWait
	c.GateWait += o.GateWait
}

func statusMap(a *[600]int64) map[string]int64 {
	m := map[string]int64{}
	for i, n := range a {
		if n != 0 {
			m[strconv.Itoa(i)] = n
		}
	}
	return m
}

func classMap(a *[numClasses]int64) map[string]int64 {
	var m map[string]int64
	for i, n := range a {
		if n != 0 && Class(i) != OK {
			if m == nil {
				m = map[string]int64{}
			}
			m[Class(i).String()] = n
		}
	}
	return m
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func (c *counts) flow() Flow {
	return Flow{
		Offered: c.Offered, Started: c.Started, Completed: c.Completed, Dropped: c.Dropped,
		Attempts: c.Attempts, Retries: c.Retries, Lost: c.Lost, Goodput: c.Goodput,
		Statuses: statusMap(&c.Statuses), Errors: classMap(&c.Classes), AttemptErrors: classMap(&c.AttemptClasses),
		Codes: codeMap(&c.Codes), WithRetryAfter: c.WithRetryAfter,
	}
}

func (c *counts) bucket() Bucket {
	return Bucket{
		Flow:    c.flow(),
		BytesIn: c.BytesIn, BytesOut: c.BytesOut,
		RetryAfterWaitMs: ms(c.RetryAfterWait), BackoffWaitMs: ms(c.BackoffWait), GateWaitMs: ms(c.GateWait),
		WireMs: ms(c.Wire),
	}
}
