package jtl

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/floodgate-dev/floodgate/internal/client"
	"github.com/floodgate-dev/floodgate/internal/metrics"
)

// inflightEvery is how often, in the file's time, the in-flight count is
// sampled for each second's mean — as often as a run's reporter does.
const inflightEvery = 20 * time.Millisecond

// Results replays f's samples through a metrics.Recorder, in time order,
// as a floodgate run would have recorded them: every sample is one
// attempt and one logical request (JMeter does not retry), of step
// "label" in scenario "thread group" (the thread name without its
// " 1-23"); latency from due is latency from send (a closed model starts
// each request when its thread is ready); buckets are cut every second of
// the file's time. In-flight requests, which a JTL does not record, are
// reconstructed: at each instant, the samples whose [timeStamp,
// timeStamp+elapsed) span it. info names the run; Executors is filled in.
// The summary's Notes say what was reconstructed.
func Results(f *File, info metrics.RunInfo) (*metrics.Results, error) {
	if f == nil || len(f.Samples) == 0 {
		return nil, ErrEmpty
	}
	// Samples in start order (stable: ties keep the file's order).
	order := make([]int, len(f.Samples))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return f.Samples[a].Start.Compare(f.Samples[b].Start) })
	start := f.Samples[order[0]].Start
	end := start
	for _, s := range f.Samples {
		if e := s.Start.Add(s.Elapsed); e.After(end) {
			end = e
		}
	}

	// Steps, grouped by scenario (the summary needs a scenario's steps
	// together), each in order of first appearance.
	var scens []string
	byScen := map[string][]string{}
	for _, i := range order {
		s := &f.Samples[i]
		g := threadGroup(s.Thread)
		if _, ok := byScen[g]; !ok {
			scens = append(scens, g)
		}
		if !slices.Contains(byScen[g], s.Label) {
			byScen[g] = append(byScen[g], s.Label)
		}
	}
	var keys []metrics.StepKey
	idx := map[metrics.StepKey]int{}
	for _, g := range scens {
		for _, l := range byScen[g] {
			k := metrics.StepKey{Scenario: g, Step: l}
			idx[k] = len(keys)
			keys = append(keys, k)
		}
	}

	// Retries: a sample that follows its thread's 429 on the same label
	// is read as a retry of that request (JMeter plans retry a 429 with a
	// loop around the sampler). A chain of them is one logical request;
	// its last sample ends it.
	chainStart := make([]int, len(f.Samples)) // the chain's first sample
	chainLen := make([]int, len(f.Samples))   // attempts so far, this one included
	lastOf := map[string]int{}                // thread → its latest sample
	chainLast := make([]bool, len(f.Samples))
	nextTry := make([]int, len(f.Samples)) // the chain's sample after this one
	retries := 0
	for _, i := range order {
		s := &f.Samples[i]
		chainStart[i], chainLen[i], chainLast[i] = i, 1, true
		if j, ok := lastOf[s.Thread]; ok && f.Samples[j].Label == s.Label && f.Samples[j].Status == 429 {
			chainStart[i], chainLen[i] = chainStart[j], chainLen[j]+1
			chainLast[j], nextTry[j] = false, i
			retries++
		}
		lastOf[s.Thread] = i
	}

	// Events: a sample begins at its start and ends at start+elapsed. At
	// one instant ends go before begins ([start, end) intervals), except
	// a sample's own end, which follows its begin.
	type event struct {
		t    time.Time
		kind int // 0 end, 1 begin, 2 end of a zero-length sample
		i    int
	}
	evs := make([]event, 0, 2*len(f.Samples))
	for _, i := range order {
		s := &f.Samples[i]
		evs = append(evs, event{s.Start, 1, i})
		k := 0
		if s.Elapsed == 0 {
			k = 2
		}
		evs = append(evs, event{s.Start.Add(s.Elapsed), k, i})
	}
	slices.SortStableFunc(evs, func(a, b event) int {
		return cmp.Or(a.t.Compare(b.t), cmp.Compare(a.kind, b.kind))
	})

	rec := metrics.NewRecorder(start, keys)
	const shard = 0
	next := start.Add(time.Second)
	sampleAt := start
	var maxThreads int
	var withHeaders int
	advance := func(to time.Time) {
		for ; sampleAt.Before(to); sampleAt = sampleAt.Add(inflightEvery) {
			if !sampleAt.Before(next) {
				rec.Cut(next, false)
				next = next.Add(time.Second)
			}
			rec.SampleInFlight()
		}
		for !to.Before(next) {
			rec.Cut(next, false)
			next = next.Add(time.Second)
		}
	}
	for _, ev := range evs {
		advance(ev.t)
		s := &f.Samples[ev.i]
		step := idx[metrics.StepKey{Scenario: threadGroup(s.Thread), Step: s.Label}]
		first := &f.Samples[chainStart[ev.i]]
		if ev.kind == 1 {
			if chainStart[ev.i] == ev.i {
				rec.Offered(shard, step, s.Start)
				rec.Begin(shard, step, s.Start)
			}
			continue
		}
		class := classify(s)
		a := metrics.Attempt{Step: step, Start: s.Start, Latency: s.Elapsed, Status: s.Status, Class: class,
			BytesIn: s.Bytes, BytesOut: s.SentBytes, Retry: chainLen[ev.i] > 1, AcceptedAt: ev.t}
		if s.Status == 429 {
			a.RetryAfter = retryAfter(s.Headers)
		}
		if h := header(s.Headers); h != nil {
			rl := client.ParseRateLimit(h, ev.t)
			if rl.HasRemaining {
				a.HasRateLimit, a.Remaining, a.Reset = true, rl.Remaining, rl.Reset
				if rl.HasLimit {
					a.Limit = rl.Limit
				}
				withHeaders++
			}
		}
		rec.RecordAttempt(shard, &a)
		if !chainLast[ev.i] {
			continue
		}
		n := chainLen[ev.i]
		l := metrics.Logical{Step: step, Due: first.Start, Start: first.Start, End: ev.t, Status: s.Status, Class: class, Attempts: n,
			Lost: n > 1 && s.Status == 429}
		if n > 1 {
			// The time between the attempts: the plan's wait before each
			// retry (for a 429, its Retry-After).
			busy := time.Duration(0)
			for j := chainStart[ev.i]; ; j = nextTry[j] {
				busy += f.Samples[j].Elapsed
				if j == ev.i {
					break
				}
			}
			l.RetryAfterWait = max(0, ev.t.Sub(first.Start)-busy)
		}
		if class != metrics.OK && s.Failure != "" {
			l.Err = s.Failure
		}
		rec.RecordLogical(shard, &l)
		maxThreads = max(maxThreads, s.AllThreads)
	}
	// The last cut closes every open second; keep it longer than zero.
	final := end
	if last := next.Add(-time.Second); !final.After(last) {
		final = last.Add(time.Millisecond)
	}
	advance(final)
	rec.Cut(final, true)

	info.Executors = map[string]string{}
	for _, g := range scens {
		info.Executors[g] = "jmeter"
	}
	if info.Target == "" {
		info.Target = target(f)
	}
	res := rec.Results(info, final)
	res.Summary.Notes = notes(f, maxThreads, withHeaders)
	if retries > 0 {
		res.Summary.Notes = append(res.Summary.Notes, fmt.Sprintf("%d samples that follow their thread's 429 on the same label are read as retries of that request (the time between them as its Retry-After wait); a request whose last attempt was a 429 after retries counts as lost", retries))
	}
	return res, nil
}

// retryAfter reports whether saved response headers hold a Retry-After.
func retryAfter(headers string) bool {
	for _, line := range strings.Split(headers, "\n") {
		if k, _, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(k), "Retry-After") {
			return true
		}
	}
	return false
}

// classify gives a sample's outcome class: JMeter's success flag, and
// for failures without an HTTP status, the exception in the code or
// message.
func classify(s *Sample) metrics.Class {
	if s.Success {
		return metrics.OK
	}
	if s.Status != 0 {
		return metrics.Status
	}
	m := strings.ToLower(s.Code + " " + s.Message + " " + s.Failure)
	switch {
	case strings.Contains(m, "timeout") || strings.Contains(m, "timed out"):
		return metrics.Timeout
	case strings.Contains(m, "connectexception") || strings.Contains(m, "connection refused") ||
		strings.Contains(m, "unknownhost") || strings.Contains(m, "noroutetohost"):
		return metrics.Connect
	case strings.Contains(m, "ssl") || strings.Contains(m, "certificate"):
		return metrics.TLS
	case strings.Contains(m, "reset") || strings.Contains(m, "nohttpresponse") || strings.Contains(m, "broken pipe"):
		return metrics.Reset
	}
	return metrics.Other
}

// target is the scheme and host of the first sample with a URL.
func target(f *File) string {
	for _, s := range f.Samples {
		if u, err := url.Parse(s.URL); err == nil && u.Scheme != "" && u.Host != "" {
			return u.Scheme + "://" + u.Host
		}
	}
	return ""
}

func notes(f *File, maxThreads, withHeaders int) []string {
	n := []string{
		fmt.Sprintf("reconstructed from a JMeter JTL (%s, %d samples): each sample is one request (JMeter does not retry); timeStamp is read as the sample's start (JMeter's default)", f.Format, len(f.Samples)),
		"in-flight requests are reconstructed from timestamps and elapsed times (the samples whose [start, end) spans each instant); latency from due equals latency from send",
	}
	if maxThreads > 0 {
		n = append(n, fmt.Sprintf("active threads (allThreads) peaked at %d", maxThreads))
	}
	if withHeaders > 0 {
		n = append(n, fmt.Sprintf("rate-limit headers read from %d saved responses", withHeaders))
	} else {
		n = append(n, "no rate-limit headers in the file: the diagnosis reads statuses and timing only")
	}
	if f.Parents > 0 {
		n = append(n, fmt.Sprintf("%d transaction-controller sample(s) left out (the requests inside them are counted)", f.Parents))
	}
	if f.SubResults > 0 {
		n = append(n, fmt.Sprintf("%d sub-results (redirects, embedded resources) counted within their parent samples", f.SubResults))
	}
	return n
}
