package diagnose

import (
	"strings"
	"testing"

	"github.com/floodgate-dev/floodgate/internal/metrics"
)

// authRun is a one-step run of 8 s: each second 40 attempts, of which
// refused[i] end with status, answered with code; the rest 200.
func authRun(endpoint, status, code string, refused []int64) *metrics.Results {
	var bs []metrics.Bucket
	var ok, no int64
	for i, n := range refused {
		st := map[string]int64{status: n}
		if n < 40 {
			st["200"] = 40 - n
		}
		ok, no = ok+40-n, no+n
		b := sec(float64(i), 40, st, 4, 2, 5)
		if code != "" && n > 0 {
			b.Codes = map[string]int64{code: n}
		}
		b.Steps = []metrics.StepBucket{{Scenario: "users", Step: "users", Flow: b.Flow}}
		bs = append(bs, b)
	}
	res := results(bs...)
	stats := metrics.Stats{Requests: ok + no, Attempts: ok + no, Succeeded: ok,
		Statuses: map[string]int64{"200": ok, status: no}, FinalStatuses: map[string]int64{"200": ok, status: no}}
	if code != "" {
		stats.Codes = map[string]int64{code: no}
	}
	res.Summary.Codes = stats.Codes
	res.Summary.Scenarios = []metrics.ScenarioSummary{{Name: "users", Steps: []metrics.StepSummary{{Name: "users", Endpoint: endpoint, Stats: stats}}}}
	return res
}

// TestUnauthorizedIsOneFinding: 401 on every request is one
// authorization finding whose advice follows the platform's code, and
// never "mid-run" when the refusals start with the run.
func TestUnauthorizedIsOneFinding(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		code, want string
	}{
		{"authentication.required", "without a bearer token"},
		{"bad.credentials", "does not know the bearer token"},
		{"", "client id/secret"},
	} {
		res := authRun("GET /api/v2/users", "401", tc.code, []int64{40, 40, 40, 40, 40, 40, 40, 40})
		d := Analyze(res)
		if len(d.Findings) != 1 || d.Findings[0].Kind != Authorization {
			t.Errorf("%q: findings %v, want one authorization", tc.code, kindsOf(d))
			continue
		}
		f := d.Findings[0]
		if !strings.Contains(f.Advice, tc.want) || strings.Contains(f.Advice, "mid-run") {
			t.Errorf("%q: advice %q, want it to say %q and not mid-run", tc.code, f.Advice, tc.want)
		}
	}
}

// TestPartialUnauthorizedIsNoCap: a read refused 401 on some requests
// and accepted on others (some VUs sent an empty token) is an
// authorization finding, never a cap on open jobs — whatever the share.
func TestPartialUnauthorizedIsNoCap(t *testing.T) {
	t.Parallel()
	for _, refused := range [][]int64{
		{30, 25, 28, 20, 31, 26, 27, 29},
		{8, 6, 9, 5, 7, 8, 6, 9},
		{39, 38, 39, 37, 39, 38, 39, 38},
	} {
		for _, ep := range []string{"GET /api/v2/users", "POST /api/v2/recording/jobs"} {
			d := Analyze(authRun(ep, "401", "authentication.required", refused))
			if len(d.Findings) != 1 || d.Findings[0].Kind != Authorization {
				t.Errorf("%s %v: findings %v, want one authorization", ep, refused, kindsOf(d))
				continue
			}
			if f := d.Findings[0]; !strings.Contains(strings.Join(f.Evidence, " "), "authentication.required") {
				t.Errorf("%s: evidence %q does not name the code", ep, f.Evidence)
			}
		}
	}
}

// TestPartial403OnReadIsNoJobCap: a read (GET) refused 403 now and then
// opens nothing a cap on jobs could count.
func TestPartial403OnReadIsNoJobCap(t *testing.T) {
	t.Parallel()
	d := Analyze(authRun("GET /api/v2/users", "403", "not.authorized", []int64{30, 25, 28, 20, 31, 26, 27, 29}))
	for _, f := range d.Findings {
		if f.Kind == JobCap {
			t.Errorf("a read called a job cap: %s", f.Summary)
		}
	}
}

// beatRun is a one-step run whose acceptances come k at a time every
// period ms for 8 s while the rest is refused 429 without Retry-After.
func beatRun(name, endpoint string, k int, period int64) *metrics.Results {
	var bs []metrics.Bucket
	var ts []int64
	perSec := int64(k) * 1000 / period
	for i := range 8 {
		st := map[string]int64{"202": perSec, "429": 60 - perSec}
		b := sec(float64(i), 60, st, 2, 1, 2)
		b.Codes = map[string]int64{"too.many.requests": 60 - perSec}
		b.Steps = []metrics.StepBucket{{Scenario: "s", Step: name, Flow: b.Flow}}
		bs = append(bs, b)
		for at := int64(i * 1000); at < int64(i+1)*1000; at += period {
			for j := range k {
				ts = append(ts, at+3+int64(j))
			}
		}
	}
	res := results(bs...)
	step := metrics.StepSummary{Name: name, Endpoint: endpoint, AcceptTimesMs: ts,
		Stats: metrics.Stats{Requests: 480, Attempts: 480, Succeeded: 8 * perSec,
			Statuses:      map[string]int64{"202": 8 * perSec, "429": 8 * (60 - perSec)},
			FinalStatuses: map[string]int64{"202": 8 * perSec, "429": 8 * (60 - perSec)},
			Codes:         map[string]int64{"too.many.requests": 8 * (60 - perSec)},
			Latency:       metrics.Latency{Attempt: metrics.Percentiles{P50: 2, P90: 4}}}}
	res.Summary.Scenarios = []metrics.ScenarioSummary{{Name: "s", Steps: []metrics.StepSummary{step}}}
	return res
}

// TestBeatOnUnnamedStepIsNoJobCap: a beat of a few acceptances per
// period on a step neither sent to nor named for jobs, with nothing else
// accepted meanwhile, is a count per window without headers as much as a
// cap on jobs: not called a job cap. The same beat on a jobs endpoint is.
func TestBeatOnUnnamedStepIsNoJobCap(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		k      int
		period int64
	}{{3, 500}, {5, 1000}, {8, 1000}, {2, 250}} {
		d := Analyze(beatRun("send_message", "POST /api/v2/conversations/messages/agentless", tc.k, tc.period))
		for _, f := range d.Findings {
			if f.Kind == JobCap {
				t.Errorf("%d per %d ms on send_message called a job cap: %s", tc.k, tc.period, f.Summary)
			}
		}
		d = Analyze(beatRun("create", "POST /api/v2/recording/jobs", tc.k, tc.period))
		if len(d.Findings) == 0 || d.Findings[0].Kind != JobCap || d.Findings[0].Onset.Count != int64(tc.k) {
			t.Errorf("%d per %d ms on recording jobs: findings %v, want a job cap of %d", tc.k, tc.period, kindsOf(d), tc.k)
		}
	}
}
