package cli

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/floodgate-dev/floodgate/internal/emulator"
	"github.com/floodgate-dev/floodgate/internal/metrics"
)

const segmentPlan = `name: seg
target: http://127.0.0.1:1
auth:
  oauth2:
    token_url: /oauth/token
    client_id: floodgate-demo-client
    client_secret: ${SECRET}
scenarios:
  closed:
    executor: {closed: {vus: 7, ramp_up: 1s, iterations: 10}}
    steps:
      - request: {method: GET, path: /api/v2/tokens/me}
      - request: {method: GET, path: /api/v2/conversations/nope}
        name: missing
  open:
    executor: {open: {rate: 40/s, duration: 2s, max_vus: 20}}
    steps:
      - request: {method: GET, path: /api/v2/tokens/me}
`

// TestSegmentsInThreeProcessesMergeToTheWhole runs one plan whole and as 3
// segment processes against the emulator, merges the segments, and checks
// the merged result equals the whole run in requests per scenario and
// status, with histograms that are exactly the sum of the parts'.
func TestSegmentsInThreeProcessesMergeToTheWhole(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs 3 processes")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := emulator.New(emulator.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	url, err := srv.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "floodgate")
	build := exec.Command("go", "build", "-o", bin, "github.com/floodgate-dev/floodgate/cmd/floodgate")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	planFile := filepath.Join(tmp, "plan.yaml")
	if err := os.WriteFile(planFile, []byte(segmentPlan), 0o644); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "SECRET="+emulator.DemoClientSecret)

	whole := filepath.Join(tmp, "whole")
	cmd := exec.Command(bin, "run", planFile, "--target", url, "--out", whole)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("whole run: %v\n%s", err, out)
	}

	start := time.Now().Add(3 * time.Second).Unix()
	var cmds []*exec.Cmd
	var dirs []string
	for i := 1; i <= 3; i++ {
		dir := filepath.Join(tmp, fmt.Sprintf("seg%d", i))
		dirs = append(dirs, dir)
		c := exec.Command(bin, "run", planFile, "--target", url, "--out", dir,
			"--segment", fmt.Sprintf("%d/3", i), "--start-at", strconv.FormatInt(start, 10))
		c.Env = env
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, c)
	}
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatalf("segment %d: %v", i+1, err)
		}
	}
	merged := filepath.Join(tmp, "merged")
	te := newTestEnv(nil)
	if err := Main(ctx, &te.Env, append(append([]string{"merge"}, dirs...), "-o", merged)); err != nil {
		t.Fatalf("merge: %v\n%s", err, te.err.String())
	}

	w, err := metrics.ReadDir(whole)
	if err != nil {
		t.Fatal(err)
	}
	m, err := metrics.ReadDir(merged)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Summary.Scenarios) != 2 || len(m.Summary.Scenarios) != 2 {
		t.Fatalf("scenarios: whole %d merged %d", len(w.Summary.Scenarios), len(m.Summary.Scenarios))
	}
	if w.Summary.Requests != 7*10*2+80 {
		t.Errorf("whole run: %d requests, want 220", w.Summary.Requests)
	}
	for i, ws := range w.Summary.Scenarios {
		ms := m.Summary.Scenarios[i]
		if ws.Name != ms.Name || ws.Requests != ms.Requests || fmt.Sprint(ws.Statuses) != fmt.Sprint(ms.Statuses) {
			t.Errorf("scenario %s: whole %d %v, merged %s %d %v", ws.Name, ws.Requests, ws.Statuses, ms.Name, ms.Requests, ms.Statuses)
		}
	}
	// The merged histograms are exactly the sum of the segments'.
	for _, mh := range m.Hists {
		sum := metrics.NewHists()
		for _, d := range dirs {
			part, err := metrics.ReadDir(d)
			if err != nil {
				t.Fatal(err)
			}
			for _, ph := range part.Hists {
				if ph.Key == mh.Key {
					sum.Add(ph.Hists)
				}
			}
		}
		if !sum.FromSend.Equals(mh.FromSend) || !sum.FromDue.Equals(mh.FromDue) || !sum.Attempt.Equals(mh.Attempt) {
			t.Errorf("%v: merged histograms differ from the sum of the segments'", mh.Key)
		}
		if mh.FromSend.TotalCount() == 0 {
			t.Errorf("%v: empty histogram", mh.Key)
		}
	}
}
