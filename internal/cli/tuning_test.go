package cli

import (
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/floodgate-dev/floodgate/internal/engine"
	"github.com/floodgate-dev/floodgate/internal/plan"
)

// TestTuneRuntime: GOGC drops to 50 for runs of more than manyVUs VUs,
// GOMAXPROCS rises to 2 for arrivals that wait in Go's poller on one
// thread; neither when the user set the variable, and both come back.
// Not parallel: it changes process-wide settings.
func TestTuneRuntime(t *testing.T) {
	newEngine := func(target, executor string) *engine.Engine {
		t.Helper()
		p, err := plan.Parse("", []byte("target: "+target+"\nscenarios:\n  s:\n    executor: "+executor+"\n    steps: [{request: {path: /}}]\n"), nil)
		if err != nil {
			t.Fatal(err)
		}
		e, err := engine.New(p)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	gc := func() int { was := debug.SetGCPercent(100); debug.SetGCPercent(was); return was }
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))

	many := newEngine("http://127.0.0.1:1", "{closed: {vus: 1001, iterations: 1}}")
	few := newEngine("http://127.0.0.1:1", "{closed: {vus: 1000, iterations: 1}}")
	tlsOpen := newEngine("https://127.0.0.1:1", "{open: {rate: 10/s, duration: 1s, max_vus: 2}}")

	for _, c := range []struct {
		name     string
		e        *engine.Engine
		vars     map[string]string
		gc, proc int
	}{
		{"1,001 VUs", many, nil, 50, 1},
		{"1,000 VUs", few, nil, 100, 1},
		{"GOGC set", many, map[string]string{"GOGC": "100"}, 100, 1},
		{"https arrivals on one thread", tlsOpen, nil, 100, 2},
		{"GOMAXPROCS set", tlsOpen, map[string]string{"GOMAXPROCS": "1"}, 100, 1},
	} {
		debug.SetGCPercent(100)
		runtime.GOMAXPROCS(1)
		restore := tuneRuntime(&newTestEnv(c.vars).Env, c.e)
		if g, p := gc(), runtime.GOMAXPROCS(0); g != c.gc || p != c.proc {
			t.Errorf("%s: GOGC %d, GOMAXPROCS %d; want %d and %d", c.name, g, p, c.gc, c.proc)
		}
		restore()
		if g, p := gc(), runtime.GOMAXPROCS(0); g != 100 || p != 1 {
			t.Errorf("%s: restored GOGC %d, GOMAXPROCS %d; want 100 and 1", c.name, g, p)
		}
	}
}
