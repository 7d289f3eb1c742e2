package cli

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/floodgate-dev/floodgate/internal/emulator"
	"github.com/floodgate-dev/floodgate/internal/emulator/config"
)

func TestProbeCommandFindsTheEmulatorsLimit(t *testing.T) {
	t.Parallel()
	cfg := emulator.DefaultConfig()
	cfg.TimeScale = 0.05
	cfg.Limits.Token = &config.Rate{Requests: 30, Window: config.Duration(time.Minute)}
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
	te := newTestEnv(map[string]string{"GC_CLIENT_ID": emulator.DemoClientID, "GC_CLIENT_SECRET": emulator.DemoClientSecret})
	out := filepath.Join(t.TempDir(), "probe.json")
	err = Main(ctx, &te.Env, []string{"probe", base + "/api/v2/tokens/me", "--token-url", "/oauth/token", "--max-requests", "90", "-o", out})
	if err != nil {
		t.Fatal(err, te.errText())
	}
	if !strings.Contains(te.out.String(), "limit: 30 requests per 3.00 s") {
		t.Errorf("stdout:\n%s", te.out.String())
	}
	var res struct {
		Count    int `json:"count"`
		Requests int `json:"requests"`
	}
	b, _ := os.ReadFile(out)
	if err := json.Unmarshal(b, &res); err != nil || res.Count != 30 || res.Requests > 90 {
		t.Errorf("result %+v (%v): want count 30 within 90 requests", res, err)
	}
	if strings.Contains(te.out.String()+te.errText()+string(b), emulator.DemoClientSecret) {
		t.Error("the client secret appears in the output")
	}
}

func TestProbeCommandUsageErrors(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"probe"},
		{"probe", "ftp://x"},
		{"probe", "http://127.0.0.1:1/x", "--token-url", "/oauth/token"}, // no GC_CLIENT_ID
		{"probe", "http://127.0.0.1:1/x", "--bearer-env", "NOPE"},
		{"probe", "http://127.0.0.1:1/x", "--max-requests", "0"},
		{"probe", "http://127.0.0.1:1/x", "--second-client-id-env", "X"},
	} {
		te := newTestEnv(nil)
		if err := Main(context.Background(), &te.Env, args); ExitCode(err) != ExitUsage {
			t.Errorf("%v: exit %d (%v), want %d", args, ExitCode(err), err, ExitUsage)
		}
	}
}
