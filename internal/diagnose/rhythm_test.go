package diagnose

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// capTimes simulates acceptances under a cap of n open jobs, each open
// for life ms, with creates arriving every gap ms (jittered by ±jitter
// ms): a slot is taken by the first create after it frees.
func capTimes(rng *rand.Rand, n int, life, gap, jitter float64, count int) []int64 {
	free := make([]float64, n) // when each slot frees
	var ts []int64
	t := 0.0
	for len(ts) < count {
		t += gap + (rng.Float64()*2-1)*jitter*0.1
		for i := range free {
			if free[i] <= t {
				at := t + rng.Float64()*jitter // the client's own delay in reading the answer
				ts = append(ts, int64(at))
				free[i] = t + life
				break
			}
		}
	}
	slices.Sort(ts)
	return ts
}

// windowTimes simulates acceptances under c requests per window of w ms,
// clients sending every gap ms: each window's c pass at its opening.
func windowTimes(rng *rand.Rand, c int, w, gap float64, windows int) []int64 {
	var ts []int64
	for k := range windows {
		t := float64(k)*w + rng.Float64()*gap
		for range c {
			ts = append(ts, int64(t))
			t += gap * (0.5 + rng.Float64())
		}
	}
	return ts
}

func TestRhythmOfJobCaps(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 7))
	for _, n := range []int{1, 2, 3, 5, 8, 20} {
		for _, life := range []float64{200, 300, 1500, 30000} {
			for _, jitter := range []float64{1, life / 20} {
				ts := capTimes(rng, n, life, 5, jitter, 40*n)
				k, period, _, ok := rhythm(ts)
				if !ok || k != n || math.Abs(period*1000-life) > 0.1*life {
					t.Errorf("cap %d, life %.0f ms, jitter %.0f ms: rhythm k=%d period=%.3f s ok=%v", n, life, jitter, k, period, ok)
				}
			}
		}
	}
}

func TestRhythmOfWindows(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(8, 8))
	for _, c := range []int{30, 100, 300} {
		for _, w := range []float64{1000, 3000, 5000, 10000} {
			for _, gap := range []float64{0.5, 2} {
				if float64(c)*gap*1.5 > 0.5*w {
					continue // the clients could not spend the window in its first half
				}
				ts := windowTimes(rng, c, w, gap, 2000/c+3)
				if len(ts) > 2000 {
					ts = ts[:2000]
				}
				k, period, _, ok := rhythm(ts)
				if !ok || math.Abs(float64(k)-float64(c)) > 0.1*float64(c) || math.Abs(period*1000-w) > 0.1*w {
					t.Errorf("%d per %.0f ms, sent every %.1f ms: rhythm k=%d period=%.3f s ok=%v", c, w, gap, k, period, ok)
				}
				if b := burstSize(ts, w); b != c {
					t.Errorf("%d per %.0f ms: burst size %d", c, w, b)
				}
			}
		}
	}
}

// TestRhythmOfASteadyPace: acceptances at a steady pace, or at random,
// have no beat.
func TestRhythmOfASteadyPace(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(9, 9))
	for _, gap := range []float64{2, 10, 50, 200} {
		var steady, poisson []int64
		a, b := 0.0, 0.0
		for range 500 {
			a += gap
			b += rng.ExpFloat64() * gap
			steady = append(steady, int64(a))
			poisson = append(poisson, int64(b))
		}
		for name, ts := range map[string][]int64{"steady": steady, "poisson": poisson} {
			k, period, _, ok := rhythm(ts)
			// A steady pace slower than the jitter floor is a beat of one:
			// a cap of one job lasting the gap, which Little's law allows.
			if ok && !(name == "steady" && k == 1 && math.Abs(period*1000-gap) < 0.1*gap) {
				t.Errorf("%s pace every %.0f ms: found a beat k=%d period=%.3f s", name, gap, k, period)
			}
		}
	}
}

func TestPeriodOf(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		xs   []float64
		p    int
		span float64
	}{
		{[]float64{300, 0, 0, 300, 0, 0, 300, 0, 0, 300}, 3, 300},
		{[]float64{0, 250, 50, 0, 300, 0, 0, 290, 10, 0, 300, 0}, 3, 300},
		{[]float64{100, 0, 100, 0, 100, 0, 100, 0}, 2, 100},
	} {
		p, span, ok := periodOf(tc.xs)
		if !ok || p != tc.p || math.Abs(span-tc.span) > 0.1*tc.span {
			t.Errorf("%v: period %d, %g per span, ok %v; want %d, %g", tc.xs, p, span, ok, tc.p, tc.span)
		}
	}
	if _, _, ok := periodOf([]float64{100, 98, 103, 99, 101, 100}); ok {
		t.Error("a flat series has a period")
	}
}
