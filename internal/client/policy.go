package client

import (
	"math"
	"time"

	"github.com/floodgate-dev/floodgate/internal/metrics"
)

// Jitter is how a backoff delay is randomised. The zero Jitter is
// JitterFull.
type Jitter uint8

const (
	// JitterFull draws the delay uniformly from [0, d): the spread that
	// best de-synchronises many clients (AWS "Exponential Backoff and
	// Jitter"), so it is the default.
	JitterFull Jitter = iota
	// JitterEqual waits d/2 plus a uniform draw from [0, d/2): never less
	// than half the nominal delay.
	JitterEqual
	// JitterNone waits exactly d.
	JitterNone
)

var jitterNames = [...]string{"full", "equal", "none"}

// String returns "full", "equal" or "none".
func (j Jitter) String() string {
	if int(j) < len(jitterNames) {
		return jitterNames[j]
	}
	return "unknown"
}

// ParseJitter returns the Jitter named s ("" is JitterFull).
func ParseJitter(s string) (Jitter, bool) {
	if s == "" {
		return JitterFull, true
	}
	for i, n := range jitterNames {
		if n == s {
			return Jitter(i), true
		}
	}
	return JitterFull, false
}

// BudgetConfig sizes a retry budget: over any Window, retries may not
// exceed MinRetries + Ratio × first attempts. BudgetConfig is comparable;
// Client keeps one Budget per (limit key, BudgetConfig).
type BudgetConfig struct {
	Ratio      float64       // 0.2 for 20 %
	Window     time.Duration // length of the sliding window
	MinRetries int           // retries per window always allowed
}

// Policy is a resolved retry policy, ready for Client.Do. Build it with
// DefaultPolicy (package clientcfg resolves a plan's retry settings into one); a Policy is read-only once built and may be
// shared by any number of goroutines. The zero Policy sends one attempt
// and never retries, honours nothing and uses no gate.
type Policy struct {
	// On lists the HTTP statuses that are retried.
	On []int
	// OnClasses lists the transport error classes that are retried
	// (metrics.Connect, Reset, Timeout, TLS).
	OnClasses []metrics.Class
	// HonorRetryAfter makes a Retry-After (or, on a 429 without one, the
	// rate-limit reset) replace the backoff delay.
	HonorRetryAfter bool
	// MaxWait caps one Retry-After wait. 0 means no cap.
	MaxWait time.Duration
	// Base, Max and Multiplier shape the exponential backoff: retry n
	// (1-based) has nominal delay min(Max, Base × Multiplier^(n-1)).
	// Max 0 means no cap; Multiplier below 1 counts as 1.
	Base, Max  time.Duration
	Multiplier float64
	// Jitter randomises the nominal delay.
	Jitter Jitter
	// MaxAttempts bounds attempts including the first; 0 or 1 means no
	// retry. The one replay after a 401 token refresh is not counted.
	MaxAttempts int
	// MaxElapsed bounds the logical request from the start of Do,
	// waits included: a wait that would end past it is not started.
	// 0 means no bound.
	MaxElapsed time.Duration
	// Budget, when non-nil, caps retries relative to first attempts.
	Budget *BudgetConfig
	// NonIdempotent allows retrying POST, PATCH and other non-idempotent
	// methods on everything in On and OnClasses, not only on 429, 503 and
	// Connect (where the server did not act on the request).
	NonIdempotent bool
	// Gate enables the shared backoff gate (see Gates).
	Gate bool
	// LimitKey names the gate and budget key; "" means the
	// authenticator's Key, or "default" without one.
	LimitKey string
}

// DefaultPolicy returns the built-in policy used when a plan says nothing:
//
//   - On 429, 502, 503, 504: the statuses Genesys Cloud and its SDKs treat
//     as transient (rate limit, bad gateway, overload, gateway timeout).
//   - OnClasses Connect and Reset: a refused or reset connection is
//     usually a restart or a load balancer dropping idle connections.
//     Timeouts are not retried: the server may still be working, and
//     retrying a saturated server amplifies the overload.
//   - HonorRetryAfter with MaxWait 60 s: the server knows best, and
//     Genesys windows are 60 s, so a real Retry-After rarely exceeds it;
//     longer ones (daily caps) should not park a VU for hours.
//   - Backoff 100 ms × 2 up to 10 s with full jitter: fast first retry,
//     a 10 s ceiling stays well inside a 60 s window, and full jitter
//     spreads VUs the most.
//   - MaxAttempts 5: the SDKs' retryMax; with the backoff above, the
//     nominal waits sum to 1.5 s.
//   - MaxElapsed 2 m: room for two full 60 s rate-limit windows.
//   - Budget 20 % over 10 s, at least 10 retries per window (Finagle's
//     RetryBudget defaults): retries may add at most a fifth to the load
//     when the server is failing, so they cannot turn into a storm.
//   - Gate on: one 429 with Retry-After parks every VU sharing the key.
//   - NonIdempotent off: a POST is retried only where the server
//     certainly did not act on it.
func DefaultPolicy() Policy {
	return Policy{
		On:              []int{429, 502, 503, 504},
		OnClasses:       []metrics.Class{metrics.Connect, metrics.Reset},
		HonorRetryAfter: true,
		MaxWait:         60 * time.Second,
		Base:            100 * time.Millisecond,
		Max:             10 * time.Second,
		Multiplier:      2,
		Jitter:          JitterFull,
		MaxAttempts:     5,
		MaxElapsed:      2 * time.Minute,
		Budget:          &BudgetConfig{Ratio: 0.2, Window: 10 * time.Second, MinRetries: 10},
		Gate:            true,
	}
}

// Backoff returns the delay before retry n (1 for the first retry) given
// u, a uniform draw from [0, 1): the nominal delay
// d = min(Max, Base × Multiplier^(n-1)), then JitterFull gives u×d,
// JitterEqual d/2 + u×d/2 and JitterNone d. It never overflows and never
// returns a negative duration.
func (p *Policy) Backoff(n int, u float64) time.Duration {
	if n < 1 {
		n = 1
	}
	if !(u >= 0 && u < 1) { // also rejects NaN
		u = 0
	}
	m := p.Multiplier
	if m < 1 || math.IsNaN(m) {
		m = 1
	}
	limit := float64(math.MaxInt64 / 2)
	if p.Max > 0 {
		limit = float64(p.Max)
	}
	d := float64(max(p.Base, 0)) * math.Pow(m, float64(n-1))
	if d > limit || math.IsInf(d, 0) || math.IsNaN(d) {
		d = limit
	}
	switch p.Jitter {
	case JitterNone:
	case JitterEqual:
		d = d/2 + u*d/2
	default:
		d *= u
	}
	return time.Duration(d)
}

// retriesStatus reports whether status is in On.
func (p *Policy) retriesStatus(status int) bool {
	for _, s := range p.On {
		if s == status {
			return true
		}
	}
	return false
}

// retriesClass reports whether class is in OnClasses.
func (p *Policy) retriesClass(c metrics.Class) bool {
	for _, x := range p.OnClasses {
		if x == c {
			return true
		}
	}
	return false
}

// retryable reports whether an attempt's result may be retried under p,
// before attempt limits, elapsed time and budget are considered.
// Non-idempotent requests are retried only on 429 and 503 (the server
// refused them before acting) and Connect (never sent), unless
// p.NonIdempotent.
func (p *Policy) retryable(req *Request, status int, class metrics.Class, transportErr bool) bool {
	if transportErr {
		if !p.retriesClass(class) {
			return false
		}
		return class == metrics.Connect || p.NonIdempotent || req.Idempotent()
	}
	if !p.retriesStatus(status) {
		return false
	}
	return status == 429 || status == 503 || p.NonIdempotent || req.Idempotent()
}
