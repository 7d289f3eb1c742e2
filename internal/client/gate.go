package client

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultProbeTimeout is how long a gate's waiters wait for an
// outstanding probe to report before they admit another one.
const DefaultProbeTimeout = 30 * time.Second

// Gates holds one shared backoff gate per rate-limit key, so that every
// VU sending with the same credentials stops behind one Retry-After
// instead of piling more 429s onto the server.
//
// A gate is open until Close shuts it. When the closing time passes it
// is half-open: exactly one request, the probe, is admitted and every
// other waiter waits for the probe's result. If the probe gets a 429,
// its Retry-After closes the gate again. If it gets another response,
// the gate meters: when that response said how much quota Remains and
// when the window Resets, exactly Remaining more requests are admitted
// until the reset; if they use it all the gate is closed until the reset
// and probes again, and if the reset passes with quota left the gate
// opens fully. A response without those headers opens it fully. So
// after the first 429 the server sees at most one request per window
// beyond its quota (the probe), and none when its headers are accurate:
// no thundering herd when a window reopens.
//
// The zero Gates is not usable; build one with NewGates. Gates is safe
// for concurrent use. While every gate is open, Wait takes no lock; Wait
// on an open gate never allocates.
type Gates struct {
	probeTimeout time.Duration
	gen          uint64 // last generation handed to a gate; g.mu
	// active counts gates that are not fully open; while it is 0, Wait
	// returns at once without locking.
	active atomic.Int64

	mu sync.Mutex
	m  map[string]*gate
}

type gate struct {
	until    time.Time // closed before until
	halfOpen bool      // from until on: one probe at a time
	probeOut bool      // a probe is outstanding
	probeAt  time.Time // when it was admitted
	gen      uint64    // renewed by Close from Gates.gen; stale probes are ignored
	metered  bool      // admitting permits until meterEnd
	permits  int
	meterEnd time.Time
	changed  chan struct{} // closed and replaced on every state change
	// queue holds the waiters in arrival order; only the head may take a
	// probe or a permit, so the quota goes first come, first served.
	queue  []waiter
	nextID uint64
}

// waiter is one queued Wait. wake tells it that it became the head, so a
// turn passing down the queue wakes one goroutine, not all of them.
type waiter struct {
	id   uint64
	wake chan struct{}
}

// enqueue adds a waiter and returns its id and wake channel.
func (gt *gate) enqueue() (uint64, chan struct{}) {
	gt.nextID++
	w := waiter{id: gt.nextID, wake: make(chan struct{}, 1)}
	gt.queue = append(gt.queue, w)
	return w.id, w.wake
}

func (gt *gate) head(id uint64) bool { return len(gt.queue) > 0 && gt.queue[0].id == id }

// leave removes waiter id; when it was the head, the next one is woken.
func (gt *gate) leave(id uint64) {
	if gt.head(id) {
		gt.queue = gt.queue[1:]
		if len(gt.queue) > 0 {
			select {
			case gt.queue[0].wake <- struct{}{}:
			default:
			}
		}
		return
	}
	for i, w := range gt.queue {
		if w.id == id {
			gt.queue = append(gt.queue[:i], gt.queue[i+1:]...)
			return
		}
	}
}

// Ticket is what Wait hands out; pass it to Done with the admitted
// request's result. The zero Ticket (fully open gate) needs no Done.
type Ticket struct {
	key   string
	gen   uint64
	probe bool
}

// Probe reports whether the ticket's request is its gate's probe.
func (t Ticket) Probe() bool { return t.probe }

// NewGates returns an empty set of gates (all open). probeTimeout is how
// long waiters wait for a probe's result before admitting another probe;
// 0 means DefaultProbeTimeout.
func NewGates(probeTimeout time.Duration) *Gates {
	if probeTimeout <= 0 {
		probeTimeout = DefaultProbeTimeout
	}
	return &Gates{probeTimeout: probeTimeout, m: make(map[string]*gate)}
}

// Close closes key's gate until until (a later deadline already set
// wins), and makes it probe when it reopens. Close on a past time only
// arms the probe.
func (g *Gates) Close(key string, until time.Time) {
	g.mu.Lock()
	gt := g.m[key]
	if gt == nil {
		gt = &gate{changed: make(chan struct{})}
		g.m[key] = gt
		g.active.Add(1)
	}
	if until.After(gt.until) {
		gt.until = until
	}
	gt.halfOpen = true
	gt.probeOut = false
	gt.metered = false
	g.gen++
	gt.gen = g.gen
	gt.broadcast()
	g.mu.Unlock()
}

// Until returns when key's gate reopens (the zero Time when it is not
// closed by a deadline) and whether the gate is fully open.
func (g *Gates) Until(key string) (until time.Time, open bool) {
	if g.active.Load() == 0 {
		return time.Time{}, true
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	gt := g.m[key]
	if gt == nil {
		return time.Time{}, true
	}
	return gt.until, false
}

// Wait blocks until key's gate admits the caller, ctx is done, or it is
// clear that the gate will not admit the caller before deadline (the
// zero deadline means none). It returns the ticket to pass to Done and
// how long it waited. The error is ctx's error, or a *LimitedError
// (errors.Is ErrGateClosed) when the gate stays closed past deadline;
// Wait then returns at once rather than waiting in vain.
func (g *Gates) Wait(ctx context.Context, key string, deadline time.Time) (Ticket, time.Duration, error) {
	if g == nil || g.active.Load() == 0 {
		return Ticket{}, 0, nil
	}
	var start time.Time
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	var mine *gate // the gate this waiter is queued at, and its id there
	var id uint64
	var myTurn chan struct{}
	for {
		g.mu.Lock()
		gt := g.m[key]
		if gt == nil {
			g.mu.Unlock()
			return Ticket{}, waited(start), nil
		}
		if gt != mine { // first look, or the gate was replaced
			mine = gt
			id, myTurn = gt.enqueue()
		}
		// leave ends this waiter's turn: it goes (or gives up) now.
		leave := func() { gt.leave(id) }
		now := time.Now()
		if start.IsZero() {
			start = now
		}
		var wake time.Time // when to look again; zero: only on a change
		switch {
		case now.Before(gt.until):
			if !deadline.IsZero() && gt.until.After(deadline) {
				until := gt.until
				leave()
				g.mu.Unlock()
				return Ticket{}, waited(start), &LimitedError{Key: key, Wait: until.Sub(now)}
			}
			wake = gt.until
		case gt.metered && !now.Before(gt.meterEnd):
			if gt.permits > 0 { // the window reset with quota to spare: open
				g.open(key, gt)
				g.mu.Unlock()
				return Ticket{}, waited(start), nil
			}
			gt.metered, gt.halfOpen = false, true
			g.mu.Unlock()
			continue
		case gt.metered && !gt.head(id):
			// Not our turn: wait for the waiters ahead, or give up at
			// the deadline.
			if !deadline.IsZero() && now.After(deadline) {
				leave()
				g.mu.Unlock()
				return Ticket{}, waited(start), &LimitedError{Key: key, Wait: gt.meterEnd.Sub(now)}
			}
			if !deadline.IsZero() {
				wake = deadline.Add(time.Nanosecond)
			}
		case gt.metered:
			if gt.permits > 0 {
				gt.permits--
				leave()
				g.mu.Unlock()
				return Ticket{}, waited(start), nil
			}
			// Quota used up: closed until the reset, then probe.
			gt.until, gt.metered, gt.halfOpen = gt.meterEnd, false, true
			g.mu.Unlock()
			continue
		case gt.halfOpen && gt.head(id) && (!gt.probeOut || !now.Before(gt.probeAt.Add(g.probeTimeout))):
			gt.probeOut, gt.probeAt = true, now
			leave()
			t := Ticket{key: key, gen: gt.gen, probe: true}
			g.mu.Unlock()
			return t, waited(start), nil
		case gt.halfOpen:
			if gt.probeOut {
				wake = gt.probeAt.Add(g.probeTimeout)
			}
			if !deadline.IsZero() && now.After(deadline) {
				leave()
				g.mu.Unlock()
				return Ticket{}, waited(start), &LimitedError{Key: key, Wait: wake.Sub(now)}
			}
			if !deadline.IsZero() && (wake.IsZero() || wake.After(deadline)) {
				wake = deadline.Add(time.Nanosecond)
			}
		default: // neither closed, metered nor probing: open
			g.open(key, gt)
			g.mu.Unlock()
			return Ticket{}, waited(start), nil
		}
		changed := gt.changed
		g.mu.Unlock()

		var tc <-chan time.Time
		if !wake.IsZero() {
			if timer == nil {
				timer = time.NewTimer(wake.Sub(now))
			} else {
				timer.Reset(wake.Sub(now))
			}
			tc = timer.C
		}
		select {
		case <-ctx.Done():
			g.mu.Lock()
			mine.leave(id)
			g.mu.Unlock()
			return Ticket{}, waited(start), ctx.Err()
		case <-changed:
		case <-myTurn:
		case <-tc:
		}
	}
}

// Done reports the result of a request admitted with t, at now: status
// is its HTTP status (0 when it got none or was never sent) and rl its
// rate-limit headers. Only a probe's result matters: a 429 leaves the
// gate to Close, any other response meters or opens the gate, and no
// response lets the next waiter probe. Done is a no-op for non-probe
// tickets and cheap to call unconditionally.
func (g *Gates) Done(t Ticket, now time.Time, status int, rl *RateLimit) {
	if !t.probe || g == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	gt := g.m[t.key]
	if gt == nil || gt.gen != t.gen || !gt.probeOut {
		return // the gate moved on (closed again, or probe timed out and replaced)
	}
	gt.probeOut = false
	switch {
	case status == 0 || status == 429:
		// No verdict (or a 429 without a Retry-After to Close with):
		// stay half-open and let the next waiter probe.
	case rl != nil && rl.HasRemaining && rl.HasReset && rl.Reset > 0:
		gt.halfOpen = false
		if rl.Remaining > 0 {
			gt.metered, gt.permits, gt.meterEnd = true, rl.Remaining, now.Add(rl.Reset)
		} else {
			gt.until, gt.halfOpen = now.Add(rl.Reset), true
		}
	default:
		g.open(t.key, gt)
	}
	gt.broadcast()
}

// open removes gt, so key's gate is fully open. g.mu is held.
func (g *Gates) open(key string, gt *gate) {
	delete(g.m, key)
	g.active.Add(-1)
	gt.broadcast()
}

// broadcast wakes every waiter. g.mu is held.
func (gt *gate) broadcast() {
	close(gt.changed)
	gt.changed = make(chan struct{})
}

func waited(start time.Time) time.Duration {
	if start.IsZero() {
		return 0
	}
	return time.Since(start)
}
