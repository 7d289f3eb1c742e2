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
