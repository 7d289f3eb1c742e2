package cli

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/floodgate-dev/floodgate/internal/emulator"
	"github.com/floodgate-dev/floodgate/internal/emulator/config"
	"github.com/floodgate-dev/floodgate/internal/metrics"
	"github.com/floodgate-dev/floodgate/internal/report"
)

// startEmulator serves the emulator in process on a free port, with time
// scaled by scale, and returns its base URL.
func startEmulator(t *testing.T, scale float64, tweak func(*emulator.Config)) string {
	t.Helper()
	cfg := emulator.DefaultConfig()
	cfg.TimeScale = scale
	cfg.ExportDir = t.TempDir()
	if tweak != nil {
		tweak(&cfg)
	}
	srv, err := emulator.New(cfg, emulator.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	url, err := srv.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return url
}

// example is one plan of examples/ and how the tests scale it down.
type example struct {
	file  string
	scale float64
	tweak func(*emulator.Config)
	// edit rewrites the plan's text (for a plan whose size is not
	// parameterised); vars are its environment.
	edit func(string) string
	vars map[string]string
	// failVars changes one number so that a threshold fails.
	failVars map[string]string
	// check looks at a green run's summary.
	check func(t *testing.T, s *metrics.Summary)
	// failing: steps fail in a green run (the plan shows a wall).
	failing bool
}

var examples = []example{
	{
		file:  "bot-burst.yaml",
		scale: 0.001, // 60 s windows last 60 ms
		edit: func(s string) string {
			return strings.Replace(s, "closed: {vus: 100, ramp_up: 10s, iterations: 50}", "closed: {vus: 20, ramp_up: 100ms, iterations: 25}", 1)
		},
		failVars: map[string]string{"MAX_AMPLIFICATION": "1.0"},
		check: func(t *testing.T, s *metrics.Summary) {
			// 500 requests against 300 per window: the gate meters them
			// through two windows (a 429 or two at most).
			if s.Requests != 500 || s.Succeeded != 500 || s.DurationS < 0.06 {
				t.Errorf("requests %d ok %d in %.3f s, want 500 over more than one 60 ms window", s.Requests, s.Succeeded, s.DurationS)
			}
		},
	},
	{
		file:  "bot-burst-wall.yaml",
		scale: 0.05, // 60 s windows last 3 s: the whole run falls in one
		edit: func(s string) string {
			return strings.Replace(s, "closed: {vus: 100, ramp_up: 10s, iterations: 50}", "closed: {vus: 20, ramp_up: 100ms, iterations: 25}", 1)
		},
		failVars: map[string]string{"MIN_REFUSED": "99%"},
		failing:  true,
		check: func(t *testing.T, s *metrics.Summary) {
			// 500 requests, retries off: a window's 300 get through, the
			// rest meet the wall.
			if s.Requests != 500 || s.Succeeded < 300 || s.Statuses["429"] < 100 || s.Retries != 0 {
				t.Errorf("requests %d ok %d 429 × %d retries %d; want 500, ≥ 300 ok, ≥ 100 refused, no retry",
					s.Requests, s.Succeeded, s.Statuses["429"], s.Retries)
			}
		},
	},
	{
		file:     "export-flow.yaml",
		scale:    0.01, // PENDING for 0.3 s
		vars:     map[string]string{"VUS": "2", "ITERATIONS": "2", "POLL_EVERY": "50ms"},
		failVars: map[string]string{"MAX_EXPORT_P95": "1ms"},
		check: func(t *testing.T, s *metrics.Summary) {
			for _, st := range s.Scenarios[0].Steps {
				if st.Requests != 4 || st.Succeeded != 4 {
					t.Errorf("step %s: %d requests, %d ok; want 4 of 4", st.Name, st.Requests, st.Succeeded)
				}
			}
		},
	},
	{
		file:     "bulk-export-storm.yaml",
		scale:    0.01,
		vars:     map[string]string{"SESSIONS": "60", "RAMP_UP": "500ms"},
		failVars: map[string]string{"MIN_REFUSED": "99%"},
		check: func(t *testing.T, s *metrics.Summary) {
			job := s.Scenarios[0].Steps[1]
			if job.FinalStatuses["202"] < 2 || job.FinalStatuses["429"] < 40 || job.FinalStatuses["202"]+job.FinalStatuses["429"] != 60 {
				t.Errorf("job creates %v: want most of 60 refused by the 2-jobs cap", job.FinalStatuses)
			}
		},
	},
	{
		file:     "agent-desk.yaml",
		scale:    0.01,
		vars:     map[string]string{"VUS": "3", "ITERATIONS": "8"},
		failVars: map[string]string{"MAX_WORK_P99": "1us"},
		check: func(t *testing.T, s *metrics.Summary) {
			steps := map[string]metrics.Stats{}
			for _, sc := range s.Scenarios {
				for _, st := range sc.Steps {
					steps[st.Name] = st.Stats
				}
			}
			msg, browse := steps["work/message"].Requests, steps["work/browse"].Requests
			switch {
			case steps["whoami"].Requests != 3:
				t.Errorf("whoami ran %d times, want once per VU (3)", steps["whoami"].Requests)
			case steps["work"].Requests != 24 || msg+browse != 24 || msg == 0 || browse == 0:
				t.Errorf("work %d: message %d + browse %d, want 24 picks of both", steps["work"].Requests, msg, browse)
			case steps["read_back"].Requests != msg || steps["read_back/GET /api/v2/conversations/{{.conversation_id}}"].Requests != 2*msg:
				t.Errorf("read_back %d, want one per message (%d), two reads each", steps["read_back"].Requests, msg)
			case steps["work/browse/jobs_page"].Requests != 3*browse:
				t.Errorf("jobs pages %d, want 3 per browse (%d)", steps["work/browse/jobs_page"].Requests, browse)
			case steps["participants"].Requests != msg || steps["participants/GET /api/v2/conversations/{{.conversation_id}}"].Requests < msg:
				t.Errorf("participants %d, %d reads: want one repeat per message, a read per participant", steps["participants"].Requests, steps["participants/GET /api/v2/conversations/{{.conversation_id}}"].Requests)
			case steps["token"].Succeeded != 8:
				t.Errorf("token: %d ok, want 8", steps["token"].Succeeded)
			}
		},
	},
	{
		file:  "analytics-after-lag.yaml",
		scale: 0.01,
		tweak: func(c *emulator.Config) { c.Analytics.JobDataLag = config.Duration(30 * time.Second) }, // 0.3 s
		vars:  map[string]string{"VUS": "2", "ITERATIONS": "1", "POLL_EVERY": "50ms"},
		// The wait for data is the lag (0.3 s) plus the 1 s bar.
		failVars: map[string]string{"MAX_LAG": "1s"},
		check: func(t *testing.T, s *metrics.Summary) {
			// The bar is set when the iteration starts, and the poll only
			// starts once the conversation is made: from the iteration's
			// start (create_conversation's due time) to the data, at least
			// 1.3 s pass, however long the conversation took to make. The
			// iterations' slowest creation and slowest poll bound every
			// iteration's sum.
			var create, poll *metrics.StepSummary
			for i, st := range s.Scenarios[0].Steps {
				switch st.Name {
				case "create_conversation":
					create = &s.Scenarios[0].Steps[i]
				case "data_available":
					poll = &s.Scenarios[0].Steps[i]
				}
			}
			if create == nil || poll == nil {
				t.Fatal("no create_conversation or data_available step")
			}
			made, waited := create.Latency.FromDue.Max, poll.Latency.FromDue.Max
			if made+waited < 1300 || poll.Attempts < 4 {
				t.Errorf("conversation made in ≤ %v ms, data_available: %v ms over %d polls; want ≥ 1.3 s from the iteration's start to the data",
					made, waited, poll.Attempts)
			}
		},
	},
}

// runExample runs an example plan through `floodgate run` against an
// in-process emulator and returns the error, the results dir and stdout.
func runExample(t *testing.T, ex example, extra map[string]string) (error, string, string) {
	t.Helper()
	target := startEmulator(t, ex.scale, ex.tweak)
	path := filepath.Join("..", "..", "examples", ex.file)
	if ex.edit != nil {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		edited := ex.edit(string(b))
		if edited == string(b) {
			t.Fatalf("%s: the edit changed nothing", ex.file)
		}
		path = writePlan(t, edited)
	}
	vars := map[string]string{}
	for k, v := range ex.vars {
		vars[k] = v
	}
	for k, v := range extra {
		vars[k] = v
	}
	te := newTestEnv(vars)
	dir := filepath.Join(t.TempDir(), "results")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := Main(ctx, &te.Env, []string{"run", path, "--target", target, "--out", dir, "--seed", "1"})
	return err, dir, te.out.String()
}

func readSummary(t *testing.T, dir string) *metrics.Summary {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, metrics.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	var s metrics.Summary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return &s
}

// TestExamplesRunGreen runs every example plan, scaled down, against the
// emulator: every threshold passes, and junit.xml says so.
func TestExamplesRunGreen(t *testing.T) {
	t.Parallel()
	for _, ex := range examples {
		t.Run(ex.file, func(t *testing.T) {
			t.Parallel()
			err, dir, out := runExample(t, ex, nil)
			if err != nil {
				t.Fatalf("exit code %d: %v\n%s", ExitCode(err), err, out)
			}
			s := readSummary(t, dir)
			if len(s.Thresholds) == 0 || (len(s.Failures) != 0) != ex.failing {
				t.Fatalf("thresholds %+v, failures %+v", s.Thresholds, s.Failures)
			}
			for _, th := range s.Thresholds {
				if !th.Passed {
					t.Errorf("threshold %s: %s", th.Threshold, th.Detail)
				}
			}
			junit, err := os.ReadFile(filepath.Join(dir, report.JUnitFile))
			if err != nil || !strings.Contains(string(junit), `failures="0"`) {
				t.Errorf("junit.xml (%v):\n%s", err, junit)
			}
			if !strings.Contains(out, "thresholds: ") {
				t.Errorf("the text summary has no thresholds:\n%s", out)
			}
			ex.check(t, s)
		})
	}
}

// TestExamplesThresholdsCanFail changes one number per example: the run
// exits with code 3, and junit.xml and summary.json name the failure.
func TestExamplesThresholdsCanFail(t *testing.T) {
	t.Parallel()
	for _, ex := range examples {
		t.Run(ex.file, func(t *testing.T) {
			t.Parallel()
			err, dir, out := runExample(t, ex, ex.failVars)
			if ExitCode(err) != ExitThresholds {
				t.Fatalf("exit code %d (%v), want %d\n%s", ExitCode(err), err, ExitThresholds, out)
			}
			if !strings.Contains(err.Error(), "1 of ") || !strings.Contains(err.Error(), "thresholds failed") {
				t.Errorf("error %q", err)
			}
			s := readSummary(t, dir)
			failed := 0
			for _, th := range s.Thresholds {
				if !th.Passed {
					failed++
					if th.Position == "" || !strings.Contains(th.Detail, "want") {
						t.Errorf("failed threshold %+v", th)
					}
				}
			}
			if failed != 1 {
				t.Errorf("%d thresholds failed, want the one changed: %+v", failed, s.Thresholds)
			}
			junit, err := os.ReadFile(filepath.Join(dir, report.JUnitFile))
			if err != nil || !strings.Contains(string(junit), `failures="1"`) || !strings.Contains(string(junit), `type="threshold"`) {
				t.Errorf("junit.xml (%v):\n%s", err, junit)
			}
			if !strings.Contains(out, "FAIL  ") {
				t.Errorf("the text summary does not show the failure:\n%s", out)
			}
		})
	}
}

// TestAbortOnFail: a failing abort_on_fail threshold stops a 30 s run
// within a few seconds, with exit code 3 and the reason in summary.json.
func TestAbortOnFail(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/bad" {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	p := writePlan(t, `target: `+srv.URL+`
retry: off
scenarios:
  s:
    executor: {closed: {vus: 2, duration: 30s}}
    steps:
      - {name: ok, request: {path: /ok}}
      - think: 20ms
      - {name: bad, request: {path: /bad}}
thresholds:
  - rate(failed, step=ok) == 0
  - {threshold: "rate(failed) < 10%", abort_on_fail: true, delay_abort_eval: 1s}
`)
	te := newTestEnv(nil)
	dir := filepath.Join(t.TempDir(), "out")
	err := Main(context.Background(), &te.Env, []string{"run", p, "--out", dir})
	if ExitCode(err) != ExitThresholds || !strings.Contains(err.Error(), `threshold "rate(failed) < 10%" failed and stopped the run`) {
		t.Fatalf("exit code %d: %v", ExitCode(err), err)
	}
	s := readSummary(t, dir)
	// The run's own clock, not the test's: writing the report and junit.xml
	// after the stop is no part of how soon the threshold stopped the run.
	if d := time.Duration(s.DurationS * float64(time.Second)); d > 10*time.Second {
		t.Errorf("the run took %v; the threshold should stop it after about 2 s", d)
	}
	if !s.Interrupted || !strings.HasPrefix(s.StopReason, "threshold failed: rate(failed) = ") {
		t.Errorf("interrupted %v, stop_reason %q", s.Interrupted, s.StopReason)
	}
	if len(s.Thresholds) != 2 || !s.Thresholds[0].Passed || s.Thresholds[1].Passed || !s.Thresholds[1].Aborted ||
		!strings.HasPrefix(s.Thresholds[1].Detail, "stopped the run after ") {
		t.Errorf("thresholds %+v", s.Thresholds)
	}
	if len(s.Failures) != 1 || s.Failures[0].Step != "bad" || s.Failures[0].Error != "status 500, want 2xx or 3xx" {
		t.Errorf("failures %+v", s.Failures)
	}
	junit, _ := os.ReadFile(filepath.Join(dir, report.JUnitFile))
	if !strings.Contains(string(junit), `failures="1"`) || !strings.Contains(string(junit), "stop_reason") {
		t.Errorf("junit.xml:\n%s", junit)
	}
}
