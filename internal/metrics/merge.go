package metrics

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"
)

// Merge joins the results of segments of one run (or any runs of the same
// plan) into one: counters add, histograms add (lossless), lost lists
// concatenate, and time series align by wall-clock second. Percentiles,
// rates and amplification are recomputed from the merged whole; per-second
// percentiles, which have no histogram behind them, are merged
// conservatively (the highest of the parts), and per-second in-flight
// figures add, as does what generating cost (Generator) when every part
// measured it.
func Merge(parts ...*Results) (*Results, error) {
	if len(parts) == 0 {
		return nil, errors.New("merge: no results")
	}
	first := parts[0].Summary
	info := first.RunInfo
	info.Segment = ""
	info.Executors = map[string]string{}
	info.Generator = nil
	var gen *Generator // the parts' usage added, kept if every part has one
	genAll := true
	start, end := first.StartTime, first.EndTime
	for _, r := range parts {
		if r.Summary.StartTime.Before(start) {
			start = r.Summary.StartTime
		}
	}
	var order []StepKey
	data := map[StepKey]*StepData{}
	var lost []LostRequest
	var partial bool
	var notes []string
	var graceCut *GraceCut
	for pi, r := range parts {
		s := r.Summary
		if s.Plan != first.Plan {
			return nil, fmt.Errorf("merge: part %d is plan %q, part 1 is %q", pi+1, s.Plan, first.Plan)
		}
		if s.StartTime.Before(start) {
			start = s.StartTime
		}
		if s.EndTime.After(end) {
			end = s.EndTime
		}
		switch {
		case s.Generator == nil:
			genAll = false
		case gen == nil:
			g := *s.Generator
			gen = &g
		default:
			gen.Add(s.Generator)
		}
		if s.Partial {
			partial = true
			for _, n := range s.Notes {
				notes = append(notes, fmt.Sprintf("part %d: %s", pi+1, n))
			}
		}
		info.Interrupted = info.Interrupted || s.Interrupted
		info.Aborted = info.Aborted || s.Aborted
		if c := s.GraceCut; c != nil {
			if graceCut == nil {
				graceCut = &GraceCut{AtS: c.AtS}
			}
			graceCut.AtS = min(graceCut.AtS, c.AtS)
			graceCut.InFlight += c.InFlight
		}
		if info.StopReason == "" {
			info.StopReason = s.StopReason
		}
		hists := map[StepKey]Hists{}
		for _, h := range r.Hists {
			hists[h.Key] = h.Hists
		}
		for _, sc := range s.Scenarios {
			info.Executors[sc.Name] = sc.Executor
			for _, st := range sc.Steps {
				k := StepKey{Scenario: sc.Name, Step: st.Name}
				h, ok := hists[k]
				if !ok {
					return nil, fmt.Errorf("merge: part %d has no histograms for %s/%s", pi+1, k.Scenario, k.Step)
				}
				d := data[k]
				if d == nil {
					d = &StepData{Key: k, Hists: newHists()}
					data[k] = d
					order = append(order, k)
				}
				c := countsOf(&st.Stats)
				d.counts.add(&c)
				if d.Endpoint == "" {
					d.Endpoint = st.Endpoint
				}
				if d.Control == "" {
					d.Control = st.Control
				}
				d.Hists.merge(h)
				shift := s.StartTime.Sub(start).Milliseconds()
				for _, t := range st.AcceptTimesMs {
					d.Accepts = append(d.Accepts, t+shift)
				}
			}
		}
		lost = append(lost, s.LostRequests...)
	}
	if genAll {
		info.Generator = gen
	}
	sort.SliceStable(lost, func(i, j int) bool { return lost[i].Time.Before(lost[j].Time) })
	if len(lost) > MaxLostListed {
		lost = lost[:MaxLostListed]
	}
	steps := make([]StepData, len(order))
	out := &Results{}
	for i, k := range order {
		steps[i] = *data[k]
		steps[i].Accepts = firstAccepts(steps[i].Accepts, math.MaxInt64)
		out.Hists = append(out.Hists, StepHists{Key: k, Hists: steps[i].Hists})
	}
	out.Summary = summarize(info, start, end, steps, lost)
	// A killed segment's part covers less than its share: the whole is
	// partial too, and says which part.
	out.Summary.Partial, out.Summary.Notes = partial, notes
	out.Summary.GraceCut = graceCut
	out.Series = mergeSeries(parts)
	return out, nil
}

// countsOf rebuilds the additive counters behind a Stats.
func countsOf(st *Stats) counts {
	c := counts{
		Offered: st.Offered, Started: st.Started, Completed: st.Requests, Dropped: st.Dropped,
		Attempts: st.Attempts, Retries: st.Retries, Lost: st.Lost, Goodput: st.Succeeded,
		BytesIn: st.BytesIn, BytesOut: st.BytesOut,
		RetryAfterWait: fromMs(st.Waits.RetryAfter), BackoffWait: fromMs(st.Waits.Backoff), GateWait: fromMs(st.Waits.Gate),
	}
	fill := func(a *[600]int64, m map[string]int64) {
		for k, n := range m {
			if i, err := strconv.Atoi(k); err == nil {
				a[statusIndex(i)] += n
			}
		}
	}
	fill(&c.Statuses, st.Statuses)
	fill(&c.Final, st.FinalStatuses)
	fillCodes(&c.Codes, st.Codes)
	c.WithRetryAfter = st.WithRetryAfter
	failed := int64(0)
	for k, n := range st.Errors {
		if cl, ok := ParseClass(k); ok {
			c.Classes[cl] += n
			failed += n
		}
	}
	c.Classes[OK] = st.Requests - failed
	return c
}

func fromMs(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }

func mergeSeries(parts []*Results) []Bucket {
	by := map[int64]*Bucket{}
	var keys []int64
	var t0 time.Time
	for _, r := range parts {
		if len(r.Series) > 0 && (t0.IsZero() || r.Series[0].Time.Before(t0)) {
			t0 = r.Series[0].Time
		}
	}
	for _, r := range parts {
		for i := range r.Series {
			b := &r.Series[i]
			sec := b.Time.Unix()
			m := by[sec]
			if m == nil {
				m = &Bucket{Time: time.Unix(sec, 0).UTC(), T: float64(sec - t0.Unix()), Flow: Flow{Statuses: map[string]int64{}}}
				by[sec] = m
				keys = append(keys, sec)
			}
			addBucket(m, b)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	out := make([]Bucket, len(keys))
	for i, k := range keys {
		out[i] = *by[k]
	}
	return out
}

func addBucket(m, b *Bucket) {
	m.Seconds = max(m.Seconds, b.Seconds)
	m.InFlightMax += b.InFlightMax
	m.InFlightMean += b.InFlightMean
	m.AddCounts(b)
}

// AddCounts adds b's counts, bytes, waits and steps to m, merges their
// percentiles conservatively (the higher of the two: a bucket keeps no
// histogram) and keeps the tighter rate-limit state. It leaves Seconds and
// the in-flight figures to the caller: the same second from parallel
// segments adds them, consecutive seconds drawn as one do not.
func (m *Bucket) AddCounts(b *Bucket) {
	if m.KO != nil || b.KO != nil {
		mOK, mKO := m.Split()
		bOK, bKO := b.Split()
		m.OK = &BucketLatency{FromSend: mergePct(mOK.FromSend, bOK.FromSend), FromDue: mergePct(mOK.FromDue, bOK.FromDue)}
		m.KO = &BucketLatency{FromSend: mergePct(mKO.FromSend, bKO.FromSend), FromDue: mergePct(mKO.FromDue, bKO.FromDue)}
	}
	m.Flow.Add(&b.Flow)
	m.BytesIn += b.BytesIn
	m.BytesOut += b.BytesOut
	m.WireMs += b.WireMs
	m.FromSend = mergePct(m.FromSend, b.FromSend)
	m.FromDue = mergePct(m.FromDue, b.FromDue)
	m.RetryAfterWaitMs += b.RetryAfterWaitMs
	m.BackoffWaitMs += b.BackoffWaitMs
	m.GateWaitMs += b.GateWaitMs
	for _, sb := range b.Steps {
		i := -1
		for k := range m.Steps {
			if m.Steps[k].Scenario == sb.Scenario && m.Steps[k].Step == sb.Step {
				i = k
				break
			}
		}
		if i < 0 {
			m.Steps = append(m.Steps, StepBucket{Scenario: sb.Scenario, Step: sb.Step})
			i = len(m.Steps) - 1
		}
		ms := &m.Steps[i]
		ms.Flow.Add(&sb.Flow)
		ms.FromDue = mergePct(ms.FromDue, sb.FromDue)
	}
	if b.RateLimit != nil {
		if m.RateLimit == nil {
			rl := *b.RateLimit
			m.RateLimit = &rl
		} else {
			m.RateLimit.Remaining = min(m.RateLimit.Remaining, b.RateLimit.Remaining)
			m.RateLimit.ResetS = max(m.RateLimit.ResetS, b.RateLimit.ResetS)
			m.RateLimit.Limit = max(m.RateLimit.Limit, b.RateLimit.Limit)
		}
	}
}

func mergePct(a, b Percentiles) Percentiles {
	n := a.Count + b.Count
	if n == 0 {
		return Percentiles{}
	}
	return Percentiles{
		Count: n,
		Mean:  (a.Mean*float64(a.Count) + b.Mean*float64(b.Count)) / float64(n),
		P50:   max(a.P50, b.P50), P90: max(a.P90, b.P90), P95: max(a.P95, b.P95),
		P99: max(a.P99, b.P99), P999: max(a.P999, b.P999), Max: max(a.Max, b.Max),
	}
}
