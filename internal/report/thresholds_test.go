package report

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/floodgate-dev/floodgate/internal/metrics"
	"github.com/floodgate-dev/floodgate/internal/plan"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// testRun records a fixed run of 10 s: scenario s, step a with 100
// requests of 1..100 ms (the last 2 answered 429 twice: 102 attempts,
// 4 of them 429), step b with 10 requests of 2 s (1 lost, 1 timeout);
// scenario u, step a with nothing recorded.
func testRun(t *testing.T) (*metrics.Summary, []metrics.StepHists) {
	t.Helper()
	keys := []metrics.StepKey{{Scenario: "s", Step: "a"}, {Scenario: "s", Step: "b"}, {Scenario: "u", Step: "a"}}
	rec := metrics.NewRecorder(t0, keys)
	for i := 1; i <= 100; i++ {
		start := t0.Add(time.Duration(i) * 50 * time.Millisecond)
		lat := time.Duration(i) * time.Millisecond
		status := 200
		rec.Offered(0, 0, start)
		rec.Begin(0, 0, start)
		if i > 98 {
			status = 429
			rec.RecordAttempt(0, &metrics.Attempt{Step: 0, Start: start, Latency: lat, Status: 429, Class: metrics.Status})
		}
		rec.RecordAttempt(0, &metrics.Attempt{Step: 0, Start: start, Latency: lat, Status: status, Retry: i > 98})
		cl := metrics.OK
		if status != 200 {
			cl = metrics.Status
		}
		rec.RecordLogical(0, &metrics.Logical{Step: 0, Due: start, Start: start, End: start.Add(lat), Status: status, Class: cl, Attempts: 1})
	}
	for i := range 10 {
		start := t0.Add(time.Duration(i) * time.Second)
		rec.Offered(0, 1, start)
		rec.Begin(0, 1, start)
		l := &metrics.Logical{Step: 1, Due: start, Start: start, End: start.Add(2 * time.Second), Status: 200, Attempts: 1}
		rec.RecordAttempt(0, &metrics.Attempt{Step: 1, Start: start, Latency: 2 * time.Second, Status: 200})
		switch i {
		case 0:
			l.Lost, l.Status, l.Class, l.Err = true, 503, metrics.Status, "giving up"
		case 1:
			l.Class = metrics.Timeout
		}
		rec.RecordLogical(0, l)
	}
	res := rec.Results(metrics.RunInfo{Plan: "p", Target: "http://x", Executors: map[string]string{"s": "closed", "u": "open"}}, t0.Add(10*time.Second))
	return res.Summary, res.Hists
}

func mustThreshold(t *testing.T, s string) *plan.Threshold {
	t.Helper()
	th, err := plan.ParseThreshold(s)
	if err != nil {
		t.Fatal(err)
	}
	th.Pos = plan.Pos{Line: 3, Col: 5}
	return th
}

func TestMeasure(t *testing.T) {
	t.Parallel()
	s, hists := testRun(t)
	tests := []struct {
		threshold string
		want      float64 // NaN: nothing to measure
		noHists   float64 // the value from the summary alone
	}{
		{"p50(latency{step=a, scenario=s}) < 1s", 50, 50},
		{"p99(latency{scenario=s,step=a}) < 1s", 99, 99},
		{"p99.5(latency{scenario=s,step=a}) < 1s", 100, math.NaN()}, // an arbitrary percentile needs the histograms
		{"max(latency{step=b}) < 1s", 2000, 2000},
		{"min(latency{scenario=s}) < 1s", 1, math.NaN()},
		{"mean(latency.attempt{scenario=s,step=a}) < 1s", 5249.0 / 102, 5249.0 / 102},
		{"p50(latency) < 1s", 55, 55},                 // the whole run: 110 samples
		{"p99(latency{step=a}) < 1s", 99, math.NaN()}, // step a of both scenarios: several steps need the histograms
		{"p99(latency{scenario=u}) < 1s", math.NaN(), math.NaN()},
		{"requests == 0", 110, 110},
		{"requests{scenario=s,step=b} == 0", 10, 10},
		{"succeeded == 0", 106, 106},
		{"failed == 0", 4, 4},
		{"lost == 0", 1, 1},
		{"attempts == 0", 112, 112},
		{"retries == 0", 2, 2},
		{"offered == 0", 110, 110},
		{"retry_amplification < 2", 112.0 / 110, 112.0 / 110},
		{"goodput > 1/s", 10.6, 10.6},
		{"achieved_rate > 1/s", 11, 11},
		{"rate(status=429) < 1%", 4.0 / 112, 4.0 / 112},
		{"rate(status=4xx) < 1%", 4.0 / 112, 4.0 / 112},
		{"rate(status=2xx) < 1%", 108.0 / 112, 108.0 / 112},
		{"rate(final_status=429, step=a) < 1%", 2.0 / 100, 2.0 / 100},
		{"count(final_status=429) < 1", 2, 2},
		{"rate(error=timeout) < 1%", 1.0 / 110, 1.0 / 110},
		{"rate(lost, scenario=s, step=b) < 1%", 0.1, 0.1},
		{"rate(failed) < 1%", 4.0 / 110, 4.0 / 110},
		{"rate(retries) < 1%", 2.0 / 112, 2.0 / 112},
		{"rate(dropped) < 1%", 0, 0},
		{"rate(lost, scenario=u) < 1%", math.NaN(), math.NaN()}, // a rate of nothing
		{"count(lost, scenario=u) < 1", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.threshold, func(t *testing.T) {
			t.Parallel()
			th := mustThreshold(t, tt.threshold)
			for _, c := range []struct {
				hists []metrics.StepHists
				want  float64
			}{{hists, tt.want}, {nil, tt.noHists}} {
				got, ok := Measure(th, s, c.hists)
				switch {
				case math.IsNaN(c.want) && ok:
					t.Errorf("hists %v: got %v, want nothing to measure", c.hists != nil, got)
				case !math.IsNaN(c.want) && (!ok || math.Abs(got-c.want) > c.want*0.002+1e-9):
					t.Errorf("hists %v: got %v (ok %v), want %v", c.hists != nil, got, ok, c.want)
				}
			}
		})
	}
}

func TestEvaluateThresholds(t *testing.T) {
	t.Parallel()
	s, hists := testRun(t)
	ths := []*plan.Threshold{
		mustThreshold(t, "p99(latency{scenario=s,step=a}) < 800ms"),
		mustThreshold(t, "lost == 0"),
		mustThreshold(t, "p99(latency{scenario=u}) < 1s"),
		mustThreshold(t, "rate(status=429) < 1%"),
		mustThreshold(t, "goodput > 10/s"),
	}
	rs := EvaluateThresholds("plan.yaml", ths, s, hists)
	want := []struct {
		passed bool
		detail string
	}{
		{true, "p99(latency{scenario=s,step=a}) = 99.007 ms, want < 800 ms"},
		{false, "lost = 1, want == 0"},
		{false, "p99(latency{scenario=u}) has no samples to measure"},
		{false, "rate(status=429) = 3.57143%, want < 1%"},
		{true, "goodput = 10.6/s, want > 10/s"},
	}
	for i, r := range rs {
		if r.Passed != want[i].passed || r.Detail != want[i].detail || r.Position != "plan.yaml:3:5" || r.Threshold != ths[i].Text {
			t.Errorf("result %d: %+v, want passed %v %q", i, r, want[i].passed, want[i].detail)
		}
	}
	if rs[2].Value != nil || rs[3].Unit != "ratio" || rs[4].Unit != "per_s" || rs[0].Unit != "ms" || rs[0].Limit != 800 {
		t.Errorf("results %+v", rs)
	}
	if ThresholdsPassed(rs) || !ThresholdsPassed(rs[:1]) || !ThresholdsPassed(nil) {
		t.Errorf("ThresholdsPassed")
	}
}

func TestWatcher(t *testing.T) {
	t.Parallel()
	s, hists := testRun(t)
	if NewWatcher("p.yaml", []*plan.Threshold{mustThreshold(t, "lost == 0")}) != nil {
		t.Errorf("a watcher without abort_on_fail thresholds")
	}
	nodata := mustThreshold(t, "p99(latency{scenario=u}) < 1s")
	lost := mustThreshold(t, "lost == 0")
	nodata.AbortOnFail, lost.AbortOnFail, lost.DelayAbortEval = true, true, 5*time.Second
	w := NewWatcher("p.yaml", []*plan.Threshold{nodata, mustThreshold(t, "requests == 0"), lost})
	if th, _ := w.Check(s, hists, 4*time.Second); th != nil {
		t.Errorf("before its delay, %q stopped the run; a threshold with nothing to measure must not either", th.Text)
	}
	th, r := w.Check(s, hists, 5*time.Second)
	if th != lost || r == nil || r.Passed {
		t.Fatalf("Check = %v %+v, want lost == 0 failing", th, r)
	}
	rs := EvaluateThresholds("p.yaml", []*plan.Threshold{lost}, s, hists)
	MarkAborted(rs, r, 5200*time.Millisecond)
	if !rs[0].Aborted || rs[0].Passed || rs[0].Detail != "stopped the run after 5s: lost = 1, want == 0" {
		t.Errorf("marked %+v", rs[0])
	}
	if got := AbortReason(r); got != "threshold failed: lost = 1, want == 0" {
		t.Errorf("AbortReason = %q", got)
	}
}

// goldenSummary is a summary with thresholds and failures, for golden files.
func goldenSummary() *metrics.Summary {
	v1, v2 := 812.5, 0.0
	return &metrics.Summary{
		Schema:    metrics.SummarySchema,
		RunInfo:   metrics.RunInfo{Plan: "export-flow", Target: "http://127.0.0.1:8080", Interrupted: true, StopReason: "threshold failed: p99(latency) = 812.5 ms, want < 800 ms"},
		StartTime: t0, EndTime: t0.Add(12345 * time.Millisecond), DurationS: 12.345,
		Scenarios: []metrics.ScenarioSummary{{Name: "export"}},
		Failures: []metrics.StepFailure{
			{Scenario: "export", Step: "job_ready", Error: "until did not hold within 2m0s", Example: `last response 200: {"state":"PENDING"}`, Count: 3, First: t0},
			{Scenario: "export", Step: "create_job", Error: "status 429, want 202", Count: 41, First: t0},
		},
		Thresholds: []metrics.ThresholdResult{
			{Threshold: "p99(latency) < 800ms", Position: "examples/export-flow.yaml:90:5", Value: &v1, Limit: 800, Unit: "ms",
				Detail: "stopped the run after 12s: p99(latency) = 812.5 ms, want < 800 ms", AbortOnFail: true, Aborted: true},
			{Threshold: "lost == 0", Position: "examples/export-flow.yaml:91:5", Value: &v2, Passed: true, Detail: "lost = 0, want == 0"},
			{Threshold: `rate(status=5xx) < 1% & "<x>"`, Position: "examples/export-flow.yaml:92:5", Unit: "ratio", Limit: 0.01, Detail: "rate(status=5xx) has no samples to measure"},
		},
	}
}

func TestWriteJUnit(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := WriteJUnit(&b, goldenSummary()); err != nil {
		t.Fatal(err)
	}
	golden(t, "junit.golden", b.Bytes())

	path := filepath.Join(t.TempDir(), JUnitFile)
	if err := WriteJUnitFile(path, goldenSummary()); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, b.Bytes()) {
		t.Errorf("WriteJUnitFile wrote other bytes than WriteJUnit")
	}
}

func TestWriteChecks(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := WriteChecks(&b, goldenSummary()); err != nil {
		t.Fatal(err)
	}
	golden(t, "checks.golden", b.Bytes())
	b.Reset()
	WriteChecks(&b, &metrics.Summary{})
	if b.Len() != 0 {
		t.Errorf("WriteChecks wrote %q for a summary without checks", b.String())
	}
}

// TestMeasureSkipsControlSpans: a latency threshold over a scenario or
// the run reads its requests' histograms, not a group's span around them.
func TestMeasureSkipsControlSpans(t *testing.T) {
	t.Parallel()
	rec := metrics.NewRecorder(t0, []metrics.StepKey{{Scenario: "s", Step: "g"}, {Scenario: "s", Step: "g/a"}})
	rec.SetControl(0, "group")
	for i := range 10 {
		start := t0.Add(time.Duration(i) * time.Second)
		rec.Offered(0, 0, start)
		rec.Begin(0, 0, start)
		for j := range 2 {
			at := start.Add(time.Duration(j) * 100 * time.Millisecond)
			rec.Offered(0, 1, at)
			rec.Begin(0, 1, at)
			rec.RecordLast(0, &metrics.Attempt{Step: 1, Start: at, Latency: 50 * time.Millisecond, Status: 200},
				&metrics.Logical{Step: 1, Due: at, Start: at, End: at.Add(50 * time.Millisecond), Status: 200, Attempts: 1})
		}
		rec.RecordLogical(0, &metrics.Logical{Step: 0, Due: start, Start: start, End: start.Add(150 * time.Millisecond), Status: 200})
	}
	res := rec.Results(metrics.RunInfo{Plan: "p"}, t0.Add(10*time.Second))
	for _, tt := range []struct {
		threshold string
		want      float64
	}{
		{"max(latency) < 1s", 50},
		{"min(latency{scenario=s}) < 1s", 50},
		{"max(latency{step=g}) < 1s", 150}, // the span itself, asked for by name
		{"requests == 0", 20},
		{"retry_amplification < 2", 1},
	} {
		got, ok := Measure(mustThreshold(t, tt.threshold), res.Summary, res.Hists)
		if !ok || math.Abs(got-tt.want) > tt.want*0.002 {
			t.Errorf("%s: got %v (ok %v), want %v", tt.threshold, got, ok, tt.want)
		}
	}
}
