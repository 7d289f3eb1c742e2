package diagnose

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/floodgate-dev/floodgate/internal/client"
	"github.com/floodgate-dev/floodgate/internal/emulator"
	"github.com/floodgate-dev/floodgate/internal/emulator/config"
	"github.com/floodgate-dev/floodgate/internal/engine"
	"github.com/floodgate-dev/floodgate/internal/jtl"
	"github.com/floodgate-dev/floodgate/internal/metrics"
	"github.com/floodgate-dev/floodgate/internal/plan"
)

// The gallery of walls, examples/walls/<case>/: each case is an emulator
// config and a plan run against it here (or a JTL that JMeter recorded
// against that config), and expect.yaml, the walls the diagnosis must
// name: each kind in order of onset, nothing else, and each wall's figure
// within ±10%.

// galleryExpect is a case's expect.yaml.
type galleryExpect struct {
	// Serial cases measure in-flight counts, which other runs sharing
	// the CPU blur: they run alone.
	Serial bool           `yaml:"serial"`
	Walls  []expectedWall `yaml:"walls"`
	// Absent lists words no finding's summary, evidence or advice may
	// hold (e.g. "permission" for a cap answered 403); Say, words the
	// diagnosis must hold.
	Absent []string `yaml:"absent"`
	Say    []string `yaml:"say"`
}

// expectedWall is one wall: its kind and the figures that place it.
// Zero figures are not checked.
type expectedWall struct {
	Kind     Kind    `yaml:"kind"`
	Count    float64 `yaml:"count"`      // a job cap's open jobs; a rate limit's count per window
	Lifetime float64 `yaml:"lifetime_s"` // a job's lifetime
	Window   float64 `yaml:"window_s"`   // a rate limit's window
	Rate     float64 `yaml:"rate"`       // a rate limit's rate
	InFlight float64 `yaml:"inflight"`   // a concurrency cap or knee
	Time     float64 `yaml:"time_s"`     // the onset (±10% of the run, or ±1 s)
}

const galleryDir = "../../examples/walls"

func TestGallery(t *testing.T) {
	entries, err := os.ReadDir(galleryDir)
	if err != nil {
		t.Fatal(err)
	}
	var serial []string
	t.Run("parallel", func(t *testing.T) {
		for _, e := range entries {
			if !e.IsDir() {
				continue
			}
			dir := filepath.Join(galleryDir, e.Name())
			exp := readExpect(t, dir)
			if exp.Serial {
				serial = append(serial, e.Name())
				continue
			}
			t.Run(e.Name(), func(t *testing.T) {
				t.Parallel()
				scoreCase(t, dir, exp)
			})
		}
	})
	for _, name := range serial {
		dir := filepath.Join(galleryDir, name)
		t.Run(name, func(t *testing.T) { scoreCase(t, dir, readExpect(t, dir)) })
	}
}

func readExpect(t *testing.T, dir string) galleryExpect {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "expect.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var exp galleryExpect
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&exp); err != nil {
		t.Fatalf("%s/expect.yaml: %v", dir, err)
	}
	return exp
}

// scoreCase runs (or reads) the case in dir and checks its diagnosis.
func scoreCase(t *testing.T, dir string, exp galleryExpect) {
	res := galleryResults(t, dir)
	d := Analyze(res)
	var b strings.Builder
	WriteText(&b, d)
	t.Logf("%s: statuses %v over %.1f s\n%s", filepath.Base(dir), res.Summary.Statuses, res.Summary.DurationS, b.String())
	// A loaded test machine can starve the generator (iterations really
	// dropped): that finding is true of the machine, not of the case's
	// wall, so it is set aside; without drops it would be a phantom and
	// still fails the case.
	if !slices.ContainsFunc(exp.Walls, func(w expectedWall) bool { return w.Kind == GeneratorBound }) && res.Summary.Stats.Dropped > 0 {
		d.Findings = slices.DeleteFunc(d.Findings, func(f Finding) bool {
			if f.Kind == GeneratorBound {
				t.Logf("set aside: the generator was starved (%d iterations dropped): %s", res.Summary.Stats.Dropped, f.Summary)
				return true
			}
			return false
		})
	}
	var got []string
	for _, f := range d.Findings {
		got = append(got, fmt.Sprintf("%s(%s)", f.Kind, OnsetText(f)))
	}
	t.Logf("gallery %s: expected %v, got %v", filepath.Base(dir), kindsOfExpect(exp), got)
	if len(d.Findings) != len(exp.Walls) {
		logSeries(t, res)
		t.Fatalf("%d findings %v, want %d: %v", len(d.Findings), got, len(exp.Walls), kindsOfExpect(exp))
	}
	for i, w := range exp.Walls {
		f := d.Findings[i]
		if f.Kind != w.Kind {
			t.Errorf("finding %d is %s, want %s", i+1, f.Kind, w.Kind)
			continue
		}
		check := func(what string, got, want float64) {
			if want != 0 && math.Abs(got-want) > 0.1*want {
				t.Errorf("%s: %s = %.3g, want %.3g ± 10%%", w.Kind, what, got, want)
			}
		}
		check("count", float64(f.Onset.Count), w.Count)
		check("lifetime (s)", f.Onset.Lifetime, w.Lifetime)
		check("window (s)", f.Onset.Window, w.Window)
		check("rate", f.Onset.Rate, w.Rate)
		check("in flight", f.Onset.InFlight, w.InFlight)
		if tol := math.Max(1, 0.1*res.Summary.DurationS); w.Time != 0 && math.Abs(f.Onset.Time-w.Time) > tol {
			t.Errorf("%s: onset t=%.1f s, want %.1f ± %.1f s", w.Kind, f.Onset.Time, w.Time, tol)
		}
	}
	text := strings.ToLower(b.String())
	for _, word := range exp.Say {
		if !strings.Contains(text, strings.ToLower(word)) {
			t.Errorf("the diagnosis does not say %q", word)
		}
	}
	for _, word := range exp.Absent {
		if strings.Contains(text, strings.ToLower(word)) {
			t.Errorf("the diagnosis says %q, which it must not here", word)
		}
	}
}

func kindsOfExpect(exp galleryExpect) []Kind {
	var ks []Kind
	for _, w := range exp.Walls {
		ks = append(ks, w.Kind)
	}
	return ks
}

// galleryResults reads dir's results.jtl, or runs dir's plan.yaml
// against dir's emulator.yaml served on 127.0.0.1:0 (a plan without an
// emulator.yaml runs against a port nothing listens on).
func galleryResults(t *testing.T, dir string) *metrics.Results {
	t.Helper()
	if fh, err := os.Open(filepath.Join(dir, "results.jtl")); err == nil {
		defer fh.Close()
		f, err := jtl.Read(fh)
		if err != nil {
			t.Fatal(err)
		}
		res, err := jtl.Results(f, metrics.RunInfo{Plan: filepath.Base(dir)})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var base string
	cfg, err := config.Load(filepath.Join(dir, "emulator.yaml"))
	switch {
	case err == nil:
		srv, err := emulator.New(cfg, emulator.WithLogger(slog.New(slog.DiscardHandler)))
		if err != nil {
			t.Fatal(err)
		}
		if base, err = srv.Start(ctx, "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
	case errors.Is(err, os.ErrNotExist):
		base = closedPort(t)
	default:
		t.Fatal(err)
	}
	getenv := func(k string) (string, bool) {
		switch k {
		case "TARGET":
			return base, true
		case "TARGET_TLS": // https to the same plain-HTTP port
			return "https" + strings.TrimPrefix(base, "http"), true
		}
		return "", false
	}
	p, err := plan.Load(filepath.Join(dir, "plan.yaml"), getenv)
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(p, engine.WithSeed(1))
	if err != nil {
		t.Fatal(err)
	}
	// A run stops early, with an error, on refused credentials or a
	// target that cannot be connected to: its results are what to judge.
	if err := e.Run(ctx); err != nil && !errors.Is(err, client.ErrCredentialsRefused) && !errors.Is(err, engine.ErrUnreachable) {
		t.Fatal(err)
	}
	info := metrics.RunInfo{Plan: p.Name, Target: base, Executors: map[string]string{}}
	for _, sc := range p.Scenarios {
		info.Executors[sc.Name] = sc.Executor.Kind()
	}
	res := e.Recorder().Results(info, e.Ended())
	if out := os.Getenv("FLOODGATE_DIAG_DUMP"); out != "" {
		if err := metrics.WriteDir(filepath.Join(out, filepath.Base(dir)), res); err != nil {
			t.Fatal(err)
		}
	}
	return res
}

// closedPort returns the base URL of a loopback port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}
