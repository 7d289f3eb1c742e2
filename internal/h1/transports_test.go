package h1

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/floodgate-dev/floodgate/internal/client"
	"github.com/floodgate-dev/floodgate/internal/metrics"
)

func transports() map[string]client.Transport {
	return map[string]client.Transport{"h1": New(4, 0), "std": client.NewStdTransport(4, nil, 0)}
}

func TestTransportsSendAndRead(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Inin-Ratelimit-Count", "7")
		w.Header().Set("X-Echo-Method", r.Method)
		w.Header().Set("X-Echo-Auth", r.Header.Get("Authorization"))
		w.WriteHeader(201)
		w.Write(append([]byte("got:"), body...))
	}))
	t.Cleanup(srv.Close)
	for name, tr := range transports() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			req := &client.Request{Method: "POST", URL: srv.URL + "/x?y=1", Body: []byte("hello"), Timeout: 5 * time.Second,
				Header: []client.HeaderField{{Name: "Authorization", Value: "Bearer t"}, {Name: "Content-Type", Value: "text/plain"}}}
			var resp client.Response
			for i := 0; i < 3; i++ { // the response is reused across calls
				if err := tr.RoundTrip(context.Background(), req, &resp); err != nil {
					t.Fatal(err)
				}
				if resp.Status != 201 || string(resp.Body) != "got:hello" || resp.Latency <= 0 || resp.BytesIn < int64(len(resp.Body)) || resp.BytesOut < 5 {
					t.Fatalf("status %d body %q latency %v in %d out %d", resp.Status, resp.Body, resp.Latency, resp.BytesIn, resp.BytesOut)
				}
			}
			for hdr, want := range map[string]string{"inin-ratelimit-count": "7", "ININ-RATELIMIT-COUNT": "7",
				"X-Echo-Method": "POST", "x-echo-auth": "Bearer t", "Retry-After": ""} {
				if got := resp.Header(hdr); got != want {
					t.Errorf("Header(%q) = %q, want %q", hdr, got, want)
				}
			}
		})
	}
}

func TestTransportsClassifyFailures(t *testing.T) {
	t.Parallel()
	slow := newSlowServer(t)
	hangup := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			c.Close() // no response at all
		}
	}))
	t.Cleanup(hangup.Close)
	// A port nothing listens on: take one and close it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String()
	ln.Close()

	cases := []struct {
		name, url string
		timeout   time.Duration
		want      metrics.Class
	}{
		{"timeout", slow.URL, 100 * time.Millisecond, metrics.Timeout},
		{"refused", refused, time.Second, metrics.Connect},
		{"hangup", hangup.URL, time.Second, metrics.Reset},
	}
	for name, tr := range transports() {
		for _, c := range cases {
			t.Run(name+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				var resp client.Response
				err := tr.RoundTrip(context.Background(), &client.Request{Method: "GET", URL: c.url, Timeout: c.timeout}, &resp)
				if err == nil {
					t.Fatalf("no error; status %d", resp.Status)
				}
				if got := client.Classify(err); got != c.want {
					t.Errorf("class %v (%v), want %v", got, err, c.want)
				}
				var ce *client.ClassError
				if !errors.As(err, &ce) || resp.Status != 0 {
					t.Errorf("error %T, status %d: want a *client.ClassError and no status", err, resp.Status)
				}
				if strings.Contains(err.Error(), "Bearer") {
					t.Errorf("error text leaks a header: %v", err)
				}
			})
		}
	}
}

func TestTransportHonoursContextDeadline(t *testing.T) {
	t.Parallel()
	slow := newSlowServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := New(1, 0).RoundTrip(ctx, &client.Request{Method: "GET", URL: slow.URL, Timeout: time.Minute}, &client.Response{})
	if client.Classify(err) != metrics.Timeout || time.Since(start) > 3*time.Second {
		t.Errorf("err %v after %v, want a timeout at the context's deadline", err, time.Since(start))
	}
}

// TestTransportHeaderBound: response headers beyond headerBytes fail
// the attempt (class other) instead of growing every buffer; a larger
// bound reads them.
func TestTransportHeaderBound(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Big", strings.Repeat("x", 6000))
		w.WriteHeader(200)
	}))
	t.Cleanup(srv.Close)
	req := &client.Request{Method: "GET", URL: srv.URL, Timeout: 5 * time.Second}
	err := New(1, 4096).RoundTrip(context.Background(), req, &client.Response{})
	if err == nil || client.Classify(err) != metrics.Other {
		t.Errorf("6 KB of headers with a 4 KiB bound: err %v (class %v), want class other", err, client.Classify(err))
	}
	var resp client.Response
	if err := New(1, 16<<10).RoundTrip(context.Background(), req, &resp); err != nil || len(resp.Header("X-Big")) != 6000 {
		t.Errorf("with a 16 KiB bound: err %v, header length %d", err, len(resp.Header("X-Big")))
	}
}

// newSlowServer answers nothing for 5 s (or until the request ends).
func newSlowServer(t *testing.T) *httptest.Server {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	t.Cleanup(slow.Close)
	return slow
}

// TestResponseMovesBetweenTransports: a Response holds what was read and
// nothing of the transport that read it, so any transport can fill one
// another filled, and its header is always the last response's.
func TestResponseMovesBetweenTransports(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Path", r.URL.Path)
		io.WriteString(w, r.URL.Path)
	}))
	t.Cleanup(srv.Close)
	var resp client.Response
	for i, step := range []struct {
		name string
		tr   client.Transport
	}{{"h1", New(1, 0)}, {"std", client.NewStdTransport(1, nil, 0)}, {"h1", New(1, 0)}, {"std", client.NewStdTransport(1, nil, 0)}} {
		path := "/" + step.name + strconv.Itoa(i)
		err := step.tr.RoundTrip(context.Background(), &client.Request{Method: "GET", URL: srv.URL + path, Timeout: 5 * time.Second}, &resp)
		if err != nil || resp.Status != 200 || string(resp.Body) != path || resp.Header("X-Path") != path {
			t.Errorf("%s after another transport: error %v, status %d, body %q, X-Path %q; want %s", step.name, err, resp.Status, resp.Body, resp.Header("X-Path"), path)
		}
	}
}
