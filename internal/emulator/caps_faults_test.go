package emulator

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/floodgate-dev/floodgate/internal/emulator/config"
)

// holder is a sleep hook that holds requests in flight until released,
// reporting each held request's delay.
type holder struct {
	entered chan time.Duration
	release chan struct{}
}

func newHolder() *holder {
	return &holder{entered: make(chan time.Duration, 100), release: make(chan struct{})}
}

func (h *holder) sleep(ctx context.Context, d time.Duration) error {
	h.entered <- d
	select {
	case <-h.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// hold starts n requests built by mk and waits until all are held.
func (h *holder) hold(t *testing.T, e *tenv, n int, mk func() *httptestRequest) (delays []time.Duration, wait func() []*httptest.ResponseRecorder) {
	t.Helper()
	var wg sync.WaitGroup
	recs := make([]*httptest.ResponseRecorder, n)
	for i := range n {
		wg.Add(1)
		r := mk()
		go func() {
			defer wg.Done()
			recs[i] = e.serve(r)
		}()
		delays = append(delays, <-h.entered)
	}
	return delays, func() []*httptest.ResponseRecorder { wg.Wait(); return recs }
}

func TestCapsFromExamples(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		file, code, retryAfter string
		status                 int
	}{
		{"cap-403.yaml", "not.authorized", "", 403},
		{"cap-429.yaml", "too.many.requests", "1", 429},
	} {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			cfg, err := LoadConfig("../../examples/emulator/" + tc.file)
			if err != nil {
				t.Fatal(err)
			}
			h := newHolder()
			e := newEnv(t, cfg, WithSleep(h.sleep))
			tok := e.demoToken()
			post := func() *httptestRequest {
				return request("POST", "/api/v2/conversations/calls", tok, `{"phoneNumber":"+1555"}`)
			}
			_, wait := h.hold(t, e, 10, post)
			rec := e.serve(post())
			b := checkError(t, rec, tc.status, tc.code)
			if tc.status == 403 && b["message"] != "You are not authorized to perform the requested action." {
				t.Errorf("message = %v", b["message"])
			}
			if got := rec.Header().Get("Retry-After"); got != tc.retryAfter {
				t.Errorf("Retry-After = %q, want %q", got, tc.retryAfter)
			}
			// Other families are not capped.
			if rec := e.do("GET", "/api/v2/tokens/me", tok, ""); rec.Code != 200 {
				t.Errorf("tokens/me under the cap: %d", rec.Code)
			}
			close(h.release)
			for i, rec := range wait() {
				if rec.Code != 200 {
					t.Errorf("held request %d: %d", i, rec.Code)
				}
			}
			// With the slots free again, the next request is served.
			if rec := e.serve(post()); rec.Code != 200 {
				t.Errorf("after release: %d %s", rec.Code, rec.Body)
			}
			if st := e.s.Stats(); st.Capped != 1 || st.InFlight != 0 {
				t.Errorf("stats capped %d in flight %d", st.Capped, st.InFlight)
			}
		})
	}
}

func TestFaultErrorsAndTimeScaledLatency(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.TimeScale = 0.01
	cfg.Faults = []config.Fault{{
		Route:   "GET /api/v2/tokens/me",
		Latency: &config.Latency{Dist: "fixed", Value: cfgDuration(2 * time.Second)},
		Errors:  []config.ErrorFault{{Status: 503, Code: "service.unavailable", Probability: 1}},
	}}
	var mu sync.Mutex
	var slept []time.Duration
	sleep := func(_ context.Context, d time.Duration) error {
		mu.Lock()
		slept = append(slept, d)
		mu.Unlock()
		return nil
	}
	e := newEnv(t, cfg, WithSleep(sleep))
	b := checkError(t, e.do("GET", "/api/v2/tokens/me", e.demoToken(), ""), 503, "service.unavailable")
	if b["message"] != "Service Unavailable - The server is currently unavailable (because it is overloaded or down for maintenance)." {
		t.Errorf("message = %v", b["message"])
	}
	if len(slept) != 1 || slept[0] != 20*time.Millisecond {
		t.Errorf("slept %v, want [20ms] (2s × 0.01)", slept)
	}
}

func TestSaturation(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.Faults = []config.Fault{{
		Family:     "conversations",
		Latency:    &config.Latency{Dist: "fixed", Value: cfgDuration(time.Second)},
		Saturation: &config.Saturation{Knee: 1, PerRequest: cfgDuration(100 * time.Millisecond), HardLimit: 3},
	}}
	h := newHolder()
	e := newEnv(t, cfg, WithSleep(h.sleep))
	tok := e.demoToken()
	get := func() *httptestRequest { return request("GET", "/api/v2/conversations/x", tok, "") }
	delays, wait := h.hold(t, e, 3, get)
	want := []time.Duration{time.Second, 1100 * time.Millisecond, 1200 * time.Millisecond}
	for i := range want {
		if delays[i] != want[i] {
			t.Errorf("delay with %d in flight = %s, want %s", i+1, delays[i], want[i])
		}
	}
	checkError(t, e.serve(get()), 503, "service.unavailable")
	close(h.release)
	for _, rec := range wait() {
		checkError(t, rec, 404, "not.found")
	}
	if st := e.s.Stats(); st.Saturated != 1 {
		t.Errorf("saturated = %d", st.Saturated)
	}
}

func TestClientGoneDuringLatency(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.Faults = []config.Fault{{Family: "tokens", Latency: &config.Latency{Dist: "fixed", Value: cfgDuration(time.Hour)}}}
	h := newHolder()
	e := newEnv(t, cfg, WithSleep(h.sleep))
	tok := e.demoToken()
	ctx, cancel := context.WithCancel(context.Background())
	_, wait := h.hold(t, e, 1, func() *httptestRequest {
		return request("GET", "/api/v2/tokens/me", tok, "").WithContext(ctx)
	})
	cancel()
	if rec := wait()[0]; rec.Body.Len() != 0 {
		t.Errorf("answered a gone client: %s", rec.Body)
	}
	if st := e.s.Stats(); st.InFlight != 0 {
		t.Errorf("in flight = %d", st.InFlight)
	}
}
