package metrics

import (
	"sync"
	"time"
)

// MaxFailuresListed caps the distinct failures kept per step; beyond it,
// failures count under one "other failures" entry of their step.
const MaxFailuresListed = 20

// StepFailure is one way a step failed, and how often: an unexpected
// status, a lost request, an extraction that found nothing, a poll or
// event wait that timed out, a fail_if that matched.
type StepFailure struct {
	Scenario string `json:"scenario"`
	Step     string `json:"step"`
	// Error says what went wrong, without per-request detail, so that
	// equal failures count together.
	Error string `json:"error"`
	// Example is detail from the first such failure (a response body,
	// cut short); "" when there is none.
	Example string    `json:"example,omitempty"`
	Count   int64     `json:"count"`
	First   time.Time `json:"first"`
}

// Failures collects step failures. It is safe for concurrent use.
type Failures struct {
	mu    sync.Mutex
	idx   map[failKey]int
	per   map[StepKey]int // distinct failures per step
	list  []StepFailure
	total int64
}

type failKey struct {
	step StepKey
	err  string
}

// NewFailures returns an empty collection.
func NewFailures() *Failures {
	return &Failures{idx: map[failKey]int{}, per: map[StepKey]int{}}
}

// Add counts a failure of step k at t.
func (f *Failures) Add(k StepKey, msg, example string, t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.total++
	key := failKey{k, msg}
	i, ok := f.idx[key]
	if !ok && f.per[k] >= MaxFailuresListed {
		key.err, example = "other failures", ""
		i, ok = f.idx[key]
	}
	if ok {
		f.list[i].Count++
		return
	}
	if key.err != "other failures" {
		f.per[k]++
	}
	f.idx[key] = len(f.list)
	f.list = append(f.list, StepFailure{Scenario: k.Scenario, Step: k.Step, Error: key.err, Example: example, Count: 1, First: t})
}

// List returns the failures in the order they first happened.
func (f *Failures) List() []StepFailure {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]StepFailure(nil), f.list...)
}

// Total is the number of failures added.
func (f *Failures) Total() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.total
}

// ThresholdResult is one threshold checked against a run, as summary.json
// and the JUnit file report it.
type ThresholdResult struct {
	// Threshold is the expression as written in the plan.
	Threshold string `json:"threshold"`
	// Position is where it is in the plan file (file:line:col).
	Position string `json:"position,omitempty"`
	// Value is what was measured, in Unit; nil when there was nothing to
	// measure (no samples), which fails the threshold.
	Value *float64 `json:"value"`
	// Limit is the threshold's bound, in Unit.
	Limit float64 `json:"limit"`
	// Unit is "ms", "ratio" (a fraction of 1), "per_s" or "" (a count).
	Unit   string `json:"unit"`
	Passed bool   `json:"passed"`
	// Detail restates the check with the value: "p99(latency) = 812 ms, want < 800 ms".
	Detail string `json:"detail"`
	// AbortOnFail marks thresholds checked every second; Aborted the one
	// whose failure stopped the run.
	AbortOnFail bool `json:"abort_on_fail,omitempty"`
	Aborted     bool `json:"aborted,omitempty"`
}
