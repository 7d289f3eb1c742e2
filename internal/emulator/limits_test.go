package emulator

import (
	"fmt"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/floodgate-dev/floodgate/internal/emulator/config"
	"github.com/google/go-cmp/cmp"
)

func rateHeaders(rec *httptest.ResponseRecorder) [3]string {
	h := rec.Header()
	return [3]string{h.Get("inin-ratelimit-count"), h.Get("inin-ratelimit-allowed"), h.Get("inin-ratelimit-reset")}
}

func TestRateLimitPerToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig())
	tok := e.demoToken()
	rec := e.do("GET", "/api/v2/tokens/me", tok, "")
	if got, want := rateHeaders(rec), [3]string{"1", "300", "60"}; got != want {
		t.Errorf("first call headers = %v, want %v", got, want)
	}
	for i := 2; i <= 300; i++ {
		e.clock.Advance(100 * time.Millisecond) // 29.9 s in all
		rec = e.do("GET", "/api/v2/tokens/me", tok, "")
		if rec.Code != 200 {
			t.Fatalf("request %d: %d", i, rec.Code)
		}
	}
	if got, want := rateHeaders(rec), [3]string{"300", "300", "31"}; got != want {
		t.Errorf("300th call headers = %v, want %v", got, want)
	}
	// The window began at t0; now is t0+29.9s, so it resets in 30.1s.
	for _, tc := range []struct {
		advance time.Duration
		retry   string
		ms      string
	}{
		{0, "31", "30100"},
		{10 * time.Second, "21", "20100"},
		{20*time.Second + 50*time.Millisecond, "1", "50"},
	} {
		e.clock.Advance(tc.advance)
		rec = e.do("GET", "/api/v2/tokens/me", tok, "")
		b := checkError(t, rec, 429, "too.many.requests.retry.after")
		want := map[string]any{
			"message": "Rate limit exceeded the maximum. Retry the request in [" + tc.retry + "] seconds",
			"code":    "too.many.requests.retry.after", "status": float64(429),
			"contextId": rec.Header().Get("ININ-Correlation-Id"), "details": []any{}, "errors": []any{},
		}
		if diff := cmp.Diff(want, b); diff != "" {
			t.Errorf("429 body (-want +got):\n%s", diff)
		}
		if got := rec.Header().Get("Retry-After"); got != tc.retry {
			t.Errorf("Retry-After = %q, want %s", got, tc.retry)
		}
		if got := rec.Header().Get("x-floodgate-retry-after-ms"); got != tc.ms {
			t.Errorf("x-floodgate-retry-after-ms = %q, want %s", got, tc.ms)
		}
		if got, want := rateHeaders(rec), [3]string{"300", "300", tc.retry}; got != want {
			t.Errorf("429 rate headers = %v, want %v", got, want)
		}
	}
	// Waiting exactly the advertised milliseconds opens a new window.
	e.clock.Advance(50 * time.Millisecond)
	rec = e.do("GET", "/api/v2/tokens/me", tok, "")
	if rec.Code != 200 || rateHeaders(rec) != [3]string{"1", "300", "60"} {
		t.Errorf("after reset: %d %v", rec.Code, rateHeaders(rec))
	}
	// Another token has its own window.
	if rec := e.do("GET", "/api/v2/tokens/me", e.demoToken(), ""); rateHeaders(rec)[0] != "1" {
		t.Errorf("second token count = %v", rateHeaders(rec))
	}
}

// TestRetryAfterMatchesReset checks Retry-After against the time to the
// window's reset from many offsets into the window.
func TestRetryAfterMatchesReset(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.Limits.Token = &config.Rate{Requests: 1, Window: cfgDuration(60 * time.Second)}
	e := newEnv(t, cfg)
	tok := e.demoToken()
	start := e.clock.Now()
	e.do("GET", "/api/v2/tokens/me", tok, "")
	for off := 700 * time.Millisecond; off < 60*time.Second; off += 3700 * time.Millisecond {
		e.clock.Advance(off - e.clock.Now().Sub(start))
		rec := e.do("GET", "/api/v2/tokens/me", tok, "")
		if rec.Code != 429 {
			t.Fatalf("at +%s: %d", off, rec.Code)
		}
		got, _ := strconv.Atoi(rec.Header().Get("Retry-After"))
		remaining := (60*time.Second - off).Seconds()
		if d := float64(got) - remaining; d < 0 || d > 1 {
			t.Errorf("at +%s: Retry-After %d, window resets in %.1fs", off, got, remaining)
		}
	}
}

func TestRateLimitClientOrgFamily(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		limits config.Limits
		fams   []config.Family
		// requests made with two tokens of the demo client, alternating;
		// want is how many succeed before the first 429.
		want int
		// path used for requests
		path string
	}{
		{name: "client", limits: config.Limits{Client: &config.Rate{Requests: 5, Window: cfgDuration(time.Minute)}}, want: 5, path: "/api/v2/tokens/me"},
		{name: "org", limits: config.Limits{Org: &config.Rate{Requests: 3, Window: cfgDuration(time.Minute)}}, want: 3, path: "/api/v2/tokens/me"},
		{name: "family per client", limits: config.Limits{Families: []config.FamilyRate{{Family: "tokens", Per: "client", Requests: 4, Window: cfgDuration(time.Minute)}}}, want: 4, path: "/api/v2/tokens/me"},
		{name: "declared family per token", fams: []config.Family{{Name: "me", Paths: []string{"GET /api/v2/tokens/*"}}},
			limits: config.Limits{Families: []config.FamilyRate{{Family: "me", Per: "token", Requests: 2, Window: cfgDuration(time.Minute)}}}, want: 4, path: "/api/v2/tokens/me"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Limits = tc.limits
			cfg.Families = tc.fams
			e := newEnv(t, cfg)
			toks := []string{e.demoToken(), e.demoToken()}
			n := 0
			for ; n < 100; n++ {
				rec := e.do("GET", tc.path, toks[n%2], "")
				if rec.Code == 429 {
					checkError(t, rec, 429, "too.many.requests.retry.after")
					break
				}
			}
			if n != tc.want {
				t.Errorf("admitted %d, want %d", n, tc.want)
			}
		})
	}
}

func TestRateHeadersShowTightestLimit(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.Limits.Client = &config.Rate{Requests: 10, Window: cfgDuration(30 * time.Second)}
	e := newEnv(t, cfg)
	rec := e.do("GET", "/api/v2/tokens/me", e.demoToken(), "")
	if got, want := rateHeaders(rec), [3]string{"1", "10", "30"}; got != want {
		t.Errorf("headers = %v, want %v", got, want)
	}
}

func TestTimeScale(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.TimeScale = 0.01
	e := newEnv(t, cfg)
	rec := e.serve(tokenRequest(DemoClientID, DemoClientSecret, formCT, "grant_type=client_credentials"))
	b := decodeMap(t, rec.Body.Bytes())
	if b["expires_in"] != float64(864) {
		t.Errorf("expires_in = %v, want 864 (86400 s × 0.01)", b["expires_in"])
	}
	tok := b["access_token"].(string)
	for range 300 {
		e.do("GET", "/api/v2/tokens/me", tok, "")
	}
	e.clock.Advance(200 * time.Millisecond)
	rec = e.do("GET", "/api/v2/tokens/me", tok, "")
	checkError(t, rec, 429, "too.many.requests.retry.after")
	// The 60 s window is 600 ms; 400 ms remain: Retry-After rounds up to 1.
	if got := rec.Header().Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After = %q, want 1", got)
	}
	if got := rec.Header().Get("x-floodgate-retry-after-ms"); got != "400" {
		t.Errorf("x-floodgate-retry-after-ms = %q, want 400", got)
	}
	// inin-ratelimit-reset has whole seconds; floodgate's companion the ms.
	if got := rec.Header().Get("inin-ratelimit-reset"); got != "1" {
		t.Errorf("inin-ratelimit-reset = %q, want 1", got)
	}
	if got := rec.Header().Get("x-floodgate-ratelimit-reset-ms"); got != "400" {
		t.Errorf("x-floodgate-ratelimit-reset-ms = %q, want 400", got)
	}
	e.clock.Advance(400 * time.Millisecond)
	if rec := e.do("GET", "/api/v2/tokens/me", tok, ""); rec.Code != 200 {
		t.Errorf("after the scaled window: %d", rec.Code)
	}
	// The token expires after 864 s of emulator time.
	e.clock.Advance(864 * time.Second)
	checkError(t, e.do("GET", "/api/v2/tokens/me", tok, ""), 401, "credentials.expired")
}

func TestRequestTooLarge(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.RequestBytesMax = 1000
	e := newEnv(t, cfg)
	tok := e.demoToken()
	big := `{"phoneNumber":"` + strings.Repeat("1", 1200) + `"}`
	b := checkError(t, e.do("POST", "/api/v2/conversations/calls", tok, big), 413, "request.entity.too.large")
	if b["message"] != "The request is over the size limit. Maximum bytes: 1000" {
		t.Errorf("message = %v", b["message"])
	}
	// Without a Content-Length the limit applies while reading.
	r := request("POST", "/api/v2/conversations/calls", tok, big)
	r.ContentLength = -1
	checkError(t, e.serve(r), 413, "request.entity.too.large")
	if got := e.s.Stats().TooLarge; got != 1 {
		t.Errorf("stats too_large = %d, want 1 (the chunked one is caught by the handler)", got)
	}
}

func ExampleServer_Start() {
	// Engine tests start the emulator on a random port like this.
	ctx, cancel := contextWithCancel()
	defer cancel()
	s, err := New(DefaultConfig())
	if err != nil {
		panic(err)
	}
	url, err := s.Start(ctx, "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	fmt.Println(strings.HasPrefix(url, "http://127.0.0.1:"))
	// Output: true
}
