package emulator

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/floodgate-dev/floodgate/internal/emulator/config"
)

// fakeClock is a settable clock, safe for concurrent use.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func decodeMap(tb testing.TB, b []byte) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		tb.Fatalf("body %q: %v", b, err)
	}
	return m
}

// tenv is a server under test with a fake clock, driven in-process.
type tenv struct {
	t     *testing.T
	s     *Server
	clock *fakeClock
}

// testConfig is the default profile plus a client with only the view
// permission, for 403 tests.
func testConfig() Config {
	cfg := DefaultConfig()
	cfg.Orgs[0].Clients = append(cfg.Orgs[0].Clients, config.Client{
		ID: "viewer", Name: "viewer", Secret: "viewer-secret",
		Permissions: []string{"conversation:communication:view"}, TokenLifetime: config.DefaultTokenLifetime,
	})
	return cfg
}

func newEnv(t *testing.T, cfg Config, opts ...Option) *tenv {
	t.Helper()
	clock := newFakeClock()
	s, err := New(cfg, append([]Option{WithClock(clock.Now)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return &tenv{t: t, s: s, clock: clock}
}

// request builds a request; hdr are name, value pairs.
func request(method, path, token, body string, hdr ...string) *http.Request {
	var r *http.Request
	if body != "" {
		r = httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
	} else {
		r = httptest.NewRequest(method, path, nil)
	}
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	return r
}

func (e *tenv) serve(r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	e.s.Handler().ServeHTTP(rec, r)
	return rec
}

func (e *tenv) do(method, path, token, body string, hdr ...string) *httptest.ResponseRecorder {
	return e.serve(request(method, path, token, body, hdr...))
}

// token gets a token for a client through POST /oauth/token.
func (e *tenv) token(id, secret string) string {
	e.t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader("grant_type=client_credentials"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.SetBasicAuth(id, secret)
	rec := e.serve(r)
	if rec.Code != http.StatusOK {
		e.t.Fatalf("token: %d %s", rec.Code, rec.Body)
	}
	return decodeMap(e.t, rec.Body.Bytes())["access_token"].(string)
}

func (e *tenv) demoToken() string { return e.token(DemoClientID, DemoClientSecret) }

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// checkCorrelation asserts both correlation headers carry the same uuid
// and returns it.
func checkCorrelation(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	id := rec.Header().Get("ININ-Correlation-Id")
	if !uuidRE.MatchString(id) {
		t.Errorf("ININ-Correlation-Id = %q, want a v4 uuid", id)
	}
	if g := rec.Header().Get("Genesys-Correlation-Id"); g != id {
		t.Errorf("Genesys-Correlation-Id = %q, want %q", g, id)
	}
	return id
}

// checkError asserts rec is an ErrorBody with status and code whose
// contextId is the correlation id, and returns the decoded body.
func checkError(t *testing.T, rec *httptest.ResponseRecorder, status int, code string) map[string]any {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status = %d, want %d; body %s", rec.Code, status, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	id := checkCorrelation(t, rec)
	b := decodeMap(t, rec.Body.Bytes())
	if b["code"] != code {
		t.Errorf("code = %v, want %s; body %s", b["code"], code, rec.Body)
	}
	if b["status"] != float64(status) {
		t.Errorf("body status = %v, want %d", b["status"], status)
	}
	if b["contextId"] != id {
		t.Errorf("contextId = %v, want correlation id %s", b["contextId"], id)
	}
	if _, ok := b["details"].([]any); !ok {
		t.Errorf("details missing or not an array: %s", rec.Body)
	}
	if e, ok := b["errors"].([]any); !ok || len(e) != 0 {
		t.Errorf("errors = %v, want []", b["errors"])
	}
	if m, _ := b["message"].(string); m == "" {
		t.Errorf("empty message")
	}
	return b
}

// detail returns the (fieldName, errorCode) pairs of an ErrorBody.
func details(b map[string]any) [][2]string {
	var out [][2]string
	for _, d := range b["details"].([]any) {
		m := d.(map[string]any)
		f, _ := m["fieldName"].(string)
		c, _ := m["errorCode"].(string)
		out = append(out, [2]string{f, c})
	}
	return out
}

func cfgDuration(d time.Duration) config.Duration { return config.Duration(d) }

func contextWithCancel() (context.Context, context.CancelFunc) {
	return context.WithCancel(context.Background())
}

type configClient = config.Client

type httptestRequest = http.Request
