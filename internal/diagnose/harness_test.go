package diagnose

import (
	"context"
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

const openMessagePath = "/api/v2/conversations/messages/integ-1/inbound/open/message"

var openMessageBody = []byte(`{"channel":{"from":{"id":"user-1","idType":"Opaque"},"time":"2026-11-22T00:00:00Z"},"text":"hi"}`)

// wallPlan posts open messages with the demo client under ex.
func wallPlan(ex plan.Executor, retry *plan.Retry) *plan.Plan {
	return &plan.Plan{
		Name: "wall", Grace: 5 * time.Second,
		Defaults: plan.Defaults{Timeout: 5 * time.Second},
		Auth: &plan.Auth{OAuth2: &plan.OAuth2{TokenURL: "/oauth/token",
			ClientID: emulator.DemoClientID, ClientSecret: plan.NewSecret(emulator.DemoClientSecret)}},
		Retry: retry,
		Scenarios: []*plan.Scenario{{
			Name: "messages", Executor: ex,
			Steps: []*plan.Step{{Name: "inbound", Path: "inbound", Request: &plan.Request{
				Method: "POST", Path: openMessagePath,
				Headers: map[string]string{"Content-Type": "application/json"},
				Body:    openMessageBody, Expect: []int{200, 202},
			}}},
		}},
	}
}

// runWall serves cfg on 127.0.0.1:0, runs p against it in-process and
// returns the results, as `floodgate run` would write them. With
// FLOODGATE_DIAG_DUMP=DIR set it also writes them to DIR/<test name>.
func runWall(t *testing.T, cfg emulator.Config, p *plan.Plan) *metrics.Results {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := emulator.New(cfg, emulator.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	base, err := srv.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.Target = base
	if p.Auth != nil && p.Auth.OAuth2 != nil {
		p.Auth.OAuth2.TokenURL = base + "/oauth/token"
	}
	e, err := engine.New(p, engine.WithSeed(1))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Run(ctx); err != nil {
		t.Fatal(err)
	}
	info := metrics.RunInfo{Plan: p.Name, Target: base, Executors: map[string]string{}}
	for _, sc := range p.Scenarios {
		info.Executors[sc.Name] = sc.Executor.Kind()
	}
	res := e.Recorder().Results(info, e.Ended())
	if dir := os.Getenv("FLOODGATE_DIAG_DUMP"); dir != "" {
		if err := metrics.WriteDir(filepath.Join(dir, t.Name()), res); err != nil {
			t.Fatal(err)
		}
	}
	return res
}

func perSecond(n float64) plan.Rate { return plan.Rate{Count: n, Per: time.Second} }

// ramp is an open executor ramping linearly from r0 to r1 per second over d.
func ramp(r0, r1 float64, d time.Duration) plan.Executor {
	return plan.Executor{Open: &plan.Open{StartRate: perSecond(r0),
		Stages: []plan.Stage{{Target: perSecond(r1), Duration: d}}, MaxVUs: 2000}}
}
