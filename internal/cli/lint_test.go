package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLintCommand(t *testing.T) {
	t.Parallel()
	example := filepath.Join("..", "..", "examples", "bot-burst.yaml")
	src, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	retryOff := writePlan(t, strings.Replace(string(src), "scenarios:", "retry: off\nscenarios:", 1))
	nonIdem := writePlan(t, strings.Replace(string(src), "expect: [200, 202]", "expect: [200, 202]\n        retry: {non_idempotent: true}", 1))
	for _, c := range []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"lint", example}, ExitOK, []string{
			"against 300/min per token (emulator default); 200ms per request assumed",
			"bot_burst  closed: 100 VUs, ramp-up 10s × 50 iterations  5,000",
			"warning  rate_limit  " + example + ":23:3",
			"5,000 requests at up to 500/s against 300/min per token: expect 429 after ~300 requests (600 ms in); minimum duration at the limit is 16.7 min",
			"0 errors, 1 warning"}},
		{[]string{"lint", retryOff}, ExitRuntime, []string{"error    retry_off", "~4,700 of 5,000 requests will end in 429", "1 error, 1 warning"}},
		{[]string{"lint", nonIdem}, ExitOK, []string{"warning  non_idempotent_retry", "step inbound_open_message (POST)"}},
		{[]string{"lint", example, "--strict"}, ExitRuntime, []string{"0 errors, 1 warning"}},
		{[]string{"lint", example, "--limit", "1000/s"}, ExitOK, []string{"info     rate_limit", "fit 1,000/s per token"}},
		{[]string{"lint", example, "--limit", "600/m", "--limit-key", "org", "--max-in-flight", "50"}, ExitOK, []string{
			"against 600/min per org", "expect 429 after ~600 requests", "warning  concurrency_cap", "against a cap of 50"}},
		{[]string{"lint", example, "--emulator-config", filepath.Join("..", "..", "examples", "emulator", "cap-429.yaml")}, ExitOK, []string{
			"at most 10 in flight", "warning  concurrency_cap"}},
		// JMeter never retries: the pollers' 10/s meets the limit.
		{[]string{"lint", jmxFile("ctt-trap.jmx")}, ExitRuntime, []string{
			`warning  ctt_unit  Test Plan > Supervisors > Constant Throughput Timer "100 per second"`,
			"throughput 100 is in samples per MINUTE", "set throughput to 6000",
			"error    retry_off  Test Plan\n  retries are off, and scenario pollers will meet the 300/min per token limit: ~1,500 of 3,000 requests will end in 429",
			"info     rate_limit  Test Plan > Thread Group \"Supervisors\"\n  scenario supervisors: 2,000 requests at up to 1.52/s fit 300/min per token",
			"1 error, 2 warnings"}},
		{[]string{"lint", jmxFile("e2e-open-message.jmx"), "--limit", "5/s"}, ExitRuntime, []string{
			"error    retry_off  Open messages", "~7 of 12 requests will end in 429"}},
		{[]string{"lint", jmxFile("forever.jmx")}, ExitOK, []string{`warning  unbounded  Test Plan > Thread Group "Soak"`, "fix: run it with DURATION=10m"}},
		{[]string{"lint", example, "--emulator-config", writePlan(t, "time_scale: 0.01\n")}, ExitOK, []string{
			"against 300 per 600ms per token", "time_scale 0.01"}},
		{[]string{"lint", writePlan(t, "target: http://127.0.0.1:9966\nretry: off\nscenarios:\n  vets:\n    executor: {closed: {vus: 100, iterations: 644}}\n    steps: [{request: {path: /petclinic/api/vets}}]\n")}, ExitOK, []string{
			"info     rate_limit", "no rate limits checked", "0 errors"}},
		{[]string{"lint", example, "--limit", "lots"}, ExitUsage, nil},
		{[]string{"lint", example, "--limit-key", "user"}, ExitUsage, nil},
		{[]string{"lint", writePlan(t, "target: http://x\n")}, ExitUsage, nil},
	} {
		te := newTestEnv(nil)
		err := Main(context.Background(), &te.Env, c.args)
		if ExitCode(err) != c.code {
			t.Errorf("%v: exit %d (%v), want %d\n%s%s", c.args, ExitCode(err), err, c.code, te.out.String(), te.errText())
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(te.out.String(), w) {
				t.Errorf("%v: stdout lacks %q:\n%s", c.args, w, te.out.String())
			}
		}
	}

	te := newTestEnv(nil)
	if err := Main(context.Background(), &te.Env, []string{"lint", example, "--format", "json"}); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Predictions []struct {
			Scenario string  `json:"scenario"`
			Requests int64   `json:"requests"`
			PeakRate float64 `json:"peak_rate"`
		} `json:"predictions"`
		Findings []struct {
			Severity string `json:"severity"`
			Rule     string `json:"rule"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(te.out.String()), &doc); err != nil || len(doc.Predictions) != 1 || doc.Predictions[0].Requests != 5000 ||
		len(doc.Findings) != 1 || doc.Findings[0].Severity != "warning" {
		t.Errorf("%v: %+v\n%s", err, doc, te.out.String())
	}
}
