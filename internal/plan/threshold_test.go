package plan

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseThreshold(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want Threshold
	}{
		{"p99(latency) < 800ms", Threshold{Func: "p", Percentile: 99, Metric: LatencyFromDue, Op: "<", Limit: 800, Unit: "ms"}},
		{"p99.9(latency.from_send) <= 2s", Threshold{Func: "p", Percentile: 99.9, Metric: LatencyFromSend, Op: "<=", Limit: 2000, Unit: "ms"}},
		{"p95(latency{step=create_job}) < 2s", Threshold{Func: "p", Percentile: 95, Metric: LatencyFromDue, Step: "create_job", Op: "<", Limit: 2000, Unit: "ms"}},
		{`mean(latency.attempt{scenario=s, step="GET /x"}) < 150`, Threshold{Func: "mean", Metric: LatencyAttempt, Scenario: "s", Step: "GET /x", Op: "<", Limit: 150, Unit: "ms"}},
		{"max(latency{step=checkout/pay}) < 1m30s", Threshold{Func: "max", Metric: LatencyFromDue, Step: "checkout/pay", Op: "<", Limit: 90000, Unit: "ms"}},
		{"min(latency) >= 500us", Threshold{Func: "min", Metric: LatencyFromDue, Op: ">=", Limit: 0.5, Unit: "ms"}},
		{"rate(status=429) < 1%", Threshold{Func: "rate", Metric: "status", Match: "429", Op: "<", Limit: 0.01, Unit: "%"}},
		{"rate(status=5xx) == 0", Threshold{Func: "rate", Metric: "status", Match: "5xx", Op: "==", Limit: 0, Unit: "%"}},
		{"rate(final_status=429, step=create_job) > 0.9", Threshold{Func: "rate", Metric: "final_status", Match: "429", Step: "create_job", Op: ">", Limit: 0.9, Unit: "%"}},
		{"rate(error=timeout,scenario=a,step=b) < 0.5%", Threshold{Func: "rate", Metric: "error", Match: "timeout", Scenario: "a", Step: "b", Op: "<", Limit: 0.005, Unit: "%"}},
		{"rate(lost) == 0", Threshold{Func: "rate", Metric: "lost", Op: "==", Limit: 0, Unit: "%"}},
		{"count(final_status=202, step=create_job) >= 2", Threshold{Func: "count", Metric: "final_status", Match: "202", Step: "create_job", Op: ">=", Limit: 2}},
		{"lost == 0", Threshold{Metric: "lost", Op: "==", Limit: 0}},
		{"  lost{step=a}!=3  ", Threshold{Metric: "lost", Step: "a", Op: "!=", Limit: 3}},
		{"goodput > 50/s", Threshold{Metric: "goodput", Op: ">", Limit: 50, Unit: "/s"}},
		{"achieved_rate >= 3000/m", Threshold{Metric: "achieved_rate", Op: ">=", Limit: 50, Unit: "/s"}},
		{"offered_rate < 7200/h", Threshold{Metric: "offered_rate", Op: "<", Limit: 2, Unit: "/s"}},
		{"goodput > 12.5", Threshold{Metric: "goodput", Op: ">", Limit: 12.5, Unit: "/s"}},
		{"retry_amplification < 1.2", Threshold{Metric: "retry_amplification", Op: "<", Limit: 1.2}},
		{"requests{scenario=storm} >= 500", Threshold{Metric: "requests", Scenario: "storm", Op: ">=", Limit: 500}},
		{"p99(latency) < 800 ms", Threshold{Func: "p", Percentile: 99, Metric: LatencyFromDue, Op: "<", Limit: 800, Unit: "ms"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseThreshold(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			tt.want.Text = strings.TrimSpace(tt.in)
			if diff := cmp.Diff(tt.want, *got, cmpopts.EquateApprox(0, 1e-9)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseThresholdErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in     string
		offset int
		msg    string
	}{
		{"", 0, "expected a metric"},
		{"p99(latency)", 12, "expected a comparison"},
		{"p99(latency) <", 14, "expected a value"},
		{"p99(latency) = 800ms", 13, "= assigns; compare with =="},
		{"p99(latncy) < 1s", 4, `takes a latency, got "latncy"; did you mean "latency"?`},
		{"p0(latency) < 1s", 0, "bad percentile"},
		{"p101(latency) < 1s", 0, "bad percentile"},
		{"pfoo(latency) < 1s", 0, "bad percentile"},
		{"p(latency) < 1s", 0, "p needs a percentile"},
		{"p99(latency < 1s", 12, `expected ")"`},
		{"latency < 1s", 0, "needs an aggregation"},
		{"avg(latency) < 1s", 0, `unknown function "avg"`},
		{"errors == 0", 0, `unknown metric "errors"`},
		{"los == 0", 0, `did you mean "lost"?`},
		{"p99(latency) < 1%", 15, "compares a latency"},
		{"p99(latency) < fast", 15, "bad value"},
		{"rate(status=429) < 2", 19, "write 2% or 0.02"},
		{"rate(status=429) < 150%", 19, "over 100%"},
		{"rate(status=429) < 10ms", 19, "compares a share"},
		{"rate(status=42) < 1%", 12, "bad status"},
		{"rate(status=6xx) < 1%", 12, "bad status"},
		{"rate(status) < 1%", 11, `expected "="`},
		{"rate(error=slow) < 1%", 11, `unknown error class "slow"`},
		{"rate(oops) < 1%", 5, `unknown event "oops"`},
		{"rate(step=a) < 1%", 5, "needs an event first"},
		{"rate(lost, region=eu) < 1%", 11, `unknown label "region"`},
		{"rate(lost step=a) < 1%", 10, `expected ")"`},
		{"lost{step=a,step=b} == 0", 12, "step is given twice"},
		{"lost{step=a == 0", 12, `expected ","`},
		{`lost{step="a} == 0`, 10, "unterminated string"},
		{"lost == 0%", 8, "drop the unit"},
		{"goodput > 5/x", 10, "is per second"},
		{"lost == -1", 8, "bad value"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			_, err := ParseThreshold(tt.in)
			var te *ThresholdError
			if !errors.As(err, &te) {
				t.Fatalf("ParseThreshold(%q) = %v, want a *ThresholdError", tt.in, err)
			}
			if te.Offset != tt.offset || !strings.Contains(te.Msg, tt.msg) {
				t.Errorf("offset %d %q, want offset %d containing %q", te.Offset, te.Msg, tt.offset, tt.msg)
			}
		})
	}
}

func TestThresholdPass(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		v    float64
		want bool
	}{
		{"lost == 0", 0, true}, {"lost == 0", 1, false},
		{"p99(latency) < 800ms", 799.9, true}, {"p99(latency) < 800ms", 800, false},
		{"p99(latency) <= 800ms", 800, true}, {"goodput > 50/s", 50, false},
		{"goodput >= 50/s", 50, true}, {"lost != 0", 2, true},
		{"lost == 0", math.NaN(), false},
	} {
		th, err := ParseThreshold(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := th.Pass(tt.v); got != tt.want {
			t.Errorf("%s with %v: Pass = %v, want %v", tt.in, tt.v, got, tt.want)
		}
	}
}

func TestThresholdsInPlan(t *testing.T) {
	t.Parallel()
	src := `target: http://x
scenarios:
  s:
    executor: {closed: {vus: 1, iterations: 1}}
    steps:
      - name: create_job
        request: {path: /}
      - name: g
        group: [{name: inner, request: {path: /}}, {think: 1s}]
thresholds:
  - p99(latency) < 800ms
  - "rate(status=429) < 1%"
  - {threshold: "lost == 0", abort_on_fail: true, delay_abort_eval: 10s}
  - p95(latency{step=g/inner}) < 2s
`
	p, err := Parse("plan.yaml", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Thresholds) != 4 {
		t.Fatalf("%d thresholds", len(p.Thresholds))
	}
	th := p.Thresholds[2]
	if th.Text != "lost == 0" || !th.AbortOnFail || th.DelayAbortEval != 10*time.Second || th.Pos != (Pos{13, 17}) {
		t.Errorf("abort threshold %+v", th)
	}
	if p.Thresholds[1].Pos != (Pos{12, 5}) {
		t.Errorf("pos %v", p.Thresholds[1].Pos)
	}
}

func TestThresholdErrorsInPlan(t *testing.T) {
	t.Parallel()
	head := "target: http://x\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n    steps: [{name: a, request: {path: /}}]\nthresholds:\n"
	tests := []struct {
		name, yaml, pos, msg string
	}{
		{"syntax, plain", "  - p99(latency) < 1%\n", "7:20", "compares a latency"},
		{"syntax, quoted", "  - \"rate(status=42) < 1%\"\n", "7:18", "bad status"},
		{"unknown step", "  - p99(latency{step=b}) < 1s\n", "7:5", `selects step "b", which no scenario doesn't have`},
		{"unknown scenario", "  - lost{scenario=t} == 0\n", "7:5", `selects scenario "t"`},
		{"not a list", "  lost == 0\n", "7:3", "thresholds must be a list"},
		{"delay without abort", "  - {threshold: lost == 0, delay_abort_eval: 5s}\n", "7:28", "applies only with abort_on_fail"},
		{"mapping without threshold", "  - {abort_on_fail: true}\n", "7:5", "threshold needs threshold"},
		{"unknown key", "  - {threshold: lost == 0, abort: true}\n", "7:28", `unknown key "abort"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("testdata/plan.yaml", []byte(head+tt.yaml), nil)
			if err == nil {
				t.Fatal("no error")
			}
			for _, e := range planErrors(t, err) {
				if e.Pos.String() == tt.pos && strings.Contains(e.Msg, tt.msg) && strings.Contains(e.Msg, "; ") {
					return
				}
			}
			t.Errorf("no error at %s containing %q; got:\n%v", tt.pos, tt.msg, err)
		})
	}
}

// FuzzThreshold: the parser never panics, and what it accepts is a
// threshold whose parts are all known.
func FuzzThreshold(f *testing.F) {
	for _, s := range []string{"p99(latency) < 800ms", "p95(latency{step=create_job}) < 2s", "rate(status=429) < 1%",
		"lost == 0", "goodput > 50/s", `count(final_status=5xx, scenario=a, step="x y") <= 3`, "p99.9(latency.attempt) >= 1m",
		"rate(error=timeout) != 0.5", "lost{step=", `lost{step="\"} == 0`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		th, err := ParseThreshold(s)
		if err != nil {
			var te *ThresholdError
			if !errors.As(err, &te) || te.Offset < 0 || te.Offset > len(s) || te.Msg == "" {
				t.Fatalf("ParseThreshold(%q): malformed error %#v", s, err)
			}
			return
		}
		if th.Op == "" || math.IsNaN(th.Limit) || math.IsInf(th.Limit, 0) || th.Limit < 0 {
			t.Fatalf("ParseThreshold(%q) = %+v", s, th)
		}
		switch th.Func {
		case "p":
			if !(th.Percentile > 0 && th.Percentile <= 100) {
				t.Fatalf("percentile %v", th.Percentile)
			}
			fallthrough
		case "mean", "max", "min":
			if th.Unit != "ms" || !strings.HasPrefix(th.Metric, "latency.") {
				t.Fatalf("latency threshold %+v", th)
			}
		case "rate":
			if th.Unit != "%" || th.Limit > 1 {
				t.Fatalf("rate threshold %+v", th)
			}
		case "count", "":
		default:
			t.Fatalf("func %q", th.Func)
		}
		if _, err := ParseThreshold(th.Text); err != nil {
			t.Fatalf("re-parsing %q: %v", th.Text, err)
		}
	})
}

func TestFormatValueHidesFloatNoise(t *testing.T) {
	for _, c := range []struct {
		unit string
		v    float64
		want string
	}{
		{"%", 0.936, "93.6%"},
		{"%", 0.0042, "0.42%"},
		{"%", 1.0 / 3, "33.333333%"},
		{"ms", 812.5, "812.5 ms"},
		{"ms", 0.1 + 0.2, "0.3 ms"},
		{"/s", 51.2, "51.2/s"},
		{"", 3, "3"},
	} {
		th := &Threshold{Unit: c.unit}
		if got := th.FormatValue(c.v); got != c.want {
			t.Errorf("FormatValue(%v) in %q = %q, want %q", c.v, c.unit, got, c.want)
		}
	}
}
