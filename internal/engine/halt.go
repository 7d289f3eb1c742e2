package engine

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/floodgate-dev/floodgate/internal/client"
	"github.com/floodgate-dev/floodgate/internal/metrics"
)

// ErrUnreachable is wrapped by every *UnreachableError.
var ErrUnreachable = errors.New("engine: target unreachable")

// UnreachableError ends a run whose target could not be connected to
// (the plan's abort_on_unreachable).
type UnreachableError struct {
	// What is "target", or "token endpoint" when it was the token URL
	// that could not be reached; Target is its URL.
	What     string
	Target   string
	Failures int64  // consecutive attempts that could not connect
	Last     string // the first failure's error
	// Never is set when the run ended before abort_on_unreachable's
	// count, with no attempt answered.
	Never bool
}

// Error names the target, the count and the last failure, with the fix.
func (e *UnreachableError) Error() string {
	if e.Never {
		return fmt.Sprintf("%s %s unreachable: none of the run's %d attempts could connect (first: %s); is it running, and is the URL right?",
			e.What, e.Target, e.Failures, e.Last)
	}
	return fmt.Sprintf("%s %s unreachable: %d attempts in a row could not connect (first: %s); is it running, and is the URL right? (abort_on_unreachable: false runs on regardless)",
		e.What, e.Target, e.Failures, e.Last)
}

// Unwrap returns ErrUnreachable.
func (e *UnreachableError) Unwrap() error { return ErrUnreachable }

// AuthError ends a scenario whose credentials the token endpoint refused:
// every request it sent would be refused alike.
type AuthError struct {
	Scenario string
	// TokenURL and Answer are the token endpoint and what it said, e.g.
	// "401 invalid_client"; never a secret.
	TokenURL, Answer string
	Err              error // the *client.TokenError
}

// Error names the scenario, the token URL and the answer, with the fix.
func (e *AuthError) Error() string {
	return fmt.Sprintf("scenario %q: authentication failed: the token endpoint %s refused the credentials: %s; check client_id and client_secret (and the env variables they come from)",
		e.Scenario, e.TokenURL, e.Answer)
}

// Unwrap returns the token error, so errors.Is(err, client.ErrCredentialsRefused) holds.
func (e *AuthError) Unwrap() error { return e.Err }

// halts holds what stopped a run or a scenario before its end; safe for
// concurrent use.
type halts struct {
	mu   sync.Mutex
	errs []error

	// unreach counts consecutive attempts that could not connect; any
	// response resets it. failed is the total, for progress displays.
	unreach  atomic.Int64
	failed   atomic.Int64
	answered atomic.Bool           // some attempt got a response
	first    atomic.Pointer[error] // the first failure's error
}

func (h *halts) add(err error) {
	h.mu.Lock()
	h.errs = append(h.errs, err)
	h.mu.Unlock()
}

func (h *halts) err() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return errors.Join(h.errs...)
}

// refused stops sr after its token endpoint refused the credentials; the
// first refusal in a scenario is the one reported.
func (e *Engine) refused(sr *scenarioRun, err error) {
	if !sr.refused.CompareAndSwap(false, true) {
		return
	}
	ae := &AuthError{Scenario: sr.sc.Name, Err: err}
	var te *client.TokenError
	if errors.As(err, &te) {
		ae.TokenURL, ae.Answer = te.TokenURL, te.Answer()
	}
	e.halts.add(ae)
	sr.flow.stopStarting()
}

// noteAttempt watches attempts for a target that cannot be connected to
// (abort_on_unreachable). Called for every attempt and every logical
// request that failed before its first attempt; it touches shared state
// only on a failure or on the first response after some.
func (e *Engine) noteAttempt(class metrics.Class, start time.Time, err error) {
	h := &e.halts
	switch class {
	case metrics.Connect, metrics.Reset:
	case metrics.OK, metrics.Status: // an answer: the target is up
		if h.unreach.Load() != 0 {
			h.unreach.Store(0)
		}
		if !h.answered.Load() {
			h.answered.Store(true)
		}
		return
	default: // a timeout or a cancelled attempt says nothing either way
		return
	}
	h.failed.Add(1)
	if err != nil && h.first.Load() == nil {
		first := err // a copy: taking err's address would move every call's err to the heap
		h.first.CompareAndSwap(nil, &first)
	}
	n := h.unreach.Add(1)
	u := e.plan.Unreachable
	if u.After <= 0 || (u.Within > 0 && start.Sub(e.started) > u.Within) {
		return
	}
	if n == int64(u.After) {
		ue := e.unreachableError()
		ue.Failures = n
		h.add(ue)
		e.unreachable.Store(true)
		go e.haltRun()
	}
}

// haltRun stops the whole run at once: nothing in flight can succeed.
func (e *Engine) haltRun() {
	<-e.ready
	e.stopStart()
	e.abort()
}

// ConnectFailures counts the attempts so far that could not connect to
// the target (refused, reset before an answer, unreachable), how many of
// them came since the last response, and the first one's error; for the
// first seconds' "is the target running?" message.
func (e *Engine) ConnectFailures() (total, consecutive int64, first error) {
	if p := e.halts.first.Load(); p != nil {
		first = *p
	}
	return e.halts.failed.Load(), e.halts.unreach.Load(), first
}

// Unreachable reports whether the run stopped because the target could
// not be connected to.
func (e *Engine) Unreachable() bool { return e.unreachable.Load() }

// unsent looks at a logical request that failed before its first
// attempt: refused credentials stop its scenario, and an unreachable
// token endpoint counts as an unreachable target.
func (e *Engine) unsent(sr *scenarioRun, out *client.Outcome) {
	switch out.Class {
	case metrics.Auth:
		e.refused(sr, out.Err)
	case metrics.Connect, metrics.Reset:
		e.noteAttempt(out.Class, out.Start, out.Err)
	}
}

// neverAnswered ends a run that abort_on_unreachable did not stop, too
// short or too slow to reach its count, but whose target never answered
// one attempt: it failed as surely, and must not exit 0.
func (e *Engine) neverAnswered() {
	h := &e.halts
	if e.unreachable.Load() || e.plan.Unreachable.After <= 0 || h.answered.Load() || h.failed.Load() == 0 {
		return
	}
	e.unreachable.Store(true)
	ue := e.unreachableError()
	ue.Failures, ue.Never = h.failed.Load(), true
	h.add(ue)
}

// unreachableError describes the first failure: the target's, or the
// token endpoint's when it was the token request that could not connect.
func (e *Engine) unreachableError() *UnreachableError {
	ue := &UnreachableError{What: "target", Target: e.plan.Target, Last: "connection refused"}
	if p := e.halts.first.Load(); p != nil {
		ue.Last = (*p).Error()
		var te *client.TokenError
		if errors.As(*p, &te) {
			ue.What, ue.Target = "token endpoint", te.TokenURL
		}
	}
	return ue
}
