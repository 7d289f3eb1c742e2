package diagnose

import (
	"strings"
	"testing"

	"github.com/floodgate-dev/floodgate/internal/metrics"
)

// TestNoPhantomCapBehindTheGate: a per-token limit met with the default
// retry policy holds most VUs at the gate, so logical in-flight is high
// while few requests are on the wire; three connection resets in one
// second are not a concurrency cap.
func TestNoPhantomCapBehindTheGate(t *testing.T) {
	t.Parallel()
	var bs []metrics.Bucket
	for i := range 12 {
		st := map[string]int64{"200": 100}
		b := sec(float64(i), 100, st, 20, 15, 30)
		if i >= 3 {
			st["429"] = 1
			b = sec(float64(i), 101, st, 183, 180, 30)
			b.GateWaitMs = 170_000 // 170 requests waiting all second
			b.RetryAfterWaitMs = 1000
			b.WireMs = 3000 // 100 × 30 ms: 3 on the wire on average
			b.RateLimit = &metrics.RateLimitPoint{Remaining: 0, ResetS: 3, Limit: 300}
		}
		if i == 7 {
			b.Statuses["0"] = 3
			b.Attempts += 3
		}
		bs = append(bs, b)
	}
	res := results(bs...)
	res.Summary.Retries = 9
	d := Analyze(res)
	if len(d.Findings) != 1 || d.Findings[0].Kind != RateLimit {
		var b strings.Builder
		WriteText(&b, d)
		t.Fatalf("findings %v, want one rate limit\n%s", kindsOf(d), b.String())
	}
}

// TestPlainFailures: a refused client secret, an unreachable target, a
// failed TLS handshake and requests cut off at the grace period are said
// plainly, never saturation.
func TestPlainFailures(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		class   string
		kind    Kind
		aborted bool
	}{
		{"auth", Credentials, false},
		{"connect", Unreachable, false},
		{"tls", TLSFailure, false},
		{"other", CutOff, true},
	} {
		var bs []metrics.Bucket
		for i := range 4 {
			b := sec(float64(i), 50, nil, 5, 4, 20)
			if tc.class != "other" || i == 3 {
				n := int64(50)
				if tc.class == "other" {
					n = 12
				}
				b.Statuses = map[string]int64{"0": n, "200": 50 - n}
				b.Errors = map[string]int64{tc.class: n}
				if tc.class == "auth" { // nothing was sent: no attempts
					b.Statuses = map[string]int64{}
					b.Attempts = 0
				}
			}
			bs = append(bs, b)
		}
		res := results(bs...)
		res.Summary.Aborted = tc.aborted
		res.Summary.Errors = map[string]int64{}
		for _, b := range bs {
			for k, n := range b.Errors {
				res.Summary.Errors[k] += n
			}
		}
		d := Analyze(res)
		if len(d.Findings) != 1 || d.Findings[0].Kind != tc.kind {
			var b strings.Builder
			WriteText(&b, d)
			t.Errorf("%s: findings %v, want one %s\n%s", tc.class, kindsOf(d), tc.kind, b.String())
		}
	}
}

// TestPartialRefusalIsNoPermission: a step refused 403 most of the time
// but accepted in between, with the same credentials, is not an
// authorization wall, whatever the share refused.
func TestPartialRefusalIsNoPermission(t *testing.T) {
	t.Parallel()
	var bs []metrics.Bucket
	for i := range 6 {
		st := map[string]int64{"202": 3, "403": 97}
		b := sec(float64(i), 100, st, 2, 1, 2)
		b.Codes = map[string]int64{"not.authorized": 97}
		b.Steps = []metrics.StepBucket{{Scenario: "storm", Step: "create_job", Flow: b.Flow}}
		bs = append(bs, b)
	}
	res := results(bs...)
	res.Summary.Scenarios = []metrics.ScenarioSummary{{Name: "storm", Steps: []metrics.StepSummary{{Name: "create_job",
		Stats: metrics.Stats{Requests: 600, Attempts: 600, Succeeded: 18,
			Statuses:      map[string]int64{"202": 18, "403": 582},
			FinalStatuses: map[string]int64{"202": 18, "403": 582},
			Codes:         map[string]int64{"not.authorized": 582}}}}}}
	d := Analyze(res)
	for _, f := range d.Findings {
		if f.Kind == Authorization {
			t.Errorf("called authorization: %s", f.Summary)
		}
	}
}

// TestJobCapFromAcceptances: a step whose acceptances come 3 at a time
// every 500 ms while the rest are refused 403 is a cap of 3 open jobs
// lasting 0.5 s, named with the platform's code, never a permission.
func TestJobCapFromAcceptances(t *testing.T) {
	t.Parallel()
	var bs []metrics.Bucket
	var ts []int64
	for i := range 6 {
		st := map[string]int64{"202": 6, "403": 94}
		b := sec(float64(i), 100, st, 2, 1, 2)
		b.Steps = []metrics.StepBucket{{Scenario: "storm", Step: "create_job", Flow: b.Flow}}
		bs = append(bs, b)
		for j := range 2 {
			at := int64(i*1000 + j*500 + 3)
			ts = append(ts, at, at+2, at+5)
		}
	}
	res := results(bs...)
	step := metrics.StepSummary{Name: "create_job", Endpoint: "POST /api/v2/recording/jobs", AcceptTimesMs: ts,
		Stats: metrics.Stats{Requests: 600, Attempts: 600, Succeeded: 36,
			Statuses:      map[string]int64{"202": 36, "403": 564},
			FinalStatuses: map[string]int64{"202": 36, "403": 564},
			Codes:         map[string]int64{"not.authorized": 564},
			Latency:       metrics.Latency{Attempt: metrics.Percentiles{P50: 2, P90: 4}}}}
	res.Summary.Scenarios = []metrics.ScenarioSummary{{Name: "storm", Steps: []metrics.StepSummary{step}}}
	f := one(t, res, JobCap)
	if f.Onset.Count != 3 || f.Onset.Lifetime < 0.45 || f.Onset.Lifetime > 0.55 || f.Scope != "storm/create_job" ||
		!strings.Contains(f.Summary, "recording jobs") || !strings.Contains(f.Summary, "403 not.authorized") ||
		!strings.Contains(f.Advice, "closed: {vus: 3}") {
		t.Errorf("finding %+v", f)
	}
}

// TestBusyGeneratorIsNoKnee: latency that climbs with in-flight while a
// rate limit refuses a tenth of the load, without a server error, is the
// generator busy with refusals (a JTL's threads waking together), not a
// saturation knee.
func TestBusyGeneratorIsNoKnee(t *testing.T) {
	t.Parallel()
	var bs []metrics.Bucket
	for i := range 12 {
		in := 2 + 8*float64(i)
		st := map[string]int64{"200": 200}
		if i%3 == 2 {
			st = map[string]int64{"200": 120, "429": 80}
		}
		bs = append(bs, sec(float64(i), 200, st, int64(in)+2, in, 10+12*max(0, in-10)))
	}
	d := Analyze(results(bs...))
	for _, f := range d.Findings {
		if f.Kind == Saturation {
			t.Errorf("a knee from a busy generator: %s", f.Summary)
		}
	}
}
