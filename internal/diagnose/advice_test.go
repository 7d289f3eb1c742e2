package diagnose

import (
	"strings"
	"testing"

	"github.com/floodgate-dev/floodgate/internal/metrics"
)

// limitedRun is 10 s at 100/s against a count of 60 per second without
// headers; retried marks the refused attempts as retries that waited
// raMs for Retry-After and gateMs at the gate in each second.
func limitedRun(retried bool, raMs, gateMs float64, lost int64) *metrics.Results {
	var bs []metrics.Bucket
	inflight := []int64{2, 5, 1, 4, 2, 6, 1, 3, 5, 2}
	for i := range 10 {
		b := sec(float64(i), 100, map[string]int64{"200": 60, "429": 40}, inflight[i], float64(inflight[i])/2, 5)
		if retried {
			b.Retries = 40
			b.RetryAfterWaitMs, b.GateWaitMs = raMs, gateMs
		}
		bs = append(bs, b)
	}
	res := results(bs...)
	res.Summary.FinalStatuses = map[string]int64{"200": 600, "429": lost}
	res.Summary.Lost = lost
	if !retried {
		res.Summary.FinalStatuses["429"] = 400
	}
	return res
}

// TestAdviceReadsTheRetryPolicy: the advice for a rate limit names only
// what the plan lacks — retries to a plan without them, never to one
// whose requests waited on Retry-After; jitter and the gate only where
// the waits show they were missing.
func TestAdviceReadsTheRetryPolicy(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name          string
		retried       bool
		raMs, gateMs  float64
		lost          int64 // < 0: that many final 429s, none lost
		want, notWant []string
	}{
		{"no retries", false, 0, 0, 0, []string{"add retry with honor_retry_after"}, nil},
		{"honoured, none lost", true, 800, 0, 0, []string{"nothing was lost"}, []string{"add retry"}},
		{"honoured with the gate, some lost", true, 800, 400, 30, []string{"ran out of retries", "already honour Retry-After"}, []string{"add retry", "add jitter"}},
		{"honoured without the gate, some lost", true, 800, 0, 30, []string{"add jitter"}, []string{"add retry"}},
		{"honoured, some refused at the end but not lost", true, 800, 400, -20, []string{"already honour Retry-After"}, []string{"add retry"}},
	} {
		res := limitedRun(tc.retried, tc.raMs, tc.gateMs, max(0, tc.lost))
		if tc.lost < 0 { // refused finally, e.g. cut off by the end of the run
			res.Summary.FinalStatuses["429"] = -tc.lost
		}
		f := one(t, res, RateLimit)
		for _, w := range tc.want {
			if !strings.Contains(f.Advice, w) {
				t.Errorf("%s: advice %q does not say %q", tc.name, f.Advice, w)
			}
		}
		for _, w := range tc.notWant {
			if strings.Contains(f.Advice, w) {
				t.Errorf("%s: advice %q says %q", tc.name, f.Advice, w)
			}
		}
	}
}

// TestJobCapSaysWhatItSaw: the platform's documented cap (2 recording
// jobs per org) is stated as this target's only where the cap seen is 2
// on recording jobs; other caps are phrased from what was seen, and a
// step that is no recording job gets no recording-job figure at all.
func TestJobCapSaysWhatItSaw(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, endpoint string
		k              int
		want, notWant  string
	}{
		{"create_export_job", "POST /api/v2/recording/jobs", 2, "the platform allows 2 recording jobs per org", "this target allows"},
		{"create_export_job", "POST /api/v2/recording/jobs", 3, "this target allows 3 open recording jobs", "the platform allows 2"},
		{"create_export_job", "POST /api/v2/recording/jobs", 5, "this target allows 5 open recording jobs", "the platform allows 2"},
		{"create_channel", "POST /api/v2/notifications/channels", 4, "this target allows 4 open notification channels", "recording"},
		{"create_job", "", 3, "cap of 3 open jobs", "recording"},
	} {
		d := Analyze(beatRun(tc.name, tc.endpoint, tc.k, 500))
		if len(d.Findings) == 0 || d.Findings[0].Kind != JobCap {
			t.Errorf("%s %d: findings %v, want a job cap", tc.endpoint, tc.k, kindsOf(d))
			continue
		}
		var b strings.Builder
		WriteText(&b, d)
		if text := b.String(); !strings.Contains(text, tc.want) || strings.Contains(text, tc.notWant) {
			t.Errorf("%s %d: want %q and not %q in\n%s", tc.endpoint, tc.k, tc.want, tc.notWant, text)
		}
	}
}
