package livemetrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/floodgate-dev/floodgate/internal/metrics"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestExporterCountsWhatTheRecorderSees(t *testing.T) {
	t.Parallel()
	steps := []metrics.StepKey{{Scenario: "bot", Step: "post"}, {Scenario: "bot", Step: "get"}}
	t0 := time.Now()
	rec := metrics.NewRecorder(t0, steps)
	e := New(steps, rec.InFlight)
	rec.SetObserver(e)
	for i := 0; i < 10; i++ {
		rec.Begin(0, 0, t0)
		status, retry := 200, false
		if i < 3 {
			status = 429
		}
		rec.RecordAttempt(0, &metrics.Attempt{Step: 0, Start: t0, Latency: 20 * time.Millisecond, Status: status})
		if i < 3 {
			retry = true
			rec.RecordAttempt(0, &metrics.Attempt{Step: 0, Start: t0, Latency: 20 * time.Millisecond, Status: 200, Retry: retry})
		}
		rec.RecordLogical(0, &metrics.Logical{Step: 0, Due: t0, Start: t0, End: t0.Add(50 * time.Millisecond), Status: 200,
			Attempts: 1, GateWait: time.Second})
	}
	rec.Begin(0, 1, t0) // one left in flight
	rec.Dropped(0, 1, t0)
	rec.RecordAttempt(0, &metrics.Attempt{Step: 1, Start: t0, Status: 503, Class: metrics.Status})

	const want = `
# HELP floodgate_attempts_total HTTP attempts sent, by status (0: no response).
# TYPE floodgate_attempts_total counter
floodgate_attempts_total{scenario="bot",status="200",step="post"} 10
floodgate_attempts_total{scenario="bot",status="429",step="post"} 3
floodgate_attempts_total{scenario="bot",status="503",step="get"} 1
# HELP floodgate_dropped_iterations_total Iterations due while no VU was free.
# TYPE floodgate_dropped_iterations_total counter
floodgate_dropped_iterations_total{scenario="bot"} 1
# HELP floodgate_inflight_requests Logical requests in flight.
# TYPE floodgate_inflight_requests gauge
floodgate_inflight_requests 1
# HELP floodgate_requests_total Logical requests completed, by final status (0: no response).
# TYPE floodgate_requests_total counter
floodgate_requests_total{scenario="bot",status="200",step="post"} 10
# HELP floodgate_retries_total Attempts after a logical request's first.
# TYPE floodgate_retries_total counter
floodgate_retries_total{scenario="bot",step="get"} 0
floodgate_retries_total{scenario="bot",step="post"} 3
# HELP floodgate_wait_seconds_total Time requests spent waiting before attempts, by reason.
# TYPE floodgate_wait_seconds_total counter
floodgate_wait_seconds_total{reason="backoff"} 0
floodgate_wait_seconds_total{reason="gate"} 10
floodgate_wait_seconds_total{reason="retry_after"} 0
`
	names := []string{"floodgate_attempts_total", "floodgate_dropped_iterations_total", "floodgate_inflight_requests",
		"floodgate_requests_total", "floodgate_retries_total", "floodgate_wait_seconds_total"}
	if err := testutil.GatherAndCompare(e.Registry(), strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(e.Registry(), "floodgate_request_duration_seconds"); n != 2 {
		t.Errorf("request duration histograms: %d, want one per step", n)
	}
	// Prometheus's own linter finds nothing to fix in the names and help.
	problems, err := testutil.GatherAndLint(e.Registry())
	if err != nil || len(problems) != 0 {
		t.Errorf("lint: %v %v", err, problems)
	}
	srv := httptest.NewServer(e.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `floodgate_request_duration_seconds_bucket{scenario="bot",step="post",le="0.05"} 10`) {
		t.Errorf("served metrics lack the latency histogram:\n%.2000s", body)
	}
}
