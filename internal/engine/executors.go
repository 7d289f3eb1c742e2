package engine

import (
	"context"
	"runtime"
	"sync"
	"time"

	"github.com/floodgate-dev/floodgate/internal/plan"
)

// runScenario runs one scenario's executor. startCtx ends when iterations
// must stop starting (Stop); runCtx when in-flight work must end (abort).
func (e *Engine) runScenario(startCtx, runCtx context.Context, sr *scenarioRun) error {
	// flightCtx carries in-flight iterations; it ends at abort, or when
	// the grace period after this scenario stops starting runs out.
	flightCtx, cancel := context.WithCancel(runCtx)
	defer cancel()
	ex := sr.sc.Executor
	switch {
	case ex.Closed != nil:
		c := ex.Closed
		iterCtx := startCtx
		if c.Duration > 0 {
			var stop context.CancelFunc
			iterCtx, stop = context.WithDeadline(startCtx, e.started.Add(c.Duration))
			defer stop()
		}
		go e.graceAfter(iterCtx, flightCtx, cancel)
		e.runClosed(iterCtx, flightCtx, sr)
	case ex.Open != nil:
		e.runArrivals(startCtx, flightCtx, cancel, sr, e.segment(newOpenSchedule(ex.Open)), ex.Open.Granularity)
	case ex.Batches != nil:
		e.runArrivals(startCtx, flightCtx, cancel, sr, e.segment(newBatchSchedule(ex.Batches)), 0)
	}
	return nil
}

// graceAfter cancels flight once stopped is done and the plan's grace
// period has passed, unless flight ends first.
func (e *Engine) graceAfter(stopped, flight context.Context, cancel context.CancelFunc) {
	select {
	case <-stopped.Done():
	case <-flight.Done():
		return
	}
	t := time.NewTimer(e.plan.Grace)
	defer t.Stop()
	select {
	case <-t.C:
		e.rec.NoteGraceCut(time.Now())
		cancel()
	case <-flight.Done():
	}
}

// runClosed starts the scenario's VUs evenly over the ramp-up; each runs
// iterations back to back until its count is done or iterCtx ends.
func (e *Engine) runClosed(iterCtx, flightCtx context.Context, sr *scenarioRun) {
	c := sr.sc.Executor.Closed
	var wg sync.WaitGroup
	for i := 0; i < c.VUs; i++ {
		if iterCtx.Err() != nil {
			break // stopped while VUs were starting: start no more
		}
		if !e.cfg.segment.owns(int64(i)) {
			continue // another segment's VU; its ramp-up slot stays its own
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if e.rampWait(iterCtx, rampOffset(i, c.VUs, c.RampUp)) {
				e.closedVU(iterCtx, flightCtx, sr, c)
			}
		}()
	}
	wg.Wait()
}

// rampWait waits until off after the start; false if iterCtx ended first.
//
//go:noinline
func (e *Engine) rampWait(iterCtx context.Context, off time.Duration) bool {
	if off <= 0 {
		return true
	}
	t := time.NewTimer(time.Until(e.started.Add(off)))
	defer t.Stop()
	select {
	case <-iterCtx.Done():
		return false
	case <-t.C:
		return true
	}
}

// closedVU runs one closed-model VU's iterations. Like every frame under
// which a VU waits for responses, it is kept small (see client.DoInto).
func (e *Engine) closedVU(iterCtx, flightCtx context.Context, sr *scenarioRun, c *plan.Closed) {
	v := e.newVU(sr)
	end := e.started.Add(c.Duration)
	for it := 0; c.Iterations == 0 || it < c.Iterations; it++ {
		now := time.Now()
		// The clock, not only the context, decides: the context's
		// deadline may fire a moment after the instant it names.
		if iterCtx.Err() != nil || (c.Duration > 0 && !now.Before(end)) {
			return
		}
		e.rec.Offered(v.shard, sr.firstStep, now)
		v.iterate(flightCtx, now, now)
	}
}

// maxLate is how late an arrival may be and still be sent; later ones
// are dropped in bulk (see runArrivals).
const maxLate = time.Second

// runArrivals dispatches iterations at their due times to a pool of VUs
// that grows up to the scenario's max_vus. An iteration due when no VU is
// free, and none may be added, is dropped and counted.
//
// It wakes at most once per granularity and then dispatches every
// iteration due by then. Each wake-up costs more than the requests it
// sends when the generator and the server idle between requests: the
// timer, the VU, the server's core and then the VU again are woken from
// idle, each a system call and, in a VM, an exit to the hypervisor. At
// 20,000/s against nginx on loopback a request took ~29 µs of the
// generator's CPU when sent on its own, against ~9 µs in a closed loop;
// see bench/README.md for the figures with a 1 ms granularity.
func (e *Engine) runArrivals(startCtx, flightCtx context.Context, cancel context.CancelFunc, sr *scenarioRun, sched schedule, granularity time.Duration) {
	jobs := make(chan time.Time) // unbuffered: a send succeeds only to an idle VU
	var wg sync.WaitGroup
	spawned := 0
	shard := e.rec.Shard()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	stopped := make(chan struct{})
	schedCtx, endSched := context.WithCancel(startCtx)
	defer endSched()
	go e.graceAfter(schedCtx, flightCtx, cancel)
	for _, v := range sr.warm {
		spawned++
		wg.Add(1)
		go func() {
			defer wg.Done()
			for due := range jobs {
				v.iterate(flightCtx, due, time.Now())
			}
		}()
	}
	sr.warm = nil
	woke := e.started // when the last wait ended
loop:
	for {
		off, ok := sched.next()
		if !ok {
			break
		}
		due := e.started.Add(off)
		now := time.Now()
		if late := now.Sub(due); late > maxLate {
			// Too far behind to catch up (a rate beyond this process, or
			// a long stall): pass over every arrival due by now, counted
			// offered and dropped, instead of offering each one late.
			if startCtx.Err() != nil {
				break
			}
			e.rec.DroppedN(shard, sr.firstStep, now, 1+sched.skipTo(now.Sub(e.started)))
			continue
		}
		if due.After(now) {
			wake := due
			if w := woke.Add(granularity); w.After(wake) {
				wake = w
			}
			timer.Reset(wake.Sub(now))
			select {
			case <-startCtx.Done():
				break loop
			case <-timer.C:
			}
			woke = time.Now()
		} else if startCtx.Err() != nil {
			break
		}
		e.rec.Offered(shard, sr.firstStep, due)
		select {
		case jobs <- due:
			continue
		default:
		}
		// No VU is waiting. VUs handed an arrival or back from one may
		// simply not have run yet: this loop does not block while it
		// catches up after a stall (GC, a busy core), and on one core a
		// VU it hands work to waits behind it. Let them run and take the
		// arrival before adding a VU or dropping it.
		runtime.Gosched()
		select {
		case jobs <- due:
		default:
			if spawned >= sr.maxVUs {
				e.rec.Dropped(shard, sr.firstStep, due)
				continue
			}
			spawned++
			wg.Add(1)
			go func(first time.Time) {
				defer wg.Done()
				v := e.newVU(sr)
				v.iterate(flightCtx, first, time.Now())
				for due := range jobs {
					v.iterate(flightCtx, due, time.Now())
				}
			}(due)
		}
	}
	endSched()
	close(jobs)
	close(stopped)
	wg.Wait()
}
