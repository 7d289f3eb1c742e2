package diagnose

import "math"

// rhythm looks for the beat in a step's acceptance times (ms, in
// order): the smallest k such that the k-th next acceptance comes a
// steady period later. A cap of N open jobs, each open for L, lets N
// creates through per L (k = N, period = L); a window of C requests per
// W lets C through per W. ok is false when no k gives a steady period of
// at least minPeriodMs, or too few times were kept to tell.
func rhythm(ts []int64) (k int, period float64, steady float64, ok bool) {
	const (
		minPeriodMs = 40   // below this, gaps are the generator's jitter
		minSteady   = 0.75 // share of k-gaps within ±20% of their median
		minRepeats  = 4    // k-gaps needed
		// Of the steady k, the smallest within this share of the
		// steadiest: multiples of the beat are steady too (their noise
		// is a smaller share of a longer span), and a beat whose jobs
		// drifted apart is less steady than one in lock-step.
		nearBest = 0.9
	)
	n := len(ts)
	steadiness := func(k int) (float64, float64) {
		d := gaps(ts, k)
		m := median(d)
		in := 0
		for _, x := range d {
			if math.Abs(x-m) <= 0.2*m {
				in++
			}
		}
		return float64(in) / float64(len(d)), m
	}
	if n < 1+minRepeats {
		return 0, 0, 0, false
	}
	d1 := gaps(ts, 1)
	type cand struct {
		k    int
		s, m float64
	}
	var cs []cand
	best := 0.0
	// At least minRepeats beats: with fewer, a multiple of the beat
	// averages the generator's jitter away and looks steadier than it.
	for k := 1; k <= n/minRepeats; k++ {
		st, m := steadiness(k)
		if m < minPeriodMs || st < minSteady {
			continue
		}
		// A steady k-gap made of k even 1-gaps is a steady rate, not a
		// beat: beyond k = 1 the acceptances must bunch, with about one
		// long pause per beat.
		if k > 1 {
			long := 0
			for _, x := range d1 {
				if x > 0.4*m {
					long++
				}
			}
			if float64(long) < 0.3*float64(len(d1))/float64(k) {
				continue
			}
		}
		cs = append(cs, cand{k, st, m})
		best = math.Max(best, st)
	}
	for _, c := range cs {
		if c.s < nearBest*best {
			continue
		}
		// A multiple of the beat can be steadier than the beat when the
		// client's own jitter blurs each acceptance: the bursts between
		// pauses of a quarter period count the acceptances per beat.
		if b := burstSize(ts, c.m); b > 0 && b != c.k && (c.k%b == 0 || math.Abs(float64(b-c.k)) <= 0.25*float64(c.k)) && b <= n-minRepeats {
			if st, m := steadiness(b); st >= 0.9*minSteady && m >= minPeriodMs {
				return b, m / 1000, st, true
			}
		}
		return c.k, c.m / 1000, c.s, true
	}
	return 0, 0, 0, false
}

// burstSize is the median number of acceptances between pauses of at
// least a quarter of periodMs, over the bursts that are neither first
// nor last (either may be cut); 0 with fewer than three such bursts.
func burstSize(ts []int64, periodMs float64) int {
	sizes, _ := bursts(ts, periodMs)
	if len(sizes) < 3 {
		return 0
	}
	return int(math.Round(median(sizes)))
}

// bursts splits ts at pauses of at least a quarter of periodMs and
// returns the sizes and widths (s) of the inner bursts.
func bursts(ts []int64, periodMs float64) (sizes, widths []float64) {
	start := 0
	for i := 1; i <= len(ts); i++ {
		if i < len(ts) && float64(ts[i]-ts[i-1]) < 0.25*periodMs {
			continue
		}
		if start > 0 && i < len(ts) {
			sizes = append(sizes, float64(i-start))
			widths = append(widths, float64(ts[i-1]-ts[start])/1000)
		}
		start = i
	}
	return sizes, widths
}

// gaps returns ts[i+k]-ts[i] for every i.
func gaps(ts []int64, k int) []float64 {
	if len(ts) <= k {
		return nil
	}
	out := make([]float64, 0, len(ts)-k)
	for i := 0; i+k < len(ts); i++ {
		out = append(out, float64(ts[i+k]-ts[i]))
	}
	return out
}

// periodOf finds the period, in whole seconds, of a per-second series
// that comes in bursts (300, 0, 0, 300, 0, 0 …): the lag p ≥ 2 whose
// sums over consecutive spans of p seconds are steadiest, when they are
// steadier than sums over one second. ok is false without such a lag.
func periodOf(xs []float64) (p int, perSpan float64, ok bool) {
	cv := func(v []float64) float64 {
		if len(v) < 2 {
			return math.Inf(1)
		}
		var s, ss float64
		for _, x := range v {
			s += x
		}
		mean := s / float64(len(v))
		if mean == 0 {
			return math.Inf(1)
		}
		for _, x := range v {
			ss += (x - mean) * (x - mean)
		}
		return math.Sqrt(ss/float64(len(v))) / mean
	}
	spans := func(p, off int) []float64 {
		var out []float64
		for i := off; i+p <= len(xs); i += p {
			var s float64
			for _, x := range xs[i : i+p] {
				s += x
			}
			out = append(out, s)
		}
		return out
	}
	base := cv(xs)
	if base < 0.3 {
		return 0, 0, false // no bursts to find a period in
	}
	best, bestCV := 0, base
	for q := 2; q <= 10 && 3*q <= len(xs); q++ {
		c := math.Inf(1)
		for off := range q {
			c = math.Min(c, cv(spans(q, off)))
		}
		if c < 0.5*base && c < 0.25 && c < bestCV {
			best, bestCV = q, c
			break // the shortest period: its multiples are steady too
		}
	}
	if best == 0 {
		return 0, 0, false
	}
	var all []float64
	for off := range best {
		all = append(all, spans(best, off)...)
	}
	return best, median(all), true
}

// burstBeat is the rhythm of a window's acceptances: count per period,
// each window's acceptances within width of its opening.
type burstBeat struct {
	k             int
	period, count float64
	width, steady float64
}

// acceptanceBeat reads the beat of the acceptances of the step with the
// most 429s: nil without one of at least half a second.
func (a *analysis) acceptanceBeat() *burstBeat {
	var ts []int64
	var most int64
	for _, sc := range a.sum.Scenarios {
		for _, st := range sc.Steps {
			if n := st.Statuses["429"]; n > most && len(st.AcceptTimesMs) > 0 {
				most, ts = n, st.AcceptTimesMs
			}
		}
	}
	k, period, steady, ok := rhythm(ts)
	if !ok || period < 0.5 {
		return nil
	}
	b := &burstBeat{k: k, period: period, count: float64(k), steady: steady}
	// The count per window is the size of a whole burst: the acceptances
	// between two pauses of at least a quarter of the period.
	sizes, widths := bursts(ts, period*1000)
	if c := median(sizes); len(sizes) >= 2 && c >= 0.8*float64(k) && c <= 1.25*float64(k) {
		b.count = c
	}
	b.width = median(widths)
	return b
}
