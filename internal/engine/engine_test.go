package engine

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/floodgate-dev/floodgate/internal/client"
	"github.com/floodgate-dev/floodgate/internal/h1"
	"github.com/floodgate-dev/floodgate/internal/metrics"
	"github.com/floodgate-dev/floodgate/internal/plan"
)

// fakeTransport answers every request in process: serve decides the
// status and how long the server takes. It runs inside a synctest bubble,
// so "taking time" is a fake-clock wait.
type fakeTransport struct {
	serve func(ctx context.Context, req *client.Request) (status int, took time.Duration)
	calls atomic.Int64
}

func (f *fakeTransport) RoundTrip(ctx context.Context, req *client.Request, resp *client.Response) error {
	f.calls.Add(1)
	start := time.Now()
	status, took := f.serve(ctx, req)
	if took > 0 {
		t := time.NewTimer(took)
		select {
		case <-ctx.Done():
			t.Stop()
			return &client.ClassError{Class: metrics.Timeout, Err: ctx.Err()}
		case <-t.C:
		}
	}
	resp.Status = status
	resp.Latency = time.Since(start)
	resp.BytesIn = 10
	return nil
}

func fixed(status int, took time.Duration) *fakeTransport {
	return &fakeTransport{serve: func(context.Context, *client.Request) (int, time.Duration) { return status, took }}
}

func testPlan(ex plan.Executor) *plan.Plan {
	return &plan.Plan{
		Name: "t", Target: "http://127.0.0.1:1", Grace: 30 * time.Second,
		Defaults: plan.Defaults{Timeout: 16 * time.Second},
		Scenarios: []*plan.Scenario{{
			Name: "s", Executor: ex,
			Steps: []*plan.Step{{Name: "get", Request: &plan.Request{Method: "GET", Path: "/x"}}},
		}},
	}
}

func run(t *testing.T, p *plan.Plan, tr client.Transport) (*Engine, *metrics.Summary) {
	t.Helper()
	e, err := New(p, WithTransport(tr))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	return e, e.Recorder().Summarize(metrics.RunInfo{Plan: p.Name}, e.Ended())
}

func TestClosedRampUpAndIterations(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var firsts []time.Duration
		seen := map[time.Duration]bool{}
		t0 := time.Now()
		tr := &fakeTransport{serve: func(context.Context, *client.Request) (int, time.Duration) {
			mu.Lock()
			defer mu.Unlock()
			off := time.Since(t0)
			if !seen[off] && off%time.Second == 0 {
				seen[off] = true
				firsts = append(firsts, off)
			}
			return 200, 100 * time.Millisecond
		}}
		p := testPlan(plan.Executor{Closed: &plan.Closed{VUs: 3, RampUp: 3 * time.Second, Iterations: 4}})
		e, s := run(t, p, tr)
		if s.Requests != 12 || s.Attempts != 12 || s.Statuses["200"] != 12 {
			t.Fatalf("requests %d attempts %d statuses %v, want 12 of 200", s.Requests, s.Attempts, s.Statuses)
		}
		want := []time.Duration{0, time.Second, 2 * time.Second}
		if len(firsts) != 3 || firsts[0] != want[0] || firsts[1] != want[1] || firsts[2] != want[2] {
			t.Errorf("VU starts %v, want %v", firsts, want)
		}
		if d := e.Ended().Sub(e.Started()); d != 2400*time.Millisecond {
			t.Errorf("run took %v, want 2.4s (last VU starts at 2s, 4 × 100ms)", d)
		}
		if p50 := s.Latency.FromSend.P50; p50 < 100 || p50 > 100.1 {
			t.Errorf("p50 from send %vms, want 100 (within HDR's 0.1%%)", p50)
		}
	})
}

func TestClosedDurationBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := testPlan(plan.Executor{Closed: &plan.Closed{VUs: 2, Duration: time.Second}})
		_, s := run(t, p, fixed(200, 100*time.Millisecond))
		if s.Requests != 20 {
			t.Fatalf("requests = %d, want 20 (2 VUs × 1s / 100ms)", s.Requests)
		}
	})
}

func TestOpenRateIsAchievedWithoutDrops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := testPlan(plan.Executor{Open: &plan.Open{Rate: plan.Rate{Count: 100, Per: time.Second}, Duration: 3 * time.Second, MaxVUs: 20}})
		e, s := run(t, p, fixed(200, 45*time.Millisecond))
		if s.Requests != 300 || s.Dropped != 0 || s.Offered != 300 {
			t.Fatalf("requests %d dropped %d offered %d, want 300/0/300", s.Requests, s.Dropped, s.Offered)
		}
		series := e.Recorder().Series()
		for _, b := range series[:3] {
			if b.Offered != 100 {
				t.Errorf("second %v offered %d, want 100", b.T, b.Offered)
			}
			if b.InFlightMax != 5 {
				t.Errorf("second %v inflight max %d, want 5 (100/s × 45ms)", b.T, b.InFlightMax)
			}
		}
	})
}

// TestOpenGranularity: 10,000/s for 200 ms. Sent each at its due time
// (granularity 0), the 2,000 requests go out at 2,000 instants; with a
// granularity of 1 ms the schedule wakes about once a millisecond and
// sends what is due, never early and never more than 1 ms late, and
// latency from due counts the delay.
func TestOpenGranularity(t *testing.T) {
	for _, tc := range []struct {
		granularity time.Duration
		minWakes    int
		maxWakes    int
	}{
		{0, 2000, 2000},
		{time.Millisecond, 150, 201}, // at 0, 1, …, 200 ms
	} {
		t.Run(tc.granularity.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var mu sync.Mutex
				sends := map[time.Time]int{}
				const took = 5 * time.Millisecond
				tr := transportFunc(func(ctx context.Context, req *client.Request, resp *client.Response) error {
					start := time.Now()
					mu.Lock()
					sends[start]++
					mu.Unlock()
					time.Sleep(took)
					resp.Status, resp.Latency = 200, time.Since(start)
					return nil
				})
				p := testPlan(plan.Executor{Open: &plan.Open{Rate: plan.Rate{Count: 10000, Per: time.Second}, Duration: 200 * time.Millisecond, MaxVUs: 1000, Granularity: tc.granularity}})
				_, s := run(t, p, tr)
				if s.Requests != 2000 || s.Dropped != 0 {
					t.Fatalf("requests %d dropped %d, want 2000/0", s.Requests, s.Dropped)
				}
				if n := len(sends); n < tc.minWakes || n > tc.maxWakes {
					t.Errorf("requests went out at %d instants, want %d-%d", n, tc.minWakes, tc.maxWakes)
				}
				// Histograms keep 3 significant digits: 0.02 ms of slack.
				if got := s.Latency.FromSend.Max; got < 5 || got > 5.02 {
					t.Errorf("max latency from send %vms, want 5 (the server's time)", got)
				}
				late := s.Latency.FromDue.Max - s.Latency.FromSend.Max
				if late < -0.02 || late > tc.granularity.Seconds()*1000+0.02 {
					t.Errorf("sent up to %.3fms late, want 0-%v", late, tc.granularity)
				}
				if tc.granularity > 0 && s.Latency.FromDue.P50 <= s.Latency.FromSend.P50 {
					t.Errorf("p50 from due %vms ≤ from send %vms: the send delay is not counted", s.Latency.FromDue.P50, s.Latency.FromSend.P50)
				}
			})
		})
	}
}

func TestOpenDropsWhenNoVUIsFree(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := testPlan(plan.Executor{Open: &plan.Open{Rate: plan.Rate{Count: 100, Per: time.Second}, Duration: time.Second, MaxVUs: 2}})
		_, s := run(t, p, fixed(200, 5*time.Second))
		if s.Offered != 100 || s.Started != 2 || s.Dropped != 98 || s.Requests != 2 {
			t.Fatalf("offered %d started %d dropped %d requests %d, want 100/2/98/2", s.Offered, s.Started, s.Dropped, s.Requests)
		}
	})
}

// TestCoordinatedOmission: a server that serves one request at a time,
// at exactly the offered rate, stalls once for 1 s. Every request queued
// behind the stall is late from its due time, though each is quick once
// sent: latency from due must show the stall, latency from send must not.
func TestCoordinatedOmission(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		conn := make(chan struct{}, 1) // one connection: requests wait for it
		var n atomic.Int64
		tr := transportFunc(func(ctx context.Context, req *client.Request, resp *client.Response) error {
			conn <- struct{}{}
			defer func() { <-conn }()
			start := time.Now()
			took := 5 * time.Millisecond
			if n.Add(1) == 200 { // about one second in
				took = time.Second
			}
			time.Sleep(took) // the server's service time, in fake time
			resp.Status, resp.Latency = 200, time.Since(start)
			return nil
		})
		p := testPlan(plan.Executor{Open: &plan.Open{Rate: plan.Rate{Count: 200, Per: time.Second}, Duration: 3 * time.Second, MaxVUs: 1000}})
		_, s := run(t, p, tr)
		if s.Requests != 600 || s.Dropped != 0 {
			t.Fatalf("requests %d dropped %d, want 600/0", s.Requests, s.Dropped)
		}
		if s.Latency.FromDue.P99 < 1000 {
			t.Errorf("p99 from due = %vms, want ≥ 1000 (the stall)", s.Latency.FromDue.P99)
		}
		if s.Latency.FromSend.P99 > 50 {
			t.Errorf("p99 from send = %vms, want small: only one request was slow once sent", s.Latency.FromSend.P99)
		}
	})
}

type transportFunc func(ctx context.Context, req *client.Request, resp *client.Response) error

func (f transportFunc) RoundTrip(ctx context.Context, req *client.Request, resp *client.Response) error {
	return f(ctx, req, resp)
}

func TestBatchesReleaseGroups(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		at := map[time.Duration]int{}
		t0 := time.Now()
		tr := &fakeTransport{serve: func(context.Context, *client.Request) (int, time.Duration) {
			mu.Lock()
			at[time.Since(t0)]++
			mu.Unlock()
			return 200, time.Second
		}}
		p := testPlan(plan.Executor{Batches: &plan.Batches{Size: 50, Pause: 10 * time.Second, Total: 120, MaxVUs: 200}})
		_, s := run(t, p, tr)
		if s.Requests != 120 || s.Dropped != 0 {
			t.Fatalf("requests %d dropped %d", s.Requests, s.Dropped)
		}
		if at[0] != 50 || at[10*time.Second] != 50 || at[20*time.Second] != 20 {
			t.Errorf("requests by send time %v, want 50 at 0s, 50 at 10s, 20 at 20s", at)
		}
	})
}

func TestStopIsGracefulThenAborts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := testPlan(plan.Executor{Closed: &plan.Closed{VUs: 4, Duration: time.Hour}})
		p.Grace = 10 * time.Second
		e, err := New(p, WithTransport(fixed(200, 3*time.Second)))
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error)
		go func() { done <- e.Run(context.Background()) }()
		time.Sleep(4 * time.Second) // mid-way through each VU's second iteration
		e.Stop()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		s := e.Recorder().Summarize(metrics.RunInfo{}, e.Ended())
		if s.Requests != 8 || s.Started != 8 {
			t.Errorf("requests %d started %d, want 8/8: in-flight iterations finish within grace", s.Requests, s.Started)
		}
		if !e.Interrupted() || e.Aborted() {
			t.Errorf("interrupted %v aborted %v, want true/false", e.Interrupted(), e.Aborted())
		}
		if d := e.Ended().Sub(e.Started()); d != 6*time.Second {
			t.Errorf("run ended after %v, want 6s", d)
		}
	})
}

func TestSecondStopAborts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := testPlan(plan.Executor{Closed: &plan.Closed{VUs: 4, Duration: time.Hour}})
		e, err := New(p, WithTransport(fixed(200, time.Minute)))
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error)
		go func() { done <- e.Run(context.Background()) }()
		time.Sleep(time.Second)
		e.Stop()
		time.Sleep(time.Second)
		e.Stop()
		<-done
		s := e.Recorder().Summarize(metrics.RunInfo{}, e.Ended())
		if !e.Aborted() || s.Requests != 4 || s.Errors["timeout"] != 4 {
			t.Errorf("aborted %v requests %d errors %v, want the 4 in-flight cut off as timeouts", e.Aborted(), s.Requests, s.Errors)
		}
		if d := e.Ended().Sub(e.Started()); d != 2*time.Second {
			t.Errorf("run ended after %v, want 2s", d)
		}
	})
}

func TestScenariosRunConcurrently(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := testPlan(plan.Executor{Closed: &plan.Closed{VUs: 1, Iterations: 10}})
		p.Scenarios = append(p.Scenarios, &plan.Scenario{Name: "b",
			Executor: plan.Executor{Open: &plan.Open{Rate: plan.Rate{Count: 10, Per: time.Second}, Duration: time.Second, MaxVUs: 5}},
			Steps:    []*plan.Step{{Name: "post", Request: &plan.Request{Method: "POST", Path: "/y"}}}})
		e, s := run(t, p, fixed(201, 100*time.Millisecond))
		if len(s.Scenarios) != 2 || s.Scenarios[0].Requests != 10 || s.Scenarios[1].Requests != 10 {
			t.Fatalf("scenarios %+v", s.Scenarios)
		}
		if d := e.Ended().Sub(e.Started()); d != time.Second {
			t.Errorf("took %v, want 1s: both scenarios at once", d)
		}
	})
}

func TestWarmVUs(t *testing.T) {
	perSec := func(n float64) plan.Rate { return plan.Rate{Count: n, Per: time.Second} }
	for _, c := range []struct {
		name string
		ex   plan.Executor
		max  int
		want int
	}{
		{"closed: none", plan.Executor{Closed: &plan.Closed{VUs: 50}}, 50, 0},
		{"20,000/s: 10 ms of arrivals", plan.Executor{Open: &plan.Open{Rate: perSec(20000)}}, 5000, 200},
		{"slow: at least 4", plan.Executor{Open: &plan.Open{Rate: perSec(10)}}, 100, 4},
		{"capped by max_vus", plan.Executor{Open: &plan.Open{Rate: perSec(20000)}}, 50, 50},
		{"stages: the peak", plan.Executor{Open: &plan.Open{Stages: []plan.Stage{{Target: perSec(1000)}, {Target: perSec(5000)}, {Target: perSec(0)}}}}, 1000, 50},
		{"batches: one batch", plan.Executor{Batches: &plan.Batches{Size: 30}}, 100, 30},
	} {
		sr := &scenarioRun{sc: &plan.Scenario{Executor: c.ex}, maxVUs: c.max}
		if got := warmVUs(sr); got != c.want {
			t.Errorf("%s: warmVUs = %d, want %d", c.name, got, c.want)
		}
	}
}

// TestArrivalsInGoPoller: which plans want a second Go thread on one
// core (cli/run.go): open or batch scenarios whose responses wait in
// Go's poller, that is over net/http (https) or where the h1 transport
// has no shared poller (not Linux); never a closed-only plan.
func TestArrivalsInGoPoller(t *testing.T) {
	open := plan.Executor{Open: &plan.Open{Rate: plan.Rate{Count: 10, Per: time.Second}, Duration: time.Second, MaxVUs: 5}}
	batches := plan.Executor{Batches: &plan.Batches{Size: 5, Pause: time.Second, Total: 10, MaxVUs: 5}}
	closed := plan.Executor{Closed: &plan.Closed{VUs: 2, Iterations: 1}}
	h1Polls := h1.New(1, 0).PollsArrivals()
	if h1Polls != (runtime.GOOS == "linux") {
		t.Errorf("PollsArrivals %v on %s", h1Polls, runtime.GOOS)
	}
	for _, c := range []struct {
		name   string
		ex     plan.Executor
		target string
		want   bool
	}{
		{"closed, http", closed, "http://127.0.0.1:1", false},
		{"closed, https", closed, "https://127.0.0.1:1", false},
		{"open, http", open, "http://127.0.0.1:1", !h1Polls},
		{"batches, http", batches, "http://127.0.0.1:1", !h1Polls},
		{"open, https", open, "https://127.0.0.1:1", true},
	} {
		p := testPlan(c.ex)
		p.Target = c.target
		e, err := New(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := e.ArrivalsInGoPoller(); got != c.want {
			t.Errorf("%s: ArrivalsInGoPoller %v, want %v", c.name, got, c.want)
		}
	}
}
