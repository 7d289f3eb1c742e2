package jtl_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/floodgate-dev/floodgate/internal/diagnose"
	"github.com/floodgate-dev/floodgate/internal/emulator"
	"github.com/floodgate-dev/floodgate/internal/emulator/config"
	"github.com/floodgate-dev/floodgate/internal/engine"
	"github.com/floodgate-dev/floodgate/internal/jtl"
	"github.com/floodgate-dev/floodgate/internal/metrics"
	"github.com/floodgate-dev/floodgate/internal/plan"
)

var update = flag.Bool("update", false, "rewrite testdata/ratelimited.csv.jtl from a new run against the emulator")

// attempts keeps every attempt the engine records: the generator turns
// them into JTL rows, as JMeter would have written them.
type attempts struct {
	mu  sync.Mutex
	all []metrics.Attempt
}

func (a *attempts) ObserveAttempt(at *metrics.Attempt) {
	a.mu.Lock()
	a.all = append(a.all, *at)
	a.mu.Unlock()
}
func (a *attempts) ObserveLogical(*metrics.Logical) {}
func (a *attempts) ObserveDropped(int)              {}

// samples converts attempts to JMeter samples. A JTL names each sample's
// thread; an attempt does not name its VU, so each sample goes to the
// first "thread" free at its start (threads ≤ VUs).
func samples(as []metrics.Attempt, steps []metrics.StepKey, target string, vus int) []jtl.Sample {
	slices.SortStableFunc(as, func(x, y metrics.Attempt) int { return x.Start.Compare(y.Start) })
	var free []time.Time // per thread: when its last sample ended
	var out []jtl.Sample
	for _, a := range as {
		th := slices.IndexFunc(free, func(t time.Time) bool { return !t.After(a.Start) })
		if th < 0 {
			th = len(free)
			free = append(free, time.Time{})
		}
		start := a.Start.Truncate(time.Millisecond)
		end := a.Start.Add(a.Latency)
		free[th] = end
		k := steps[a.Step]
		s := jtl.Sample{Start: start, Elapsed: end.Truncate(time.Millisecond).Sub(start), Label: k.Step, Status: a.Status,
			Message: http.StatusText(a.Status), Thread: fmt.Sprintf("%s 1-%d", k.Scenario, th+1), Success: a.Class == metrics.OK,
			Bytes: a.BytesIn, SentBytes: a.BytesOut, GrpThreads: vus, AllThreads: vus, URL: target}
		if a.Status == 0 {
			s.Code, s.Message = "Non HTTP response code: "+a.Class.String(), a.Class.String()
		}
		if !s.Success {
			s.Failure = "Test failed: code expected to be 200 or 202, got " + strconv.Itoa(a.Status)
		}
		out = append(out, s)
	}
	return out
}

const recordedPlan = `name: ratelimited
target: %s
auth:
  oauth2: {token_url: /oauth/token, client_id: floodgate-demo-client, client_secret: "${SECRET}"}
retry: off           # JMeter does not retry
scenarios:
  Bot users:
    executor: {closed: {vus: 5, duration: 3s}}
    steps:
      - think: 40ms  # a timer: JMeter waits before each sample
      - name: inbound open message
        request:
          method: POST
          path: /api/v2/conversations/messages/00000000-0000-4000-8000-000000000001/inbound/open/message
          json: {channel: {from: {id: bot, idType: Opaque}}, text: hello}
          expect: [200, 202]
`

// record runs 5 bots for 3 s against the emulator with a limit of 30
// requests per second per token, and returns the attempts as a CSV JTL.
func record(t *testing.T) []byte {
	t.Helper()
	cfg := emulator.DefaultConfig()
	cfg.ExportDir = t.TempDir()
	cfg.Limits.Token = &config.Rate{Requests: 30, Window: config.Duration(time.Second)}
	srv, err := emulator.New(cfg, emulator.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	base, err := srv.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	src := fmt.Sprintf(recordedPlan, base)
	src = string(bytes.Replace([]byte(src), []byte("Bot users:"), []byte("bot_users:"), 1))
	p, err := plan.Parse("ratelimited.yaml", []byte(src), func(string) (string, bool) { return config.DemoClientSecret, true })
	if err != nil {
		t.Fatal(err)
	}
	obs := &attempts{}
	e, err := engine.New(p, engine.WithObserver(obs), engine.WithSeed(1))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Run(ctx); err != nil {
		t.Fatal(err)
	}
	steps := slices.Clone(e.Recorder().Steps())
	for i := range steps {
		steps[i].Scenario = "Bot users" // as JMeter names the thread group
	}
	var b bytes.Buffer
	if err := jtl.WriteCSV(&b, samples(obs.all, steps, base+"/api/v2/conversations/messages/00000000-0000-4000-8000-000000000001/inbound/open/message", 5)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestRecordedJTLNamesTheWall: a CSV JTL of a real run against a
// per-token rate limit — recorded now, and the one committed in testdata
// (go test -update records it again) — is diagnosed as a rate limit.
func TestRecordedJTLNamesTheWall(t *testing.T) {
	t.Parallel()
	committed := filepath.Join("testdata", "ratelimited.csv.jtl")
	fresh := record(t)
	if *update {
		if err := os.WriteFile(committed, fresh, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old, err := os.ReadFile(committed)
	if err != nil {
		t.Fatalf("%v (go test -update records it)", err)
	}
	for name, data := range map[string][]byte{"fresh": fresh, "committed": old} {
		f, err := jtl.Read(bytes.NewReader(data))
		if err != nil {
			t.Fatal(name, err)
		}
		res, err := jtl.Results(f, metrics.RunInfo{Plan: "ratelimited"})
		if err != nil {
			t.Fatal(name, err)
		}
		s := res.Summary
		if s.Statuses["429"] == 0 || s.Statuses["202"]+s.Statuses["200"] == 0 {
			t.Fatalf("%s: statuses %v, want some accepted and some 429", name, s.Statuses)
		}
		d := diagnose.Analyze(res)
		var kinds []diagnose.Kind
		for _, fd := range d.Findings {
			kinds = append(kinds, fd.Kind)
		}
		if len(kinds) != 1 || kinds[0] != diagnose.RateLimit {
			t.Errorf("%s: walls %v, want one rate_limit\n%s", name, kinds, d.Verdict)
			continue
		}
		if r := d.Findings[0].Onset.Rate; r < 20 || r > 40 {
			t.Errorf("%s: the limit reads as %.1f/s, want about 30/s: %s", name, r, d.Verdict)
		}
	}
}
