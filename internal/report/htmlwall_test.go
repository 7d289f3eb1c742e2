package report

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/floodgate-dev/floodgate/internal/diagnose"
	"github.com/floodgate-dev/floodgate/internal/metrics"
)

// wallRun is ten seconds of a run that meets a 300 per 1.2 s limit: fast
// 429s beside slow successes, 300 a second but none in the sixth (it
// holds no window's start), and a cap of 4 in flight. outage (≥ 0) is a
// second nothing gets through for another reason.
func wallRun(outage int) *metrics.Results {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	s := &metrics.Summary{Schema: metrics.SummarySchema}
	s.Plan, s.Target = "wall", "http://127.0.0.1:1"
	res := &metrics.Results{Summary: s}
	for i := range 10 {
		b := metrics.Bucket{T: float64(i), Time: t0.Add(time.Duration(i) * time.Second), Seconds: 1, InFlightMax: 4, InFlightMean: 3.5}
		ok := metrics.Percentiles{Count: 250, P50: 180, P90: 220, P99: 260, Max: 300}
		b.Flow = metrics.Flow{Offered: 350, Completed: 350, Goodput: 300, Attempts: 350, Statuses: map[string]int64{"200": 300, "429": 50}}
		if i%6 == 5 || i == outage || i == outage+1 { // a second without a window's start, or an outage
			b.Flow = metrics.Flow{Offered: 300, Completed: 300, Goodput: 0, Attempts: 300, Statuses: map[string]int64{"429": 300}}
			ok = metrics.Percentiles{}
		}
		ko := metrics.Percentiles{Count: b.Completed - b.Goodput, P50: 0.9, P90: 1.2, P99: 2, Max: 3}
		b.OK = &metrics.BucketLatency{FromSend: ok, FromDue: ok}
		b.KO = &metrics.BucketLatency{FromSend: ko, FromDue: ko}
		b.FromSend, b.FromDue = ko, ko // the union: most of it fast
		res.Series = append(res.Series, b)
	}
	return res
}

// chartSVG returns the SVG of chart id in page.
func chartSVG(t *testing.T, page, id string) string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<svg class="chart" data-chart="` + id + `".*?</svg>`).FindString(page)
	if m == "" {
		t.Fatalf("no chart %q", id)
	}
	return m
}

// TestHTMLChartsCarryTheWalls: the rate a limit allows is a horizontal
// line on the rate chart, the cap one on the in-flight chart, with the
// windows' goodput beside the per-second one; latency draws successes
// and failures apart; empty panels are left out.
func TestHTMLChartsCarryTheWalls(t *testing.T) {
	t.Parallel()
	res := wallRun(-10)
	d := &diagnose.Diagnosis{Verdict: "two walls", Findings: []diagnose.Finding{
		{Kind: diagnose.RateLimit, Onset: diagnose.Onset{Time: 3, Rate: 250, Count: 300, Window: 1.2}},
		{Kind: diagnose.ConcurrencyCap, Onset: diagnose.Onset{Time: 3, InFlight: 4}},
	}}
	var b bytes.Buffer
	if err := WriteHTML(&b, res, d); err != nil {
		t.Fatal(err)
	}
	page := b.String()

	rate := chartSVG(t, page, "rate")
	if !strings.Contains(rate, `data-level="rate_limit" data-value="250"`) || !strings.Contains(rate, "limit 250/s (300 per 1.2 s)") {
		t.Errorf("rate chart lacks the limit's level:\n%s", rate)
	}
	if !strings.Contains(rate, `data-series="goodput over 6.0 s"`) {
		t.Error("rate chart lacks goodput over whole windows (6 s of 1.2 s windows)")
	}
	// The one second without a window's start is shaded: at t=5 s, x is
	// 52 + 574 × 5/10.
	if bands := regexp.MustCompile(`<rect class="band" x="([0-9.]+)"`).FindAllStringSubmatch(rate, -1); len(bands) != 1 || bands[0][1] != "339.0" {
		t.Errorf("bands %v; want one at x=339.0 (t=5 s)", bands)
	}
	inflight := chartSVG(t, page, "inflight")
	if !strings.Contains(inflight, `data-level="concurrency_cap" data-value="4"`) || !strings.Contains(inflight, "cap 4 in flight") {
		t.Errorf("in-flight chart lacks the cap's level:\n%s", inflight)
	}
	if strings.Contains(rate, "concurrency_cap") || strings.Contains(inflight, "rate_limit\"") {
		t.Error("a level on a chart it does not belong to")
	}
	// The levels sit at their value: y of 250 on a 0-500 axis is half
	// way up the plot (y from 22 to 190).
	if m := regexp.MustCompile(`data-level="rate_limit"[^>]*><line x1="[0-9.]+" y1="([0-9.]+)"`).FindStringSubmatch(rate); m == nil || m[1] != "106.0" {
		t.Errorf("limit line at y %v, want 106.0", m)
	}

	lat := chartSVG(t, page, "latency")
	for _, name := range []string{"p50 from due", "p99 from due", "failed p50 from due", "failed p99 from due"} {
		if !strings.Contains(lat, `<path class="line" data-series="`+name+`"`) {
			t.Errorf("latency chart lacks %q", name)
		}
	}
	// The successes' p50 is theirs (180 ms), not the union's (0.9 ms):
	// its line stays within the upper decades of the log axis.
	okLine := regexp.MustCompile(`data-series="p50 from due" d="([^"]*)"`).FindStringSubmatch(lat)
	failLine := regexp.MustCompile(`data-series="failed p50 from due" d="([^"]*)"`).FindStringSubmatch(lat)
	if okLine == nil || failLine == nil || okLine[1] == failLine[1] {
		t.Fatalf("successes and failures drawn alike")
	}
	ys := func(d string) (lo, hi float64) {
		lo, hi = 1e9, -1e9
		for _, m := range regexp.MustCompile(`[ML][0-9.]+ ([0-9.]+)`).FindAllStringSubmatch(d, -1) {
			y := mustFloat(t, m[1])
			lo, hi = min(lo, y), max(hi, y)
		}
		return lo, hi
	}
	_, okLow := ys(okLine[1])
	failHigh, _ := ys(failLine[1])
	if okLow >= failHigh {
		t.Errorf("successes' p50 (lowest point y=%.1f) is not above the failures' (y=%.1f)", okLow, failHigh)
	}

	// No retries, no waits, no rate-limit headers: no such panels.
	for _, id := range []string{"retries", "ratelimit"} {
		if strings.Contains(page, `data-chart="`+id+`"`) {
			t.Errorf("empty chart %q drawn", id)
		}
	}
}

func TestWindowSpan(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		window, width float64
		want          int
	}{
		{1.2, 1, 6}, {3, 1, 3}, {60, 1, 60}, {0.6, 1, 3}, {0.3, 1, 3}, {1, 1, 1}, {0.5, 1, 1},
		{2.5, 1, 5}, {60, 6, 10}, {7.3, 1, 22}, {61.7, 1, 0}, {0, 1, 0}, {1.2, 6, 1},
	} {
		if got := windowSpan(c.window, c.width); got != c.want {
			t.Errorf("windowSpan(%v, %v) = %d, want %d", c.window, c.width, got, c.want)
		}
	}
}

func mustFloat(t *testing.T, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestHTMLOutageIsNotAWindowGap: seconds where nothing got through and
// the whole windows around them fall short of the limit are an outage,
// not shaded as a window's gap.
func TestHTMLOutageIsNotAWindowGap(t *testing.T) {
	t.Parallel()
	d := &diagnose.Diagnosis{Findings: []diagnose.Finding{{Kind: diagnose.RateLimit, Onset: diagnose.Onset{Rate: 250, Count: 300, Window: 1.2}}}}
	var b bytes.Buffer
	if err := WriteHTML(&b, wallRun(1), d); err != nil {
		t.Fatal(err)
	}
	rate := chartSVG(t, b.String(), "rate")
	if n := strings.Count(rate, `class="band"`); n > 1 {
		t.Errorf("%d bands; want at most the one at t=5 s, none for the outage at 1-2 s", n)
	}
	if strings.Contains(rate, `<rect class="band" x="109.4"`) || strings.Contains(rate, `<rect class="band" x="166.8"`) {
		t.Error("the outage is shaded as a window's gap")
	}
}

// TestHTMLJobCapGetsItsStepChart: a cap on open jobs confined to one step
// draws that step's accepted and refused creates, with the rate the cap
// admits (2 open × 310 ms ≈ 6.45/s) as a level.
func TestHTMLJobCapGetsItsStepChart(t *testing.T) {
	t.Parallel()
	res := wallRun(-10)
	for i := range res.Series {
		b := &res.Series[i]
		b.Steps = []metrics.StepBucket{
			{Scenario: "storm", Step: "create_conversation", Flow: metrics.Flow{Attempts: 100, Statuses: map[string]int64{"200": 100}}},
			{Scenario: "storm", Step: "create_export_job", Flow: metrics.Flow{Attempts: 100, Statuses: map[string]int64{"202": 6, "429": 94}}},
		}
	}
	d := &diagnose.Diagnosis{Findings: []diagnose.Finding{{Kind: diagnose.JobCap, Scope: "storm/create_export_job",
		Onset: diagnose.Onset{Time: 0, Count: 2, Lifetime: 0.31}}}}
	var b bytes.Buffer
	if err := WriteHTML(&b, res, d); err != nil {
		t.Fatal(err)
	}
	c := chartSVG(t, b.String(), "step-storm-create_export_job")
	if !strings.Contains(c, `data-level="job_cap" data-value="6.452"`) || !strings.Contains(c, "cap 2 open × 310 ms ≈ 6.45/s") {
		t.Errorf("step chart lacks the cap's level:\n%s", c)
	}
	for _, name := range []string{"accepted (2xx)", "refused (4xx, 5xx, no response)"} {
		if !strings.Contains(c, `data-series="`+name+`"`) {
			t.Errorf("step chart lacks %q", name)
		}
	}
	if strings.Contains(b.String(), `data-chart="step-storm-create_conversation"`) {
		t.Error("a chart for a step no wall is confined to")
	}
}
