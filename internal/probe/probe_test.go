package probe

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/floodgate-dev/floodgate/internal/emulator"
	"github.com/floodgate-dev/floodgate/internal/emulator/config"
	"github.com/floodgate-dev/floodgate/internal/plan"
)

const secondID, secondSecret = "second-client", "second-secret"

// limitedEmulator serves the emulator on 127.0.0.1:0 with the demo client
// and a second client in the same org, limits set by limit.
func limitedEmulator(t *testing.T, limit func(*config.Limits)) string {
	t.Helper()
	cfg := emulator.DefaultConfig()
	cfg.TimeScale = 0.05 // 60 s windows last 3 s
	org := config.DemoOrg()
	org.Clients = append(org.Clients, config.Client{ID: secondID, Secret: secondSecret, Permissions: []string{"*:*:*"}})
	cfg.Orgs = []config.Org{org}
	limit(&cfg.Limits)
	srv, err := emulator.New(cfg, emulator.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	base, err := srv.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return base
}

func oauth(base, id, secret string) *plan.Auth {
	return &plan.Auth{OAuth2: &plan.OAuth2{TokenURL: base + "/oauth/token", ClientID: id, ClientSecret: plan.NewSecret(secret)}}
}

func within(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 0.1*want {
		t.Errorf("%s = %.3f, want %.3f ± 10%%", what, got, want)
	}
}

func run(t *testing.T, cfg Config) *Result {
	t.Helper()
	res, err := Run(context.Background(), cfg, WithLog(t.Logf))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	WriteText(&b, res)
	t.Log("\n" + b.String())
	return res
}

func TestProbeFindsPerTokenLimit(t *testing.T) {
	t.Parallel()
	base := limitedEmulator(t, func(l *config.Limits) {
		l.Token = &config.Rate{Requests: 50, Window: config.Duration(time.Minute)}
	})
	res := run(t, Config{URL: base + "/api/v2/tokens/me", Auth: oauth(base, emulator.DemoClientID, emulator.DemoClientSecret),
		Second: oauth(base, secondID, secondSecret)})
	within(t, "count", float64(res.Count), 50)
	within(t, "window (s)", res.Window.S, 3)
	if res.Requests > 3*50 {
		t.Errorf("used %d requests, want ≤ 150 (3× the limit)", res.Requests)
	}
	if res.Key != KeyToken || res.Shape != ShapeFixed || !res.RetryAfter.Present {
		t.Errorf("key %q, shape %q, Retry-After %v: want token, fixed window, present", res.Key, res.Shape, res.RetryAfter.Present)
	}
}

func TestProbeFindsPerClientLimit(t *testing.T) {
	t.Parallel()
	base := limitedEmulator(t, func(l *config.Limits) {
		l.Token = &config.Rate{Requests: 100000, Window: config.Duration(time.Minute)}
		l.Client = &config.Rate{Requests: 40, Window: config.Duration(time.Minute)}
	})
	res := run(t, Config{URL: base + "/api/v2/tokens/me", Auth: oauth(base, emulator.DemoClientID, emulator.DemoClientSecret),
		Second: oauth(base, secondID, secondSecret)})
	within(t, "count", float64(res.Count), 40)
	within(t, "window (s)", res.Window.S, 3)
	if res.Requests > 3*40 {
		t.Errorf("used %d requests, want ≤ 120 (3× the limit)", res.Requests)
	}
	if res.Key != KeyClient {
		t.Errorf("key %q (%s), want client", res.Key, res.KeyEvidence)
	}
}

// fixedWindow is a limiter without any rate-limit header or
// Retry-After: limit requests per window, anchored at the first request.
type fixedWindow struct {
	limit  int
	window time.Duration
	mu     sync.Mutex
	start  time.Time
	n      int
	served atomic.Int64
}

func (f *fixedWindow) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.served.Add(1)
	f.mu.Lock()
	now := time.Now()
	if f.start.IsZero() || now.Sub(f.start) >= f.window {
		f.start, f.n = now, 0
	}
	ok := f.n < f.limit
	if ok {
		f.n++
	}
	f.mu.Unlock()
	if !ok {
		w.WriteHeader(http.StatusTooManyRequests)
		return
	}
	w.Write([]byte("ok"))
}

func TestProbeTimesAWindowWithoutHeaders(t *testing.T) {
	t.Parallel()
	lim := &fixedWindow{limit: 30, window: 1500 * time.Millisecond}
	srv := httptest.NewServer(lim)
	defer srv.Close()
	res := run(t, Config{URL: srv.URL + "/x"})
	within(t, "count", float64(res.Count), 30)
	within(t, "window (s)", res.Window.S, 1.5)
	if res.Window.Source != "timing" || res.RetryAfter.Present || len(res.Headers) != 0 {
		t.Errorf("window source %q, Retry-After %v, headers %v: want timing, none, none", res.Window.Source, res.RetryAfter.Present, res.Headers)
	}
	if n := lim.served.Load(); n > 3*30 || int(n) != res.Requests {
		t.Errorf("server saw %d requests, probe counted %d: want equal and ≤ 90", n, res.Requests)
	}
}

func TestProbeNeverExceedsItsBudget(t *testing.T) {
	t.Parallel()
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		w.Header().Set("X-RateLimit-Limit", "100000")
		w.Header().Set("X-RateLimit-Remaining", "99999")
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	res := run(t, Config{URL: srv.URL, MaxRequests: 40, Concurrency: 16})
	if n := served.Load(); n != 40 || res.Requests != 40 {
		t.Errorf("server saw %d requests, probe counted %d: want 40", n, res.Requests)
	}
	if res.Limited || res.StoppedBy != "max-requests" || res.Declared == nil || res.Declared.Limit != 100000 {
		t.Errorf("limited %v, stopped by %q, declared %+v: want false, max-requests, 100000", res.Limited, res.StoppedBy, res.Declared)
	}
}

func TestProbeStopsAtMaxTime(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond)
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	start := time.Now()
	res := run(t, Config{URL: srv.URL, MaxTime: 300 * time.Millisecond, Concurrency: 2})
	if took := time.Since(start); took > 2*time.Second || res.StoppedBy != "max-time" {
		t.Errorf("took %v, stopped by %q: want well under 2 s, max-time", took, res.StoppedBy)
	}
}

func TestProbeRefusedCredentials(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
	}))
	defer srv.Close()
	_, err := Run(context.Background(), Config{URL: srv.URL})
	if !errors.Is(err, ErrRefused) {
		t.Fatalf("err %v, want ErrRefused", err)
	}
}

func TestProbeRejectsBadConfig(t *testing.T) {
	t.Parallel()
	for _, c := range []Config{{URL: "ftp://x"}, {URL: "/relative"}, {URL: "http://127.0.0.1:1", MaxRequests: -1}} {
		if _, err := Run(context.Background(), c); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
}
