package probe

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/floodgate-dev/floodgate/internal/client"
	"github.com/floodgate-dev/floodgate/internal/clientcfg"
	"github.com/floodgate-dev/floodgate/internal/h1"
	"github.com/floodgate-dev/floodgate/internal/plan"
)

// Defaults for Config's zero values.
const (
	DefaultMaxRequests = 1000
	DefaultMaxTime     = 5 * time.Minute
	DefaultConcurrency = 8
	DefaultTimeout     = 16 * time.Second
)

// Config says what to probe and within which budget.
type Config struct {
	// URL is the endpoint probed; every request goes to it (and tokens
	// to the token URL of Auth). Absolute http(s).
	URL    string
	Method string // default GET
	Header []client.HeaderField
	Body   []byte
	// Auth is the credential set probed; nil sends no credentials.
	Auth *plan.Auth
	// Second, when set, is another credential set (another OAuth client,
	// another token) used once the first is limited, to tell a limit
	// kept per client from one shared by the org, address or endpoint.
	Second *plan.Auth
	// MaxRequests caps every request sent, token requests excepted
	// (default 1000). The probe never sends more, limited or not.
	MaxRequests int
	// MaxTime caps the probe's duration (default 5 min).
	MaxTime time.Duration
	// Concurrency caps requests in flight while probing for the limit
	// (default 8); the probe starts at 1 and doubles.
	Concurrency int
	// Timeout bounds one request (default 16 s).
	Timeout time.Duration
}

// Option configures Run.
type Option func(*options)

type options struct {
	transport client.Transport
	tokenRT   http.RoundTripper
	logf      func(format string, args ...any)
}

// WithTransport replaces the HTTP transport (default package h1's for http
// URLs, net/http for https).
func WithTransport(t client.Transport) Option { return func(o *options) { o.transport = t } }

// WithTokenTransport sets how OAuth2 tokens are fetched (default
// net/http's default transport).
func WithTokenTransport(rt http.RoundTripper) Option { return func(o *options) { o.tokenRT = rt } }

// WithLog receives one line per step of the probe, for progress output.
func WithLog(f func(format string, args ...any)) Option { return func(o *options) { o.logf = f } }

// ErrRefused is wrapped by the error Run returns when the endpoint
// refuses the credentials (401/403 on every first request): there is no
// rate limit to find until that is fixed.
var ErrRefused = errors.New("probe: the endpoint refuses the credentials")

// ErrConfig is wrapped by the errors Run returns for a Config it cannot
// use (a bad URL, budget or credentials).
var ErrConfig = errors.New("probe: bad config")

// sample is one request's outcome.
type sample struct {
	sent, at time.Time
	status   int
	rl       client.RateLimit
	err      error
}

func (s *sample) ok() bool      { return s.err == nil && s.status >= 200 && s.status < 400 }
func (s *sample) limited() bool { return s.status == http.StatusTooManyRequests }

// prober holds one run's state. Its counters are safe for the
// concurrent senders of a burst.
type prober struct {
	cfg   Config
	o     options
	used  atomic.Int64
	max   int64
	start time.Time

	mu       sync.Mutex
	statuses map[int]int
	headers  map[string]bool
	limited  []sample // every 429, in arrival order
}

// Run probes cfg.URL for a rate limit and returns what it found. It
// returns an error only when the probe could not run at all (bad
// config, credentials refused, no response); a limit not found within
// the budget is a Result with Limited false.
func Run(ctx context.Context, cfg Config, opts ...Option) (*Result, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	p := &prober{cfg: cfg, max: int64(cfg.MaxRequests), statuses: map[int]int{}, headers: map[string]bool{}}
	for _, o := range opts {
		o(&p.o)
	}
	if p.o.transport == nil {
		if strings.HasPrefix(cfg.URL, "https:") {
			p.o.transport = client.NewStdTransport(cfg.Concurrency+2, nil, 0)
		} else {
			p.o.transport = h1.New(cfg.Concurrency+2, 0)
		}
	}
	if p.o.logf == nil {
		p.o.logf = func(string, ...any) {}
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.MaxTime)
	defer cancel()
	authA, err := client.NewAuth(clientcfg.Auth(cfg.Auth), cfg.URL, p.o.tokenRT)
	if err != nil {
		return nil, fmt.Errorf("%w: auth: %w", ErrConfig, err)
	}
	p.start = time.Now()
	res := &Result{URL: cfg.URL, Method: cfg.Method, MaxRequests: cfg.MaxRequests, MaxTime: cfg.MaxTime.Seconds()}
	err = p.run(ctx, authA, res)
	res.Requests = int(p.used.Load())
	res.ElapsedS = time.Since(p.start).Seconds()
	res.Statuses = map[string]int{}
	p.mu.Lock()
	for s, n := range p.statuses {
		res.Statuses[fmt.Sprint(s)] = n
	}
	for h := range p.headers {
		res.Headers = append(res.Headers, h)
	}
	p.mu.Unlock()
	slices.Sort(res.Headers)
	res.findings()
	return res, err
}

func (c *Config) fill() error {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%w: URL %q: want an absolute http(s) URL", ErrConfig, c.URL)
	}
	if c.Method == "" {
		c.Method = http.MethodGet
	}
	c.Method = strings.ToUpper(c.Method)
	if c.MaxRequests == 0 {
		c.MaxRequests = DefaultMaxRequests
	}
	if c.MaxRequests < 1 {
		return fmt.Errorf("%w: max requests %d: want ≥ 1", ErrConfig, c.MaxRequests)
	}
	if c.MaxTime == 0 {
		c.MaxTime = DefaultMaxTime
	}
	if c.MaxTime < 0 {
		return fmt.Errorf("%w: max time %s: want > 0", ErrConfig, c.MaxTime)
	}
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.Concurrency < 1 {
		return fmt.Errorf("%w: concurrency %d: want ≥ 1", ErrConfig, c.Concurrency)
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	return nil
}

// rateLimitHeaders are the names recorded when a response carries them.
var rateLimitHeaders = []string{
	"Retry-After", "X-Floodgate-Retry-After-Ms", "RateLimit", "RateLimit-Policy",
	"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset",
	"Inin-Ratelimit-Allowed", "Inin-Ratelimit-Count", "Inin-Ratelimit-Reset",
	"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset",
}

// send sends one request with auth, unless the budget is spent or ctx
// is done (ok false).
func (p *prober) send(ctx context.Context, auth client.Authenticator) (s sample, ok bool) {
	if ctx.Err() != nil {
		return s, false
	}
	if p.used.Add(1) > p.max {
		p.used.Add(-1)
		return s, false
	}
	req := &client.Request{Method: p.cfg.Method, URL: p.cfg.URL, Body: p.cfg.Body, Timeout: p.cfg.Timeout,
		Header: slices.Clone(p.cfg.Header)}
	if auth != nil {
		if err := auth.Apply(ctx, req); err != nil {
			// The token request failed: the request was not sent.
			p.used.Add(-1)
			return sample{err: err}, true
		}
	}
	var resp client.Response
	s.sent = time.Now()
	s.err = p.o.transport.RoundTrip(ctx, req, &resp)
	s.at = time.Now()
	s.status = resp.Status
	if s.err == nil {
		s.rl = client.ParseRateLimit(resp.Header, s.at)
	}
	p.mu.Lock()
	p.statuses[s.status]++
	if s.err == nil {
		for _, h := range rateLimitHeaders {
			if resp.Header(h) != "" {
				p.headers[h] = true
			}
		}
	}
	if s.limited() {
		p.limited = append(p.limited, s)
	}
	p.mu.Unlock()
	return s, true
}

// sendN sends n requests at once and returns those sent, by send time.
func (p *prober) sendN(ctx context.Context, auth client.Authenticator, n int) []sample {
	out := make([]sample, n)
	sent := make([]bool, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i], sent[i] = p.send(ctx, auth)
		}()
	}
	wg.Wait()
	var got []sample
	for i := range out {
		if sent[i] {
			got = append(got, out[i])
		}
	}
	slices.SortFunc(got, func(a, b sample) int { return a.sent.Compare(b.sent) })
	return got
}

// burst is one window's worth of requests, up to the first 429.
type burst struct {
	accepted  int
	start     time.Time // send time of the first accepted request
	last      sample    // the latest accepted response
	first429  *sample
	refused   int // 401/403
	failed    int // other statuses and transport errors
	exhausted bool
	lastErr   error
}

// burst sends requests, doubling concurrency up to the configured cap,
// until a 429 arrives or the budget or time runs out. expect, when
// positive, is the count the window is believed to hold: past it
// requests go one at a time, so that the probe overshoots by one.
func (p *prober) burst(ctx context.Context, auth client.Authenticator, expect int) burst {
	var b burst
	c := 1
	remaining := -1
	for {
		n := c
		if remaining >= 0 {
			n = min(n, max(remaining, 1))
		}
		if expect > 0 {
			n = min(n, max(expect-b.accepted, 1))
		}
		got := p.sendN(ctx, auth, n)
		if len(got) == 0 {
			b.exhausted = true
			return b
		}
		for i := range got {
			s := &got[i]
			switch {
			case s.limited():
				if b.first429 == nil {
					b.first429 = s
				}
			case s.ok():
				b.accepted++
				if b.start.IsZero() {
					b.start = s.sent
				}
				if s.at.After(b.last.at) {
					b.last = *s
				}
				if s.rl.HasRemaining {
					remaining = s.rl.Remaining
				}
			case s.err == nil && (s.status == 401 || s.status == 403):
				b.refused++
			default:
				b.failed++
				if s.err != nil {
					b.lastErr = s.err
				}
			}
		}
		if b.first429 != nil {
			return b
		}
		if b.accepted == 0 && (b.refused >= 3 || b.failed >= 5) {
			return b
		}
		if c < p.cfg.Concurrency {
			c = min(2*c, p.cfg.Concurrency)
		}
	}
}

// reopen waits after the 429 s until one request goes through: first for
// the Retry-After (or the reset the headers gave), then polling. From
// lo on (when not zero) it polls every step; before, it waits
// geometrically longer. It returns the success, the send time of the
// last 429 before it, and ok false when budget or time ran out.
func (p *prober) reopen(ctx context.Context, auth client.Authenticator, s sample, lo time.Time, step time.Duration) (okS sample, lastFail time.Time, ok bool) {
	lastFail = s.sent
	wait := 50 * time.Millisecond
	if !lo.IsZero() {
		wait = max(time.Until(lo), 0)
	}
	for {
		switch {
		case !lo.IsZero() && time.Now().After(lo):
			wait = step
		case s.rl.HasRetryAfter:
			wait = max(s.rl.RetryAfter, time.Millisecond)
		case s.rl.HasReset && s.rl.Reset > 0:
			wait = s.rl.Reset
		}
		if !lo.IsZero() && time.Now().Add(wait).After(lo) && time.Now().Before(lo) {
			wait = time.Until(lo)
		}
		if err := client.Sleep(ctx, wait); err != nil {
			return okS, lastFail, false
		}
		next, sent := p.send(ctx, auth)
		if !sent {
			return okS, lastFail, false
		}
		if next.ok() {
			return next, lastFail, true
		}
		if !next.limited() {
			return okS, lastFail, false
		}
		lastFail = next.sent
		s = next
		if lo.IsZero() && !s.rl.HasRetryAfter && !(s.rl.HasReset && s.rl.Reset > 0) {
			wait = wait * 3 / 2
		}
	}
}
