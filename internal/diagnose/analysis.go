package diagnose

import (
	"cmp"
	"math"
	"slices"
	"strconv"

	"github.com/floodgate-dev/floodgate/internal/metrics"
)

// statusGroup is a class of failure statuses looked at together.
type statusGroup struct {
	name  string
	match func(code int) bool
}

var (
	g401    = statusGroup{"401", func(c int) bool { return c == 401 }}
	g403    = statusGroup{"403", func(c int) bool { return c == 403 }}
	g429    = statusGroup{"429", func(c int) bool { return c == 429 }}
	gAuth   = statusGroup{"auth", func(c int) bool { return c == 401 || c == 403 }}
	gServer = statusGroup{"5xx", func(c int) bool { return c >= 500 || c == 0 }}
	gFailed = statusGroup{"failed", func(c int) bool { return c >= 400 || c == 0 }}
)

// second is one bucket of the time series, with its statuses parsed.
type second struct {
	metrics.Bucket
	codes map[int]int64
}

func (s *second) n(g statusGroup) float64 {
	var n int64
	for c, k := range s.codes {
		if g.match(c) {
			n += k
		}
	}
	return float64(n)
}

// rate is the attempts per second in s.
func (s *second) rate() float64 {
	if s.Seconds <= 0 {
		return 0
	}
	return float64(s.Attempts) / s.Seconds
}

func (s *second) full() bool { return s.Seconds >= minBucket }

func (s *second) waits() float64 { return s.GateWaitMs + s.RetryAfterWaitMs }

// analysis holds what every rule needs.
type analysis struct {
	res      *metrics.Results
	sum      *metrics.Summary
	secs     []second
	attempts float64
	failed   float64
	// baseline is the mean latency (from send, ms) of the first healthy
	// seconds with traffic; 0 when unknown.
	baseline float64
	// claimed holds the scenario/steps whose refusals a cap on open jobs
	// explained.
	claimed map[string]bool
	// all429 counts every 429, those a cap on open jobs explained too.
	all429 float64
}

func newAnalysis(res *metrics.Results) *analysis {
	a := &analysis{res: res, sum: res.Summary, claimed: map[string]bool{}}
	if a.sum == nil {
		a.sum = &metrics.Summary{}
	}
	for _, b := range res.Series {
		s := second{Bucket: b, codes: map[int]int64{}}
		for k, n := range b.Statuses {
			if c, err := strconv.Atoi(k); err == nil {
				s.codes[c] += n
			}
		}
		a.secs = append(a.secs, s)
		a.attempts += float64(b.Attempts)
		a.failed += s.n(gFailed)
	}
	a.baseline = a.baselineLatency()
	a.all429 = a.total(g429)
	return a
}

// baselineLatency is the median of the mean latencies of the first three
// full seconds with completions, few failures and no waits.
func (a *analysis) baselineLatency() float64 {
	var xs []float64
	for i := range a.secs {
		s := &a.secs[i]
		if !s.full() || s.FromSend.Count < 3 || s.waits() > 0 || s.Retries > 0 {
			continue
		}
		if s.n(gFailed) > maxHealthyFailure*float64(s.Attempts) {
			continue
		}
		xs = append(xs, s.FromSend.Mean)
		if len(xs) == 3 {
			break
		}
	}
	return median(xs)
}

// first returns the index of the first second with attempts in g, or -1.
func (a *analysis) first(g statusGroup) int {
	for i := range a.secs {
		if a.secs[i].n(g) > 0 {
			return i
		}
	}
	return -1
}

// firstTraffic returns the index of the first second with attempts, or -1.
func (a *analysis) firstTraffic() int {
	for i := range a.secs {
		if a.secs[i].Attempts > 0 {
			return i
		}
	}
	return -1
}

func (a *analysis) total(g statusGroup) float64 {
	var n float64
	for i := range a.secs {
		n += a.secs[i].n(g)
	}
	return n
}

// statuses lists the codes of g seen in the run, most frequent first.
func (a *analysis) statuses(g statusGroup) []string {
	type kv struct {
		code int
		n    int64
	}
	m := map[int]int64{}
	for i := range a.secs {
		for c, n := range a.secs[i].codes {
			if g.match(c) {
				m[c] += n
			}
		}
	}
	var kvs []kv
	for c, n := range m {
		kvs = append(kvs, kv{c, n})
	}
	slices.SortFunc(kvs, func(x, y kv) int {
		if x.n != y.n {
			return cmp.Compare(y.n, x.n)
		}
		return cmp.Compare(x.code, y.code)
	})
	out := make([]string, len(kvs))
	for i, e := range kvs {
		out[i] = strconv.Itoa(e.code)
	}
	return out
}

// statusCounts renders "429 × 17 of 817 attempts".
func (a *analysis) statusCounts(g statusGroup) string {
	s := ""
	for i, code := range a.statuses(g) {
		c, _ := strconv.Atoi(code)
		var n float64
		for j := range a.secs {
			n += float64(a.secs[j].codes[c])
		}
		if i > 0 {
			s += " + "
		}
		name := code
		if code == "0" {
			name = "no response"
		}
		s += name + " × " + Count(int64(n))
	}
	return s + " of " + Count(int64(a.attempts)) + " attempts"
}

// separation tests "failures of g iff in flight ≥ N" over the full
// seconds with traffic. It returns the smallest in-flight peak of a
// failing second, the largest of a clean one, the share of seconds
// consistent with the threshold, and the counts of failing and clean
// seconds.
type separation struct {
	failMin        int64
	score          float64
	failing, clean int
	cleanBelow     int // clean seconds below failMin
	// maxMean is the highest in-flight mean of a second in which at
	// least a tenth of the attempts failed: with an open workload the
	// in-flight count plateaus at the cap.
	maxMean float64
}

func (a *analysis) separate(g statusGroup, key func(*second) float64, slack bool) separation {
	sp := separation{failMin: -1}
	fmin := -1.0
	for i := range a.secs {
		s := &a.secs[i]
		if s.Attempts == 0 {
			continue
		}
		n := s.n(g)
		if n > 0 {
			sp.failing++
			// A stray failure or two, or one in the last, partial second
			// (recorded a moment after the cut, say), does not set the
			// threshold.
			if v := key(s); (fmin < 0 || v < fmin) && n > 2 && s.full() {
				fmin = v
			}
			if n >= 0.1*float64(s.Attempts) && s.full() && s.InFlightMean > sp.maxMean {
				sp.maxMean = s.InFlightMean
			}
		}
	}
	if sp.failing == 0 || fmin < 0 {
		return sp
	}
	// The generator counts a request in flight a little before and after
	// the server does, so a clean second may peak a little above a cap:
	// only one clearly above the failing minimum contradicts it.
	tolerance := 0.0
	if slack {
		tolerance = max(2, 0.1*fmin)
	}
	inconsistent := 0
	for i := range a.secs {
		s := &a.secs[i]
		if s.Attempts < 3 || s.n(g) > 0 || !s.full() {
			continue
		}
		sp.clean++
		switch v := key(s); {
		case v >= fmin+tolerance:
			inconsistent++
		case v < fmin:
			sp.cleanBelow++
		}
	}
	sp.failMin = int64(fmin)
	sp.score = 1 - float64(inconsistent)/float64(sp.failing+sp.clean)
	return sp
}

func inflightMax(s *second) float64 { return float64(s.InFlightMax) }

// onWire is the in-flight peak of s counting requests on the wire only:
// a logical request waiting for Retry-After, backoff or the gate is in
// flight for the generator but not for the server. Where s had such
// waits, the peak is scaled by the share of in-flight time spent on the
// wire (WireMs over the in-flight mean).
func onWire(s *second) float64 {
	peak := float64(s.InFlightMax)
	if s.waits()+s.BackoffWaitMs == 0 || s.WireMs == 0 || s.InFlightMean <= 0 || s.Seconds <= 0 {
		return peak
	}
	share := s.WireMs / 1000 / s.Seconds / s.InFlightMean
	return peak * math.Min(1, share)
}
