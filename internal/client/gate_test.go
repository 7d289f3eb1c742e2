package client

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

func TestGateOpenFastPath(t *testing.T) {
	g := NewGates(0)
	ctx := context.Background()
	if tk, w, err := g.Wait(ctx, "k", time.Time{}); err != nil || w != 0 || tk.Probe() {
		t.Fatalf("open gate: %v %v %v", tk, w, err)
	}
	if n := testing.AllocsPerRun(100, func() { _, _, _ = g.Wait(ctx, "k", time.Time{}) }); n != 0 {
		t.Errorf("Wait on open gate: %v allocs", n)
	}
	var nilGates *Gates
	if _, _, err := nilGates.Wait(ctx, "k", time.Time{}); err != nil {
		t.Errorf("nil Gates: %v", err)
	}
	nilGates.Done(Ticket{probe: true}, time.Now(), 200, nil)
}

func TestGateCloseProbeReopen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := NewGates(0)
		ctx := context.Background()
		start := time.Now()
		g.Close("k", start.Add(5*time.Second))
		if until, open := g.Until("k"); open || !until.Equal(start.Add(5*time.Second)) {
			t.Fatalf("Until = %v, %v", until, open)
		}
		// A later Close with an earlier time does not shorten the wait.
		g.Close("k", start.Add(time.Second))

		probe, w, err := g.Wait(ctx, "k", time.Time{})
		if err != nil || w != 5*time.Second || !probe.Probe() {
			t.Fatalf("first waiter: probe=%v waited %v, %v; want probe after 5s", probe.Probe(), w, err)
		}
		// While the probe is out, others wait for its verdict.
		var admitted atomic.Int32
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() {
				tk, _, err := g.Wait(ctx, "k", time.Time{})
				if err != nil || tk.Probe() {
					t.Errorf("follower: probe=%v err=%v", tk.Probe(), err)
				}
				admitted.Add(1)
			})
		}
		synctest.Wait()
		if n := admitted.Load(); n != 0 {
			t.Fatalf("%d followers admitted while the probe was out", n)
		}
		// A response without rate-limit headers opens the gate fully.
		g.Done(probe, time.Now(), 200, &RateLimit{})
		wg.Wait()
		if _, open := g.Until("k"); !open {
			t.Error("gate not open after a successful probe")
		}
	})
}

func TestGateProbeMetering(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := NewGates(0)
		ctx := context.Background()
		g.Close("k", time.Now())
		probe, _, _ := g.Wait(ctx, "k", time.Time{})
		if !probe.Probe() {
			t.Fatal("no probe")
		}
		// The probe's response: 2 left, window resets in 10 s.
		g.Done(probe, time.Now(), 200, &RateLimit{Remaining: 2, HasRemaining: true, Reset: 10 * time.Second, HasReset: true})
		t0 := time.Now()
		for i := range 2 {
			if _, w, err := g.Wait(ctx, "k", time.Time{}); err != nil || w != 0 {
				t.Fatalf("permit %d: waited %v, %v", i, w, err)
			}
		}
		// The third waits for the reset, and probes.
		tk, w, err := g.Wait(ctx, "k", time.Time{})
		if err != nil || w != 10*time.Second || !tk.Probe() || time.Since(t0) != 10*time.Second {
			t.Fatalf("after quota: probe=%v waited %v, %v", tk.Probe(), w, err)
		}
		// The probe gets 5 left; only 1 is used before the reset, so the
		// gate opens fully when the window resets.
		g.Done(tk, time.Now(), 200, &RateLimit{Remaining: 5, HasRemaining: true, Reset: 10 * time.Second, HasReset: true})
		if _, w, _ := g.Wait(ctx, "k", time.Time{}); w != 0 {
			t.Fatalf("metered permit waited %v", w)
		}
		wait(ctx, 11*time.Second)
		if _, w, err := g.Wait(ctx, "k", time.Time{}); w != 0 || err != nil {
			t.Fatalf("after reset with quota left: waited %v, %v", w, err)
		}
		if _, open := g.Until("k"); !open {
			t.Error("gate still metering after a window with quota to spare")
		}
	})
}

func TestGateProbeNoVerdictHandsOver(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := NewGates(time.Minute)
		ctx := context.Background()
		g.Close("k", time.Now())
		p1, _, _ := g.Wait(ctx, "k", time.Time{})
		done := make(chan Ticket)
		go func() {
			tk, _, _ := g.Wait(ctx, "k", time.Time{})
			done <- tk
		}()
		synctest.Wait()
		g.Done(p1, time.Now(), 0, nil) // the probe was never sent
		if p2 := <-done; !p2.Probe() {
			t.Fatal("next waiter did not become the probe")
		}
	})
}

func TestGateProbeTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := NewGates(30 * time.Second)
		ctx := context.Background()
		g.Close("k", time.Now())
		if p, _, _ := g.Wait(ctx, "k", time.Time{}); !p.Probe() {
			t.Fatal("no probe")
		}
		// The probe never reports; after the probe timeout another goes.
		tk, w, err := g.Wait(ctx, "k", time.Time{})
		if err != nil || !tk.Probe() || w != 30*time.Second {
			t.Fatalf("second probe after %v: %v %v", w, tk.Probe(), err)
		}
	})
}

func TestGateDeadlineAndContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := NewGates(0)
		now := time.Now()
		g.Close("k", now.Add(time.Minute))
		// Closed past the deadline: refused at once.
		_, w, err := g.Wait(context.Background(), "k", now.Add(10*time.Second))
		var le *LimitedError
		if !errors.As(err, &le) || !errors.Is(err, ErrGateClosed) || w != 0 || le.Wait != time.Minute || le.Key != "k" {
			t.Fatalf("Wait past deadline = %v, %v", w, err)
		}
		// ctx ends the wait.
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_, w, err = g.Wait(ctx, "k", time.Time{})
		if !errors.Is(err, context.DeadlineExceeded) || w != 3*time.Second {
			t.Fatalf("Wait with ctx = %v, %v", w, err)
		}
		// Other keys are unaffected.
		if _, w, err := g.Wait(context.Background(), "other", time.Time{}); w != 0 || err != nil {
			t.Fatalf("other key: %v %v", w, err)
		}
	})
}

// TestGateNoHerd runs 50 VUs behind one key against a server allowing 5
// requests per 10 s window. After the first window, where everyone starts
// at once, the gate lets the server see at most its quota plus one probe
// per window and at most one 429; without the gate, every window opens
// with a herd of 429s.
func TestGateNoHerd(t *testing.T) {
	const (
		vus    = 50
		k      = 5
		window = 10 * time.Second
		run    = 95 * time.Second
	)
	simulate := func(t *testing.T, gate bool, latency time.Duration) (requests, limited map[int64]int, outcomes []Outcome) {
		synctest.Test(t, func(t *testing.T) {
			lim := newWindowLimiter(time.Now(), window, k)
			lim.latency = latency
			c := New(HandlerTransport{lim}, WithSeed(1))
			pol := testPolicy(func(p *Policy) {
				p.Gate = gate
				p.MaxAttempts = 20
				p.MaxElapsed = 10 * time.Minute
				p.Budget = nil
			})
			ctx, cancel := context.WithTimeout(context.Background(), run)
			defer cancel()
			var mu sync.Mutex
			var wg sync.WaitGroup
			for range vus {
				wg.Go(func() {
					req, resp := getReq("http://api.test/api/v2/users/me"), &Response{}
					for ctx.Err() == nil {
						out := c.Do(ctx, req, resp, pol, nil, nil)
						mu.Lock()
						outcomes = append(outcomes, out)
						mu.Unlock()
						wait(ctx, 100*time.Millisecond) // think time
					}
				})
			}
			wg.Wait()
			requests, limited = lim.snapshot()
		})
		return requests, limited, outcomes
	}

	checkGate := func(t *testing.T, latency time.Duration) {
		requests, limited, outcomes := simulate(t, true, latency)
		var ok, total429 int
		for w := int64(1); w < int64(run/window); w++ {
			if limited[w] > 1 || requests[w] > k+1 {
				t.Errorf("window %d: %d requests, %d 429s; want ≤ %d and ≤ 1", w, requests[w], limited[w], k+1)
			}
			total429 += limited[w]
		}
		var gateWait time.Duration
		for _, o := range outcomes {
			if o.Status == 200 {
				ok++
			}
			gateWait += o.GateWait
		}
		if ok < k*int(run/window) {
			t.Errorf("%d successes, want ≥ %d: the gate must not waste quota", ok, k*int(run/window))
		}
		if gateWait == 0 {
			t.Error("no gate wait recorded")
		}
		t.Logf("with gate: windows 1.. saw %d 429s; %d successes; window 0: %d requests, %d 429s",
			total429, ok, requests[0], limited[0])
	}
	for _, latency := range []time.Duration{0, 50 * time.Millisecond} {
		t.Run("gate/latency="+latency.String(), func(t *testing.T) { checkGate(t, latency) })
	}
	t.Run("no gate", func(t *testing.T) {
		_, limited, _ := simulate(t, false, 50*time.Millisecond)
		var total429 int
		for w := int64(1); w < int64(run/window); w++ {
			total429 += limited[w]
		}
		if total429 < 10*int(run/window-1) {
			t.Errorf("without the gate only %d 429s: the herd scenario is not exercised", total429)
		}
		t.Logf("without gate: windows 1.. saw %d 429s", total429)
	})
}

// TestGateServesWaitersInArrivalOrder: once the gate meters a window's
// quota, permits go first come, first served, so a VU that loops fast
// cannot starve one that has waited longer.
func TestGateServesWaitersInArrivalOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := NewGates(0)
		g.Close("k", time.Now().Add(time.Second))
		type got struct {
			who int
			tk  Ticket
		}
		order := make(chan got, 5)
		for i := 1; i <= 5; i++ {
			go func() {
				tk, _, err := g.Wait(context.Background(), "k", time.Time{})
				if err != nil {
					t.Error(err)
				}
				order <- got{i, tk}
			}()
			synctest.Wait() // waiter i is queued before i+1 starts
		}
		first := <-order
		if first.who != 1 || !first.tk.Probe() {
			t.Fatalf("first through: waiter %d (probe %v), want waiter 1 as the probe", first.who, first.tk.Probe())
		}
		g.Done(first.tk, time.Now(), 200, &RateLimit{Remaining: 2, Reset: 10 * time.Second, HasRemaining: true, HasReset: true})
		// The two permits go to the two waiters at the head of the queue.
		// Which of them reports first is the scheduler's choice, not the
		// gate's: wait until both have, and compare the set.
		synctest.Wait()
		if len(order) != 2 {
			t.Fatalf("%d waiters passed with a quota of 2", len(order))
		}
		if a, b := (<-order).who, (<-order).who; min(a, b) != 2 || max(a, b) != 3 {
			t.Fatalf("permits went to waiters %d and %d, want 2 and 3", a, b)
		}
		time.Sleep(10 * time.Second) // the metered window resets
		next := <-order
		if next.who != 4 || !next.tk.Probe() {
			t.Fatalf("after the reset: waiter %d (probe %v), want waiter 4 as the probe", next.who, next.tk.Probe())
		}
		g.Done(next.tk, time.Now(), 200, nil) // no headers: open fully
		if w := (<-order).who; w != 5 {
			t.Fatalf("last waiter %d, want 5", w)
		}
	})
}
