package engine

import (
	"context"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/floodgate-dev/floodgate/internal/client"
	"github.com/floodgate-dev/floodgate/internal/plan"
)

func TestParseSegment(t *testing.T) {
	t.Parallel()
	if s, err := ParseSegment("2/4"); err != nil || s != (Segment{2, 4}) {
		t.Errorf("ParseSegment(2/4) = %v, %v", s, err)
	}
	for _, bad := range []string{"", "0/3", "4/3", "1/0", "a/b", "1-3", "2"} {
		if _, err := ParseSegment(bad); err == nil {
			t.Errorf("ParseSegment(%q) accepted", bad)
		}
	}
}

func TestSegmentSharesAddUp(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 2, 3, 7} {
		for total := 0; total < 30; total++ {
			sum := 0
			for i := 1; i <= n; i++ {
				sum += Segment{i, n}.share(total)
			}
			if sum != total {
				t.Fatalf("shares of %d over %d segments add up to %d", total, n, sum)
			}
		}
	}
	got := []int{Segment{1, 3}.share(7), Segment{2, 3}.share(7), Segment{3, 3}.share(7)}
	if !slices.Equal(got, []int{3, 2, 2}) {
		t.Errorf("7 VUs over 3 segments: %v, want [3 2 2]", got)
	}
}

// TestSegmentsUnionIsTheWholeSchedule: the due times of n segments,
// together, are exactly the unsegmented schedule's.
func TestSegmentsUnionIsTheWholeSchedule(t *testing.T) {
	t.Parallel()
	o := &plan.Open{StartRate: plan.Rate{Count: 10, Per: time.Second},
		Stages: []plan.Stage{{Target: plan.Rate{Count: 300, Per: time.Second}, Duration: 7 * time.Second}}}
	whole := drain(newOpenSchedule(o))
	var union []time.Duration
	for i := 1; i <= 3; i++ {
		part := drain(&segmented{inner: newOpenSchedule(o), seg: Segment{i, 3}})
		union = append(union, part...)
	}
	slices.Sort(union)
	if !slices.Equal(union, whole) {
		t.Fatalf("union of segments has %d arrivals, whole %d; they differ", len(union), len(whole))
	}
}

// TestSegmentedRunsMatchTheWhole runs a plan whole and as 3 segments
// (closed and open scenarios) and compares who sent what, when.
func TestSegmentedRunsMatchTheWhole(t *testing.T) {
	p := func() *plan.Plan {
		p := testPlan(plan.Executor{Closed: &plan.Closed{VUs: 7, RampUp: 7 * time.Second, Iterations: 3}})
		p.Scenarios = append(p.Scenarios, &plan.Scenario{Name: "o",
			Executor: plan.Executor{Open: &plan.Open{Rate: plan.Rate{Count: 50, Per: time.Second}, Duration: 2 * time.Second, MaxVUs: 10}},
			Steps:    []*plan.Step{{Name: "post", Request: &plan.Request{Method: "POST", Path: "/y"}}}})
		return p
	}
	sends := func(seg Segment) []string {
		var out []string
		synctest.Test(t, func(t *testing.T) {
			var mu sync.Mutex
			t0 := time.Now()
			tr := &fakeTransport{serve: func(_ context.Context, r *client.Request) (int, time.Duration) {
				mu.Lock()
				out = append(out, r.Method+" "+time.Since(t0).String())
				mu.Unlock()
				return 200, 10 * time.Millisecond
			}}
			e, err := New(p(), WithTransport(tr), WithSegment(seg), WithStartAt(t0))
			if err != nil {
				t.Fatal(err)
			}
			if err := e.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
		})
		return out
	}
	whole := sends(Segment{})
	var union []string
	for i := 1; i <= 3; i++ {
		union = append(union, sends(Segment{i, 3})...)
	}
	slices.Sort(whole)
	slices.Sort(union)
	if len(whole) != 7*3+100 || !slices.Equal(whole, union) {
		t.Fatalf("whole run sent %d, segments %d; the send times differ", len(whole), len(union))
	}
}
