package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/floodgate-dev/floodgate/internal/metrics"
)

type testEnv struct {
	Env
	out, err lockedBuffer
	intr     chan os.Signal
}

// lockedBuffer is a bytes.Buffer safe to read while a command writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (te *testEnv) errText() string { return te.err.String() }

func newTestEnv(vars map[string]string) *testEnv {
	te := &testEnv{intr: make(chan os.Signal, 2)}
	te.Env = Env{
		Stdin: strings.NewReader(""), Stdout: &te.out, Stderr: &te.err,
		Getenv: func(k string) (string, bool) {
			v, ok := vars[k]
			return v, ok
		},
		Interrupts: te.intr,
	}
	return te
}

func writePlan(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "plan.yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRunBadPlanExitsWithUsageCode(t *testing.T) {
	t.Parallel()
	p := writePlan(t, "target: http://127.0.0.1:1\nscenarios:\n  s:\n    executor: {closed: {vus: 2}}\n    steps: [{request: {path: /}}]\n")
	te := newTestEnv(nil)
	err := Main(context.Background(), &te.Env, []string{"run", p})
	if ExitCode(err) != ExitUsage {
		t.Fatalf("exit code %d (%v), want %d", ExitCode(err), err, ExitUsage)
	}
	if msg := err.Error(); !strings.Contains(msg, "plan.yaml:4:") || !strings.Contains(msg, "iterations") {
		t.Errorf("error %q should name the file, line and the missing bound", msg)
	}
}

func TestRunUnknownCommandAndMissingPlan(t *testing.T) {
	t.Parallel()
	te := newTestEnv(nil)
	if err := Main(context.Background(), &te.Env, []string{"rnu"}); ExitCode(err) != ExitUsage {
		t.Errorf("unknown command: exit %d, want %d", ExitCode(err), ExitUsage)
	}
	if err := Main(context.Background(), &te.Env, []string{"run"}); ExitCode(err) != ExitUsage {
		t.Errorf("run without a plan: exit %d, want %d", ExitCode(err), ExitUsage)
	}
	if err := Main(context.Background(), &te.Env, []string{"run", filepath.Join(t.TempDir(), "nope.yaml")}); ExitCode(err) != ExitUsage {
		t.Errorf("run with a missing file: exit %d, want %d", ExitCode(err), ExitUsage)
	}
}

func TestRunWritesResultsAndOverridesTarget(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.Header.Get("Authorization") != "Bearer s3cr3t-token" {
			w.WriteHeader(401)
			return
		}
		w.WriteHeader(200)
	}))
	defer srv.Close()
	p := writePlan(t, `name: small
target: http://127.0.0.1:1
auth: {bearer: {token: "${TOKEN}"}}
scenarios:
  s:
    executor: {closed: {vus: 3, iterations: 5}}
    steps: [{request: {path: /x}}]
`)
	out := filepath.Join(t.TempDir(), "res")
	te := newTestEnv(map[string]string{"TOKEN": "s3cr3t-token"})
	if err := Main(context.Background(), &te.Env, []string{"run", p, "--target", srv.URL, "--out", out}); err != nil {
		t.Fatalf("run: %v\n%s", err, te.err.String())
	}
	res, err := metrics.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary.Requests != 15 || res.Summary.Succeeded != 15 || hits.Load() != 15 || res.Summary.Target != srv.URL {
		t.Errorf("requests %d ok %d hits %d target %s", res.Summary.Requests, res.Summary.Succeeded, hits.Load(), res.Summary.Target)
	}
	if !strings.Contains(te.out.String(), "results: "+out) {
		t.Errorf("stdout does not say where the results are:\n%s", te.out.String())
	}
	if g := res.Summary.Generator; g == nil || g.CPUs < 1 || g.CPUS <= 0 || !strings.Contains(te.out.String(), "generator: ") {
		t.Errorf("generator usage %+v not measured or not shown:\n%s", g, te.out.String())
	}
	// The secret is in no output and no results file.
	for name, text := range map[string]string{"stdout": te.out.String(), "stderr": te.err.String()} {
		if strings.Contains(text, "s3cr3t") {
			t.Errorf("%s contains the secret", name)
		}
	}
	files, _ := filepath.Glob(filepath.Join(out, "*"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if bytes.Contains(b, []byte("s3cr3t")) {
			t.Errorf("%s contains the secret", f)
		}
	}
}

// TestCtrlCWritesTheResultsDir: the first interrupt stops starting
// iterations, in-flight ones finish, and the results dir is complete.
func TestCtrlCWritesTheResultsDir(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	enough := make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) >= 50 {
			once.Do(func() { close(enough) })
		}
		w.WriteHeader(200)
	}))
	defer srv.Close()
	p := writePlan(t, "target: "+srv.URL+"\ngrace: 5s\nscenarios:\n  forever:\n    executor: {closed: {vus: 4, duration: 1h}}\n    steps: [{request: {path: /}}]\n")
	out := filepath.Join(t.TempDir(), "res")
	te := newTestEnv(nil)
	done := make(chan error, 1)
	go func() { done <- Main(context.Background(), &te.Env, []string{"run", p, "--out", out}) }()
	select {
	case <-enough:
	case <-time.After(30 * time.Second):
		t.Fatal("the run sent no requests")
	}
	te.intr <- os.Interrupt
	var err error
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the run did not stop after an interrupt")
	}
	if ExitCode(err) != ExitInterrupt {
		t.Fatalf("exit code %d (%v), want %d", ExitCode(err), err, ExitInterrupt)
	}
	res, rerr := metrics.ReadDir(out)
	if rerr != nil {
		t.Fatalf("results dir after Ctrl-C: %v", rerr)
	}
	s := res.Summary
	if !s.Interrupted || s.Aborted || s.Requests < 50 || s.Requests != s.Started || s.Requests != hits.Load() {
		t.Errorf("interrupted %v aborted %v requests %d started %d server saw %d", s.Interrupted, s.Aborted, s.Requests, s.Started, hits.Load())
	}
	raw, _ := os.ReadFile(filepath.Join(out, metrics.SummaryFile))
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil || m["interrupted"] != true {
		t.Errorf("summary.json lacks \"interrupted\": true")
	}
	if !strings.Contains(te.out.String(), "INTERRUPTED") {
		t.Errorf("the summary does not say the run was interrupted:\n%s", te.out.String())
	}
}

// TestRunServesLiveMetrics scrapes --metrics-addr while a run is going.
// Each VU has more than 21 iterations, so that whichever VU sent the
// first 20 requests, both are held in flight by the 22nd: with 20 each,
// a VU that ran all its 20 before the other started (the other's first
// request then the 21st, and no 22nd) failed this under load.
func TestRunServesLiveMetrics(t *testing.T) {
	t.Parallel()
	release, held := make(chan struct{}), make(chan struct{})
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := hits.Add(1)
		if n == 22 {
			close(held)
		}
		if n > 20 {
			<-release // hold the rest in flight until the scrape is done
		}
		w.WriteHeader(200)
	}))
	defer srv.Close()
	var releaseOnce sync.Once
	free := func() { releaseOnce.Do(func() { close(release) }) }
	defer free() // before srv.Close, even when the test fails early
	p := writePlan(t, "target: "+srv.URL+"\nscenarios:\n  s:\n    executor: {closed: {vus: 2, iterations: 30}}\n    steps: [{request: {path: /x}, name: get}]\n")
	te := newTestEnv(nil)
	done := make(chan error, 1)
	go func() {
		done <- Main(context.Background(), &te.Env, []string{"run", p, "--out", t.TempDir(), "--metrics-addr", "127.0.0.1:0"})
	}()
	// Wait until the run has finished 20 requests and holds 2 in flight.
	select {
	case <-held:
	case <-time.After(30 * time.Second):
		t.Fatal("the run did not reach 22 requests")
	}
	addr := ""
	for _, line := range strings.Split(te.errText(), "\n") {
		if a, ok := strings.CutPrefix(line, "live metrics on "); ok {
			addr = strings.TrimSuffix(a, "/metrics")
		}
	}
	if addr == "" {
		t.Fatalf("no live metrics address in stderr:\n%s", te.errText())
	}
	resp, err := http.Get(addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`floodgate_requests_total{scenario="s",status="200",step="get"} 20`,
		`floodgate_inflight_requests 2`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("live metrics lack %q:\n%.3000s", want, body)
		}
	}
	free()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
}
