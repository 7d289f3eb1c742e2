package diagnose

import (
	"strings"
	"testing"

	"github.com/floodgate-dev/floodgate/internal/metrics"
)

// TestGraceCutAtNormalEnd: requests that end in the second the grace
// period ran out — without a response, or waiting to retry after a 429 —
// are cut off by floodgate, counted up to the requests in flight at the
// cut; without the cut's record, the same series is no cut-off.
func TestGraceCutAtNormalEnd(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name           string
		other, status  int64
		inflight, want int64
	}{
		{"slow answers", 37, 0, 37, 37},
		{"waiting at the gate", 71, 129, 200, 200},
		{"more failures than were in flight", 50, 0, 20, 20},
	} {
		var bs []metrics.Bucket
		for i := range 4 {
			bs = append(bs, sec(float64(i), 20, nil, 25, 20, 50))
		}
		last := sec(4, 0, map[string]int64{}, 200, 100, 0)
		last.Completed = tc.other + tc.status
		last.Statuses = map[string]int64{}
		last.Errors = map[string]int64{"other": tc.other, "status": tc.status}
		bs = append(bs, last)
		res := results(bs...)
		d := Analyze(res)
		for _, f := range d.Findings {
			if f.Kind == CutOff {
				t.Errorf("%s: a cut-off without the cut's record: %s", tc.name, f.Summary)
			}
		}
		res.Summary.GraceCut = &metrics.GraceCut{AtS: 4.5, InFlight: tc.inflight}
		f := one(t, res, CutOff)
		if !strings.HasPrefix(f.Summary, Count(tc.want)+" requests cut off") || !strings.Contains(f.Advice, "grace:") {
			t.Errorf("%s: %q / %q, want %d requests cut off", tc.name, f.Summary, f.Advice, tc.want)
		}
		if d := Analyze(res); !strings.HasPrefix(d.Verdict, "no wall of the service") {
			t.Errorf("%s: verdict %q", tc.name, d.Verdict)
		}
	}
}
