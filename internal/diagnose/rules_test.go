package diagnose

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/floodgate-dev/floodgate/internal/metrics"
)

// sec builds one full second of a synthetic series.
func sec(t float64, attempts int64, statuses map[string]int64, inMax int64, inMean, latMs float64) metrics.Bucket {
	if statuses == nil {
		statuses = map[string]int64{"200": attempts}
	}
	var ok int64
	for k, n := range statuses {
		if k[0] == '2' {
			ok += n
		}
	}
	p := metrics.Percentiles{Count: attempts, Mean: latMs, P50: latMs, P90: latMs, P99: latMs, Max: latMs}
	return metrics.Bucket{T: t, Seconds: 1,
		Flow:        metrics.Flow{Offered: attempts, Started: attempts, Completed: attempts, Attempts: attempts, Goodput: ok, Statuses: statuses},
		InFlightMax: inMax, InFlightMean: inMean, FromSend: p, FromDue: p}
}

// results wraps a series with a summary whose totals add it up.
func results(bs ...metrics.Bucket) *metrics.Results {
	s := &metrics.Summary{RunInfo: metrics.RunInfo{Plan: "synthetic"}, Stats: metrics.Stats{Statuses: map[string]int64{}, FinalStatuses: map[string]int64{}}}
	for _, b := range bs {
		s.Requests += b.Completed
		s.Attempts += b.Attempts
		s.Offered += b.Offered
		s.Started += b.Started
		s.Dropped += b.Dropped
		s.Succeeded += b.Goodput
		s.Retries += b.Retries
		s.Lost += b.Lost
		for k, n := range b.Statuses {
			s.Statuses[k] += n
			s.FinalStatuses[k] += n
		}
		s.DurationS += b.Seconds
	}
	s.Latency.FromSend = bs[0].FromSend
	s.Latency.FromDue = bs[0].FromDue
	return &metrics.Results{Summary: s, Series: bs}
}

func kindsOf(d *Diagnosis) []Kind {
	var ks []Kind
	for _, f := range d.Findings {
		ks = append(ks, f.Kind)
	}
	return ks
}

func one(t *testing.T, res *metrics.Results, k Kind) Finding {
	t.Helper()
	d := Analyze(res)
	if len(d.Findings) != 1 || d.Findings[0].Kind != k {
		var b bytes.Buffer
		WriteText(&b, d)
		t.Fatalf("findings %v, want one %s\n%s", kindsOf(d), k, b.String())
	}
	return d.Findings[0]
}

func TestNoWall(t *testing.T) {
	t.Parallel()
	var bs []metrics.Bucket
	for i := range 10 {
		bs = append(bs, sec(float64(i), 100, nil, 3, 2, 20))
	}
	d := Analyze(results(bs...))
	if len(d.Findings) != 0 || !strings.HasPrefix(d.Verdict, "no wall found") {
		t.Errorf("findings %v, verdict %q: want none", kindsOf(d), d.Verdict)
	}
}

func TestEmptyResults(t *testing.T) {
	t.Parallel()
	for _, res := range []*metrics.Results{{}, {Summary: &metrics.Summary{}}} {
		if d := Analyze(res); len(d.Findings) != 0 || d.Verdict != "no wall: nothing was sent" {
			t.Errorf("%+v: %+v", res, d)
		}
	}
}

func TestRateLimitWithoutHeaders(t *testing.T) {
	t.Parallel()
	// 100/s get through, the rest is 429 whatever the concurrency, which
	// wanders; Retry-After was honoured.
	var bs []metrics.Bucket
	inflight := []int64{2, 5, 1, 4, 2, 6, 1, 3, 5, 2}
	for i := range 10 {
		n := int64(50 + 15*i)
		st := map[string]int64{"200": min(n, 100)}
		if n > 100 {
			st["429"] = n - 100
		}
		b := sec(float64(i), n, st, inflight[i], float64(inflight[i])/2, 5)
		if n > 100 {
			b.RetryAfterWaitMs = 500
		}
		bs = append(bs, b)
	}
	f := one(t, results(bs...), RateLimit)
	if f.Onset.Rate < 95 || f.Onset.Rate > 105 || f.Onset.Count != 0 || f.Onset.Time != 4 {
		t.Errorf("onset %+v, want 100/s from t=4 with no count (no window known)", f.Onset)
	}
	if f.Confidence != 0.7 {
		t.Errorf("confidence %.2f, want 0.7 (Retry-After, no headers)", f.Confidence)
	}
}

func TestConcurrencyCapAtConstantRate(t *testing.T) {
	t.Parallel()
	// 200/s throughout; latency, and so concurrency, grows: failures come
	// only with more than 20 in flight. No rate separates them.
	var bs []metrics.Bucket
	for i := range 10 {
		in := int64(8 + 4*i)
		st := map[string]int64{"200": 200}
		if in > 20 {
			st = map[string]int64{"200": 200 - 4*(in-20), "429": 4 * (in - 20)}
		}
		bs = append(bs, sec(float64(i), 200, st, in, min(float64(in)-2, 20), 40))
	}
	f := one(t, results(bs...), ConcurrencyCap)
	if f.Onset.InFlight < 19 || f.Onset.InFlight > 22 || f.Confidence < 0.8 {
		t.Errorf("onset %+v confidence %.2f, want ≈ 20 in flight, ≥ 0.8", f.Onset, f.Confidence)
	}
}

func TestAuthorizationFromTheStart(t *testing.T) {
	t.Parallel()
	var bs []metrics.Bucket
	for i := range 5 {
		bs = append(bs, sec(float64(i), 20, map[string]int64{"403": 5, "200": 15}, int64(1+i), 1, 10))
	}
	f := one(t, results(bs...), Authorization)
	if f.Onset.Time != 0 || f.Confidence != 0.6 {
		t.Errorf("onset %+v confidence %.2f, want t=0, 0.6 (run level, no step detail)", f.Onset, f.Confidence)
	}
}

func TestExpiredTokens(t *testing.T) {
	t.Parallel()
	var bs []metrics.Bucket
	for i := range 8 {
		st := map[string]int64{"200": 50}
		if i >= 5 {
			st = map[string]int64{"401": 50}
		}
		bs = append(bs, sec(float64(i), 50, st, 5, 3, 10))
	}
	f := one(t, results(bs...), Authorization)
	if f.Onset.Time != 5 || !strings.Contains(f.Advice, "expired") {
		t.Errorf("onset %+v advice %q: want t=5 and expired tokens", f.Onset, f.Advice)
	}
}

func TestSaturationKnee(t *testing.T) {
	t.Parallel()
	// 100 ms up to 40 in flight, +2 ms per request beyond; 503 past 70.
	var bs []metrics.Bucket
	for i := range 10 {
		in := 10 + 7*float64(i)
		lat := 100 + 2*max(0, in-40)
		st := map[string]int64{"200": 300}
		if in > 70 {
			st["503"] = 30
		}
		bs = append(bs, sec(float64(i), 300, st, int64(in)+3, in, lat))
	}
	f := one(t, results(bs...), Saturation)
	if f.Onset.InFlight < 38 || f.Onset.InFlight > 42 || f.Confidence < 0.8 {
		t.Errorf("onset %+v confidence %.2f, want knee ≈ 40, ≥ 0.8", f.Onset, f.Confidence)
	}
}

// TestSaturationCaveatsSteal: the same knee, with the hypervisor taking
// a notable share of a busy generator's CPU, is reported with less
// confidence, the steal cited and a confirmation advised.
func TestSaturationCaveatsSteal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		steal  float64
		caveat bool
	}{{0.1, false}, {2, true}} {
		var bs []metrics.Bucket
		for i := range 10 {
			in := 10 + 7*float64(i)
			bs = append(bs, sec(float64(i), 300, map[string]int64{"200": 300}, int64(in)+3, in, 100+2*max(0, in-40)))
		}
		res := results(bs...)
		steal := tc.steal // over 10 s on 2 CPUs: 0.5% and 10%
		res.Summary.Generator = &metrics.Generator{CPUs: 2, CPUS: 12, StealS: &steal}
		f := one(t, res, Saturation)
		ev := strings.Join(f.Evidence, "\n")
		got := strings.Contains(ev, "hypervisor took 10% of") && strings.Contains(f.Advice, "cores are its own")
		if got != tc.caveat || (f.Confidence < 0.5) != tc.caveat {
			t.Errorf("steal %.1f s: caveat %v, confidence %.2f; want caveat %v\nevidence: %s\nadvice: %s", tc.steal, got, f.Confidence, tc.caveat, ev, f.Advice)
		}
	}
}

func TestServerErrorsWithoutKnee(t *testing.T) {
	t.Parallel()
	var bs []metrics.Bucket
	for i := range 8 {
		in := int64(2 + 3*(i%3))
		bs = append(bs, sec(float64(i), 100, map[string]int64{"200": 95, "500": 5}, in, float64(in), 30))
	}
	f := one(t, results(bs...), Saturation)
	if f.Confidence > 0.4 || !strings.Contains(f.Summary, "without a latency knee") {
		t.Errorf("confidence %.2f, summary %q: want low confidence, no knee", f.Confidence, f.Summary)
	}
}

func TestGeneratorBound(t *testing.T) {
	t.Parallel()
	var bs []metrics.Bucket
	for i := range 6 {
		b := sec(float64(i), 400, nil, 200, 199, 500)
		b.Offered = 500
		if i >= 2 {
			b.Dropped = 100
		} else {
			b.Offered = 400
		}
		bs = append(bs, b)
	}
	f := one(t, results(bs...), GeneratorBound)
	// The onset is what the generator achieved (400/s), not what the
	// plan offered (500/s).
	if f.Onset.Time != 2 || f.Onset.Rate != 400 || f.Onset.InFlight != 200 || !strings.Contains(f.Advice, "max_vus") {
		t.Errorf("onset %+v advice %q: want t=2, 400/s achieved, 200 in flight, raise max_vus", f.Onset, f.Advice)
	}
}

func TestDropsBehindAWallAreItsConsequence(t *testing.T) {
	t.Parallel()
	var bs []metrics.Bucket
	for i := range 6 {
		st := map[string]int64{"200": 100, "429": 50}
		b := sec(float64(i), 150, st, 5, 3, 5)
		b.RateLimit = &metrics.RateLimitPoint{Remaining: 0, ResetS: 1}
		b.Dropped = 20
		bs = append(bs, b)
	}
	f := one(t, results(bs...), RateLimit)
	if last := f.Evidence[len(f.Evidence)-1]; !strings.Contains(last, "dropped") {
		t.Errorf("evidence %q: want the drops explained", f.Evidence)
	}
	if f.Onset.Count != 100 || f.Onset.Window != 1 {
		t.Errorf("onset %+v, want 100 per 1 s", f.Onset)
	}
}

func TestWriteJUnitHasOneCasePerKind(t *testing.T) {
	t.Parallel()
	d := &Diagnosis{Findings: []Finding{{Kind: ConcurrencyCap, Summary: "cap at 20", Evidence: []string{"e"}, Advice: "keep ≤ 20"}}}
	var b bytes.Buffer
	if err := WriteJUnit(&b, d, "p", metrics.Summary{}.StartTime, 1.5); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
	}
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Tests != len(kinds) || doc.Failures != 1 || !strings.Contains(b.String(), `name="no concurrency cap wall"`) ||
		!strings.Contains(b.String(), `name="no cap on open jobs wall"`) || !strings.Contains(b.String(), `name="no target unreachable"`) {
		t.Errorf("tests %d failures %d, want %d and 1:\n%s", doc.Tests, doc.Failures, len(kinds), b.String())
	}
}

func TestFormatting(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ got, want string }{
		{Count(5000), "5,000"}, {Count(-1234567), "-1,234,567"}, {Count(12), "12"},
		{Rate(312.4), "312/s"}, {Rate(16.66), "16.7/s"}, {Rate(0.5), "0.50/s"},
		{Seconds(1000), "16.7 min"}, {Seconds(8), "8.0 s"}, {Seconds(0.45), "450 ms"},
		{limitText(Onset{Count: 300, Window: 60, Rate: 5}), "300/min"},
		{limitText(Onset{Count: 300, Window: 3, Rate: 100}), "300 per 3.0 s (100/s)"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

// TestGeneratorBoundCitesSteal: when the hypervisor took a notable share
// of the generator's CPU, the finding says so and what to do.
func TestGeneratorBoundCitesSteal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		steal float64
		cited bool
	}{{0.05, false}, {0.6, true}} {
		var bs []metrics.Bucket
		for i := range 6 {
			b := sec(float64(i), 400, nil, 200, 199, 500)
			b.Offered = 500
			b.Dropped = 100
			bs = append(bs, b)
		}
		res := results(bs...)
		steal := tc.steal // over 6 s on 2 CPUs: 0.4% and 5%
		res.Summary.Generator = &metrics.Generator{CPUs: 2, CPUS: 9, StealS: &steal}
		f := one(t, res, GeneratorBound)
		ev := strings.Join(f.Evidence, "\n")
		if got := strings.Contains(ev, "hypervisor took 5.0%") && strings.Contains(f.Advice, "cores are its own"); got != tc.cited {
			t.Errorf("steal %.2f s: cited %v, want %v\nevidence: %s\nadvice: %s", tc.steal, got, tc.cited, ev, f.Advice)
		}
	}
}
