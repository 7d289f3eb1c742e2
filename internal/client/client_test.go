package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/floodgate-dev/floodgate/internal/metrics"
)

// collect returns an onAttempt callback appending to *as.
func collect(as *[]Attempt) func(Attempt) { return func(a Attempt) { *as = append(*as, a) } }

func TestRetryAfterHonoured(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := serveN(func(n int, w http.ResponseWriter, _ *http.Request) {
			switch n {
			case 1:
				w.Header().Set("Retry-After", "3") // delta-seconds
				w.WriteHeader(429)
			case 2:
				w.Header().Set("Retry-After", time.Now().Add(5*time.Second).UTC().Format(http.TimeFormat)) // HTTP-date
				w.WriteHeader(429)
			default:
				w.WriteHeader(200)
			}
		})
		c := New(HandlerTransport{h}, WithSeed(1))
		var as []Attempt
		start := time.Now()
		out := c.Do(context.Background(), getReq("http://api.test/a"), &Response{}, nil, nil, collect(&as))
		if out.Status != 200 || out.Class != metrics.OK || out.Err != nil || out.Lost || out.Attempts != 3 {
			t.Fatalf("outcome = %+v", out)
		}
		if len(as) != 3 || as[1].Start.Sub(start) != 3*time.Second || as[2].Start.Sub(start) != 8*time.Second {
			t.Fatalf("attempts at %v, %v; want +3s and +8s", as[1].Start.Sub(start), as[2].Start.Sub(start))
		}
		if out.RetryAfterWait != 8*time.Second || out.BackoffWait != 0 || out.Total != 8*time.Second {
			t.Errorf("waits: retry-after %v backoff %v total %v", out.RetryAfterWait, out.BackoffWait, out.Total)
		}
		if !as[0].RateLimit.HasRetryAfter || as[0].RateLimit.RetryAfter != 3*time.Second || as[1].Wait != 3*time.Second {
			t.Errorf("attempt 1 rate limit %+v, attempt 2 wait %v", as[0].RateLimit, as[1].Wait)
		}
	})
}

func TestRetryAfterCappedByMaxWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := serveN(func(n int, w http.ResponseWriter, _ *http.Request) {
			if n == 1 {
				w.Header().Set("Retry-After", "100")
				w.WriteHeader(429)
				return
			}
			w.WriteHeader(200)
		})
		c := New(HandlerTransport{h})
		pol := testPolicy(func(p *Policy) { p.MaxWait = 5 * time.Second })
		out := c.Do(context.Background(), getReq("http://api.test/a"), &Response{}, pol, nil, nil)
		if out.Status != 200 || out.Attempts != 2 || out.RetryAfterWait != 5*time.Second || out.Total != 5*time.Second {
			t.Fatalf("outcome = %+v", out)
		}
		// The gate was closed for the capped wait only.
		if _, open := c.Gates().Until(LimitKey(pol, nil)); !open {
			t.Error("gate still closed after the request")
		}
	})
}

func TestRetryAfterBeyondMaxElapsedIsLost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := serveN(func(n int, w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "300")
			w.WriteHeader(429)
		})
		c := New(HandlerTransport{h})
		out := c.Do(context.Background(), getReq("http://api.test/a"), &Response{}, nil, nil, nil)
		if !out.Lost || out.Attempts != 1 || out.Status != 429 || out.Class != metrics.Status || out.Total != 0 ||
			!errors.Is(out.Err, ErrMaxElapsed) {
			t.Fatalf("outcome = %+v", out)
		}
		// Another VU with the same key now finds the gate closed for the
		// capped wait (60 s) and, with a 30 s budget, gives up at once.
		pol := testPolicy(func(p *Policy) { p.MaxElapsed = 30 * time.Second })
		out = c.Do(context.Background(), getReq("http://api.test/a"), &Response{}, pol, nil, nil)
		if !out.Lost || out.Attempts != 0 || out.Class != metrics.Timeout || !errors.Is(out.Err, ErrGateClosed) || h.count() != 1 {
			t.Fatalf("second outcome = %+v (server saw %d)", out, h.count())
		}
	})
}

func Test429WithoutRetryAfterUsesReset(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := serveN(func(n int, w http.ResponseWriter, _ *http.Request) {
			if n == 1 {
				w.Header().Set("X-RateLimit-Remaining", "0")
				w.Header().Set("X-RateLimit-Reset", "7")
				w.WriteHeader(429)
				return
			}
			w.WriteHeader(200)
		})
		c := New(HandlerTransport{h})
		out := c.Do(context.Background(), getReq("http://api.test/a"), &Response{}, nil, nil, nil)
		if out.Status != 200 || out.RetryAfterWait != 7*time.Second {
			t.Fatalf("outcome = %+v", out)
		}
	})
}

func TestBackoffWaitsInDo(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := serveN(func(n int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(503) })
		c := New(HandlerTransport{h})
		pol := testPolicy(func(p *Policy) {
			p.Jitter, p.Base, p.Max, p.Multiplier, p.MaxAttempts = JitterNone, time.Second, 3*time.Second, 2, 4
		})
		var as []Attempt
		start := time.Now()
		out := c.Do(context.Background(), getReq("http://api.test/a"), &Response{}, pol, nil, collect(&as))
		want := []time.Duration{0, time.Second, 3 * time.Second, 6 * time.Second} // waits 1, 2, 3 (capped)
		for i, a := range as {
			if a.Start.Sub(start) != want[i] || a.Number != i+1 {
				t.Errorf("attempt %d at %v, want %v", a.Number, a.Start.Sub(start), want[i])
			}
		}
		if !out.Lost || out.Attempts != 4 || out.Status != 503 || out.Class != metrics.Status || out.BackoffWait != 6*time.Second ||
			!errors.Is(out.Err, ErrMaxAttempts) {
			t.Fatalf("outcome = %+v", out)
		}
		var le *LostError
		if !errors.As(out.Err, &le) || le.Attempts != 4 || le.Status != 503 {
			t.Errorf("LostError = %+v", le)
		}
	})
}

func TestMaxElapsedStopsBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := serveN(func(n int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(502) })
		c := New(HandlerTransport{h})
		pol := testPolicy(func(p *Policy) {
			p.Jitter, p.Base, p.Multiplier, p.MaxAttempts, p.MaxElapsed = JitterNone, time.Second, 2, 100, 5*time.Second
		})
		out := c.Do(context.Background(), getReq("http://api.test/a"), &Response{}, pol, nil, nil)
		// Waits 1 + 2 = 3 s; the next (4 s) would end at 7 s > 5 s.
		if !out.Lost || out.Attempts != 3 || !errors.Is(out.Err, ErrMaxElapsed) || out.Total != 3*time.Second {
			t.Fatalf("outcome = %+v", out)
		}
	})
}

func TestLostTransportErrorKeepsLastError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reset := &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
		tr := transportFunc(func(context.Context, *Request, *Response) error { return reset })
		c := New(tr, WithSeed(3))
		out := c.Do(context.Background(), getReq("http://api.test/a"), &Response{}, nil, nil, nil)
		if !out.Lost || out.Attempts != 5 || out.Status != 0 || out.Class != metrics.Reset ||
			!errors.Is(out.Err, syscall.ECONNRESET) || !errors.Is(out.Err, ErrMaxAttempts) {
			t.Fatalf("outcome = %+v", out)
		}
	})
}

func TestNotRetryableIsNotLost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := serveN(func(n int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(400) })
		c := New(HandlerTransport{h})
		out := c.Do(context.Background(), getReq("http://api.test/a"), &Response{}, nil, nil, nil)
		if out.Lost || out.Attempts != 1 || out.Status != 400 || out.Class != metrics.Status || out.Err != nil {
			t.Fatalf("outcome = %+v", out)
		}
		// A TLS failure is not retried either, and not lost.
		tr := transportFunc(func(context.Context, *Request, *Response) error {
			return &ClassError{Class: metrics.TLS, Err: errors.New("tls: bad certificate")}
		})
		out = New(tr).Do(context.Background(), getReq("https://api.test/a"), &Response{}, nil, nil, nil)
		if out.Lost || out.Attempts != 1 || out.Class != metrics.TLS || out.Err == nil {
			t.Fatalf("tls outcome = %+v", out)
		}
	})
}

func TestNonIdempotentRule(t *testing.T) {
	tests := []struct {
		method string
		status int
		err    error
		nonIdm bool
		want   int // attempts
	}{
		{"GET", 502, nil, false, 3},
		{"POST", 502, nil, false, 1},
		{"POST", 504, nil, false, 1},
		{"POST", 429, nil, false, 3},
		{"POST", 503, nil, false, 3},
		{"POST", 502, nil, true, 3},
		{"PATCH", 502, nil, false, 1},
		{"POST", 0, syscall.ECONNRESET, false, 1},
		{"POST", 0, syscall.ECONNRESET, true, 3},
		{"POST", 0, &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, false, 3},
		{"DELETE", 0, syscall.ECONNRESET, false, 3},
	}
	for _, tt := range tests {
		name := tt.method + " " + http.StatusText(tt.status)
		if tt.err != nil {
			name = tt.method + " " + tt.err.Error()
		}
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				n := 0
				tr := transportFunc(func(_ context.Context, _ *Request, resp *Response) error {
					n++
					if tt.err != nil {
						return tt.err
					}
					resp.Status = tt.status
					return nil
				})
				pol := DefaultPolicy()
				pol.MaxAttempts, pol.NonIdempotent = 3, tt.nonIdm
				out := New(tr).Do(context.Background(), &Request{Method: tt.method, URL: "http://api.test/a"}, &Response{}, &pol, nil, nil)
				if out.Attempts != tt.want || n != tt.want {
					t.Errorf("attempts = %d (sent %d), want %d", out.Attempts, n, tt.want)
				}
				if out.Lost != (tt.want > 1) {
					t.Errorf("Lost = %v", out.Lost)
				}
			})
		})
	}
}

func TestRetryOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := serveN(func(n int, w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "10")
			w.WriteHeader(429)
		})
		c := New(HandlerTransport{h})
		pol := DefaultPolicy()
		pol.MaxAttempts, pol.Gate = 1, false // retry: off
		out := c.Do(context.Background(), getReq("http://api.test/a"), &Response{}, &pol, nil, nil)
		if out.Attempts != 1 || !out.Lost || !errors.Is(out.Err, ErrMaxAttempts) {
			t.Fatalf("outcome = %+v", out)
		}
		// Retries off is the plain-client baseline: no gate either.
		if until, open := c.Gates().Until("default"); !open {
			t.Errorf("gate closed until %v, want open with retries off", until)
		}
	})
}

func TestContextEndsWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := serveN(func(n int, w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(503)
		})
		c := New(HandlerTransport{h})
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
		defer cancel()
		out := c.Do(ctx, getReq("http://api.test/a"), &Response{}, nil, nil, nil)
		if out.Lost || out.Attempts != 1 || !errors.Is(out.Err, context.DeadlineExceeded) || out.Total != 4*time.Second ||
			out.RetryAfterWait != 4*time.Second || out.Status != 503 {
			t.Fatalf("outcome = %+v", out)
		}
	})
}

func TestLimitKeySeparatesGates(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := New(HandlerTransport{http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(200) })})
		c.Gates().Close("conversations", time.Now().Add(time.Minute))
		start := time.Now()
		other := testPolicy(func(p *Policy) { p.LimitKey = "users" })
		if out := c.Do(context.Background(), getReq("http://api.test/a"), &Response{}, other, nil, nil); out.GateWait != 0 || time.Since(start) != 0 {
			t.Fatalf("other key waited: %+v", out)
		}
		same := testPolicy(func(p *Policy) { p.LimitKey = "conversations" })
		if out := c.Do(context.Background(), getReq("http://api.test/a"), &Response{}, same, nil, nil); out.GateWait != time.Minute {
			t.Fatalf("same key: %+v", out)
		}
		noGate := testPolicy(func(p *Policy) { p.LimitKey = "conversations"; p.Gate = false })
		c.Gates().Close("conversations", time.Now().Add(time.Minute))
		if out := c.Do(context.Background(), getReq("http://api.test/a"), &Response{}, noGate, nil, nil); out.GateWait != 0 {
			t.Fatalf("gate off: %+v", out)
		}
	})
}

func TestHandlerTransport(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := HandlerTransport{http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/panic":
				panic("boom")
			case "/slow":
				<-r.Context().Done()
				return
			}
			if r.Header.Get("X-Test") != "1" || r.Host != "api.test" || r.Method != "PUT" {
				w.WriteHeader(400)
				return
			}
			w.Header().Set("Inin-Ratelimit-Count", "2")
			w.WriteHeader(201)
			_, _ = w.Write([]byte("hello"))
		})}
		resp := &Response{}
		req := &Request{Method: "PUT", URL: "http://api.test/ok", Header: []HeaderField{{"x-test", "1"}}, Body: []byte("abc")}
		if err := tr.RoundTrip(context.Background(), req, resp); err != nil || resp.Status != 201 || string(resp.Body) != "hello" ||
			resp.BytesOut != 3 || resp.BytesIn != 5 || resp.Header("inin-ratelimit-count") != "2" {
			t.Fatalf("ok: %v %+v", err, resp)
		}
		if err := tr.RoundTrip(context.Background(), getReq("http://api.test/panic"), resp); Classify(err) != metrics.Other {
			t.Fatalf("panic: %v", err)
		}
		slow := &Request{Method: "GET", URL: "http://api.test/slow", Timeout: 2 * time.Second}
		if err := tr.RoundTrip(context.Background(), slow, resp); Classify(err) != metrics.Timeout {
			t.Fatalf("timeout: %v", err)
		}
		if err := tr.RoundTrip(context.Background(), &Request{Method: "GET", URL: "::bad"}, resp); err == nil {
			t.Fatal("bad URL accepted")
		}
	})
}

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want metrics.Class
	}{
		{nil, metrics.OK},
		{&ClassError{Class: metrics.Connect, Err: errors.New("x")}, metrics.Connect},
		{&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, metrics.Connect},
		{&net.OpError{Op: "dial", Net: "tcp", Err: os.ErrDeadlineExceeded}, metrics.Connect},
		{&net.DNSError{Err: "no such host", Name: "x.invalid", IsNotFound: true}, metrics.Connect},
		{syscall.EHOSTUNREACH, metrics.Connect},
		{context.DeadlineExceeded, metrics.Timeout},
		{&net.OpError{Op: "dial", Err: context.DeadlineExceeded}, metrics.Timeout},
		{&net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}, metrics.Timeout},
		{errors.New("net/http: timeout awaiting response headers"), metrics.Timeout},
		{&net.OpError{Op: "remote error", Err: errors.New("tls: bad certificate")}, metrics.TLS},
		{errors.New("tls: failed to verify certificate: x509: certificate signed by unknown authority"), metrics.TLS},
		{&net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, metrics.Reset},
		{&net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("write", syscall.EPIPE)}, metrics.Reset},
		{fmt.Errorf("read body: %w", io.ErrUnexpectedEOF), metrics.Reset},
		{errors.New("http: server closed idle connection"), metrics.Reset},
		{errors.New("the server closed connection before returning the first response byte"), metrics.Reset},
		{context.Canceled, metrics.Other},
		{errors.New("boom"), metrics.Other},
	}
	for _, tt := range tests {
		if got := Classify(tt.err); got != tt.want {
			t.Errorf("Classify(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// BenchmarkDo measures the no-retry path: gate open, budget on, a static
// bearer token, a transport answering 200 with no headers.
func BenchmarkDo(b *testing.B) {
	tr := transportFunc(func(_ context.Context, _ *Request, resp *Response) error {
		resp.Status = 200
		return nil
	})
	auth, err := NewAuth(&AuthConfig{Bearer: &BearerConfig{Token: secretValue("tok")}}, "", nil)
	if err != nil {
		b.Fatal(err)
	}
	c := New(tr, WithSeed(1))
	pol := DefaultPolicy()
	req := &Request{Method: "GET", URL: "http://api.test/a", Header: make([]HeaderField, 0, 4)}
	resp := &Response{}
	var attempts int
	onAttempt := func(a Attempt) { attempts += a.Number }
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if out := c.Do(ctx, req, resp, &pol, auth, onAttempt); out.Status != 200 {
			b.Fatal(out)
		}
	}
}

// BenchmarkDoRateLimitHeaders adds Genesys rate-limit headers to every
// response.
func BenchmarkDoRateLimitHeaders(b *testing.B) {
	h := http.Header{}
	h.Set("Inin-Ratelimit-Count", "5")
	h.Set("Inin-Ratelimit-Allowed", "300")
	h.Set("Inin-Ratelimit-Reset", "42")
	get := h.Get
	tr := transportFunc(func(_ context.Context, _ *Request, resp *Response) error {
		resp.Status = 200
		resp.SetHeaderFunc(get)
		return nil
	})
	c := New(tr, WithSeed(1))
	pol := DefaultPolicy()
	req, resp := getReq("http://api.test/a"), &Response{}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		c.Do(ctx, req, resp, &pol, nil, nil)
	}
}

func TestDoAllocs(t *testing.T) {
	tr := transportFunc(func(_ context.Context, _ *Request, resp *Response) error {
		resp.Status = 200
		return nil
	})
	auth, _ := NewAuth(&AuthConfig{Bearer: &BearerConfig{Token: secretValue("tok")}}, "", nil)
	c := New(tr)
	pol := DefaultPolicy()
	req, resp := getReq("http://api.test/a"), &Response{}
	on := func(Attempt) {}
	c.Do(context.Background(), req, resp, &pol, auth, on) // adds the header once
	if n := testing.AllocsPerRun(200, func() { c.Do(context.Background(), req, resp, &pol, auth, on) }); n > 0 {
		t.Errorf("Do without retries: %v allocs, want 0", n)
	}
}

// TestAttemptFinal: onAttempt is told which attempt is the last, for
// every way a logical request ends: success after retries, retries
// used up, a status not retried, the deadline, and the context.
func TestAttemptFinal(t *testing.T) {
	for _, c := range []struct {
		name     string
		statuses []int // the server's answers in turn; the last repeats
		edit     func(*Policy)
		cancel   bool // the context ends during the first retry's wait
		attempts int
	}{
		{"retried, then ok", []int{503, 503, 200}, nil, false, 3},
		{"retries used up", []int{503}, func(p *Policy) { p.MaxAttempts = 3 }, false, 3},
		{"not retried", []int{404}, nil, false, 1},
		{"past the deadline", []int{503}, func(p *Policy) { p.Jitter, p.Base, p.MaxElapsed = JitterNone, 10*time.Second, 15*time.Second }, false, 2},
		{"context ends in the wait", []int{503}, nil, true, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := serveN(func(n int, w http.ResponseWriter, _ *http.Request) {
					w.WriteHeader(c.statuses[min(n, len(c.statuses))-1])
				})
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				var as []Attempt
				onAttempt := func(a Attempt) {
					as = append(as, a)
					if c.cancel {
						cancel()
					}
				}
				cl := New(HandlerTransport{h}, WithSeed(1))
				out := cl.Do(ctx, getReq("http://api.test/a"), &Response{}, testPolicy(c.edit), nil, onAttempt)
				if len(as) != c.attempts || out.Attempts != c.attempts {
					t.Fatalf("%d attempts reported, outcome %+v; want %d", len(as), out, c.attempts)
				}
				for i, a := range as {
					// The context ends after the attempt is reported: it
					// was not known to be the last then.
					want := i == len(as)-1 && !c.cancel
					if a.Final != want {
						t.Errorf("attempt %d of %d: Final %v, want %v", i+1, len(as), a.Final, want)
					}
				}
			})
		})
	}
}
