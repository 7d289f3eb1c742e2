package cli

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/floodgate-dev/floodgate/internal/emulator"
)

const sharedConfig = `
limits:
  token: {requests: 50, window: 60s}
families:
  - name: conversations-create
    paths: ["POST /api/v2/conversations/*"]
caps:
  - family: conversations-create
    max_in_flight: 5
    status: 429
    code: too.many.requests
faults:
  - family: conversations-create
    latency: {dist: fixed, value: 2s}
`

// startEmulatorProcess runs `floodgate emulate` and returns its URL.
func startEmulatorProcess(t *testing.T, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"emulate", "--addr", "127.0.0.1:0"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				found <- u
			}
		}
	}()
	select {
	case u := <-found:
		return u
	case <-time.After(30 * time.Second):
		t.Fatal("emulator did not start")
		return ""
	}
}

func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "floodgate")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/floodgate-dev/floodgate/cmd/floodgate").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// TestReplicasShareLimitsThroughRedis: two emulator processes on one
// Redis. A burst split over both admits exactly the token's limit between
// them (one process alone would admit it twice), and a concurrency cap of
// 5 holds across both.
func TestReplicasShareLimitsThroughRedis(t *testing.T) {
	addr := os.Getenv("FLOODGATE_REDIS_ADDR")
	if addr == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("FLOODGATE_REDIS_ADDR is not set: scripts/test.sh starts redis-server and sets it")
		}
		t.Skip("no Redis: run via scripts/test.sh, or set FLOODGATE_REDIS_ADDR=127.0.0.1:PORT")
	}
	bin := buildBinary(t)
	cfg := filepath.Join(t.TempDir(), "shared.yaml")
	if err := os.WriteFile(cfg, []byte(sharedConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	prefix := "fgtest-replicas-" + time.Now().Format("150405.000000000")
	a := startEmulatorProcess(t, bin, "--config", cfg, "--redis-addr", addr, "--redis-prefix", prefix)
	b := startEmulatorProcess(t, bin, "--config", cfg, "--redis-addr", addr, "--redis-prefix", prefix)

	token := func(base string) string {
		req, _ := http.NewRequest("POST", base+"/oauth/token", strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
		req.SetBasicAuth(emulator.DemoClientID, emulator.DemoClientSecret)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
			t.Fatalf("token: %v %d", err, resp.StatusCode)
		}
		return tok.AccessToken
	}
	burst := func(tok, method, path, body string, n int) map[int]int {
		var mu sync.Mutex
		got := map[int]int{}
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			base := a
			if i%2 == 1 {
				base = b // alternate replicas, as a load balancer would
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				var rd io.Reader
				if body != "" {
					rd = strings.NewReader(body)
				}
				req, _ := http.NewRequest(method, base+path, rd)
				req.Header.Set("Authorization", "Bearer "+tok)
				req.Header.Set("Content-Type", "application/json")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mu.Lock()
				got[resp.StatusCode]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		return got
	}

	// One token from replica a, used on both: the window is 60 s, far
	// longer than the burst, so exactly 50 may pass in all.
	tok := token(a)
	got := burst(tok, "GET", "/api/v2/tokens/me", "", 200)
	if got[200] != 50 || got[429] != 150 {
		t.Errorf("rate limit across replicas: %v, want exactly 50 × 200 and 150 × 429", got)
	}

	// The cap: 20 slow creates at once over both replicas, each held 2 s.
	msg := `{"channel":{"from":{"id":"u","idType":"Opaque"},"time":"2026-11-22T00:00:00Z"},"text":"hi"}`
	got = burst(token(b), "POST", "/api/v2/conversations/messages/integ/inbound/open/message", msg, 20)
	if got[200] != 5 || got[429] != 15 {
		t.Errorf("concurrency cap across replicas: %v, want exactly 5 admitted and 15 × 429", got)
	}
}
