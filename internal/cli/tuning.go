package cli

import (
	"runtime"
	"runtime/debug"

	"github.com/floodgate-dev/floodgate/internal/engine"
)

// Runtime tuning: the only place floodgate changes the Go runtime's own
// settings, for the length of a run. Each applies only when the user has
// not set its environment variable, which always wins. The measurements
// behind them are in bench/HISTORY.md.
//
//   - GOGC=50 for runs of more than manyVUs VUs. Thousands of VUs are
//     mostly live memory (their stacks, state and sockets) and the
//     request path allocates nothing, so collecting at half the heap's
//     growth costs little CPU and lowers the peak resident memory.
//   - GOMAXPROCS=2 where Go would run one thread (one CPU, or pinned to
//     one core), for plans whose open or batch arrivals wait in Go's
//     network poller (https targets, or any target off Linux; see
//     engine.ArrivalsInGoPoller). Go reads network readiness only when a
//     thread has nothing else to run, or every 10 ms, and a generator
//     behind its schedule always has something to run: with one thread,
//     arrivals dropped by the thousand after a stall. Elsewhere one
//     thread costs less CPU a request, and Go's choice stands.

// manyVUs is the concurrency above which a run trades a little CPU for
// memory.
const manyVUs = 1000

// tuneRuntime applies the settings above for e's run and returns what
// restores the previous ones.
func tuneRuntime(env *Env, e *engine.Engine) (restore func()) {
	var undo []func()
	if _, set := env.Getenv("GOGC"); !set && e.MaxConcurrency() > manyVUs {
		was := debug.SetGCPercent(50)
		undo = append(undo, func() { debug.SetGCPercent(was) })
	}
	if _, set := env.Getenv("GOMAXPROCS"); !set && runtime.GOMAXPROCS(0) < 2 && e.ArrivalsInGoPoller() {
		was := runtime.GOMAXPROCS(2)
		undo = append(undo, func() { runtime.GOMAXPROCS(was) })
	}
	return func() {
		for _, f := range undo {
			f()
		}
	}
}
