package engine

import (
	"math"
	"testing"
	"time"

	"github.com/floodgate-dev/floodgate/internal/plan"
)

func drain(s schedule) []time.Duration {
	var out []time.Duration
	for {
		off, ok := s.next()
		if !ok {
			return out
		}
		out = append(out, off)
	}
}

func TestOpenScheduleConstantRate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		rate plan.Rate
		dur  time.Duration
		want int
		gap  time.Duration
	}{
		{plan.Rate{Count: 200, Per: time.Second}, 10 * time.Second, 2000, 5 * time.Millisecond},
		{plan.Rate{Count: 6000, Per: time.Minute}, 2 * time.Second, 200, 10 * time.Millisecond},
		{plan.Rate{Count: 3, Per: time.Second}, 1500 * time.Millisecond, 5, 333333333},
	}
	for _, tt := range tests {
		t.Run(tt.rate.String(), func(t *testing.T) {
			t.Parallel()
			got := drain(newOpenSchedule(&plan.Open{Rate: tt.rate, Duration: tt.dur}))
			if len(got) != tt.want {
				t.Fatalf("arrivals = %d, want %d", len(got), tt.want)
			}
			for i := 1; i < len(got); i++ {
				if d := got[i] - got[i-1]; d < tt.gap-time.Microsecond || d > tt.gap+time.Microsecond {
					t.Fatalf("gap %d = %v, want %v", i, d, tt.gap)
				}
			}
			if got[0] != 0 || got[len(got)-1] >= tt.dur {
				t.Fatalf("first %v last %v, want 0 and < %v", got[0], got[len(got)-1], tt.dur)
			}
		})
	}
}

func TestOpenScheduleStagesFollowTheRamp(t *testing.T) {
	t.Parallel()
	o := &plan.Open{
		StartRate: plan.Rate{Count: 0, Per: time.Second},
		Stages: []plan.Stage{
			{Target: plan.Rate{Count: 100, Per: time.Second}, Duration: 10 * time.Second}, // ramp: 500 arrivals
			{Target: plan.Rate{Count: 100, Per: time.Second}, Duration: 5 * time.Second},  // hold: 500
			{Target: plan.Rate{Count: 0, Per: time.Second}, Duration: 10 * time.Second},   // down: 500
		},
	}
	got := drain(newOpenSchedule(o))
	if len(got) != 1500 {
		t.Fatalf("arrivals = %d, want 1500", len(got))
	}
	// Arrivals per second must track the rate curve: in second k of the
	// ramp the expected count is the integral of 10t over [k, k+1].
	perSec := make([]int, 25)
	for i, off := range got {
		if i > 0 && off < got[i-1] {
			t.Fatalf("offsets not monotonic at %d: %v < %v", i, off, got[i-1])
		}
		perSec[int(off/time.Second)]++
	}
	for k := 0; k < 10; k++ {
		want := 5 * float64((k+1)*(k+1)-k*k) // ∫ 10t dt over [k,k+1]
		if math.Abs(float64(perSec[k])-want) > 1 {
			t.Errorf("ramp second %d: %d arrivals, want %.0f±1", k, perSec[k], want)
		}
	}
	for k := 10; k < 15; k++ {
		if perSec[k] != 100 {
			t.Errorf("hold second %d: %d arrivals, want 100", k, perSec[k])
		}
	}
	for k := 15; k < 25; k++ {
		j := 24 - k
		want := 5 * float64((j+1)*(j+1)-j*j)
		if math.Abs(float64(perSec[k])-want) > 1 {
			t.Errorf("ramp-down second %d: %d arrivals, want %.0f±1", k, perSec[k], want)
		}
	}
}

func TestBatchSchedule(t *testing.T) {
	t.Parallel()
	got := drain(newBatchSchedule(&plan.Batches{Size: 50, Pause: 10 * time.Second, Total: 120}))
	if len(got) != 120 {
		t.Fatalf("arrivals = %d, want 120", len(got))
	}
	count := map[time.Duration]int{}
	for _, off := range got {
		count[off]++
	}
	want := map[time.Duration]int{0: 50, 10 * time.Second: 50, 20 * time.Second: 20}
	for k, n := range want {
		if count[k] != n {
			t.Errorf("batch at %v: %d, want %d", k, count[k], n)
		}
	}
	if len(count) != 3 {
		t.Errorf("batches at %v, want 3", count)
	}
}

func TestRampOffset(t *testing.T) {
	t.Parallel()
	for v, want := range []time.Duration{0, 2500 * time.Millisecond, 5 * time.Second, 7500 * time.Millisecond} {
		if got := rampOffset(v, 4, 10*time.Second); got != want {
			t.Errorf("rampOffset(%d, 4, 10s) = %v, want %v", v, got, want)
		}
	}
	if got := rampOffset(3, 4, 0); got != 0 {
		t.Errorf("no ramp-up: offset %v, want 0", got)
	}
}

// skipTo passes over exactly the arrivals next would have returned
// before off, and next goes on from the first at or after it, for
// constant rates, ramps up and down, batches and segments of them.
func TestSkipToMatchesNext(t *testing.T) {
	t.Parallel()
	open := func(o plan.Open) func() schedule { return func() schedule { return newOpenSchedule(&o) } }
	r := func(n float64) plan.Rate { return plan.Rate{Count: n, Per: time.Second} }
	scheds := map[string]func() schedule{
		"constant 100/s": open(plan.Open{Rate: r(100), Duration: 3 * time.Second}),
		"constant 7/s":   open(plan.Open{Rate: r(7), Duration: 2 * time.Second}),
		"ramp up and down": open(plan.Open{StartRate: r(0), Stages: []plan.Stage{
			{Target: r(300), Duration: time.Second}, {Target: r(300), Duration: time.Second}, {Target: r(10), Duration: 1500 * time.Millisecond}}}),
		"batches": func() schedule {
			return newBatchSchedule(&plan.Batches{Size: 7, Pause: 300 * time.Millisecond, Total: 40})
		},
		"batches at once": func() schedule { return newBatchSchedule(&plan.Batches{Size: 5, Total: 12}) },
		"segment 2/3 of a ramp": func() schedule {
			o := plan.Open{StartRate: r(50), Stages: []plan.Stage{{Target: r(200), Duration: 2 * time.Second}}}
			return &segmented{inner: newOpenSchedule(&o), seg: Segment{I: 2, N: 3}}
		},
		"segment 1/4 of batches": func() schedule {
			return &segmented{inner: newBatchSchedule(&plan.Batches{Size: 6, Pause: time.Second, Total: 30}), seg: Segment{I: 1, N: 4}}
		},
	}
	for name, mk := range scheds {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			all := drain(mk())
			for _, first := range []int{0, 1, 5, 17} { // arrivals taken before the skip
				for off := -time.Millisecond; off < 4*time.Second; off += 37*time.Millisecond + 123*time.Microsecond {
					s := mk()
					for range min(first, len(all)) {
						s.next()
					}
					taken := min(first, len(all))
					before := taken
					for before < len(all) && all[before] < off {
						before++
					}
					got := s.skipTo(off)
					rest := drain(s)
					want := int64(before - taken)
					// An arrival within a microsecond of off may fall
					// either side of it: offsets are rounded to whole
					// nanoseconds.
					near := before < len(all) && all[before]-off < time.Microsecond ||
						before > taken && off-all[before-1] < time.Microsecond
					if got != want && !(near && (got == want+1 || got == want-1)) {
						t.Fatalf("after %d taken, skipTo(%v) = %d, want %d", taken, off, got, want)
					}
					if int(got)+taken+len(rest) != len(all) || (len(rest) > 0 && rest[0] != all[len(all)-len(rest)]) {
						t.Fatalf("after skipTo(%v): %d left, want the last %d of the schedule", off, len(rest), len(all)-taken-int(got))
					}
				}
			}
		})
	}
}
