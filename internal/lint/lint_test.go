package lint

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/floodgate-dev/floodgate/internal/jmx"
	"github.com/floodgate-dev/floodgate/internal/plan"
)

const head = "target: http://127.0.0.1:8080\n"

const botBurst = head + `auth:
  oauth2: {token_url: /oauth/token, client_id: demo, client_secret: "${SECRET:-s}"}
scenarios:
  bot_burst:
    executor:
      closed: {vus: 100, ramp_up: 10s, iterations: 50}
    steps:
      - request: {method: POST, path: /api/v2/conversations/messages/x/inbound/open/message, body: hi}
`

func parse(t *testing.T, src string) *plan.Plan {
	t.Helper()
	p, err := plan.Parse("plan.yaml", []byte(src), nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	return p
}

// want is a finding lint must report: its rule, severity, where (a
// prefix) and words its message holds.
type want struct {
	rule  string
	sev   Severity
	where string
	words []string
}

func TestLintRules(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		plan string
		opts []Option
		want []want
		not  []string // rules that must not fire
	}{
		{
			name: "the forum's burst meets the token limit",
			plan: botBurst,
			want: []want{{"rate_limit", Warning, "plan.yaml:5:3", []string{
				"5,000 requests at up to 500/s against 300/min per token", "expect 429 after ~300 requests", "minimum duration at the limit is 16.7 min"}}},
			not: []string{"retry_off", "honor_retry_after"},
		},
		{
			name: "retries off lose most of it",
			plan: strings.Replace(botBurst, "scenarios:", "retry: off\nscenarios:", 1),
			want: []want{{"retry_off", Error, "plan.yaml:4:8", []string{"~4,700 of 5,000 requests will end in 429"}}},
		},
		{
			name: "429 not in on",
			plan: strings.Replace(botBurst, "body: hi}", "body: hi}\n        retry: {on: [503]}", 1),
			want: []want{{"retry_off", Error, "plan.yaml:10:16", []string{"does not retry 429"}}},
		},
		{
			name: "Retry-After ignored",
			plan: strings.Replace(botBurst, "scenarios:", "retry: {honor_retry_after: false}\nscenarios:", 1),
			want: []want{{"honor_retry_after", Warning, "plan.yaml:4:8", []string{"honor_retry_after is off", "60.0 s window"}}},
		},
		{
			name: "max_wait below the window",
			plan: strings.Replace(botBurst, "scenarios:", "retry: {max_wait: 5s}\nscenarios:", 1),
			want: []want{{"honor_retry_after", Warning, "plan.yaml:4:8", []string{"max_wait 5s is shorter than the 60.0 s window"}}},
		},
		{
			name: "non-idempotent retries of a POST",
			plan: head + "retry: {non_idempotent: true}\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n    steps:\n      - request: {method: POST, path: /a}\n      - request: {path: /b}\n",
			want: []want{{"non_idempotent_retry", Warning, "plan.yaml:7:9", []string{"step POST /a (POST)", "set at plan.yaml:2:8", "twice"}}},
			not:  []string{"retry_off"},
		},
		{
			name: "non_idempotent with retries off is harmless",
			plan: head + "retry: {non_idempotent: true}\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n    retry: off\n    steps:\n      - request: {method: POST, path: /a}\n",
			not:  []string{"non_idempotent_retry"},
		},
		{
			name: "a small plan fits",
			plan: head + "scenarios:\n  s:\n    executor: {closed: {vus: 2, iterations: 3}}\n    steps: [{request: {path: /api/v2/a}}]\n",
			want: []want{{"rate_limit", Info, "plan.yaml:3:3", []string{"6 requests at up to 10.0/s fit 300/min per token"}}},
		},
		{
			name: "a concurrency cap",
			plan: botBurst,
			opts: []Option{WithMaxInFlight(10)},
			want: []want{{"concurrency_cap", Warning, "plan.yaml:5:3", []string{"up to 100 requests in flight against a cap of 10"}}},
		},
		{
			name: "an open rate that max_vus can't carry",
			plan: head + "scenarios:\n  s:\n    executor: {open: {rate: 100/s, duration: 1m, max_vus: 5}}\n    steps: [{request: {path: /api/v2/a}}, {think: 1s}]\n",
			want: []want{{"max_vus", Warning, "plan.yaml:3:3", []string{"needs ~120 VUs", "max_vus is 5"}}, {"rate_limit", Warning, "plan.yaml:3:3", []string{"6,000 requests at up to 100/s"}}},
		},
		{
			name: "a limit from the command line, per org, over two scenarios",
			plan: head + "scenarios:\n  a:\n    executor: {closed: {vus: 1, iterations: 10}}\n    steps: [{request: {path: /a}}]\n  b:\n    executor: {closed: {vus: 1, iterations: 10}}\n    steps: [{request: {path: /b}}]\n",
			opts: []Option{WithLimits(Limit{Count: 5, Window: time.Second, Key: KeyOrg})},
			want: []want{{"rate_limit", Warning, "plan.yaml:3:3", []string{"scenarios a + b (one org): 20 requests at up to 10.0/s against 5/s per org"}}},
		},
		{
			name: "a token per VU from a templated header",
			plan: head + "scenarios:\n  s:\n    executor: {closed: {vus: 10, iterations: 400}}\n    vars: {tok: \"t-{{vu}}\"}\n    headers: {Authorization: \"Bearer {{.tok}}\"}\n    steps: [{request: {path: /a}}]\n",
			opts: []Option{WithLimits(Limit{Count: 100, Window: time.Minute, Key: KeyToken})},
			want: []want{{"rate_limit", Warning, "plan.yaml:3:3", []string{"per VU (its own token): 400 requests at up to 5.00/s against 100/min per token"}}},
		},
		{
			name: "a plan for another API gets no Genesys limits",
			plan: head + "retry: off\nscenarios:\n  s:\n    executor: {closed: {vus: 100, iterations: 644}}\n    steps: [{request: {path: /owners}}]\n",
			want: []want{{"rate_limit", Info, "plan.yaml", []string{"no rate limits checked: the plan does not target the Genesys Cloud API"}}},
			not:  []string{"retry_off"},
		},
		{
			name: "a Genesys host gets them",
			plan: "target: https://api.mypurecloud.ie\nretry: off\nscenarios:\n  s:\n    executor: {closed: {vus: 100, iterations: 644}}\n    steps: [{request: {path: /owners}}]\n",
			want: []want{{"retry_off", Error, "plan.yaml", []string{"300/min per token"}}},
		},
		{
			name: "two clients are two keys",
			plan: head + "scenarios:\n  a:\n    executor: {closed: {vus: 1, iterations: 200}}\n    auth: {oauth2: {token_url: /oauth/token, client_id: alpha, client_secret: \"${S:-x}\"}}\n    steps: [{request: {path: /api/v2/a}}]\n  b:\n    executor: {closed: {vus: 1, iterations: 200}}\n    auth: {oauth2: {token_url: /oauth/token, client_id: beta, client_secret: \"${S:-x}\"}}\n    steps: [{request: {path: /api/v2/a}}]\n",
			opts: []Option{WithLimits(Limit{Count: 300, Window: time.Minute, Key: KeyClient})},
			want: []want{{"rate_limit", Info, "plan.yaml:3:3", []string{"scenario a: 200 requests"}}, {"rate_limit", Info, "plan.yaml:7:3", []string{"scenario b: 200 requests"}}},
		},
		{
			name: "requests without credentials are not one client",
			plan: head + "scenarios:\n  a:\n    executor: {closed: {vus: 1, iterations: 200}}\n    steps: [{request: {path: /api/v2/a}}]\n  b:\n    executor: {closed: {vus: 1, iterations: 200}}\n    steps: [{request: {path: /api/v2/a, headers: {Authorization: Bearer x}}}]\n",
			want: []want{{"rate_limit", Info, "plan.yaml:3:3", []string{"scenario a: 200 requests"}}, {"rate_limit", Info, "plan.yaml:6:3", []string{"scenario b: 200 requests"}}},
		},
		{
			name: "huge iteration counts don't overflow",
			plan: head + "scenarios:\n  s:\n    executor: {closed: {vus: 1000000000, iterations: 1000000000000}}\n    steps: [{request: {path: /api/v2/a}}]\n",
			want: []want{{"rate_limit", Warning, "plan.yaml:3:3", []string{"requests at up to", "minimum duration at the limit is"}}},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := Plan(parse(t, c.plan), c.opts...)
			for _, w := range c.want {
				found := false
				for _, f := range r.Findings {
					if f.Rule != w.rule || f.Severity != w.sev || !strings.HasPrefix(f.Where, w.where) {
						continue
					}
					ok := true
					for _, word := range w.words {
						ok = ok && strings.Contains(f.Message, word)
					}
					found = found || ok
				}
				if !found {
					t.Errorf("no %s %s at %s saying %q in:\n%s", w.sev, w.rule, w.where, w.words, dump(r))
				}
			}
			for _, rule := range c.not {
				for _, f := range r.Findings {
					if f.Rule == rule && f.Severity > Info {
						t.Errorf("unexpected %s: %+v", rule, f)
					}
				}
			}
		})
	}
}

func dump(r *Report) string {
	var b strings.Builder
	for _, f := range r.Findings {
		b.WriteString(f.Severity.String() + " " + f.Rule + " " + f.Where + ": " + f.Message + "\n")
	}
	return b.String()
}

func TestPredictions(t *testing.T) {
	t.Parallel()
	r := Plan(parse(t, botBurst))
	pr := r.Predictions[0]
	if pr.Requests != 5000 || pr.PeakRate != 500 || pr.PeakConcurrency != 100 || pr.Duration != 20*time.Second || pr.Estimated {
		t.Errorf("%+v", pr)
	}
	p := parse(t, head+"scenarios:\n  s:\n    executor: {open: {start_rate: 0/s, stages: [{target: 10/s, duration: 10s}, {target: 10/s, duration: 10s}]}}\n    steps: [{request: {path: /a}}, {request: {path: /b}}]\n")
	pr = Plan(p).Predictions[0]
	if pr.Requests != 300 || pr.PeakRate != 20 || pr.Duration != 20*time.Second {
		t.Errorf("stages: %+v", pr)
	}
	p = parse(t, head+"scenarios:\n  s:\n    executor: {batches: {size: 50, pause: 10s, total: 500}}\n    steps: [{request: {path: /a}}]\n")
	pr = Plan(p).Predictions[0]
	if pr.Requests != 500 || pr.PeakConcurrency != 50 || pr.Duration != 90*time.Second+DefaultLatency {
		t.Errorf("batches: %+v", pr)
	}
	p = parse(t, head+"scenarios:\n  s:\n    executor: {closed: {vus: 10, duration: 10s}}\n    steps: [{request: {path: /a}}, {think: 800ms}]\n")
	pr = Plan(p).Predictions[0]
	if pr.Requests != 100 || !pr.Estimated || pr.PeakRate != 10 {
		t.Errorf("duration-bound: %+v", pr)
	}
}

func TestParseLimit(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]Limit{
		"300/60s": {Count: 300, Window: time.Minute},
		"300/m":   {Count: 300, Window: time.Minute},
		"5/s":     {Count: 5, Window: time.Second},
		"1000/h":  {Count: 1000, Window: time.Hour},
		"10/1.5s": {Count: 10, Window: 1500 * time.Millisecond},
	} {
		l, err := ParseLimit(in)
		if err != nil || l.Count != want.Count || l.Window != want.Window || l.Key != KeyToken {
			t.Errorf("%s: %+v %v", in, l, err)
		}
	}
	for _, in := range []string{"", "300", "x/60s", "0/60s", "300/forever", "300/-1s"} {
		if _, err := ParseLimit(in); !errors.Is(err, ErrBadLimit) {
			t.Errorf("%q: %v, want ErrBadLimit", in, err)
		}
	}
	if s := (Limit{Count: 300, Window: time.Minute, Key: KeyToken}).String(); s != "300/min per token" {
		t.Errorf("%s", s)
	}
	if s := (Limit{Count: 50, Window: 2 * time.Minute, Key: KeyOrg}).String(); s != "50 per 2m per org" {
		t.Errorf("%s", s)
	}
}

func convert(t *testing.T, name string) (*jmx.Result, *plan.Plan, error) {
	t.Helper()
	path := filepath.Join("..", "jmx", "testdata", name)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	res, err := jmx.Convert(bytes.NewReader(b), jmx.WithFile(path))
	if err != nil {
		return nil, nil, err
	}
	p, err := plan.Parse(filepath.Join("..", "jmx", "testdata", "x.yaml"), res.YAML, func(k string) (string, bool) { v, ok := res.Required[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	return res, p, nil
}

// TestLintJMX lints converted JMeter plans: the Constant Throughput
// Timer trap, retries off (JMeter never retries) against the limit, at
// JMeter element paths; an infinite thread group is an error.
func TestLintJMX(t *testing.T) {
	t.Parallel()
	res, p, err := convert(t, "ctt-trap.jmx")
	if err != nil {
		t.Fatal(err)
	}
	r := JMX(res, p)
	var trap, other bool
	for _, f := range r.Findings {
		if f.Rule == "ctt_unit" {
			if f.Where == `Test Plan > Supervisors > Constant Throughput Timer "100 per second"` &&
				strings.Contains(f.Message, "throughput 100 is in samples per MINUTE") && strings.Contains(f.Message, "1.67/s") &&
				strings.Contains(f.Fix, "set throughput to 6000") {
				trap = true
			} else {
				other = true
			}
		}
	}
	if !trap || other {
		t.Errorf("want one ctt_unit finding on the Supervisors' timer:\n%s", dump(r))
	}

	res, p, err = convert(t, "bot-burst.jmx")
	if err != nil {
		t.Fatal(err)
	}
	r = JMX(res, p)
	var ctt, retryOff bool
	for _, f := range r.Findings {
		ctt = ctt || f.Rule == "ctt_unit" && strings.Contains(f.Where, `Constant Throughput Timer "100 requests per second"`)
		retryOff = retryOff || f.Rule == "retry_off" && f.Where == "Bot burst" && f.Severity == Error
	}
	if !ctt {
		t.Errorf("the bot burst's timer (100/min for 100 threads) is the trap:\n%s", dump(r))
	}
	_ = retryOff // at 100/min the burst stays under 300/min: no 429, no retry finding
	for _, f := range r.Findings {
		if f.Rule == "rate_limit" && f.Severity != Info {
			t.Errorf("100/min should fit 300/min: %+v", f)
		}
	}

	// JMeter never retries: a converted plan that meets the limit loses requests.
	res, p, err = convert(t, "e2e-open-message.jmx")
	if err != nil {
		t.Fatal(err)
	}
	r = JMX(res, p, WithLimits(Limit{Count: 5, Window: time.Second, Key: KeyToken}))
	found := false
	for _, f := range r.Findings {
		found = found || f.Rule == "retry_off" && f.Severity == Error && f.Where == "Open messages" && strings.Contains(f.Message, "~7 of 12 requests")
	}
	if !found {
		t.Errorf("want retry_off at the Test Plan:\n%s", dump(r))
	}

	res, _, err = convert(t, "forever.jmx")
	if err != nil {
		t.Fatal(err)
	}
	fs := Forever(res)
	if len(fs) != 1 || fs[0].Severity != Warning || fs[0].Where != `Test Plan > Thread Group "Soak"` || !strings.Contains(fs[0].Message, "${DURATION}") {
		t.Errorf("%+v", fs)
	}
}

// TestPerIterationControlFlow: a repeat's requests count once per pass,
// a choose's by weight.
func TestPerIterationControlFlow(t *testing.T) {
	t.Parallel()
	p := parse(t, head+`scenarios:
  s:
    executor: {closed: {vus: 1, iterations: 1}}
    steps:
      - request: {path: /api/v2/a}
      - repeat: {count: 25, steps: [{request: {path: /api/v2/b}}, {think: 1s}]}
      - choose:
          - {weight: 3, request: {path: /api/v2/c}}
          - {weight: 1, group: [{request: {path: /api/v2/d}}, {request: {path: /api/v2/e}}, {request: {path: /api/v2/f}}, {request: {path: /api/v2/g}}, {request: {path: /api/v2/h}}]}
      - repeat: {while: "more", steps: [{request: {path: /api/v2/i}}]}
`)
	n, atLeast, think := perIteration(p.Scenarios[0].Steps)
	// 1 + 25 + (3×1 + 1×5)/4 + at least 1.
	if n != 29 || !atLeast || think != 25*time.Second {
		t.Errorf("per iteration: %d requests (at least %v), think %s; want 29, at least, 25s", n, atLeast, think)
	}
}
