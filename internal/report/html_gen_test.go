package report

import (
	"context"
	"encoding/json"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/floodgate-dev/floodgate/internal/emulator"
	"github.com/floodgate-dev/floodgate/internal/engine"
	"github.com/floodgate-dev/floodgate/internal/metrics"
	"github.com/floodgate-dev/floodgate/internal/plan"
)

var gen = flag.Bool("gen", false, "re-run the demo plan against the emulator and rewrite testdata/run (then run with -update)")

// runDir is a results dir of a real run, committed so that reports of it
// are byte-stable: open messages arriving at 20/s rising to 200/s over
// 10 s, then 200/s for 4 s, against the emulator's 300 requests per token
// per 60 s scaled 20× down (300 per 3 s, 100/s), with the default retry
// policy: the wall, the gate holding requests behind it, in-flight and
// latency from due climbing.
const runDir = "testdata/run"

func TestGenerateRunDir(t *testing.T) {
	if !*gen {
		t.Skip("run with -gen to regenerate " + runDir)
	}
	cfg := emulator.DefaultConfig()
	cfg.TimeScale = 0.05
	srv, err := emulator.New(cfg, emulator.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base, err := srv.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &plan.Plan{
		Name: "bot-burst", File: "examples/bot-burst.yaml", Target: base, Grace: 30 * time.Second,
		Defaults: plan.Defaults{Timeout: 16 * time.Second},
		Auth: &plan.Auth{OAuth2: &plan.OAuth2{TokenURL: base + "/oauth/token",
			ClientID: emulator.DemoClientID, ClientSecret: plan.NewSecret(emulator.DemoClientSecret)}},
		Scenarios: []*plan.Scenario{{
			Name: "bot_burst",
			Executor: plan.Executor{Open: &plan.Open{StartRate: plan.Rate{Count: 20, Per: time.Second},
				Stages: []plan.Stage{
					{Target: plan.Rate{Count: 200, Per: time.Second}, Duration: 10 * time.Second},
					{Target: plan.Rate{Count: 200, Per: time.Second}, Duration: 4 * time.Second},
				}, MaxVUs: 400}},
			Steps: []*plan.Step{
				{Name: "inbound_open_message", Path: "inbound_open_message", Request: &plan.Request{
					Method: "POST", Path: "/api/v2/conversations/messages/integ-1/inbound/open/message",
					Headers: map[string]string{"Content-Type": "application/json"},
					Body:    []byte(`{"channel":{"from":{"id":"bot-user","idType":"Opaque"}},"text":"hello"}`),
					Expect:  []int{200, 202},
				}},
			},
		}},
	}
	e, err := engine.New(p, engine.WithSeed(1))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Run(ctx); err != nil {
		t.Fatal(err)
	}
	info := metrics.RunInfo{Plan: p.Name, PlanFile: p.File, Target: "http://127.0.0.1:8080", Executors: map[string]string{"bot_burst": "open"}}
	res := e.Recorder().Results(info, e.Ended())
	dir := filepath.FromSlash(runDir)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := metrics.WriteDir(dir, res); err != nil {
		t.Fatal(err)
	}
	// Thresholds as the run command records them, added to the summary
	// as JSON so that this test does not depend on how they are made.
	path := filepath.Join(dir, metrics.SummaryFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	s := res.Summary
	doc["thresholds"] = []map[string]any{
		{"threshold": "lost == 0", "value": float64(s.Lost), "limit": 0, "unit": "", "passed": s.Lost == 0,
			"detail": "lost = " + diagnoseCount(s.Lost) + ", want == 0"},
		{"threshold": "p99 < 800ms", "value": s.Latency.FromDue.P99, "limit": 800, "unit": "ms", "passed": s.Latency.FromDue.P99 < 800,
			"detail": "p99(latency) = " + num(s.Latency.FromDue.P99) + " ms, want < 800 ms"},
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(out, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s: %d requests, statuses %v, %.1f s", dir, s.Requests, s.Statuses, s.DurationS)
}

func diagnoseCount(n int64) string { return json.Number(itoa(n)).String() }
