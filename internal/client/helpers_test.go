package client

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// transportFunc is a hand-written fake Transport.
type transportFunc func(ctx context.Context, req *Request, resp *Response) error

func (f transportFunc) RoundTrip(ctx context.Context, req *Request, resp *Response) error {
	return f(ctx, req, resp)
}

// handlerFunc serves the n-th request (1-based) of a test server.
type countingHandler struct {
	mu sync.Mutex
	n  int
	fn func(n int, w http.ResponseWriter, r *http.Request)
}

func (h *countingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.n++
	n := h.n
	h.mu.Unlock()
	h.fn(n, w, r)
}

func (h *countingHandler) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n
}

func serveN(fn func(n int, w http.ResponseWriter, r *http.Request)) *countingHandler {
	return &countingHandler{fn: fn}
}

// wait blocks for d of (fake) time, or until ctx is done.
func wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// windowLimiter is a fixed-window rate limiter allowing k requests per
// window, counting requests and 429s per window. It answers like the
// emulator: inin-ratelimit-* on every response, Retry-After (whole
// seconds, rounded up) and the precise x-floodgate-retry-after-ms on 429s.
type windowLimiter struct {
	t0      time.Time
	window  time.Duration
	k       int
	latency time.Duration // fake time each request takes before it is counted

	mu       sync.Mutex
	used     map[int64]int
	requests map[int64]int
	limited  map[int64]int
}

func newWindowLimiter(t0 time.Time, window time.Duration, k int) *windowLimiter {
	return &windowLimiter{t0: t0, window: window, k: k,
		used: map[int64]int{}, requests: map[int64]int{}, limited: map[int64]int{}}
}

func (l *windowLimiter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if l.latency > 0 && !wait(r.Context(), l.latency) {
		return
	}
	now := time.Now()
	l.mu.Lock()
	win := int64(now.Sub(l.t0) / l.window)
	end := l.t0.Add(time.Duration(win+1) * l.window)
	l.requests[win]++
	ok := l.used[win] < l.k
	if ok {
		l.used[win]++
	} else {
		l.limited[win]++
	}
	used := l.used[win]
	l.mu.Unlock()
	left := end.Sub(now)
	secs := int((left + time.Second - 1) / time.Second)
	h := w.Header()
	h.Set("Inin-Ratelimit-Allowed", itoa(l.k))
	h.Set("Inin-Ratelimit-Count", itoa(used))
	h.Set("Inin-Ratelimit-Reset", itoa(secs))
	if !ok {
		h.Set("Retry-After", itoa(secs))
		h.Set("X-Floodgate-Retry-After-Ms", itoa(int(left/time.Millisecond)))
		w.WriteHeader(http.StatusTooManyRequests)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (l *windowLimiter) snapshot() (requests, limited map[int64]int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	requests, limited = map[int64]int{}, map[int64]int{}
	for k, v := range l.requests {
		requests[k] = v
	}
	for k, v := range l.limited {
		limited[k] = v
	}
	return requests, limited
}

// testPolicy is DefaultPolicy with the given edits.
func testPolicy(edit func(*Policy)) *Policy {
	p := DefaultPolicy()
	if edit != nil {
		edit(&p)
	}
	return &p
}

func getReq(url string) *Request { return &Request{Method: "GET", URL: url} }

// secretValue is a Secret for tests.
type secretValue string

func (s secretValue) Reveal() string { return string(s) }
