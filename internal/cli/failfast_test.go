package cli

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/floodgate-dev/floodgate/internal/metrics"
)

// countingServer answers 200 to every request and counts them.
func countingServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(200)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// An --out that cannot be written fails the run before its first
// request, exit 1, naming the path.
func TestRunRefusesAnUnwritableResultsDir(t *testing.T) {
	t.Parallel()
	srv, hits := countingServer(t)
	p := writePlan(t, "target: "+srv.URL+"\nscenarios:\n  s:\n    executor: {closed: {vus: 2, iterations: 5}}\n    steps: [{request: {path: /}}]\n")
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	outs := map[string]string{"under a file": filepath.Join(file, "res")}
	if mnt, ok := tryTmpfs(t, "ro"); ok {
		outs["read-only disk"] = filepath.Join(mnt, "res")
	}
	for name, out := range outs {
		te := newTestEnv(nil)
		err := Main(context.Background(), &te.Env, []string{"run", p, "--out", out})
		if ExitCode(err) != ExitRuntime || !strings.Contains(err.Error(), out) || !strings.Contains(err.Error(), "choose another --out") {
			t.Errorf("%s: exit %d, error %v; want 1 naming %s", name, ExitCode(err), err, out)
		}
	}
	if hits.Load() != 0 {
		t.Errorf("%d requests sent to a run that could not keep its results", hits.Load())
	}
}

// tryTmpfs mounts a small tmpfs with the given extra options, or reports
// false where mounting is not permitted.
func tryTmpfs(t *testing.T, opts string) (string, bool) {
	t.Helper()
	dir := t.TempDir()
	if exec.Command("mount", "-t", "tmpfs", "-o", "size=1m,"+opts, "tmpfs", dir).Run() != nil {
		t.Logf("no tmpfs here (not root?); the other cases cover the same path")
		return "", false
	}
	t.Cleanup(func() { _ = exec.Command("umount", dir).Run() })
	return dir, true
}

// A token endpoint refusing the client fails the run at once, exit 1,
// with the token URL and its answer, never the secret; and that code
// wins over failed thresholds.
func TestRunWithRefusedCredentials(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/oauth/token" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(401)
			_, _ = w.Write([]byte(`{"error":"invalid_client","error_description":"authentication failed"}`))
			return
		}
		hits.Add(1)
	}))
	defer srv.Close()
	const secret = "wrong-secret-value"
	p := writePlan(t, "target: "+srv.URL+"\nauth:\n  oauth2: {token_url: /oauth/token, client_id: bot, client_secret: \"${SECRET}\"}\n"+
		"scenarios:\n  s:\n    executor: {closed: {vus: 10, ramp_up: 5s, iterations: 50}}\n    steps: [{request: {path: /}}]\n"+
		"thresholds: [\"rate(failed) == 0\"]\n")
	out := filepath.Join(t.TempDir(), "res")
	te := newTestEnv(map[string]string{"SECRET": secret})
	err := Main(context.Background(), &te.Env, []string{"run", p, "--out", out})
	if ExitCode(err) != ExitRuntime {
		t.Fatalf("exit %d (%v), want %d", ExitCode(err), err, ExitRuntime)
	}
	msg := err.Error()
	if !strings.Contains(msg, srv.URL+"/oauth/token") || !strings.Contains(msg, "401 invalid_client") || !strings.Contains(msg, "authentication failed") {
		t.Errorf("error %q: want the token URL and the answer", msg)
	}
	s := readSummary(t, out)
	if s.Errors["auth"] == 0 || s.StopReason != "credentials refused" || hits.Load() != 0 || s.DurationS > 1 {
		t.Errorf("errors %v, stop reason %q, %d requests sent, %.1f s: want auth failures, stopped at once, nothing sent", s.Errors, s.StopReason, hits.Load(), s.DurationS)
	}
	for _, f := range []string{msg, te.out.String(), te.errText()} {
		if strings.Contains(f, secret) {
			t.Errorf("the secret is shown: %q", f)
		}
	}
	raw, _ := os.ReadFile(filepath.Join(out, metrics.SummaryFile))
	if strings.Contains(string(raw), secret) {
		t.Error("the secret is in summary.json")
	}
}

// Nothing listening on the target: the first seconds say so, and the run
// stops instead of running its whole length.
func TestRunAgainstAClosedPort(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	target := "http://" + ln.Addr().String()
	ln.Close()
	p := writePlan(t, "target: "+target+"\nscenarios:\n  s:\n    executor: {open: {rate: 200/s, duration: 1m}}\n    steps: [{request: {path: /}}]\n")
	out := filepath.Join(t.TempDir(), "res")
	te := newTestEnv(nil)
	err = Main(context.Background(), &te.Env, []string{"run", p, "--out", out})
	if ExitCode(err) != ExitRuntime || !strings.Contains(err.Error(), "unreachable") || !strings.Contains(err.Error(), target) {
		t.Fatalf("exit %d (%v), want 1 naming the unreachable target", ExitCode(err), err)
	}
	line := regexp.MustCompile(`target refused \d+ connections?: is it running at ` + regexp.QuoteMeta(target) + `\?`)
	if !line.MatchString(te.errText()) {
		t.Errorf("stderr lacks the refused line:\n%s", te.errText())
	}
	s := readSummary(t, out)
	if s.StopReason != "target unreachable" || s.DurationS > 30 || s.Errors["connect"]+s.Errors["budget"] == 0 {
		t.Errorf("stop reason %q after %.1f s, errors %v: want it stopped early on connect failures", s.StopReason, s.DurationS, s.Errors)
	}
}

// The two absurd plans: refused before they start, with the fix; the
// open one, forced, ends on time with what it could not send dropped.
func TestAbsurdPlans(t *testing.T) {
	t.Parallel()
	srv, _ := countingServer(t)
	closed := writePlan(t, "target: "+srv.URL+"\nscenarios:\n  s:\n    executor: {closed: {vus: 10000000, iterations: 1}}\n    steps: [{request: {path: /}}]\n")
	open := writePlan(t, "target: "+srv.URL+"\nscenarios:\n  s:\n    executor: {open: {rate: 1000000000/s, duration: 1s}}\n    steps: [{request: {path: /}}]\n")
	te := newTestEnv(nil)
	err := Main(context.Background(), &te.Env, []string{"run", closed, "--out", filepath.Join(t.TempDir(), "a")})
	if ExitCode(err) != ExitUsage || !strings.Contains(err.Error(), "--segment") ||
		!(strings.Contains(err.Error(), "ulimit -n") || strings.Contains(err.Error(), "of memory is available")) {
		t.Errorf("closed 10,000,000 VUs: exit %d (%v), want 2 with the limit and the fix", ExitCode(err), err)
	}
	err = Main(context.Background(), &te.Env, []string{"run", open, "--out", filepath.Join(t.TempDir(), "b")})
	if ExitCode(err) != ExitUsage || !strings.Contains(err.Error(), "more than one process can schedule") || !strings.Contains(err.Error(), "--force") {
		t.Errorf("open 1e9/s: exit %d (%v), want 2 with the fix", ExitCode(err), err)
	}
	bounded := writePlan(t, "target: "+srv.URL+"\nscenarios:\n  s:\n    executor: {open: {rate: 1000000000/s, duration: 1s, max_vus: 8}}\n    steps: [{request: {path: /}}]\n")
	out := filepath.Join(t.TempDir(), "c")
	te = newTestEnv(nil)
	done := make(chan error, 1)
	go func() { done <- Main(context.Background(), &te.Env, []string{"run", bounded, "--out", out, "--force"}) }()
	select {
	case err = <-done:
	case <-time.After(time.Minute): // a hang guard: it ends in about 2 s
		te.intr <- os.Interrupt
		te.intr <- os.Interrupt
		t.Fatal("a forced 1 s run at 1e9/s was still running after a minute")
	}
	if err != nil {
		t.Fatalf("forced run: %v", err)
	}
	if !strings.Contains(te.errText(), "warning: the plan asks for 1000000000 arrivals a second") {
		t.Errorf("stderr lacks the warning:\n%s", te.errText())
	}
	s := readSummary(t, out)
	if s.Offered != 1e9 || s.Dropped != s.Offered-s.Started {
		t.Errorf("offered %d dropped %d started %d: want every arrival counted", s.Offered, s.Dropped, s.Started)
	}
}

func TestPreflight(t *testing.T) {
	t.Parallel()
	host := hostLimits{fds: 1024, memAvail: 1 << 30}
	tests := []struct {
		name        string
		s           runScale
		h           hostLimits
		fatal, soft int
		says        []string // fragments of the problems, with their fixes
	}{
		{"fits", runScale{closedVUs: 100, maxConc: 100, rate: 1000}, host, 0, 0, nil},
		{"unknown limits", runScale{closedVUs: 1e7, maxConc: 1e7, rate: 10}, hostLimits{}, 0, 0, nil},
		{"closed VUs beyond ulimit -n", runScale{closedVUs: 1000, maxConc: 1000}, host, 1, 0, []string{"1000 closed VUs", "ulimit -n 1064", "lower vus"}},
		{"max_vus beyond ulimit -n", runScale{closedVUs: 10, maxConc: 2000}, host, 0, 1, []string{"2000 VUs at once", "ulimit -n 2064", "lower max_vus"}},
		{"memory", runScale{closedVUs: 10, maxConc: 100000}, hostLimits{fds: 1 << 20, memAvail: 512 << 20}, 0, 1, []string{"about 1.2 GiB", "only 512 MiB"}},
		{"rate", runScale{rate: 2e6}, host, 0, 1, []string{"2000000 arrivals a second", "lower the rate"}},
		{"everything", runScale{closedVUs: 1e7, maxConc: 1e7, rate: 1e9}, host, 1, 2, []string{"ulimit -n", "of memory", "1000000000 arrivals a second"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fatal, soft := preflight(tc.s, tc.h)
			if len(fatal) != tc.fatal || len(soft) != tc.soft {
				t.Fatalf("fatal %q soft %q, want %d and %d problems", fatal, soft, tc.fatal, tc.soft)
			}
			all := strings.Join(append(fatal, soft...), "\n")
			for _, f := range tc.says {
				if !strings.Contains(all, f) {
					t.Errorf("problems %q lack %q", all, f)
				}
			}
			for _, m := range append(fatal, soft...) {
				if !strings.Contains(m, "--segment") {
					t.Errorf("%q lacks the --segment fix", m)
				}
			}
			if err := preflightError(fatal, soft, true); (err != nil) != (tc.fatal > 0) {
				t.Errorf("--force: error %v with %d fatal problems", err, tc.fatal)
			}
			if err := preflightError(fatal, soft, false); (err != nil) != (tc.fatal+tc.soft > 0) {
				t.Errorf("error %v with %d problems", err, tc.fatal+tc.soft)
			}
		})
	}
}

// Exit-code precedence: an interrupt (130) wins over failed thresholds
// (3), as README documents.
func TestExitCodeInterruptedWithFailedThreshold(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	enough := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 20 {
			close(enough)
		}
		w.WriteHeader(500)
	}))
	defer srv.Close()
	p := writePlan(t, "target: "+srv.URL+"\ngrace: 5s\nretry: off\nscenarios:\n  s:\n    executor: {closed: {vus: 2, duration: 1h}}\n    steps: [{request: {path: /}}]\nthresholds: [\"rate(failed) == 0\"]\n")
	out := filepath.Join(t.TempDir(), "res")
	te := newTestEnv(nil)
	done := make(chan error, 1)
	go func() { done <- Main(context.Background(), &te.Env, []string{"run", p, "--out", out}) }()
	select {
	case <-enough:
	case err := <-done:
		t.Fatalf("the run ended before it was interrupted: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("no requests")
	}
	te.intr <- os.Interrupt
	err := <-done
	if ExitCode(err) != ExitInterrupt {
		t.Fatalf("exit %d (%v), want %d: an interrupt wins over failed thresholds", ExitCode(err), err, ExitInterrupt)
	}
	s := readSummary(t, out)
	if len(s.Thresholds) != 1 || s.Thresholds[0].Passed {
		t.Errorf("thresholds %+v: want the one failed, and judged", s.Thresholds)
	}
}

// killedChildEnv makes TestKilledRunChild run a plan, as the child
// process TestKilledRunKeepsWhatItMeasured SIGKILLs.
const killedChildEnv = "FLOODGATE_TEST_KILLED_CHILD"

func TestKilledRunChild(t *testing.T) {
	args := os.Getenv(killedChildEnv)
	if args == "" {
		t.Skip("the child of TestKilledRunKeepsWhatItMeasured")
	}
	te := newTestEnv(nil)
	te.Stdout, te.Stderr = os.Stdout, os.Stderr
	var argv []string
	if err := json.Unmarshal([]byte(args), &argv); err != nil {
		t.Fatal(err)
	}
	_ = Main(context.Background(), &te.Env, argv)
	t.Fatal("the run ended; it should have been killed")
}

// SIGKILL mid-run leaves the streamed series and the last checkpoint, and
// `floodgate report DIR` renders them, marked partial.
func TestKilledRunKeepsWhatItMeasured(t *testing.T) {
	t.Parallel()
	srv, _ := countingServer(t)
	p := writePlan(t, "target: "+srv.URL+"\nscenarios:\n  s:\n    executor: {open: {rate: 50/s, duration: 2m}}\n    steps: [{request: {path: /}}]\n")
	out := filepath.Join(t.TempDir(), "res")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledRunChild$", "-test.count=1")
	argv, _ := json.Marshal([]string{"run", p, "--out", out})
	cmd.Env = append(os.Environ(), killedChildEnv+"="+string(argv))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	// Wait for the first checkpoint with requests in it (2 s in), then
	// kill. progress.json is replaced atomically: any read is whole.
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(time.Minute)
	for {
		var doc struct{ Summary metrics.Summary }
		if b, err := os.ReadFile(filepath.Join(out, metrics.ProgressFile)); err == nil &&
			json.Unmarshal(b, &doc) == nil && doc.Summary.Requests > 0 {
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("the child ended before its first checkpoint: %v", err)
		case <-deadline:
			_ = cmd.Process.Kill()
			t.Fatal("no checkpoint within a minute")
		case <-tick.C:
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := <-exited; err == nil {
		t.Fatal("the child exited cleanly")
	}
	if _, err := os.Stat(filepath.Join(out, metrics.SummaryFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a killed run has a summary.json: %v", err)
	}
	te := newTestEnv(nil)
	if err := Main(context.Background(), &te.Env, []string{"report", out, "--format", "json"}); err != nil {
		t.Fatalf("report of a killed run: %v", err)
	}
	var s metrics.Summary
	if err := json.Unmarshal([]byte(te.out.String()), &s); err != nil {
		t.Fatal(err)
	}
	if !s.Partial || s.Requests == 0 || s.DurationS < 1.5 || !strings.Contains(strings.Join(s.Notes, " "), "partial results") {
		t.Errorf("partial %v, %d requests over %.1f s, notes %q: want the checkpoint's results, marked partial", s.Partial, s.Requests, s.DurationS, s.Notes)
	}
	te = newTestEnv(nil)
	if err := Main(context.Background(), &te.Env, []string{"report", out}); err != nil {
		t.Fatalf("html report of a killed run: %v", err)
	}
	html, err := os.ReadFile(filepath.Join(out, "report.html"))
	if err != nil || !strings.Contains(string(html), "partial results") {
		t.Errorf("report.html does not say the results are partial (%v)", err)
	}
	te = newTestEnv(nil)
	if err := Main(context.Background(), &te.Env, []string{"report", out, "--format", "text"}); err != nil || !strings.Contains(te.out.String(), "PARTIAL") {
		t.Errorf("text report: %v\n%s", err, te.out.String())
	}
	ents, _ := os.ReadDir(out)
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("%s left behind", e.Name())
		}
	}
}
