package engine

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/floodgate-dev/floodgate/internal/metrics"
	"github.com/floodgate-dev/floodgate/internal/plan"
)

// TestOpenOverH1 runs an open model over the real HTTP/1.1 transport
// against an in-process server (loopback, 1,000 requests in 0.5 s), so
// that its arrivals' waits on the shared poller (Linux), their wake-ups
// and deadline timers run under the race detector with many connections
// at once. Every request sent must come back a 200, and every iteration
// must be sent or counted as dropped.
func TestOpenOverH1(t *testing.T) {
	t.Parallel()
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if served.Add(1)%10 == 0 {
			time.Sleep(5 * time.Millisecond) // some slow ones: more connections in use at once
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	p := testPlan(plan.Executor{Open: &plan.Open{Rate: plan.Rate{Count: 2000, Per: time.Second}, Duration: 500 * time.Millisecond, MaxVUs: 200, Granularity: time.Millisecond}})
	p.Target = srv.URL
	p.Retry = &plan.Retry{Off: true}
	e, err := New(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := e.Recorder().Summarize(metrics.RunInfo{}, e.Ended())
	if s.Requests+s.Dropped != 1000 {
		t.Errorf("%d sent + %d dropped, want 1,000 iterations", s.Requests, s.Dropped)
	}
	if s.Succeeded != s.Requests || s.Requests == 0 {
		t.Errorf("%d of %d requests succeeded; errors %v", s.Succeeded, s.Requests, s.Errors)
	}
	if got := served.Load(); got != s.Requests {
		t.Errorf("the server answered %d requests, the run sent %d", got, s.Requests)
	}
}
