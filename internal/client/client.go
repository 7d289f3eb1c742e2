package client

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/floodgate-dev/floodgate/internal/metrics"
)

// Attempt is one HTTP attempt as the server saw it: the first sample of
// the two Do records per request.
type Attempt struct {
	// Number is 1 for the first attempt of a logical request.
	Number int
	// Replay marks the single replay after a 401 token refresh.
	Replay bool
	// Start is when the attempt was sent: its end less Latency. (Time
	// before the send, such as waiting for a connection, is the
	// generator's, and is not the attempt's.)
	Start time.Time
	// Latency is the transport's measure of the attempt (send to last
	// body byte), or the time RoundTrip took when it gave none.
	Latency time.Duration
	// Wait is the time spent waiting just before this attempt: the
	// Retry-After or backoff wait and the gate wait.
	Wait time.Duration
	// Status is the HTTP status, 0 when no response was received.
	Status int
	// Class is OK for 1xx–3xx statuses, Status for 4xx/5xx, and the
	// Classify class of Err otherwise. Callers with their own expected
	// statuses reclassify responses (OK or Status) themselves.
	Class metrics.Class
	// Err is the transport error; nil when a response was received.
	Err               error
	BytesIn, BytesOut int64
	// RateLimit holds the response's rate-limit headers.
	RateLimit RateLimit
	// Final is true for the logical request's last attempt: none
	// follows. When it is false one is due, unless the context ends
	// during the wait before it.
	Final bool
}

// Outcome is one logical request as the integration experienced it,
// retries and waits included: the second sample Do records.
type Outcome struct {
	// Status is the last attempt's status, 0 when it got no response.
	Status int
	// Class is the last attempt's class (see Attempt.Class); Budget when
	// the retry budget refused a retry; Timeout when the gate kept the
	// request from being sent at all.
	Class metrics.Class
	// Err is nil when the last attempt got a response and Do stopped
	// because it was not retryable (success or, say, a 400). Otherwise
	// it is the transport or auth error, the context's error when ctx
	// ended the request, or a *LostError when Lost.
	Err error
	// Attempts counts every attempt sent, the 401 replay included.
	Attempts int
	// Lost is true when the last attempt was retryable but Do stopped
	// (attempts, elapsed time, budget, or a gate closed too long). It is
	// false when ctx ended the request.
	Lost bool
	// Start is when Do was called; Total runs from Start to the end of
	// the last attempt or the decision to give up, waits included.
	Start time.Time
	Total time.Duration
	// Time spent waiting, by reason: the server's Retry-After, backoff,
	// and the shared gate (other VUs' Retry-After or a metered window).
	RetryAfterWait, BackoffWait, GateWait time.Duration
}

// Client sends logical requests with retries, authentication and the
// shared backoff gate over a Transport. It is safe for concurrent use;
// build it once per run and share it among all VUs.
type Client struct {
	t     Transport
	gates *Gates
	def   Policy

	rmu sync.Mutex
	rng *rand.Rand

	bmu     sync.RWMutex
	budgets map[budgetKey]*Budget
}

// Option configures a Client.
type Option func(*Client)

// WithGates makes the client use g, for example to share gates between
// clients. By default each Client has its own NewGates(0).
func WithGates(g *Gates) Option { return func(c *Client) { c.gates = g } }

// WithSeed seeds the jitter's random source, for reproducible runs. By
// default the seed is random.
func WithSeed(seed uint64) Option {
	return func(c *Client) { c.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }
}

// WithDefaultPolicy sets the policy Do uses when given a nil one. By
// default it is DefaultPolicy().
func WithDefaultPolicy(p Policy) Option { return func(c *Client) { c.def = p } }

// New returns a client sending through t.
func New(t Transport, opts ...Option) *Client {
	c := &Client{t: t, def: DefaultPolicy(), budgets: make(map[budgetKey]*Budget)}
	for _, o := range opts {
		o(c)
	}
	if c.gates == nil {
		c.gates = NewGates(0)
	}
	if c.rng == nil {
		s := rand.Uint64()
		c.rng = rand.New(rand.NewPCG(s, s^0x9e3779b97f4a7c15))
	}
	return c
}

// Gates returns the client's gates.
func (c *Client) Gates() *Gates { return c.gates }

// Budget returns the budget Do uses for limit key and cfg, creating it
// on first use. Budgets are per (key, cfg): retries against one set of
// credentials cannot starve another's.
func (c *Client) Budget(key string, cfg BudgetConfig) *Budget {
	k := budgetKey{key, cfg}
	c.bmu.RLock()
	b := c.budgets[k]
	c.bmu.RUnlock()
	if b != nil {
		return b
	}
	c.bmu.Lock()
	defer c.bmu.Unlock()
	if b = c.budgets[k]; b == nil {
		b = NewBudget(cfg)
		c.budgets[k] = b
	}
	return b
}

// LimitKey returns the gate and budget key Do uses: pol.LimitKey, else
// auth's Key, else "default".
func LimitKey(pol *Policy, auth Authenticator) string {
	if pol != nil && pol.LimitKey != "" {
		return pol.LimitKey
	}
	if auth != nil {
		if k := auth.Key(); k != "" {
			return k
		}
	}
	return "default"
}

// Do sends req until it succeeds, fails for good, or pol says stop, and
// returns the logical request's outcome; resp holds the last response.
// Each attempt: wait for the gate of the limit key → auth.Apply →
// Transport.RoundTrip → decide → onAttempt (when non-nil), told
// whether the attempt is the last:
//
//   - A 401 with an authenticator that can refresh (OAuth2): invalidate
//     the token and replay once at once; the replay is an attempt but not
//     a retry (no budget, no MaxAttempts).
//   - A status in pol.On or a transport error class in pol.OnClasses is
//     retryable; non-idempotent methods only on 429, 503 and Connect
//     unless pol.NonIdempotent. Anything else ends the request.
//   - With pol.HonorRetryAfter, a Retry-After (on a 429 without one, the
//     rate-limit reset when no quota remains) replaces backoff: the wait
//     is min(Retry-After, MaxWait). A 429's wait also closes the gate for
//     the key until it ends (when pol.Gate), so other VUs wait too. If
//     the server asks for longer than what MaxElapsed leaves, the request
//     is lost at once rather than waiting in vain.
//   - Otherwise the wait is pol.Backoff(n) with the client's jitter.
//   - A retry is given up (Lost) when MaxAttempts are used, the wait
//     would pass MaxElapsed, or the budget refuses (Class Budget).
//
// ctx ends every wait and the transport call; Do then returns at once
// with ctx's error. pol nil means the client's default policy; auth may
// be nil; resp may be nil when the caller does not need the response. Do never panics on a request's account and, when no retry is
// needed, does not allocate beyond what the transport and auth do.
func (c *Client) Do(ctx context.Context, req *Request, resp *Response, pol *Policy, auth Authenticator, onAttempt func(Attempt)) Outcome {
	var out Outcome
	c.DoInto(ctx, req, resp, pol, auth, onAttempt, &out)
	return out
}

// DoInto is Do writing the outcome to out. If out.Start is set, it is
// taken as when the request began (the caller has just read the clock);
// the rest of out is overwritten. Its own frame is small: it is
// on the stack of every VU while the transport waits for a response, and
// at 10,000 VUs each byte there is 10 KB (see doLoop).
func (c *Client) DoInto(ctx context.Context, req *Request, resp *Response, pol *Policy, auth Authenticator, onAttempt func(Attempt), out *Outcome) {
	if resp == nil {
		resp = new(Response)
	}
	// The loop's state lives in resp, which its owner reuses, rather
	// than in this frame. out is not a field of it: the state's fields
	// escape (req and ctx go through interfaces), and out would too.
	d := &resp.loop
	*d = doLoop{}
	d.c, d.ctx, d.req, d.resp, d.pol, d.auth, d.onAttempt = c, ctx, req, resp, pol, auth, onAttempt
	defer func() { *d = doLoop{} }() // keep no references past the call
	if !d.init(out) {
		return
	}
	for d.before(out) {
		// The clock is read only when something may have taken time
		// since the request began: a gate wait or an earlier attempt.
		aStart := d.start
		if out.Attempts > 0 || d.gw > 0 {
			aStart = time.Now()
		}
		if out.Attempts == 0 && d.budget != nil {
			d.budget.RecordFirst(aStart)
		}
		resp.Latency, resp.Start = 0, time.Time{}
		err := c.t.RoundTrip(ctx, req, resp)
		if !d.after(out, aStart, err) {
			return
		}
	}
}

// doLoop is DoInto's state between attempts. Its methods hold the work
// before and after an attempt, so that their locals (an Attempt with its
// RateLimit, the retry decision) are not in the frame that stays on the
// stack while the transport waits: VU goroutines then fit in 4 KiB
// stacks instead of 8 (bench/HISTORY.md, change 2).
type doLoop struct {
	c         *Client
	ctx       context.Context
	req       *Request
	resp      *Response
	pol       *Policy
	auth      Authenticator
	onAttempt func(Attempt)

	start, deadline     time.Time
	key                 string
	gates               *Gates
	budget              *Budget
	maxAttempts         int
	replayed, replaying bool
	lastErr             error
	pending             time.Duration // the retry wait just before the next attempt
	tk                  Ticket
	gw                  time.Duration
}

//go:noinline
func (d *doLoop) init(out *Outcome) bool {
	if d.pol == nil {
		d.pol = &d.c.def
	}
	d.start = out.Start
	if d.start.IsZero() {
		d.start = time.Now()
	}
	*out = Outcome{Start: d.start}
	if d.req == nil {
		out.Err, out.Class = errNilRequest, metrics.Other
		return false
	}
	pol := d.pol
	if pol.MaxElapsed > 0 {
		d.deadline = d.start.Add(pol.MaxElapsed)
	}
	d.key = LimitKey(pol, d.auth)
	if pol.Gate {
		d.gates = d.c.gates
	}
	d.maxAttempts = max(pol.MaxAttempts, 1)
	if pol.Budget != nil && d.maxAttempts > 1 {
		d.budget = d.c.Budget(d.key, *pol.Budget)
	}
	return true
}

// before waits for the gate and applies auth; false ends the request.
//
//go:noinline
func (d *doLoop) before(out *Outcome) bool {
	tk, gw, err := d.gates.Wait(d.ctx, d.key, d.deadline)
	d.tk, d.gw = tk, gw
	out.GateWait += gw
	if err != nil {
		if d.ctx.Err() != nil {
			out.interrupted(err, d.start)
			return false
		}
		if out.Attempts == 0 {
			out.Class = metrics.Timeout
		}
		out.lose(ErrGateClosed, err, d.start)
		return false
	}
	if d.auth != nil {
		if err := d.auth.Apply(d.ctx, d.req); err != nil {
			d.gates.Done(tk, time.Now(), 0, nil)
			if d.ctx.Err() != nil {
				out.interrupted(err, d.start)
				return false
			}
			out.Err, out.Class = err, Classify(err)
			out.Total = time.Since(d.start)
			return false
		}
	}
	return true
}

// after records the attempt that started at aStart and decides what
// comes next, waiting out a retry's delay; false ends the request.
//
//go:noinline
func (d *doLoop) after(out *Outcome, aStart time.Time, err error) bool {
	resp, pol, gates, key := d.resp, d.pol, d.gates, d.key
	var aEnd time.Time
	if !resp.Start.IsZero() { // the transport's own account spares a clock read
		aEnd = resp.Start.Add(resp.Latency)
	} else {
		aEnd = time.Now()
	}
	out.Attempts++
	a := Attempt{
		Number:   out.Attempts,
		Replay:   d.replaying,
		Latency:  resp.Latency,
		Wait:     d.pending + d.gw,
		BytesIn:  resp.BytesIn,
		BytesOut: resp.BytesOut,
	}
	if a.Latency <= 0 {
		a.Latency = aEnd.Sub(aStart)
	}
	a.Start = aEnd.Add(-a.Latency)
	status := 0
	if err != nil {
		a.Class, a.Err = Classify(err), err
	} else {
		status = resp.Status
		a.Status, a.Class = status, statusClass(status)
		a.RateLimit = resp.RateLimit(aEnd)
	}

	// The server's wait, if any: Retry-After, or for a 429 without
	// one, the reset of an exhausted window.
	rl := &a.RateLimit
	ra, hasRA := rl.RetryAfter, rl.HasRetryAfter
	if !hasRA && status == 429 && rl.HasReset && (!rl.HasRemaining || rl.Remaining == 0) {
		ra, hasRA = rl.Reset, true
	}
	honor := pol.HonorRetryAfter && hasRA
	wait := ra
	if pol.MaxWait > 0 {
		wait = min(wait, pol.MaxWait)
	}
	if gates != nil && status == 429 && honor {
		gates.Close(key, aEnd.Add(wait)) // before Done, so no waiter slips through as a probe
	}
	gates.Done(d.tk, aEnd, status, rl)
	out.Status, out.Class, d.lastErr = status, a.Class, err
	d.pending, d.replaying = 0, false
	again, delay, now := d.decide(out, &a, aEnd, err, honor, ra, wait)
	if d.onAttempt != nil {
		a.Final = !again
		d.onAttempt(a)
	}
	if !again {
		return false
	}
	if delay > 0 {
		err := Sleep(d.ctx, delay)
		slept := time.Since(now)
		if honor {
			out.RetryAfterWait += slept
		} else {
			out.BackoffWait += slept
		}
		d.pending = slept
		if err != nil {
			out.interrupted(err, d.start)
			return false
		}
	}
	return true
}

// decide says whether attempt a, which ended at aEnd with err, is
// followed by another, and after what delay (from now); when it is not,
// it finishes out. honor, ra and wait are the server's requested wait:
// whether it is honoured, its length, and that capped by MaxWait.
func (d *doLoop) decide(out *Outcome, a *Attempt, aEnd time.Time, err error, honor bool, ra, wait time.Duration) (again bool, delay time.Duration, now time.Time) {
	pol, status := d.pol, a.Status
	if err == nil && status == 401 && d.auth != nil && !d.replayed && d.auth.Invalidate(d.req) {
		d.replayed, d.replaying = true, true
		return true, 0, now
	}
	if err != nil && d.ctx.Err() != nil {
		out.interrupted(err, d.start)
		return false, 0, now
	}
	if !pol.retryable(d.req, status, a.Class, err != nil) {
		out.Err = err
		out.Total = aEnd.Sub(d.start)
		return false, 0, now
	}

	tries := out.Attempts
	if d.replayed {
		tries--
	}
	if tries >= d.maxAttempts {
		out.lose(ErrMaxAttempts, d.lastErr, d.start)
		return false, 0, now
	}
	now = time.Now()
	if honor {
		if !d.deadline.IsZero() && now.Add(ra).After(d.deadline) {
			out.lose(ErrMaxElapsed, d.lastErr, d.start)
			return false, 0, now
		}
		delay = wait
	} else {
		delay = pol.Backoff(tries, d.c.uniform())
	}
	if !d.deadline.IsZero() && now.Add(delay).After(d.deadline) {
		out.lose(ErrMaxElapsed, d.lastErr, d.start)
		return false, 0, now
	}
	// A 429 whose Retry-After we honour is a retry the server
	// scheduled, and the gate already keeps every VU behind it: the
	// budget guards against retries nobody asked for (5xx, resets),
	// which is where storms come from.
	if d.budget != nil && !(honor && status == 429) && !d.budget.AllowRetry(now) {
		out.Class = metrics.Budget
		out.lose(ErrBudgetExhausted, d.lastErr, d.start)
		return false, 0, now
	}
	return true, delay, now
}

var errNilRequest = errors.New("client: nil request")

// lose ends a retryable request that Do stopped retrying.
func (o *Outcome) lose(reason, last error, start time.Time) {
	o.Lost = true
	o.Err = &LostError{Reason: reason, Attempts: o.Attempts, Status: o.Status, Err: last}
	o.Total = time.Since(start)
}

// interrupted ends a request because ctx is done. err is what the
// interrupted call returned.
func (o *Outcome) interrupted(err error, start time.Time) {
	o.Err = err
	if o.Attempts == 0 || o.Status == 0 {
		o.Class = Classify(err)
	}
	o.Total = time.Since(start)
}

// uniform returns a draw from [0, 1) from the client's seeded source.
func (c *Client) uniform() float64 {
	c.rmu.Lock()
	u := c.rng.Float64()
	c.rmu.Unlock()
	return u
}

// statusClass is the default class of a response: 1xx–3xx are OK.
func statusClass(status int) metrics.Class {
	if status >= 100 && status < 400 {
		return metrics.OK
	}
	return metrics.Status
}

// Sleep waits d or until ctx is done, whichever is first, and returns
// ctx's error in the second case. A d ≤ 0 returns at once.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
