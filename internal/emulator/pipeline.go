package emulator

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/floodgate-dev/floodgate/internal/emulator/auth"
	"github.com/floodgate-dev/floodgate/internal/emulator/platform"
	"github.com/floodgate-dev/floodgate/internal/emulator/ratelimit"
)

// Response header names, canonical so they can be assigned to the header
// map directly (no per-request canonicalization). On the wire HTTP/1.1
// sends them as written here; header names are case-insensitive.
const (
	hdrIninCorrelation    = "Inin-Correlation-Id"
	hdrGenesysCorrelation = "Genesys-Correlation-Id"
	hdrCount              = "Inin-Ratelimit-Count"
	hdrAllowed            = "Inin-Ratelimit-Allowed"
	hdrReset              = "Inin-Ratelimit-Reset"
	hdrRetryAfter         = "Retry-After"
	// HeaderRetryAfterMs is floodgate's own header on 429s (and capped
	// answers with a retry_after): the exact wait in milliseconds, so
	// clients of a time-scaled emulator can wait precisely.
	HeaderRetryAfterMs = platform.HeaderRetryAfterMs
	// HeaderResetMs is floodgate's own companion of inin-ratelimit-reset
	// on every rate-limited response: the window's reset in milliseconds,
	// where the platform's header has whole seconds.
	HeaderResetMs = "X-Floodgate-Ratelimit-Reset-Ms"
)

// smallInts caches the decimal strings of small numbers used in headers.
var smallInts [4096]string

func init() {
	for i := range smallInts {
		smallInts[i] = strconv.Itoa(i)
	}
}

func itoa(n int64) string {
	if n >= 0 && n < int64(len(smallInts)) {
		return smallInts[n]
	}
	return strconv.FormatInt(n, 10)
}

// ceilSeconds rounds d up to whole seconds, at least 1: the platform's
// headers carry integers, and a wait of 0 would invite a retry storm.
func ceilSeconds(d time.Duration) int64 {
	s := int64((d + time.Second - 1) / time.Second)
	return max(s, 1)
}

func ceilMillis(d time.Duration) int64 {
	return max(int64((d+time.Millisecond-1)/time.Millisecond), 1)
}

// exchange wraps the ResponseWriter to learn the status, and carries the
// request's Call. Exchanges are pooled: one per request, no allocation.
type exchange struct {
	http.ResponseWriter
	status int
	call   platform.Call
}

func (x *exchange) WriteHeader(code int) {
	if x.status == 0 && code >= 200 {
		x.status = code
	}
	x.ResponseWriter.WriteHeader(code)
}

func (x *exchange) Write(b []byte) (int, error) {
	if x.status == 0 {
		x.status = http.StatusOK
	}
	return x.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (x *exchange) Unwrap() http.ResponseWriter { return x.ResponseWriter }

var exchangePool = sync.Pool{New: func() any { return new(exchange) }}

// statusClientGone is recorded (in metrics only) when the client left
// while its request was held by an injected latency.
const statusClientGone = 499

// serve runs one request through the pipeline:
//
//	correlation ids → bearer auth (401) → rate limits (429, headers) →
//	permission (403) → body size (413) → concurrency cap → faults
//	(saturation 503, latency, injected errors) → the route's handler.
func (s *Server) serve(rt *route, w http.ResponseWriter, r *http.Request) {
	x := exchangePool.Get().(*exchange)
	x.ResponseWriter, x.status = w, 0
	x.call = platform.Call{ContextID: platform.NewID(), Now: s.o.now()}
	h := w.Header()
	// One allocation holds every header value this request sets.
	vals := make([]string, 5)
	vals[0] = x.call.ContextID
	h[hdrIninCorrelation] = vals[0:1:1]
	h[hdrGenesysCorrelation] = vals[0:1:1]

	pol := s.policy.Load()
	rp := &pol.routes[rt.idx]
	s.pipeline(x, r, rt, rp, pol, vals)

	status := x.status
	if status == 0 {
		status = http.StatusOK
	}
	s.metrics.observe(rp.family, r.Method, status)
	s.stats.requests.Add(1)
	if s.log.Enabled(r.Context(), slog.LevelDebug) {
		s.log.LogAttrs(r.Context(), slog.LevelDebug, "request", slog.String("method", r.Method),
			slog.String("path", r.URL.Path), slog.String("family", rp.family), slog.Int("status", status),
			slog.String("contextId", x.call.ContextID), slog.Duration("took", s.o.now().Sub(x.call.Now)))
	}
	x.ResponseWriter, x.call = nil, platform.Call{}
	exchangePool.Put(x)
}

func (s *Server) pipeline(x *exchange, r *http.Request, rt *route, rp *routePolicy, pol *policy, vals []string) {
	ctx := r.Context()
	if !rt.Public {
		tok, err := s.auth.Authenticate(r.Header, x.call.Now)
		if err != nil {
			s.unauthorized(x, err)
			return
		}
		x.call.OrgID, x.call.ClientID, x.call.Token = tok.Client.Org.ID, tok.Client.ID, tok.Value
		x.call.Grants = tok.Client
		if !s.rateLimit(ctx, x, tok, rp, pol, vals) {
			return
		}
		if !s.permitted(x, rt, tok.Client) {
			return
		}
	}
	max := s.cfg.RequestBytesMax
	if r.ContentLength > max {
		s.tooLarge(x, rp, max)
		return
	}
	if r.ContentLength != 0 && r.Body != nil && r.Body != http.NoBody {
		r.Body = http.MaxBytesReader(x, r.Body, max)
	}

	n := s.inflight.Add(1)
	defer s.inflight.Add(-1)
	rp.inflight.Inc()
	defer rp.inflight.Dec()
	if c := rp.cap; c != nil {
		if s.o.slots != nil {
			release, ok, err := s.o.slots.Acquire(ctx, "cap:"+rp.family, int(c.max), s.o.slotLease, x.call.ContextID)
			if err != nil {
				s.o.logger.Error("concurrency cap store failed", "family", rp.family, "err", err)
				platform.WriteError(x, x.call.ContextID, http.StatusServiceUnavailable, platform.CodeServiceUnavailable, platform.MsgServiceUnavailable)
				return
			}
			if !ok {
				s.capped(x, rp, c)
				return
			}
			defer release()
		} else {
			k := c.n.Add(1)
			defer c.n.Add(-1)
			if k > c.max {
				s.capped(x, rp, c)
				return
			}
		}
	}
	if f := rp.fault; f != nil {
		d, saturated := f.Delay(n)
		if saturated {
			s.stats.saturated.Add(1)
			platform.WriteError(x, x.call.ContextID, http.StatusServiceUnavailable, platform.CodeServiceUnavailable, platform.MsgServiceUnavailable)
			return
		}
		if d > 0 {
			if err := s.o.sleep(ctx, d); err != nil {
				x.status = statusClientGone
				return
			}
		}
		if e, ok := f.Error(); ok {
			s.stats.faults.Add(1)
			platform.WriteError(x, x.call.ContextID, e.Status, e.Code, e.Message)
			return
		}
	}
	if c := rp.canned; c != nil {
		if c.body == nil {
			x.WriteHeader(c.status)
			return
		}
		platform.WriteRawJSON(x, c.status, c.body)
		return
	}
	rt.Handle(x, r, &x.call)
}

// permitted checks the route's permissions (Permission and AllOf all
// needed, then at least one of AnyOf) and answers 403 when one is missing.
func (s *Server) permitted(x *exchange, rt *route, cl *auth.Client) bool {
	var missing []string
	for i, p := range rt.all {
		if !cl.Can(p) {
			missing = append(missing, rt.allNames[i])
		}
	}
	if len(missing) > 0 {
		s.stats.forbidden.Add(1)
		platform.MissingPermissions(x, x.call.ContextID, missing, false)
		return false
	}
	if len(rt.any) == 0 {
		return true
	}
	for _, p := range rt.any {
		if cl.Can(p) {
			return true
		}
	}
	s.stats.forbidden.Add(1)
	platform.MissingPermissions(x, x.call.ContextID, rt.AnyOf, true)
	return false
}

func (s *Server) unauthorized(x *exchange, err error) {
	s.stats.unauthorized.Add(1)
	code, msg := platform.CodeBadCredentials, platform.MsgBadCredentials
	switch {
	case errors.Is(err, auth.ErrNoToken):
		code, msg = platform.CodeAuthenticationRequired, platform.MsgAuthenticationRequired
	case errors.Is(err, auth.ErrExpired):
		code, msg = platform.CodeCredentialsExpired, platform.MsgCredentialsExpired
	}
	platform.WriteError(x, x.call.ContextID, http.StatusUnauthorized, code, msg)
}

func (s *Server) tooLarge(x *exchange, rp *routePolicy, max int64) {
	s.stats.tooLarge.Add(1)
	s.metrics.limited(rp.family, "size")
	platform.WriteError(x, x.call.ContextID, http.StatusRequestEntityTooLarge, platform.CodeEntityTooLarge,
		platform.MsgEntityTooLarge+strconv.FormatInt(max, 10))
}

func (s *Server) capped(x *exchange, rp *routePolicy, c *capPolicy) {
	s.stats.capped.Add(1)
	s.metrics.limited(rp.family, "cap")
	if c.retryAfter > 0 {
		h := x.Header()
		h[hdrRetryAfter] = []string{itoa(ceilSeconds(c.retryAfter))}
		h[HeaderRetryAfterMs] = []string{itoa(ceilMillis(c.retryAfter))}
	}
	platform.WriteError(x, x.call.ContextID, c.status, c.code, c.msg)
}

// rateLimit applies the per-token limit, then the optional per-client,
// per-org and family limits, stopping at the first that refuses (limits
// already passed keep the request counted). The inin-ratelimit-* headers
// describe the refusing limit, else the one with the fewest requests left.
func (s *Server) rateLimit(ctx context.Context, x *exchange, tok *auth.Token, rp *routePolicy, pol *policy, vals []string) bool {
	now := x.call.Now
	shown, err := s.o.limiter.Allow(ctx, tok.RateKey, pol.token.limit, pol.token.window, now)
	if err != nil {
		return s.limiterFailed(x, err)
	}
	check := func(key string, r rate) bool {
		d, err := s.o.limiter.Allow(ctx, key, r.limit, r.window, now)
		if err != nil {
			return s.limiterFailed(x, err)
		}
		if !d.Allowed || d.Remaining() < shown.Remaining() {
			shown = d
		}
		return true
	}
	if shown.Allowed && pol.client != nil && !check(tok.Client.RateKey, *pol.client) {
		return false
	}
	if shown.Allowed && pol.org != nil && !check(tok.Client.Org.RateKey, *pol.org) {
		return false
	}
	for i := range rp.limits {
		if !shown.Allowed {
			break
		}
		fl := &rp.limits[i]
		key := fl.prefix
		switch fl.per {
		case perToken:
			key += tok.RateKey
		case perClient:
			key += tok.Client.RateKey
		case perOrg:
			key += tok.Client.Org.RateKey
		}
		if !check(key, fl.rate) {
			return false
		}
	}
	s.setRateHeaders(x.Header(), shown, vals)
	if shown.Allowed {
		return true
	}
	s.stats.rateLimited.Add(1)
	s.metrics.limited(rp.family, "rate")
	secs := ceilSeconds(shown.Reset)
	h := x.Header()
	h[hdrRetryAfter] = []string{itoa(secs)}
	h[HeaderRetryAfterMs] = []string{itoa(ceilMillis(shown.Reset))}
	platform.WriteErrorBody(x, &platform.ErrorBody{Status: http.StatusTooManyRequests, Code: platform.CodeTooManyRequestsRetry,
		Message: "Rate limit exceeded the maximum. Retry the request in [" + itoa(secs) + "] seconds", ContextID: x.call.ContextID})
	return false
}

func (s *Server) setRateHeaders(h http.Header, d ratelimit.Decision, vals []string) {
	vals[1], vals[2], vals[3] = itoa(int64(d.Count)), itoa(int64(d.Limit)), itoa(ceilSeconds(d.Reset))
	vals[4] = itoa(ceilMillis(d.Reset))
	h[hdrCount] = vals[1:2:2]
	h[hdrAllowed] = vals[2:3:3]
	h[hdrReset] = vals[3:4:4]
	h[HeaderResetMs] = vals[4:5:5]
}

// limiterFailed answers 503 when the limiter backend fails (e.g. Redis is
// down): the emulator does not silently stop limiting.
func (s *Server) limiterFailed(x *exchange, err error) bool {
	s.log.Error("rate limiter failed", "err", err)
	platform.WriteError(x, x.call.ContextID, http.StatusServiceUnavailable, platform.CodeServiceUnavailable, platform.MsgServiceUnavailable)
	return false
}
