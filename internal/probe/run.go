package probe

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/floodgate-dev/floodgate/internal/client"
	"github.com/floodgate-dev/floodgate/internal/clientcfg"
)

// run is the probe's sequence:
//
//  1. burst: requests at doubling concurrency (1, 2, 4 … Concurrency)
//     until the first 429; with rate-limit headers, never more in flight
//     than the quota left, so it overshoots by about one request;
//  2. keying: while the first credential set is limited, one request
//     with a fresh token of the same client and one with the second
//     credential set;
//  3. reopen: wait the Retry-After (or the headers' reset, or
//     geometrically longer polls) and send until one succeeds;
//  4. when the headers did not give the window and the count, a second
//     burst from the reopening (a fresh window: its count is the limit)
//     and a second reopening polled finely around the window's end as
//     bracketed by the first, which times the window.
func (p *prober) run(ctx context.Context, authA client.Authenticator, res *Result) error {
	p.o.logf("probing %s %s: at most %d requests and %s", p.cfg.Method, p.cfg.URL, p.cfg.MaxRequests, p.cfg.MaxTime)
	b1 := p.burst(ctx, authA, 0)
	switch {
	case b1.accepted == 0 && b1.first429 == nil && b1.refused > 0:
		return fmt.Errorf("%w: %d × 401/403 on the first requests; check the credentials and their permissions", ErrRefused, b1.refused)
	case b1.accepted == 0 && b1.first429 == nil && b1.lastErr != nil:
		return fmt.Errorf("probe: no successful response: %w", b1.lastErr)
	case b1.accepted == 0 && b1.first429 == nil && b1.failed > 0:
		return errors.New("probe: no successful response: the endpoint answers errors (5xx or unexpected statuses)")
	}
	if b1.accepted > 0 {
		res.declared(b1.last.rl)
	}
	if b1.first429 == nil {
		res.StoppedBy = p.stoppedBy(ctx)
		p.o.logf("no 429 after %d requests (%s)", p.used.Load(), res.StoppedBy)
		return nil
	}
	res.Limited = true
	res.AcceptedBeforeLimit = b1.accepted
	s429 := *b1.first429
	p.o.logf("first 429 after %d accepted requests in %.2f s", b1.accepted, s429.at.Sub(b1.start).Seconds())
	p.keying(ctx, res)

	succ, lastFail, ok := p.reopen(ctx, authA, s429, time.Time{}, 0)
	if !ok {
		res.StoppedBy = p.stoppedBy(ctx)
		res.Window = Window{LowerS: time.Since(b1.start).Seconds(), Source: "timing"}
		p.o.logf("the limit did not reopen within the budget (%s)", res.StoppedBy)
		p.retryAfter(res, time.Time{})
		return nil
	}
	p.o.logf("reopened %.2f s after the first accepted request", succ.sent.Sub(b1.start).Seconds())
	lo, hi := lastFail.Sub(b1.start), succ.sent.Sub(b1.start)

	// The headers may say it all: the quota, and on the first request of
	// a fresh window the reset is the window.
	rl := succ.rl
	if rl.HasLimit {
		res.Count, res.CountSource = rl.Limit, "headers"
	}
	fresh := rl.HasLimit && rl.HasRemaining && rl.Remaining >= rl.Limit-1
	switch {
	case rl.HasWindow:
		res.Window = Window{S: rl.Window.Seconds(), Source: "headers (RateLimit-Policy)"}
	case fresh && rl.HasReset && rl.Reset > 0:
		res.Window = Window{S: rl.Reset.Seconds(), Source: "headers (reset on reopening)"}
	}
	if rl.HasLimit && rl.HasRemaining {
		if fresh {
			res.Shape = ShapeFixed
		} else {
			res.Shape = ShapeGradual
		}
	}
	if res.Count > 0 && res.Window.S > 0 {
		// Timing cross-checks the headers when the first burst began
		// the window (all of the quota was used in it).
		var end time.Time
		if b1.accepted >= res.Count {
			res.Window.TimingS = hi.Seconds()
			end = b1.start.Add(time.Duration(res.Window.S * float64(time.Second)))
		}
		p.retryAfter(res, end)
		res.StoppedBy = "limit found"
		return nil
	}

	// Second cycle: the reopening began a fresh window.
	start2 := succ.sent
	b2 := p.burst(ctx, authA, b1.accepted-1)
	count2 := 1 + b2.accepted
	if b2.first429 == nil {
		res.StoppedBy = p.stoppedBy(ctx)
		res.Count, res.CountSource = max(res.Count, count2), "count (lower bound: budget ran out)"
		p.retryAfter(res, time.Time{})
		return nil
	}
	if res.Count == 0 {
		res.Count, res.CountSource = count2, "count"
	}
	if res.Shape == "" {
		if float64(count2) >= 0.8*float64(b1.accepted) {
			res.Shape = ShapeFixed
		} else {
			res.Shape = ShapeGradual
		}
	}
	if res.Shape == ShapeGradual {
		// A sliding window or token bucket gives back its quota bit by
		// bit: the burst is the first count, the rate what came back.
		res.Burst = b1.accepted
		res.Window = Window{S: hi.Seconds(), Source: "timing (time to the first reopening)"}
		p.retryAfter(res, time.Time{})
		res.StoppedBy = "limit found"
		return nil
	}
	// Time the second window: [lo, hi] bracket it when the first burst
	// began its window; otherwise only lo is a bound.
	if b1.accepted < count2 {
		hi = max(hi, 2*lo)
	}
	step := max((hi-lo)/10, 10*time.Millisecond)
	p.o.logf("second window: %d accepted; timing its end between %.2f s and %.2f s", count2, lo.Seconds(), hi.Seconds())
	succ2, lastFail2, ok := p.reopen(ctx, authA, *b2.first429, start2.Add(lo), step)
	if !ok {
		res.StoppedBy = p.stoppedBy(ctx)
		res.Window = Window{LowerS: lo.Seconds(), UpperS: hi.Seconds(), Source: "timing (bracket)"}
		p.retryAfter(res, time.Time{})
		return nil
	}
	from := lastFail2
	if lb := start2.Add(lo); lb.After(from) && !lb.After(succ2.sent) {
		from = lb
	}
	w := (from.Sub(start2) + succ2.sent.Sub(start2)) / 2
	res.Window = Window{S: w.Seconds(), Source: "timing", LowerS: from.Sub(start2).Seconds(), UpperS: succ2.sent.Sub(start2).Seconds()}
	p.retryAfter(res, start2.Add(w))
	res.StoppedBy = "limit found"
	return nil
}

func (p *prober) stoppedBy(ctx context.Context) string {
	if ctx.Err() != nil {
		return "max-time"
	}
	if p.used.Load() >= p.max {
		return "max-requests"
	}
	return "error"
}

// keying finds what the limit is kept per, while the first credential
// set is limited: a fresh token of the same OAuth client that is
// accepted means per token; one refused too, with a second credential
// set accepted, means per client; both refused means shared.
func (p *prober) keying(ctx context.Context, res *Result) {
	a := p.cfg.Auth
	if a == nil {
		res.Key, res.KeyEvidence = KeyUnknown, "no credentials: the limit is kept per address, endpoint or globally"
		return
	}
	tokenLimited := false
	if a.OAuth2 != nil {
		fresh, err := client.NewAuth(clientcfg.Auth(a), p.cfg.URL, p.o.tokenRT)
		if err == nil {
			if s, ok := p.send(ctx, fresh); ok && s.err == nil {
				if s.ok() {
					res.Key, res.KeyEvidence = KeyToken, "a second token of the same client was accepted while the first was limited"
					return
				}
				tokenLimited = s.limited()
			}
		}
	}
	if p.cfg.Second == nil {
		if tokenLimited {
			res.Key, res.KeyEvidence = KeyClient, "a second token of the same client was limited too: the limit is kept per client or broader (give --second-* credentials to tell)"
		} else {
			res.Key, res.KeyEvidence = KeyUnknown, "no second credential set given (--second-client-id-env or --second-bearer-env)"
		}
		return
	}
	b, err := client.NewAuth(clientcfg.Auth(p.cfg.Second), p.cfg.URL, p.o.tokenRT)
	if err != nil {
		res.Key, res.KeyEvidence = KeyUnknown, "second credential set: "+err.Error()
		return
	}
	s, ok := p.send(ctx, b)
	switch {
	case !ok || s.err != nil:
		res.Key, res.KeyEvidence = KeyUnknown, "the second credential set got no answer"
	case s.ok() && tokenLimited:
		res.Key, res.KeyEvidence = KeyClient, "a fresh token of the same client was limited, the second client's was accepted"
	case s.ok():
		res.Key, res.KeyEvidence = KeyCredentials, "the second credential set was accepted while the first was limited"
	case s.limited():
		res.Key, res.KeyEvidence = KeyShared, "the second credential set was limited too: the limit is shared (org, address or endpoint)"
	default:
		res.Key, res.KeyEvidence = KeyUnknown, fmt.Sprintf("the second credential set got %d", s.status)
	}
}

// retryAfter sums up the Retry-After values of the 429s against end,
// the moment the window they belong to was found to end (zero: unknown).
func (p *prober) retryAfter(res *Result, end time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ra := &res.RetryAfter
	var prev *sample
	for i := range p.limited {
		s := &p.limited[i]
		if !s.rl.HasRetryAfter {
			continue
		}
		ra.Present = true
		if len(ra.ValuesS) < 8 {
			ra.ValuesS = append(ra.ValuesS, s.rl.RetryAfter.Seconds())
		}
		if prev != nil && s.sent.Sub(prev.sent) > 100*time.Millisecond {
			switch {
			case s.rl.RetryAfter < prev.rl.RetryAfter:
				ra.CountsDown = true
			case s.rl.RetryAfter == prev.rl.RetryAfter:
				ra.Constant = true
			}
		}
		prev = s
	}
	if ra.CountsDown {
		ra.Constant = false
	}
	if !end.IsZero() && prev != nil {
		// The last 429 with a Retry-After, against the window's end.
		d := prev.sent.Add(prev.rl.RetryAfter).Sub(end).Seconds()
		ra.ErrorS = &d
	}
}
