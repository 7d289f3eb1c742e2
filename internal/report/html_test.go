package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/floodgate-dev/floodgate/internal/diagnose"
	"github.com/floodgate-dev/floodgate/internal/metrics"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden (and docs/report.png)")

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// golden compares got with testdata/name, rewriting it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; if the change is intended, run go test -update\n--- got:\n%s", path, got)
	}
}

func readRun(t *testing.T) *metrics.Results {
	t.Helper()
	res, err := metrics.ReadDir(runDir)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestTextSummaryGolden(t *testing.T) {
	res := readRun(t)
	var b bytes.Buffer
	if err := WriteText(&b, res.Summary); err != nil {
		t.Fatal(err)
	}
	b.WriteString("\n")
	if err := diagnose.WriteText(&b, diagnose.Analyze(res)); err != nil {
		t.Fatal(err)
	}
	golden(t, "run.txt.golden", b.Bytes())
}

func TestHTMLGolden(t *testing.T) {
	var b bytes.Buffer
	res := readRun(t)
	raw, err := os.ReadFile(filepath.Join(runDir, metrics.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := writeHTML(&b, res, nil, thresholdsFrom(raw)); err != nil {
		t.Fatal(err)
	}
	golden(t, "run.html.golden", b.Bytes())
}

func TestHTMLIsSelfContained(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := WriteHTML(&b, readRun(t), nil); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, bad := range []string{"src=", "href=", "url(", "@import", "<script", "<link"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q: it must load nothing", bad)
		}
	}
	if !strings.Contains(page, `content="default-src 'none'`) {
		t.Error("page lacks its Content-Security-Policy")
	}
	for _, id := range []string{"rate", "latency", "statuses", "inflight", "retries", "ratelimit", "distribution"} {
		if !strings.Contains(page, `data-chart="`+id+`"`) {
			t.Errorf("chart %q missing", id)
		}
	}
}

func TestHTMLWithoutThresholdsOrSeries(t *testing.T) {
	t.Parallel()
	res := readRun(t)
	res.Summary.Thresholds = nil
	var b bytes.Buffer
	if err := WriteHTML(&b, res, nil); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), `id="thresholds"`) {
		t.Error("a thresholds section without thresholds")
	}
	// A run that sent nothing still renders, and says so in place of
	// empty panels.
	empty := &metrics.Results{Summary: &metrics.Summary{Schema: metrics.SummarySchema}}
	b.Reset()
	if err := WriteHTML(&b, empty, nil); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.String(), `<svg class="chart"`); n != 0 || !strings.Contains(b.String(), "nothing was sent") {
		t.Errorf("%d charts for a run that sent nothing, want none and a sentence", n)
	}
}

func TestThresholdsAreReadLoosely(t *testing.T) {
	t.Parallel()
	rows := thresholdsFrom([]byte(`{"thresholds":[
		{"threshold":"p99 < 800ms","value":812.4,"unit":"ms","passed":false,"detail":"p99 = 812 ms, want < 800 ms"},
		{"expr":"lost == 0","ok":true,"value":0},
		{"threshold":"rate(429) < 1%","value":0.0042,"unit":"ratio","passed":true},
		{"threshold":"p50 < 1s","value":null,"passed":false}]}`))
	want := []thresholdRow{
		{Expr: "p99 < 800ms", Value: "812.4 ms", Detail: "p99 = 812 ms, want < 800 ms"},
		{Expr: "lost == 0", Value: "0", Passed: true},
		{Expr: "rate(429) < 1%", Value: "0.42%", Passed: true},
		{Expr: "p50 < 1s", Value: "no samples"},
	}
	if len(rows) != len(want) {
		t.Fatalf("rows %+v", rows)
	}
	for i := range want {
		if rows[i] != want[i] {
			t.Errorf("row %d = %+v, want %+v", i, rows[i], want[i])
		}
	}
	if thresholdsFrom([]byte(`{"plan":"x"}`)) != nil {
		t.Error("rows from a summary without thresholds")
	}
}

func TestDownsampleKeepsTotals(t *testing.T) {
	t.Parallel()
	var in []metrics.Bucket
	for i := range 3601 {
		b := metrics.Bucket{T: float64(i), Seconds: 1, InFlightMax: int64(i % 50), InFlightMean: 2, BytesIn: 100,
			Flow:      metrics.Flow{Attempts: 10, Statuses: map[string]int64{"200": 10}},
			RateLimit: &metrics.RateLimitPoint{Remaining: 300 - i%300, ResetS: 1, Limit: 300}}
		if i == 3600 {
			b.Seconds = 0.2
		}
		in = append(in, b)
	}
	out, width := downsample(in)
	if len(out) > maxPoints || width != 6 {
		t.Fatalf("%d buckets of %v s, want ≤ %d of 6 s", len(out), width, maxPoints)
	}
	var att int64
	var secs float64
	for _, b := range out {
		att += b.Attempts
		secs += b.Seconds
	}
	if att != 36010 || secs < 3600.19 || secs > 3600.21 || out[0].InFlightMax != 5 {
		t.Errorf("attempts %d over %.2f s, first peak %d: want 36010 over 3600.2 s, 5", att, secs, out[0].InFlightMax)
	}
	// What metrics' own merge keeps, the report's keeps (it calls it):
	// bytes, the lowest quota left and the stated limit.
	if rl := out[0].RateLimit; out[0].BytesIn != 600 || rl == nil || rl.Remaining != 295 || rl.Limit != 300 {
		t.Errorf("first bucket: bytes in %d, rate limit %+v; want 600, remaining 295 of 300", out[0].BytesIn, rl)
	}
}

func TestNiceAxes(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ v, top, step float64 }{{0, 1, 0.25}, {7, 10, 2}, {180, 200, 50}, {301, 500, 100}, {2.2, 2.5, 0.5}} {
		if top, step := niceMax(c.v); top != c.top || step != c.step {
			t.Errorf("niceMax(%v) = %v, %v; want %v, %v", c.v, top, step, c.top, c.step)
		}
	}
	for _, c := range []struct {
		v    float64
		want string
	}{{1500, "1500"}, {25000, "25k"}, {0.25, "0.25"}, {2.5, "2.5"}, {3e6, "3M"}} {
		if got := tickLabel(c.v); got != c.want {
			t.Errorf("tickLabel(%v) = %q, want %q", c.v, got, c.want)
		}
	}
}

// TestTextShowsGeneratorUsage: the summary says what generating cost,
// and warns when the hypervisor took a notable share of it.
func TestTextShowsGeneratorUsage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cpu, steal float64
		want       string
		warn       bool
	}{
		{4.2, 0.1, "generator: 4.20 s of CPU on 2 CPUs; taken by the hypervisor (steal): 0.10 s, 0.5% of their time", false},
		{4.2, 1.5, "taken by the hypervisor (steal): 1.50 s, 7.5% of their time", true},
		// Mostly idle (a rate-limited run): the steal fell on others.
		{0.5, 1.5, "generator: 0.50 s of CPU on 2 CPUs; taken by the hypervisor (steal): 1.50 s, 7.5% of their time", false},
	} {
		s := &metrics.Summary{DurationS: 10}
		steal := tc.steal
		s.Generator = &metrics.Generator{CPUs: 2, CPUS: tc.cpu, StealS: &steal}
		var b bytes.Buffer
		if err := WriteText(&b, s); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), tc.want) || strings.Contains(b.String(), "may be its doing") != tc.warn {
			t.Errorf("cpu %.1f s, steal %.1f s: want %q, warning %v, got:\n%s", tc.cpu, tc.steal, tc.want, tc.warn, b.String())
		}
		// The HTML report's header says the same.
		b.Reset()
		res := readRun(t)
		res.Summary.Generator, res.Summary.DurationS = s.Generator, s.DurationS
		if err := WriteHTML(&b, res, nil); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), tc.want) || strings.Contains(b.String(), `class="robbed`) != tc.warn {
			t.Errorf("html, cpu %.1f s, steal %.1f s: want %q, warning %v", tc.cpu, tc.steal, tc.want, tc.warn)
		}
	}
}

// TestHTMLStateMatchesText: a run that did not complete says so in the
// HTML header as the text summary does, never "completed".
func TestHTMLStateMatchesText(t *testing.T) {
	for _, c := range []struct {
		name      string
		set       func(*metrics.Summary)
		text, htm string
	}{
		{"completed", func(*metrics.Summary) {}, "completed", ">completed<"},
		{"partial", func(s *metrics.Summary) { s.Partial = true }, "PARTIAL", ">partial: the run did not end"},
		{"aborted", func(s *metrics.Summary) { s.Interrupted, s.Aborted = true, true }, "ABORTED", ">aborted:"},
		{"interrupted", func(s *metrics.Summary) { s.Interrupted = true }, "INTERRUPTED", ">interrupted:"},
		{"stopped", func(s *metrics.Summary) { s.StopReason = "target unreachable" }, "STOPPED early", ">stopped early:"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := readRun(t)
			c.set(res.Summary)
			var txt, htm bytes.Buffer
			if err := WriteText(&txt, res.Summary); err != nil {
				t.Fatal(err)
			}
			if err := WriteHTML(&htm, res, diagnose.Analyze(res)); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(txt.String(), c.text) {
				t.Errorf("text header lacks %q", c.text)
			}
			if !strings.Contains(htm.String(), c.htm) {
				t.Errorf("HTML header lacks %q", c.htm)
			}
			if c.name != "completed" && strings.Contains(htm.String(), ">completed<") {
				t.Error("the HTML header says completed")
			}
		})
	}
}
