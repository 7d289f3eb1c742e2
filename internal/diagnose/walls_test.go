package diagnose

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/floodgate-dev/floodgate/internal/emulator"
	"github.com/floodgate-dev/floodgate/internal/emulator/config"
	"github.com/floodgate-dev/floodgate/internal/metrics"
	"github.com/floodgate-dev/floodgate/internal/plan"
)

// These tests run the engine in-process against the emulator on
// 127.0.0.1:0, scaled down to a few seconds each, and check that the
// diagnosis names the wall the emulator was configured with and puts its
// onset within ±10% of the configured value. The concurrency and
// saturation runs measure in-flight counts, which a starved CPU blurs:
// their requests take 400 ms, long next to what the generator adds, and
// they do not run in parallel.

func dur(x time.Duration) config.Duration { return config.Duration(x) }

// only returns the single finding of d, failing unless there is exactly
// one and it is of kind k.
func only(t *testing.T, res *metrics.Results, k Kind) Finding {
	t.Helper()
	d := Analyze(res)
	var b strings.Builder
	WriteText(&b, d)
	t.Logf("statuses %v over %.1f s\n%s", res.Summary.Statuses, res.Summary.DurationS, b.String())
	if t.Failed() || len(d.Findings) != 1 || d.Findings[0].Kind != k {
		logSeries(t, res)
		var kinds []Kind
		for _, f := range d.Findings {
			kinds = append(kinds, f.Kind)
		}
		t.Fatalf("findings %v, want exactly one %s", kinds, k)
	}
	return d.Findings[0]
}

// logSeries logs the time series compactly, to see why a diagnosis failed.
func logSeries(t *testing.T, res *metrics.Results) {
	t.Helper()
	var b strings.Builder
	b.WriteString("t\tsec\tattempts\tinflight max/mean\tlatency mean\tstatuses\tratelimit\n")
	for _, s := range res.Series {
		rl := "-"
		if s.RateLimit != nil {
			rl = fmt.Sprintf("%d/%gs", s.RateLimit.Remaining, s.RateLimit.ResetS)
		}
		fmt.Fprintf(&b, "%.0f\t%.2f\t%d\t%d/%.1f\t%.1f\t%v\t%s\n", s.T, s.Seconds, s.Attempts, s.InFlightMax, s.InFlightMean, s.FromSend.Mean, s.Statuses, rl)
	}
	t.Log("\n" + b.String())
}

func within(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 0.1*want {
		t.Errorf("%s = %.2f, want %.2f ± 10%%", what, got, want)
	}
}

// noLimit lifts the per-token limit out of the way of caps and faults.
func noLimit(cfg *emulator.Config) {
	cfg.Limits.Token = &config.Rate{Requests: 1_000_000, Window: dur(time.Minute)}
}

// rateLimited is the documented default, 300 per 60 s per token, scaled
// 20× down: 300 per 3 s.
func rateLimited() emulator.Config {
	cfg := emulator.DefaultConfig()
	cfg.TimeScale = 0.05
	return cfg
}

func checkRateLimit(t *testing.T, f Finding) {
	t.Helper()
	within(t, "count per window", float64(f.Onset.Count), 300)
	within(t, "window (s)", f.Onset.Window, 3)
	within(t, "rate", f.Onset.Rate, 100)
	if !slices.Equal(f.Statuses, []string{"429"}) {
		t.Errorf("statuses %v, want [429]", f.Statuses)
	}
}

func TestWallRateLimitWithRetries(t *testing.T) {
	t.Parallel() // counts, not timing: robust to sharing the CPU
	// 20 VUs × 40 requests with the default retry policy: the gate holds
	// every VU behind each Retry-After, so 429s are few and nothing is lost.
	res := runWall(t, rateLimited(), wallPlan(plan.Executor{Closed: &plan.Closed{VUs: 20, Iterations: 40}}, nil))
	f := only(t, res, RateLimit)
	checkRateLimit(t, f)
	if f.Onset.Time != 0 {
		t.Errorf("onset at %.1f s, want 0", f.Onset.Time)
	}
	if !strings.Contains(f.Advice, "nothing was lost") {
		t.Errorf("advice %q, want it to say the retries survived", f.Advice)
	}
}

func TestWallRateLimitWithoutRetries(t *testing.T) {
	t.Parallel() // counts, not timing: robust to sharing the CPU
	// 150/s offered against 100/s allowed: a third of each window is 429.
	p := wallPlan(plan.Executor{Open: &plan.Open{Rate: perSecond(150), Duration: 5 * time.Second, MaxVUs: 200}}, &plan.Retry{Off: true})
	f := only(t, runWall(t, rateLimited(), p), RateLimit)
	checkRateLimit(t, f)
	if !strings.Contains(f.Advice, "honor_retry_after") {
		t.Errorf("advice %q, want retry with honor_retry_after", f.Advice)
	}
}

// capped caps conversations at 20 in flight, answered with status. Each
// request takes 400 ms — long next to what a busy CI machine adds on the
// generator's side — so an open ramp from 10/s to 110/s crosses the cap
// at 50/s.
func capped(status int) emulator.Config {
	cfg := emulator.DefaultConfig()
	noLimit(&cfg)
	c := config.Cap{Family: "conversations", MaxInFlight: 20, Status: status}
	if status == 429 {
		c.RetryAfter = dur(time.Second)
	}
	cfg.Caps = []config.Cap{c}
	cfg.Faults = []config.Fault{{Family: "conversations", Latency: &config.Latency{Dist: "fixed", Value: dur(400 * time.Millisecond)}}}
	return cfg
}

func TestWallConcurrencyCap403(t *testing.T) {
	f := only(t, runWall(t, capped(403), wallPlan(ramp(10, 110, 6*time.Second), &plan.Retry{Off: true})), ConcurrencyCap)
	within(t, "cap (in flight)", f.Onset.InFlight, 20)
	if !slices.Equal(f.Statuses, []string{"403"}) || !strings.Contains(f.Advice, "not permissions") {
		t.Errorf("statuses %v, advice %q: want 403 and that it is load, not permissions", f.Statuses, f.Advice)
	}
}

func TestWallConcurrencyCap429(t *testing.T) {
	f := only(t, runWall(t, capped(429), wallPlan(ramp(10, 110, 6*time.Second), &plan.Retry{Off: true})), ConcurrencyCap)
	within(t, "cap (in flight)", f.Onset.InFlight, 20)
	if !slices.Equal(f.Statuses, []string{"429"}) {
		t.Errorf("statuses %v, want [429]", f.Statuses)
	}
}

func TestWallSaturation(t *testing.T) {
	// 400 ms per request, +5 ms per request in flight above 40, 503 above
	// 80: an open ramp from 60/s to 150/s passes the knee at 100/s and
	// the hard limit at about 133/s.
	cfg := emulator.DefaultConfig()
	noLimit(&cfg)
	cfg.Faults = []config.Fault{{Family: "conversations",
		Latency:    &config.Latency{Dist: "fixed", Value: dur(400 * time.Millisecond)},
		Saturation: &config.Saturation{Knee: 40, PerRequest: dur(5 * time.Millisecond), HardLimit: 80}}}
	f := only(t, runWall(t, cfg, wallPlan(ramp(60, 150, 8*time.Second), &plan.Retry{Off: true})), Saturation)
	within(t, "knee (in flight)", f.Onset.InFlight, 40)
	if !slices.Contains(f.Statuses, "503") {
		t.Errorf("statuses %v, want 503 among them", f.Statuses)
	}
}

func TestWallMissingPermission(t *testing.T) {
	t.Parallel() // counts, not timing: robust to sharing the CPU
	// The client may view conversations but not receive open messages:
	// 403 missing.permissions at any load, from the first request.
	cfg := emulator.DefaultConfig()
	org := config.DemoOrg()
	org.Clients[0].Permissions = []string{"conversation:communication:view"}
	cfg.Orgs = []config.Org{org}
	f := only(t, runWall(t, cfg, wallPlan(ramp(20, 100, 3*time.Second), &plan.Retry{Off: true})), Authorization)
	if f.Onset.Time != 0 || f.Scope != "messages/inbound" || !slices.Equal(f.Statuses, []string{"403"}) {
		t.Errorf("onset %.1f s, scope %q, statuses %v: want 0, messages/inbound, [403]", f.Onset.Time, f.Scope, f.Statuses)
	}
}
