package jmx_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/floodgate-dev/floodgate/internal/emulator"
	"github.com/floodgate-dev/floodgate/internal/emulator/config"
	"github.com/floodgate-dev/floodgate/internal/engine"
	"github.com/floodgate-dev/floodgate/internal/jmx"
	"github.com/floodgate-dev/floodgate/internal/metrics"
	"github.com/floodgate-dev/floodgate/internal/plan"
)

// seen is one request as the emulator received it.
type seen struct {
	method, path, auth, ctype string
	body                      []byte
}

// recorder is a reverse proxy in front of the emulator that keeps every
// request it forwards.
type recorder struct {
	mu   sync.Mutex
	reqs []seen
}

func (r *recorder) handler(target *url.URL) http.Handler {
	proxy := httputil.NewSingleHostReverseProxy(target)
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
		r.mu.Lock()
		r.reqs = append(r.reqs, seen{req.Method, req.URL.Path, req.Header.Get("Authorization"), req.Header.Get("Content-Type"), body})
		r.mu.Unlock()
		proxy.ServeHTTP(w, req)
	})
}

func stats(t *testing.T, base string) emulator.Stats {
	t.Helper()
	resp, err := http.Get(base + "/_floodgate/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st emulator.Stats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestImportedPlanRunsLikeJMeter imports a JMeter plan — a Thread Group
// of N threads × L loops POSTing an open message, with a Header Manager
// sending a bearer token from a JMeter property — and runs it against the
// emulator: the emulator sees N×L requests of the JMeter sampler's shape.
func TestImportedPlanRunsLikeJMeter(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	rec, fu, base := recordedEmulator(t, ctx)

	// A token, as a JMeter user would pass it: -Jtoken=...
	form := url.Values{"grant_type": {"client_credentials"}}
	req, _ := http.NewRequestWithContext(ctx, "POST", base+"/oauth/token", strings.NewReader(form.Encode()))
	req.SetBasicAuth(config.DemoClientID, config.DemoClientSecret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token: %v %+v", err, tok)
	}
	resp.Body.Close()

	path := filepath.Join("testdata", "e2e-open-message.jmx")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	res, err := jmx.Convert(bytes.NewReader(src), jmx.WithFile(path))
	if err != nil {
		t.Fatal(err)
	}
	const threads, loops = 4, 3
	env := map[string]string{"HOST": fu.Hostname(), "PORT": fu.Port(), "TOKEN": tok.AccessToken, "THREADS": "4", "LOOPS": "3"}
	p, err := plan.Parse(filepath.Join(t.TempDir(), "plan.yaml"), res.YAML, func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, res.YAML)
	}
	before := stats(t, base)
	e, err := engine.New(p, engine.WithSeed(1))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Run(ctx); err != nil {
		t.Fatal(err)
	}
	after := stats(t, base)
	sum := e.Recorder().Summarize(metrics.RunInfo{Plan: p.Name}, e.Ended())

	if got := after.Requests - before.Requests; got != threads*loops {
		t.Errorf("the emulator counted %d requests, want %d × %d", got, threads, loops)
	}
	if sum.Requests != threads*loops || sum.Succeeded != threads*loops || sum.Attempts != threads*loops {
		t.Errorf("summary: %d requests, %d ok, %d attempts; want %d of each", sum.Requests, sum.Succeeded, sum.Attempts, threads*loops)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.reqs) != threads*loops {
		t.Fatalf("%d requests reached the emulator, want %d", len(rec.reqs), threads*loops)
	}
	wantBody := `{"channel":{"from":{"id":"bot-user","idType":"Opaque"}},"text":"hello"}`
	for i, r := range rec.reqs {
		if r.method != "POST" || r.path != "/api/v2/conversations/messages/00000000-0000-4000-8000-000000000001/inbound/open/message" ||
			r.auth != "Bearer "+tok.AccessToken || r.ctype != "application/json" || string(r.body) != wantBody {
			t.Errorf("request %d: %s %s auth %q type %q body %s", i, r.method, r.path, r.auth, r.ctype, r.body)
		}
	}
}

// TestImportedOnceLoginKeepsToken imports the usual JMeter login — a
// Once Only Controller fetches a token, a thread-level Header Manager
// sends "Bearer ${token}" — and runs it against the emulator: every
// iteration after the first still sends the token the VU fetched.
func TestImportedOnceLoginKeepsToken(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rec, fu, _ := recordedEmulator(t, ctx)

	path := filepath.Join("testdata", "once-token.jmx")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	res, err := jmx.Convert(bytes.NewReader(src), jmx.WithFile(path))
	if err != nil {
		t.Fatal(err)
	}
	const threads, loops = 3, 4
	env := map[string]string{"HOST": fu.Hostname(), "PORT": fu.Port(), "THREADS": "3", "LOOPS": "4"}
	p, err := plan.Parse(filepath.Join(t.TempDir(), "plan.yaml"), res.YAML, func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, res.YAML)
	}
	e, err := engine.New(p, engine.WithSeed(1))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Run(ctx); err != nil {
		t.Fatal(err)
	}
	sum := e.Recorder().Summarize(metrics.RunInfo{Plan: p.Name}, e.Ended())
	// Per VU: the login group's token and first user (once; the group
	// itself is a control step, not a request), then a users page in
	// each iteration.
	want := int64(threads*2 + threads*loops)
	if sum.Requests != want || sum.Succeeded != want {
		t.Errorf("summary: %d requests, %d ok; want %d of each\n%s", sum.Requests, sum.Succeeded, want, res.YAML)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var tokens, bearer int
	for i, r := range rec.reqs {
		switch {
		case r.path == "/oauth/token":
			tokens++
			if !strings.HasPrefix(r.auth, "Basic ") {
				t.Errorf("request %d: token request with auth %q", i, r.auth)
			}
		case strings.HasPrefix(r.auth, "Bearer ") && len(r.auth) > len("Bearer "):
			bearer++
		default:
			t.Errorf("request %d: %s %s with auth %q", i, r.method, r.path, r.auth)
		}
	}
	if tokens != threads || bearer != threads+threads*loops {
		t.Errorf("%d token requests and %d with a bearer token; want %d and %d", tokens, bearer, threads, threads+threads*loops)
	}
}

// recordedEmulator starts the emulator until ctx ends, behind a front
// server that records every request, and returns the recorder, the
// front's URL and the emulator's own.
func recordedEmulator(t *testing.T, ctx context.Context) (*recorder, *url.URL, string) {
	t.Helper()
	cfg := emulator.DefaultConfig()
	cfg.ExportDir = t.TempDir()
	srv, err := emulator.New(cfg, emulator.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	base, err := srv.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(base)
	rec := &recorder{}
	front := httptest.NewServer(rec.handler(u))
	t.Cleanup(front.Close)
	fu, _ := url.Parse(front.URL)
	return rec, fu, base
}
