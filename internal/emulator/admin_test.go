package emulator

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestAdminConfigRoundTrip(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig())
	rec := e.do("GET", "/_floodgate/config", "", "")
	if rec.Code != 200 {
		t.Fatalf("GET config: %d", rec.Code)
	}
	var live map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &live); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]any{"requests": float64(300), "window": "1m0s"}, live["limits"].(map[string]any)["token"]); diff != "" {
		t.Errorf("token limit (-want +got):\n%s", diff)
	}

	tok := e.demoToken()
	put := `{"limits":{"token":{"requests":2,"window":"10s"}},
		"caps":[{"family":"tokens","max_in_flight":5,"status":403}],
		"faults":[{"family":"conversations","errors":[{"status":500,"probability":1}]}]}`
	rec = e.do("PUT", "/_floodgate/config", "", put)
	if rec.Code != 200 {
		t.Fatalf("PUT: %d %s", rec.Code, rec.Body)
	}
	// Defaults were applied: the cap's code, the error's code.
	got := e.s.Live()
	if got.Caps[0].Code != "not.authorized" || got.Faults[0].Errors[0].Code != "internal.server.error" {
		t.Errorf("defaults not applied: %+v %+v", got.Caps[0], got.Faults[0].Errors[0])
	}
	for i := range 2 {
		if rec := e.do("GET", "/api/v2/tokens/me", tok, ""); rec.Code != 200 || rateHeaders(rec)[1] != "2" {
			t.Fatalf("request %d: %d %v", i, rec.Code, rateHeaders(rec))
		}
	}
	rec = e.do("GET", "/api/v2/tokens/me", tok, "")
	checkError(t, rec, 429, "too.many.requests.retry.after")
	if rec.Header().Get("Retry-After") != "10" {
		t.Errorf("Retry-After = %q", rec.Header().Get("Retry-After"))
	}
	checkError(t, e.do("GET", "/api/v2/conversations/x", e.demoToken(), ""), 500, "internal.server.error")

	// Reset forgets the windows.
	if rec := e.do("POST", "/_floodgate/reset", "", ""); rec.Code != 200 {
		t.Fatalf("reset: %d", rec.Code)
	}
	if rec := e.do("GET", "/api/v2/tokens/me", tok, ""); rec.Code != 200 {
		t.Errorf("after reset: %d", rec.Code)
	}
}

func TestAdminConfigRejectsInvalid(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig())
	for _, tc := range []struct{ body, want string }{
		{`{"limits":{"token":{"requests":0,"window":"1s"}}}`, "limits.token.requests: requests must be > 0, got 0"},
		{`{"limitz":{}}`, `unknown field "limitz"`},
		{`{"caps":[{"family":"nope","max_in_flight":1}]}`, `caps[0].family: unknown family "nope"`},
		{`{"faults":[{"family":"tokens","latency":{"dist":"gamma"}}]}`, `faults[0].latency.dist: unknown dist "gamma"`},
		{`{"limits":{"token":{"requests":1,"window":"soon"}}}`, `invalid duration`},
	} {
		rec := e.do("PUT", "/_floodgate/config", "", tc.body)
		var out struct{ Errors []string }
		_ = json.Unmarshal(rec.Body.Bytes(), &out)
		if rec.Code != 400 || !strings.Contains(strings.Join(out.Errors, "\n"), tc.want) {
			t.Errorf("%s: %d %s, want 400 mentioning %q", tc.body, rec.Code, rec.Body, tc.want)
		}
	}
	if e.s.Live().Limits.Token.Requests != 300 {
		t.Errorf("an invalid config was applied")
	}
}

func TestStatsAndMetrics(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.Limits.Token.Requests = 1
	e := newEnv(t, cfg)
	tok := e.demoToken()
	e.do("GET", "/api/v2/tokens/me", tok, "")
	e.do("GET", "/api/v2/tokens/me", tok, "")
	e.do("GET", "/api/v2/tokens/me", "", "")
	var st Stats
	if err := json.Unmarshal(e.do("GET", "/_floodgate/stats", "", "").Body.Bytes(), &st); err != nil {
		t.Fatal(err)
	}
	if st.Requests != 4 || st.RateLimited != 1 || st.Unauthorized != 1 || st.Tokens != 1 {
		t.Errorf("stats = %+v", st)
	}
	m := e.s.metrics
	for _, tc := range []struct {
		labels []string
		want   float64
	}{
		{[]string{"oauth", "POST", "200"}, 1},
		{[]string{"tokens", "GET", "200"}, 1},
		{[]string{"tokens", "GET", "429"}, 1},
		{[]string{"tokens", "GET", "401"}, 1},
	} {
		if got := testutil.ToFloat64(m.requests.WithLabelValues(tc.labels...)); got != tc.want {
			t.Errorf("requests_total%v = %v, want %v", tc.labels, got, tc.want)
		}
	}
	want := `
# HELP floodgate_emulator_limited_total Requests refused by a rate limit (rate), a concurrency cap (cap) or the body size limit (size).
# TYPE floodgate_emulator_limited_total counter
floodgate_emulator_limited_total{family="tokens",kind="rate"} 1
# HELP floodgate_emulator_tokens Access tokens held (expired ones included).
# TYPE floodgate_emulator_tokens gauge
floodgate_emulator_tokens 1
`
	if err := testutil.GatherAndCompare(m.reg, strings.NewReader(want), "floodgate_emulator_limited_total", "floodgate_emulator_tokens"); err != nil {
		t.Error(err)
	}
	if got := testutil.ToFloat64(m.inflightGauge("tokens")); got != 0 {
		t.Errorf("in_flight{tokens} = %v", got)
	}
	// The HTTP endpoint serves the same registry in the text format.
	rec := e.do("GET", "/metrics", "", "")
	if body := rec.Body.String(); rec.Code != 200 || !strings.Contains(body, `floodgate_emulator_requests_total{family="tokens",method="GET",status="429"} 1`+"\n") ||
		!strings.Contains(body, "# TYPE floodgate_emulator_recording_jobs gauge") {
		t.Errorf("GET /metrics: %d\n%s", rec.Code, body)
	}
}

// TestRealListener serves over TCP on a random port and shuts down on
// context cancel.
func TestRealListener(t *testing.T) {
	t.Parallel()
	s, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	base := "http://" + ln.Addr().String()

	req, _ := http.NewRequest("POST", base+"/oauth/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(DemoClientID, DemoClientSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()

	req, _ = http.NewRequest("GET", base+"/api/v2/tokens/me", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("inin-ratelimit-allowed") != "300" || resp.Header.Get("ININ-Correlation-Id") == "" {
		t.Errorf("GET tokens/me over TCP: %d %v", resp.StatusCode, resp.Header)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve after cancel: %v", err)
	}
}

// TestStatsCountJobCapAndResetEvictions: refusals by the recording jobs'
// active-jobs cap count as capped, and a reset starts every admin total,
// conversations evicted included, from zero (the /metrics counters go on).
func TestStatsCountJobCapAndResetEvictions(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.Conversations.Max = 3
	cfg.Recordings.ActiveJobsPerOrg = 2
	e := newEnv(t, cfg)
	tok := e.demoToken()
	round := func(convs, jobs int) {
		for range convs {
			e.clock.Advance(time.Second)
			if rec := e.do("POST", "/api/v2/conversations/calls", tok, `{"phoneNumber":"+1555"}`); rec.Code != 200 {
				t.Fatalf("create conversation: %d %s", rec.Code, rec.Body)
			}
		}
		for range jobs {
			e.do("POST", "/api/v2/recording/jobs", tok, exportJob)
		}
	}
	stats := func() Stats {
		var st Stats
		if err := json.Unmarshal(e.do("GET", "/_floodgate/stats", "", "").Body.Bytes(), &st); err != nil {
			t.Fatal(err)
		}
		return st
	}
	round(5, 5) // 2 evicted; 2 jobs accepted, 3 refused
	st := stats()
	if st.Conversations.Evicted != 2 || st.RecordingJobs.Capped != 3 || st.Capped != 3 || st.RecordingJobs.Stored != 2 {
		t.Errorf("before reset: evicted %d, jobs capped %d, capped %d, jobs %d; want 2, 3, 3, 2",
			st.Conversations.Evicted, st.RecordingJobs.Capped, st.Capped, st.RecordingJobs.Stored)
	}
	var after Stats
	if err := json.Unmarshal(e.do("POST", "/_floodgate/reset", "", "").Body.Bytes(), &after); err != nil {
		t.Fatal(err)
	}
	if after.Conversations.Evicted != 0 || after.RecordingJobs.Capped != 0 || after.Capped != 0 {
		t.Errorf("after reset: evicted %d, jobs capped %d, capped %d; want 0", after.Conversations.Evicted, after.RecordingJobs.Capped, after.Capped)
	}
	round(4, 3) // 1 evicted; 2 accepted, 1 refused
	if st := stats(); st.Conversations.Evicted != 1 || st.RecordingJobs.Capped != 1 || st.Capped != 1 {
		t.Errorf("after reset and more: evicted %d, jobs capped %d, capped %d; want 1, 1, 1",
			st.Conversations.Evicted, st.RecordingJobs.Capped, st.Capped)
	}
}
