package h1

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/floodgate-dev/floodgate/internal/client"
)

// The conformance matrix: this package's transport and net/http's
// (client.StdTransport) send the same requests to the same real servers,
// and each request must come to the same outcome class with both (and
// the same body when it succeeds), and to the class the case expects.
// The servers are nginx from Debian with short keep-alive limits,
// net/http's server with short idle and header timeouts, and scripted
// servers for what real ones do now and then. In every case a POST after
// an idle gap longer than the server keeps a connection must not be
// lost.
//
// nginx is started by the test on a free loopback port with a prefix of
// its own (scripts/test.sh installs it); without it the nginx case is
// skipped, and fails in CI.

// conformanceHeaderBytes is both transports' header section bound.
const conformanceHeaderBytes = 8192

// step is one request of a case, sent after gap (a VU's think time).
type step struct {
	method, body string
	gap          time.Duration
	timeout      time.Duration // 0: h1TestBound
	// before runs just before the request: waits for a server's event.
	before func(t *testing.T)
}

// outcome is what a request came to: "ok" (with its body) for a 1xx-3xx
// status, the status for others, the error class without a response.
type outcome struct{ class, body string }

func outcomeOf(err error, resp *client.Response) outcome {
	switch {
	case err != nil:
		return outcome{class: client.Classify(err).String()}
	case resp.Status >= 400:
		return outcome{class: strconv.Itoa(resp.Status)}
	}
	return outcome{class: "ok", body: string(resp.Body)}
}

func (o outcome) String() string {
	if o.body == "" {
		return o.class
	}
	return fmt.Sprintf("%s %q", o.class, o.body)
}

type conformanceCase struct {
	name string
	// server starts the case's server, one for each transport (they
	// share nginx), and returns its URL and the steps to send.
	server func(t *testing.T) (url string, steps []step)
	want   []string // each step's class
}

func TestConformance(t *testing.T) {
	t.Parallel()
	ok := func(n int) []string { return slices.Repeat([]string{"ok"}, n) }
	posts := func(n int, gap time.Duration) []step {
		s := make([]step, n)
		for i := range s {
			s[i] = step{method: "POST", body: `{"n":` + strconv.Itoa(i) + `}`}
		}
		s[0].gap = gap
		return s
	}
	cases := []conformanceCase{
		{"nginx keepalive_timeout 1s keepalive_requests 3", func(t *testing.T) (string, []step) {
			// 7 POSTs cross the per-connection limit twice; then the
			// connections outlive keepalive_timeout before 3 more.
			return startNginx(t), append(posts(7, 0), posts(3, 1500*time.Millisecond)...)
		}, ok(10)},
		{"net/http IdleTimeout and ReadHeaderTimeout", func(t *testing.T) (string, []step) {
			srv := newIdleClosingServer(t, 150*time.Millisecond)
			return srv.URL, slices.Concat(posts(2, 0), posts(2, 450*time.Millisecond), posts(1, 450*time.Millisecond))
		}, ok(5)},
		{"Connection: close", func(t *testing.T) (string, []step) {
			return scripted(t, func(int, *http.Request) (string, bool) {
				return "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", true
			}), posts(3, 0)
		}, ok(3)},
		{"chunked with trailers", func(t *testing.T) (string, []step) {
			return scripted(t, func(int, *http.Request) (string, bool) {
				return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n" +
					"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Sum: 11\r\n\r\n", false
			}), []step{{method: "GET"}, {method: "POST", body: "x"}}
		}, ok(2)},
		{"interim responses (100, 103)", func(t *testing.T) (string, []step) {
			return scripted(t, func(int, *http.Request) (string, bool) {
				return "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n" +
					"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false
			}), []step{{method: "POST", body: "x"}, {method: "GET"}}
		}, ok(2)},
		{"HEAD, 204, 304 have no body whatever their framing says", func(t *testing.T) (string, []step) {
			return scripted(t, func(i int, r *http.Request) (string, bool) {
				switch {
				case r.Method == "HEAD":
					return "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", false
				case i == 1:
					return "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n", false
				case i == 2:
					return "HTTP/1.1 304 Not Modified\r\nContent-Length: 1234\r\nETag: \"x\"\r\n\r\n", false
				}
				return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false
			}), []step{{method: "HEAD"}, {method: "GET"}, {method: "GET"}, {method: "GET"}}
		}, ok(4)},
		{"oversized header section, then a normal response", func(t *testing.T) (string, []step) {
			var n atomic.Int32 // across connections
			big := "HTTP/1.1 200 OK\r\n" + strings.Repeat("X-Filler: "+strings.Repeat("f", 100)+"\r\n", 600) + "Content-Length: 2\r\n\r\nok"
			return scripted(t, func(int, *http.Request) (string, bool) {
				if n.Add(1) == 1 {
					return big, false
				}
				return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false
			}), []step{{method: "GET"}, {method: "GET"}}
		}, []string{"other", "ok"}},
		{"slow body within the timeout, then past it", func(t *testing.T) (string, []step) {
			srv := newH1Server(t, func(c *h1ServerConn) {
				for i := 0; ; i++ {
					if _, _, err := c.readRequest(); err != nil {
						return
					}
					io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")
					pause := 20 * time.Millisecond
					if i == 1 {
						pause = 300 * time.Millisecond
					}
					for _, b := range []byte("slow!") {
						if !serverPause(c.srv, pause) {
							return
						}
						if _, err := c.Write([]byte{b}); err != nil {
							return
						}
					}
				}
			})
			return srv.url, []step{{method: "GET"}, {method: "GET", timeout: 500 * time.Millisecond}}
		}, []string{"ok", "timeout"}},
		{"close after the response, without Connection: close", func(t *testing.T) (string, []step) {
			closed := make(chan struct{}, 3)
			srv := newH1Server(t, func(c *h1ServerConn) {
				if _, _, err := c.readRequest(); err != nil {
					return
				}
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
				c.Close()
				closed <- struct{}{}
			})
			wait := func(t *testing.T) { recvOrFail(t, closed, "the server to close the connection") }
			return srv.url, []step{{method: "GET"}, {method: "GET", before: wait}, {method: "GET", before: wait}}
		}, ok(3)},
		{"reset in the middle of the body", func(t *testing.T) (string, []step) {
			srv := newH1Server(t, func(c *h1ServerConn) {
				for {
					if _, _, err := c.readRequest(); err != nil {
						return
					}
					if c.n > 1 {
						io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
						continue
					}
					io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
					c.Conn.(*net.TCPConn).SetLinger(0) // close with a reset
					c.Close()
					return
				}
			})
			return srv.url, []step{{method: "GET"}, {method: "GET"}}
		}, []string{"reset", "ok"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			transports := []struct {
				name string
				tr   client.Transport
			}{
				{"h1", New(4, conformanceHeaderBytes)},
				{"net/http", client.NewStdTransport(4, nil, conformanceHeaderBytes)},
			}
			got := make([][]outcome, len(transports))
			t.Run("send", func(t *testing.T) {
				for i, tc := range transports {
					t.Run(tc.name, func(t *testing.T) {
						t.Parallel()
						url, steps := c.server(t)
						got[i] = sendSteps(t, tc.tr, url, steps)
					})
				}
			})
			for i, tc := range transports {
				var classes []string
				for _, o := range got[i] {
					classes = append(classes, o.class)
				}
				if !slices.Equal(classes, c.want) {
					t.Errorf("%s: %v, want %v", tc.name, got[i], c.want)
				}
			}
			if !slices.Equal(got[0], got[1]) {
				t.Errorf("h1 and net/http differ:\n  h1:       %v\n  net/http: %v", got[0], got[1])
			}
		})
	}
}

// sendSteps sends steps in order, as one VU does, and returns their
// outcomes.
func sendSteps(t *testing.T, tr client.Transport, url string, steps []step) []outcome {
	var out []outcome
	var resp client.Response
	timer := time.NewTimer(0)
	<-timer.C
	for _, s := range steps {
		if s.gap > 0 {
			timer.Reset(s.gap)
			<-timer.C
		}
		if s.before != nil {
			s.before(t)
		}
		req := &client.Request{Method: s.method, URL: url + "/conformance", Timeout: cmpOr(s.timeout, h1TestBound)}
		if s.body != "" {
			req.Body = []byte(s.body)
			req.Header = []client.HeaderField{{Name: "Content-Type", Value: "application/json"}}
		}
		err := tr.RoundTrip(context.Background(), req, &resp)
		out = append(out, outcomeOf(err, &resp))
	}
	return out
}

func cmpOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// scripted starts a server that answers each request with what reply
// returns (see serveReplies).
func scripted(t *testing.T, reply func(i int, req *http.Request) (script string, hangUp bool)) string {
	return newH1Server(t, serveReplies(reply)).url
}

// serverPause waits d, or until the test's server stops (false).
func serverPause(s *h1Server, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-s.done:
		return false
	}
}

// nginxConf is a minimal nginx configuration: %[1]s is the prefix
// directory, %[2]d the port.
const nginxConf = `daemon off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log;
events { worker_connections 256; }
http {
	access_log off;
	client_body_temp_path %[1]s/body;
	proxy_temp_path %[1]s/proxy;
	fastcgi_temp_path %[1]s/fastcgi;
	uwsgi_temp_path %[1]s/uwsgi;
	scgi_temp_path %[1]s/scgi;
	keepalive_timeout 1s;
	keepalive_requests 3;
	server {
		listen 127.0.0.1:%[2]d;
		location / { return 200 "ok"; }
	}
}
`

// startNginx starts Debian's nginx on a free loopback port, with its own
// prefix, config and logs in a temp dir, for the life of the test.
func startNginx(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		bin = "/usr/sbin/nginx" // Debian's, outside a non-root PATH
		if _, serr := os.Stat(bin); serr != nil {
			if os.Getenv("CI") == "true" {
				t.Fatal("nginx is not installed (scripts/test.sh installs it)")
			}
			t.Skip("nginx is not installed (apt-get install nginx, or run scripts/test.sh)")
		}
	}
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // nginx binds it next; another process taking it first fails the start below
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, nginxConf, dir, port), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", dir, "-c", conf, "-e", filepath.Join(dir, "error.log"))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	// nginx says nothing when it is ready: dial until it answers.
	addr := "127.0.0.1:" + strconv.Itoa(port)
	deadline := time.Now().Add(h1TestBound)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return "http://" + addr
		}
		select {
		case err := <-exited:
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Fatalf("nginx exited (%v): %s", err, log)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx did not listen on %s within %v", addr, h1TestBound)
		}
	}
}
