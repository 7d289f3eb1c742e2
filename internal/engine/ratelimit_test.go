package engine

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/floodgate-dev/floodgate/internal/client"
	"github.com/floodgate-dev/floodgate/internal/emulator"
	"github.com/floodgate-dev/floodgate/internal/metrics"
	"github.com/floodgate-dev/floodgate/internal/plan"
)

// botBurst is the forum's JMeter scenario against the emulator's
// documented default limit, 300 requests per 60 s per token: 100 VUs ×
// 50 iterations posting open messages with client credentials.
func botBurst(retry *plan.Retry) *plan.Plan {
	return &plan.Plan{
		Name: "bot-burst", Target: "http://emulator.test", Grace: 30 * time.Second,
		Defaults: plan.Defaults{Timeout: 16 * time.Second},
		Auth: &plan.Auth{OAuth2: &plan.OAuth2{TokenURL: "http://emulator.test/oauth/token",
			ClientID: emulator.DemoClientID, ClientSecret: plan.NewSecret(emulator.DemoClientSecret)}},
		Retry: retry,
		Scenarios: []*plan.Scenario{{
			Name:     "bot_burst",
			Executor: plan.Executor{Closed: &plan.Closed{VUs: 100, Iterations: 50}},
			Steps: []*plan.Step{{Name: "inbound", Request: &plan.Request{
				Method: "POST", Path: "/api/v2/conversations/messages/integ-1/inbound/open/message",
				Headers: map[string]string{"Content-Type": "application/json"},
				Body:    []byte(`{"channel":{"from":{"id":"user-1","idType":"Opaque"},"time":"2026-11-22T00:00:00Z"},"text":"hi"}`),
			}}},
		}},
	}
}

func runAgainstEmulator(t *testing.T, p *plan.Plan) (*Engine, *metrics.Summary) {
	t.Helper()
	srv, err := emulator.New(emulator.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	h := srv.Handler()
	e, err := New(p, WithTransport(client.HandlerTransport{Handler: h}),
		WithTokenTransport(client.HandlerRoundTripper{Handler: h}), WithSeed(1))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	return e, e.Recorder().Summarize(metrics.RunInfo{Plan: p.Name}, e.Ended())
}

func TestRateLimitWithoutRetriesShows429s(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, s := runAgainstEmulator(t, botBurst(&plan.Retry{Off: true}))
		if s.Requests != 5000 || s.Attempts != 5000 {
			t.Fatalf("requests %d attempts %d, want 5000 each", s.Requests, s.Attempts)
		}
		// Every request goes out at once (the server answers at once):
		// one window's worth succeeds, the rest are refused.
		if s.Statuses["200"] != 300 || s.Statuses["429"] != 4700 {
			t.Errorf("statuses %v, want 300 × 200 and 4700 × 429", s.Statuses)
		}
	})
}

func TestRateLimitDefaultPolicyLosesNothingNearTheMinimumTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, s := runAgainstEmulator(t, botBurst(nil))
		if s.Requests != 5000 || s.Succeeded != 5000 || s.Lost != 0 {
			t.Fatalf("requests %d succeeded %d lost %d (%v), want 5000/5000/0", s.Requests, s.Succeeded, s.Lost, s.LostRequests)
		}
		// 5,000 requests at 300 per 60 s fill 17 windows: the last one
		// opens 16 windows after the first request.
		minimum := 16 * 60 * time.Second
		took := e.Ended().Sub(e.Started())
		if took > minimum*12/10 {
			t.Errorf("run took %v, want ≤ 1.2 × %v", took, minimum)
		}
		t.Logf("took %v (%.3f× the minimum); attempts %d (amplification %.3f); 429s %d; gate wait %.0f s",
			took, took.Seconds()/minimum.Seconds(), s.Attempts, s.RetryAmplification, s.Statuses["429"], s.Waits.Gate/1000)
	})
}
