package metrics

import (
	"encoding/json"
	"math"
	"slices"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// SummarySchema versions summary.json. A change that removes or renames a
// key bumps it; adding keys does not.
const SummarySchema = "floodgate.summary/v1"

// RunInfo describes a run for its summary.
type RunInfo struct {
	Plan      string            `json:"plan"`
	PlanFile  string            `json:"plan_file,omitempty"`
	Target    string            `json:"target"`
	Segment   string            `json:"segment,omitempty"`
	Executors map[string]string `json:"-"` // scenario → executor kind
	// Interrupted is set when Ctrl-C (or a threshold abort) ended the run
	// early; Aborted when in-flight requests were cut off as well.
	Interrupted bool   `json:"interrupted"`
	Aborted     bool   `json:"aborted"`
	StopReason  string `json:"stop_reason,omitempty"`
	// Generator is what the run cost the machine that generated it;
	// nil when it was not measured.
	Generator *Generator `json:"generator,omitempty"`
}

// Generator is the CPU time the generating process (or, merged, the
// processes) used, and the CPU time the hypervisor gave to others on the
// CPUs it could run on while they had work (steal). Steal is when the
// generator could not send: its figures then measure the host too.
type Generator struct {
	CPUs int     `json:"cpus"`  // CPUs the process could run on
	CPUS float64 `json:"cpu_s"` // its user + system CPU time
	// StealS is nil where the system does not report steal.
	StealS *float64 `json:"steal_s,omitempty"`
}

// NotableSteal is the share of the generator's CPU time taken by the
// hypervisor from which a run's late sends, drops and latencies may be
// the host's doing: reports say so.
const NotableSteal = 0.02

// StealShare is steal as a share of the generator's CPUs' time over
// seconds (0 when unknown).
func (g *Generator) StealShare(seconds float64) float64 {
	if g == nil || g.StealS == nil || g.CPUs == 0 || seconds <= 0 {
		return 0
	}
	return *g.StealS / (float64(g.CPUs) * seconds)
}

// Robbed reports whether the hypervisor took a notable share of the
// CPUs' time over seconds while the generator was busy on them (it used
// at least a tenth of it): it then sent late, or dropped, for the host.
func (g *Generator) Robbed(seconds float64) bool {
	return g != nil && g.StealShare(seconds) >= NotableSteal && g.CPUS >= 0.1*float64(g.CPUs)*seconds
}

// Add adds o's usage to g's (segments of one run on several machines).
func (g *Generator) Add(o *Generator) {
	g.CPUs += o.CPUs
	g.CPUS += o.CPUS
	if g.StealS == nil || o.StealS == nil {
		g.StealS = nil
		return
	}
	v := *g.StealS + *o.StealS
	g.StealS = &v
}

// Summary is summary.json: the whole run in one object. Keys are stable
// within a schema version; docs/results.md documents each.
type Summary struct {
	Schema string `json:"schema"`
	RunInfo
	StartTime time.Time `json:"start_time"`
	EndTime   time.Time `json:"end_time"`
	DurationS float64   `json:"duration_s"`
	Stats
	Scenarios []ScenarioSummary `json:"scenarios"`
	// LostRequests lists up to MaxLostListed lost requests; Stats.Lost
	// is the full count.
	LostRequests []LostRequest `json:"lost_requests"`
	// Failures lists why steps failed (see StepFailure); Thresholds the
	// plan's thresholds and whether each passed. Both are filled in by
	// the run command, not by Summarize.
	Failures   []StepFailure     `json:"failures,omitempty"`
	Thresholds []ThresholdResult `json:"thresholds,omitempty"`
	// Diagnosis is the walls found in the run (package diagnose's
	// Diagnosis, encoded), filled in with the thresholds.
	Diagnosis json.RawMessage `json:"diagnosis,omitempty"`
	// GraceCut is set when the grace period ended with requests still
	// in flight (or waiting to retry): floodgate cancelled them.
	GraceCut *GraceCut `json:"grace_cut,omitempty"`
	// Partial is true for the results of a run that did not end (it was
	// killed), read back from its last checkpoint, and for a merge with
	// such a part; a run never writes it itself.
	Partial bool `json:"partial,omitempty"`
	// Notes say what the results hold beyond a run's own measurements,
	// e.g. what was reconstructed when they come from a JMeter JTL file.
	Notes []string `json:"notes,omitempty"`
}

// GraceCut is when the grace period after a stop (the plan's end, or
// Ctrl-C) ran out with logical requests still in flight, and how many
// were: those requests were cancelled by floodgate, not failed by the
// target.
type GraceCut struct {
	AtS      float64 `json:"at_s"`
	InFlight int64   `json:"inflight"`
}

// ScenarioSummary is one scenario's share of the run.
type ScenarioSummary struct {
	Name     string `json:"name"`
	Executor string `json:"executor"`
	Stats
	Steps []StepSummary `json:"steps"`
}

// StepSummary is one step's share of the run.
type StepSummary struct {
	Name string `json:"name"`
	// Endpoint is what the step sends ("POST /api/v2/recording/jobs"),
	// when it is a request step and the run said.
	Endpoint string `json:"endpoint,omitempty"`
	// Control is a control step's kind (group, repeat, choose): its
	// requests are the spans of the steps it runs, which count on their
	// own, so the scenario's totals leave it out but for its drops.
	Control string `json:"control,omitempty"`
	Stats
	// AcceptTimesMs are the send times (ms since the run's start, in
	// order) of the step's first 2xx attempts after its first refusal
	// (403 or 429), at most MaxAcceptTimes: the
	// rhythm in which a cap on open jobs or a short window lets requests
	// through, finer than the one-second series.
	AcceptTimesMs []int64 `json:"accept_times_ms,omitempty"`
}

// Stats are the counters and latencies of a run, scenario or step.
type Stats struct {
	// Requests counts completed logical requests.
	Requests  int64 `json:"requests"`
	Offered   int64 `json:"offered"`
	Started   int64 `json:"started"`
	Dropped   int64 `json:"dropped"`
	Attempts  int64 `json:"attempts"`
	Retries   int64 `json:"retries"`
	Lost      int64 `json:"lost"`
	Succeeded int64 `json:"succeeded"`
	// RetryAmplification is attempts per logical request (1 = no retries).
	RetryAmplification float64 `json:"retry_amplification"`
	// Statuses counts attempts by status; FinalStatuses counts logical
	// requests by their final status ("0" = no response).
	Statuses      map[string]int64 `json:"statuses"`
	FinalStatuses map[string]int64 `json:"final_statuses"`
	Errors        map[string]int64 `json:"errors"`
	// Codes counts attempts by the platform error code their body named;
	// WithRetryAfter counts attempts answered with a Retry-After.
	Codes          map[string]int64 `json:"codes,omitempty"`
	WithRetryAfter int64            `json:"with_retry_after,omitempty"`
	// Rates are per second over the run's duration.
	OfferedRate  float64 `json:"offered_rate"`
	AchievedRate float64 `json:"achieved_rate"`
	Goodput      float64 `json:"goodput"`
	BytesIn      int64   `json:"bytes_in"`
	BytesOut     int64   `json:"bytes_out"`
	Latency      Latency `json:"latency_ms"`
	Waits        Waits   `json:"waits_ms"`
}

// Latency holds the three latency views, in milliseconds.
type Latency struct {
	FromSend Percentiles `json:"from_send"`
	FromDue  Percentiles `json:"from_due"`
	Attempt  Percentiles `json:"attempt"`
}

// Waits are total time spent waiting before attempts, in milliseconds.
type Waits struct {
	RetryAfter float64 `json:"retry_after"`
	Backoff    float64 `json:"backoff"`
	Gate       float64 `json:"gate"`
}

// Hists are merged histograms for one step (or a union of steps).
type Hists struct {
	FromSend, FromDue, Attempt *hdr.Histogram
}

// NewHists returns empty histograms with floodgate's bounds.
func NewHists() Hists { return newHists() }

// Add adds o's counts into h.
func (h Hists) Add(o Hists) { h.merge(o) }

func newHists() Hists {
	return Hists{newHist(histSigFigs), newHist(histSigFigs), newHist(histSigFigs)}
}

func (h Hists) merge(o Hists) {
	h.FromSend.Merge(o.FromSend)
	h.FromDue.Merge(o.FromDue)
	h.Attempt.Merge(o.Attempt)
}

// StepHists returns each step's histograms merged over all shards, in the
// recorder's step order.
func (r *Recorder) StepHists() []Hists {
	out := make([]Hists, len(r.steps))
	for j := range out {
		out[j] = newHists()
	}
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.Lock()
		for j := range s.steps {
			st := &s.steps[j]
			out[j].merge(Hists{st.fromSend, st.fromDue, st.attempt})
		}
		s.mu.Unlock()
	}
	return out
}

// stepAccepts returns each step's acceptance times over all shards, in
// order: the prefix in which no shard had yet stopped keeping them, at
// most MaxAcceptTimes.
func (r *Recorder) stepAccepts() [][]int64 {
	out := make([][]int64, len(r.steps))
	for j := range out {
		until := int64(math.MaxInt64) // a full shard kept nothing after its last
		var all []int64
		for i := range r.shards {
			s := &r.shards[i]
			s.mu.Lock()
			a := s.steps[j].accepts
			if len(a) == cap(a) && len(a) > 0 {
				until = min(until, slices.Max(a))
			}
			all = append(all, a...)
			s.mu.Unlock()
		}
		out[j] = firstAccepts(all, until)
	}
	return out
}

// firstAccepts sorts ts and keeps those up to until, at most MaxAcceptTimes.
func firstAccepts(ts []int64, until int64) []int64 {
	slices.Sort(ts)
	n := len(ts)
	if until < math.MaxInt64 {
		n, _ = slices.BinarySearch(ts, until+1)
	}
	return ts[:min(n, MaxAcceptTimes)]
}

func (r *Recorder) stepCounts() []counts {
	out := make([]counts, len(r.steps))
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.Lock()
		for j := range s.steps {
			out[j].add(&s.steps[j].counts)
		}
		s.mu.Unlock()
	}
	return out
}

// StepData is one step's raw totals: what Summarize and a results-dir
// merge both start from.
type StepData struct {
	Key    StepKey
	counts counts
	Hists  Hists
	// Accepts are acceptance times, ms since start (see AcceptTimesMs).
	Accepts  []int64
	Endpoint string
	Control  string // see StepSummary.Control
}

// Summarize builds the summary of everything recorded, for a run that
// ended at end.
func (r *Recorder) Summarize(info RunInfo, end time.Time) *Summary {
	hs := r.StepHists()
	cs := r.stepCounts()
	acc := r.stepAccepts()
	data := make([]StepData, len(r.steps))
	for i := range data {
		data[i] = StepData{Key: r.steps[i], counts: cs[i], Hists: hs[i], Accepts: acc[i]}
		if r.endpoints != nil {
			data[i].Endpoint = r.endpoints[i]
		}
		if r.control != nil {
			data[i].Control = r.control[i]
		}
	}
	r.lostMu.Lock()
	lost := append([]LostRequest{}, r.lostList...)
	r.lostMu.Unlock()
	s := summarize(info, r.start, end, data, lost)
	s.GraceCut = r.GraceCut()
	return s
}

func summarize(info RunInfo, start, end time.Time, data []StepData, lost []LostRequest) *Summary {
	dur := end.Sub(start).Seconds()
	s := &Summary{Schema: SummarySchema, RunInfo: info, StartTime: start, EndTime: end, DurationS: dur, LostRequests: lost}
	var all counts
	allH := newHists()
	for i := 0; i < len(data); {
		name := data[i].Key.Scenario
		var sc counts
		scH := newHists()
		ss := ScenarioSummary{Name: name, Executor: info.Executors[name]}
		for ; i < len(data) && data[i].Key.Scenario == name; i++ {
			d := &data[i]
			if d.Control == "" {
				sc.add(&d.counts)
				scH.merge(d.Hists)
			} else {
				// The iterations dropped on a scenario's first step were
				// offered to no child: they count here alone.
				sc.Offered += d.counts.Dropped
				sc.Dropped += d.counts.Dropped
			}
			st := StepSummary{Name: d.Key.Step, Endpoint: d.Endpoint, Control: d.Control, Stats: d.counts.stats(d.Hists, dur)}
			if d.counts.Statuses[403]+d.counts.Statuses[429] > 0 {
				st.AcceptTimesMs = d.Accepts
			}
			ss.Steps = append(ss.Steps, st)
		}
		ss.Stats = sc.stats(scH, dur)
		all.add(&sc)
		allH.merge(scH)
		s.Scenarios = append(s.Scenarios, ss)
	}
	s.Stats = all.stats(allH, dur)
	return s
}

func (c *counts) stats(h Hists, dur float64) Stats {
	st := Stats{
		Requests: c.Completed, Offered: c.Offered, Started: c.Started, Dropped: c.Dropped,
		Attempts: c.Attempts, Retries: c.Retries, Lost: c.Lost, Succeeded: c.Goodput,
		Statuses: statusMap(&c.Statuses), FinalStatuses: statusMap(&c.Final), Errors: classMap(&c.Classes),
		Codes: codeMap(&c.Codes), WithRetryAfter: c.WithRetryAfter,
		BytesIn: c.BytesIn, BytesOut: c.BytesOut,
		Latency: Latency{PercentilesOf(h.FromSend), PercentilesOf(h.FromDue), PercentilesOf(h.Attempt)},
		Waits:   Waits{ms(c.RetryAfterWait), ms(c.BackoffWait), ms(c.GateWait)},
	}
	if st.Errors == nil {
		st.Errors = map[string]int64{}
	}
	if c.Completed > 0 {
		st.RetryAmplification = float64(c.Attempts) / float64(c.Completed)
	}
	if dur > 0 {
		st.OfferedRate = float64(c.Offered) / dur
		st.AchievedRate = float64(c.Completed) / dur
		st.Goodput = float64(c.Goodput) / dur
	}
	return st
}
