package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/floodgate-dev/floodgate/internal/metrics"
	"github.com/floodgate-dev/floodgate/internal/plan"
)

// Thresholds are written in the plan (the grammar is in package plan's
// doc) and checked here, against a run's summary and, for percentiles
// the summary lacks and for selections of several steps, its histograms.

// EvaluateThresholds checks every threshold against s and hists (which
// may be nil: then only what the summary holds can be measured) and
// returns one result each, in order. file names the plan in positions.
func EvaluateThresholds(file string, ths []*plan.Threshold, s *metrics.Summary, hists []metrics.StepHists) []metrics.ThresholdResult {
	out := make([]metrics.ThresholdResult, 0, len(ths))
	for _, th := range ths {
		out = append(out, evaluate(file, th, s, hists))
	}
	return out
}

// ThresholdsPassed reports whether every result passed.
func ThresholdsPassed(rs []metrics.ThresholdResult) bool {
	for _, r := range rs {
		if !r.Passed {
			return false
		}
	}
	return true
}

func evaluate(file string, th *plan.Threshold, s *metrics.Summary, hists []metrics.StepHists) metrics.ThresholdResult {
	r := metrics.ThresholdResult{Threshold: th.Text, Limit: round(th.Limit), Unit: unitName(th.Unit), AbortOnFail: th.AbortOnFail}
	if th.Pos.Line > 0 {
		r.Position = fmt.Sprintf("%s:%d:%d", file, th.Pos.Line, th.Pos.Col)
		if file == "" {
			r.Position = th.Pos.String()
		}
	}
	left := metricText(th)
	v, ok := Measure(th, s, hists)
	if !ok {
		r.Detail = left + " has no samples to measure"
		return r
	}
	v = round(v)
	r.Value = &v
	r.Passed = th.Pass(v)
	r.Detail = fmt.Sprintf("%s = %s, want %s %s", left, th.FormatValue(v), th.Op, th.FormatValue(th.Limit))
	return r
}

// metricText is the threshold's left side as written.
func metricText(th *plan.Threshold) string {
	if i := strings.LastIndex(th.Text, th.Op); i > 0 {
		return strings.TrimSpace(th.Text[:i])
	}
	return th.Text
}

func unitName(u string) string {
	switch u {
	case "%":
		return "ratio"
	case "/s":
		return "per_s"
	}
	return u
}

// round keeps six significant decimals, so results are stable to print.
func round(v float64) float64 {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return v
	}
	f, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 6, 64), 64)
	return f
}

// selection is what a threshold's labels select: the summed counters of
// the selected steps, the single Stats when the selection is one, and
// their histograms' keys.
type selection struct {
	single *metrics.Stats
	keys   []metrics.StepKey
	sum    sums
}

type sums struct {
	requests, succeeded, lost, dropped, offered, started, attempts, retries int64
	goodput, achieved, offeredRate                                          float64
	statuses, finals, errors                                                map[string]int64
}

func (m *sums) add(st *metrics.Stats) {
	m.requests += st.Requests
	m.succeeded += st.Succeeded
	m.lost += st.Lost
	m.dropped += st.Dropped
	m.offered += st.Offered
	m.started += st.Started
	m.attempts += st.Attempts
	m.retries += st.Retries
	m.goodput += st.Goodput
	m.achieved += st.AchievedRate
	m.offeredRate += st.OfferedRate
	for _, mp := range []struct {
		dst *map[string]int64
		src map[string]int64
	}{{&m.statuses, st.Statuses}, {&m.finals, st.FinalStatuses}, {&m.errors, st.Errors}} {
		if *mp.dst == nil {
			*mp.dst = map[string]int64{}
		}
		for k, n := range mp.src {
			(*mp.dst)[k] += n
		}
	}
}

// addSteps selects the histograms of sc's request-making steps: a control
// step's span is no request, as in the totals.
func (sel *selection) addSteps(sc *metrics.ScenarioSummary) {
	for _, st := range sc.Steps {
		if st.Control == "" {
			sel.keys = append(sel.keys, metrics.StepKey{Scenario: sc.Name, Step: st.Name})
		}
	}
}

func selectStats(th *plan.Threshold, s *metrics.Summary) selection {
	var sel selection
	if th.Scenario == "" && th.Step == "" {
		sel.single = &s.Stats
		sel.sum.add(&s.Stats)
		for i := range s.Scenarios {
			sel.addSteps(&s.Scenarios[i])
		}
		return sel
	}
	n := 0
	for i := range s.Scenarios {
		sc := &s.Scenarios[i]
		if th.Scenario != "" && sc.Name != th.Scenario {
			continue
		}
		if th.Step == "" {
			sel.single = &sc.Stats
			sel.sum.add(&sc.Stats)
			n++
			sel.addSteps(sc)
			continue
		}
		for j := range sc.Steps {
			st := &sc.Steps[j]
			if st.Name != th.Step {
				continue
			}
			sel.single = &st.Stats
			sel.sum.add(&st.Stats)
			n++
			sel.keys = append(sel.keys, metrics.StepKey{Scenario: sc.Name, Step: st.Name})
		}
	}
	if n != 1 {
		sel.single = nil
	}
	return sel
}

// Measure returns the value a threshold compares, in its unit, and false
// when there is nothing to measure (no latency samples, or a rate of
// nothing).
func Measure(th *plan.Threshold, s *metrics.Summary, hists []metrics.StepHists) (float64, bool) {
	sel := selectStats(th, s)
	m := &sel.sum
	ratio := func(num, den int64) (float64, bool) {
		if den == 0 {
			return 0, false
		}
		return float64(num) / float64(den), true
	}
	switch th.Func {
	case "p", "mean", "max", "min":
		return latency(th, sel, hists)
	case "rate", "count":
		var num, den int64
		switch th.Metric {
		case "status":
			num, den = matchStatus(m.statuses, th.Match), m.attempts
		case "final_status":
			num, den = matchStatus(m.finals, th.Match), m.requests
		case "error":
			num, den = m.errors[th.Match], m.requests
		case "lost":
			num, den = m.lost, m.requests
		case "failed":
			num, den = m.requests-m.succeeded, m.requests
		case "dropped":
			num, den = m.dropped, m.offered
		case "retries":
			num, den = m.retries, m.attempts
		}
		if th.Func == "count" {
			return float64(num), true
		}
		return ratio(num, den)
	}
	switch th.Metric {
	case "requests":
		return float64(m.requests), true
	case "succeeded":
		return float64(m.succeeded), true
	case "failed":
		return float64(m.requests - m.succeeded), true
	case "lost":
		return float64(m.lost), true
	case "dropped":
		return float64(m.dropped), true
	case "offered":
		return float64(m.offered), true
	case "started":
		return float64(m.started), true
	case "attempts":
		return float64(m.attempts), true
	case "retries":
		return float64(m.retries), true
	case "goodput":
		return m.goodput, true
	case "achieved_rate":
		return m.achieved, true
	case "offered_rate":
		return m.offeredRate, true
	case "retry_amplification":
		return ratio(m.attempts, m.requests)
	}
	return 0, false
}

// matchStatus counts the statuses matching pattern: "429" or "4xx".
func matchStatus(m map[string]int64, pattern string) int64 {
	var n int64
	for k, c := range m {
		if k == pattern || (strings.HasSuffix(pattern, "xx") && len(k) == 3 && k[0] == pattern[0]) {
			n += c
		}
	}
	return n
}

// latency measures a latency aggregate: from the selection's merged
// histograms when given, else from the summary's percentiles.
func latency(th *plan.Threshold, sel selection, hists []metrics.StepHists) (float64, bool) {
	if h := mergeHists(th.Metric, sel.keys, hists); h != nil {
		if h.TotalCount() == 0 {
			return 0, false
		}
		ms := func(us int64) float64 { return float64(us) / 1000 }
		switch th.Func {
		case "mean":
			return h.Mean() / 1000, true
		case "max":
			return ms(h.Max()), true
		case "min":
			return ms(h.Min()), true
		}
		return ms(h.ValueAtQuantile(th.Percentile)), true
	}
	if sel.single == nil {
		return 0, false
	}
	var p metrics.Percentiles
	switch th.Metric {
	case plan.LatencyFromSend:
		p = sel.single.Latency.FromSend
	case plan.LatencyAttempt:
		p = sel.single.Latency.Attempt
	default:
		p = sel.single.Latency.FromDue
	}
	if p.Count == 0 {
		return 0, false
	}
	switch th.Func {
	case "mean":
		return p.Mean, true
	case "max":
		return p.Max, true
	case "p":
		switch th.Percentile {
		case 50:
			return p.P50, true
		case 90:
			return p.P90, true
		case 95:
			return p.P95, true
		case 99:
			return p.P99, true
		case 99.9:
			return p.P999, true
		case 100:
			return p.Max, true
		}
	}
	return 0, false // min or another percentile needs the histograms
}

// mergeHists merges the selected steps' histograms of one kind; nil
// when hists lacks one of them.
func mergeHists(metric string, keys []metrics.StepKey, hists []metrics.StepHists) *hdr.Histogram {
	if len(hists) == 0 || len(keys) == 0 {
		return nil
	}
	idx := make(map[metrics.StepKey]*metrics.StepHists, len(hists))
	for i := range hists {
		idx[hists[i].Key] = &hists[i]
	}
	var out *hdr.Histogram
	for _, k := range keys {
		sh := idx[k]
		if sh == nil {
			return nil
		}
		h := sh.FromDue
		switch metric {
		case plan.LatencyFromSend:
			h = sh.FromSend
		case plan.LatencyAttempt:
			h = sh.Attempt
		}
		if h == nil {
			return nil
		}
		if out == nil {
			out = hdr.Import(h.Export())
			continue
		}
		out.Merge(h)
	}
	return out
}

// Watcher checks the abort_on_fail thresholds while a run goes on. It is
// not safe for concurrent use.
type Watcher struct {
	file string
	ths  []*plan.Threshold
}

// NewWatcher returns a watcher for the thresholds with AbortOnFail, or
// nil when there is none.
func NewWatcher(file string, ths []*plan.Threshold) *Watcher {
	w := &Watcher{file: file}
	for _, th := range ths {
		if th.AbortOnFail {
			w.ths = append(w.ths, th)
		}
	}
	if len(w.ths) == 0 {
		return nil
	}
	return w
}

// Check evaluates the watched thresholds over running totals, elapsed
// into the run, and returns the first that fails (nil when none does).
// A threshold is skipped until its DelayAbortEval has passed, and while
// it has nothing to measure.
func (w *Watcher) Check(s *metrics.Summary, hists []metrics.StepHists, elapsed time.Duration) (*plan.Threshold, *metrics.ThresholdResult) {
	for _, th := range w.ths {
		if elapsed < th.DelayAbortEval {
			continue
		}
		r := evaluate(w.file, th, s, hists)
		if r.Value != nil && !r.Passed {
			return th, &r
		}
	}
	return nil, nil
}

// MarkAborted flags, in results, the threshold whose failure stopped the
// run at elapsed (matched by its text and position): it fails, whatever
// the final totals say, with the value that stopped the run.
func MarkAborted(results []metrics.ThresholdResult, aborted *metrics.ThresholdResult, elapsed time.Duration) {
	if aborted == nil {
		return
	}
	for i := range results {
		r := &results[i]
		if r.Threshold == aborted.Threshold && r.Position == aborted.Position {
			r.Aborted, r.Passed = true, false
			r.Value = aborted.Value
			r.Detail = fmt.Sprintf("stopped the run after %s: %s", elapsed.Round(time.Second), aborted.Detail)
			return
		}
	}
}

// AbortReason is the stop_reason of a run a threshold stopped.
func AbortReason(r *metrics.ThresholdResult) string {
	return "threshold failed: " + r.Detail
}
