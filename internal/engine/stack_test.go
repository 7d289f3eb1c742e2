//go:build !race

// The race detector enlarges frames and stack guards, so this file's
// measurement only means something without it; scripts/test.sh runs it
// in a separate `go test` without -race.

package engine

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/floodgate-dev/floodgate/internal/metrics"
	"github.com/floodgate-dev/floodgate/internal/plan"
)

// TestVUStacksWhileWaiting holds 1,000 closed-model VUs in flight against
// a server that answers only once all their requests have arrived, and
// measures the goroutine stack memory they hold while they wait. A VU
// waiting for a response must fit in a 4 KiB stack: at 10,000 VUs each
// KiB above it is 10 MB of resident memory (bench/README.md). The frames
// on that path are kept small on purpose (client.DoInto, vu.request,
// h1.Transport.RoundTrip); a change that grows them fails here.
//
// The server runs in a child process (this test binary, re-executed),
// so that its goroutines' stacks are not counted.
func TestVUStacksWhileWaiting(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process and 1,000 connections")
	}
	const vus = 1000
	srv := startHoldServer(t, vus)

	p := testPlan(plan.Executor{Closed: &plan.Closed{VUs: vus, Iterations: 1}})
	p.Target = "http://" + srv.addr
	p.Scenarios[0].Steps[0].Request.Path = "/"
	e, err := New(p)
	if err != nil {
		t.Fatal(err)
	}
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	g0 := runtime.NumGoroutine()

	done := make(chan error, 1)
	go func() { done <- e.Run(context.Background()) }()
	if err := srv.waitHeld(); err != nil { // every VU has sent and waits
		t.Fatal(err)
	}
	var during runtime.MemStats
	runtime.ReadMemStats(&during)
	goroutines := runtime.NumGoroutine() - g0
	srv.release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	s := e.Recorder().Summarize(metrics.RunInfo{}, e.Ended())
	if s.Succeeded != vus {
		t.Fatalf("%d of %d requests succeeded: %v", s.Succeeded, vus, s.Errors)
	}

	perVU := float64(during.StackInuse-before.StackInuse) / vus
	t.Logf("%d goroutines more; stacks %.0f B per waiting VU", goroutines, perVU)
	if goroutines < vus {
		t.Fatalf("only %d goroutines more than before for %d VUs", goroutines, vus)
	}
	// 4 KiB stacks, and a little for the run's few other goroutines.
	if perVU > 4.5*1024 {
		t.Errorf("a waiting VU holds %.0f B of stack, want ≤ 4.5 KiB: a frame on the path from the executor to the socket read grew (go build -gcflags=-S shows frame sizes)", perVU)
	}
}

type holdServer struct {
	addr string
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Reader
}

// startHoldServer starts the child server, which answers once n requests
// are held.
func startHoldServer(t *testing.T, n int) *holdServer {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHoldServerProcess$")
	cmd.Env = append(os.Environ(), "FLOODGATE_HOLD_SERVER="+strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &holdServer{cmd: cmd, in: in, out: bufio.NewReader(outPipe)}
	t.Cleanup(func() {
		in.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := s.out.ReadString('\n')
	if err != nil {
		t.Fatalf("hold server: %v", err)
	}
	s.addr = strings.TrimSpace(strings.TrimPrefix(line, "listening "))
	return s
}

func (s *holdServer) waitHeld() error {
	line, err := s.out.ReadString('\n')
	if err != nil {
		return fmt.Errorf("hold server: %w", err)
	}
	if !strings.HasPrefix(line, "held ") {
		return fmt.Errorf("hold server said %q", line)
	}
	return nil
}

func (s *holdServer) release() { s.in.Close() }

// TestHoldServerProcess is the child of TestVUStacksWhileWaiting: a
// loopback server that reads one request per connection, says "held N"
// once N are in, and answers them all when its stdin closes (or after a
// minute, so that it never outlives a broken parent for long).
func TestHoldServerProcess(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("FLOODGATE_HOLD_SERVER"))
	if n == 0 {
		t.Skip("child process of TestVUStacksWhileWaiting")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("listening %s\n", ln.Addr())
	release := make(chan struct{})
	go func() {
		io.Copy(io.Discard, os.Stdin)
		close(release)
	}()
	held := make(chan struct{}, n)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for { // the request line and headers; GETs have no body
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					if line == "\r\n" {
						break
					}
				}
				held <- struct{}{}
				<-release
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
			}()
		}
	}()
	timeout := time.After(time.Minute)
	for i := 0; i < n; i++ {
		select {
		case <-held:
		case <-timeout:
			os.Exit(1)
		}
	}
	fmt.Printf("held %d\n", n)
	// The handlers answer on release; the parent kills this process
	// when its run is over.
	<-timeout
	os.Exit(1)
}
