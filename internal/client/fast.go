package client

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/floodgate-dev/floodgate/internal/metrics"
	"github.com/valyala/fasthttp"
)

// FastTransport sends HTTP/1.1 over persistent connections with
// valyala/fasthttp: no per-request allocation of headers or bodies, which
// is what lets one generator core keep pace with wrk (see bench/). It
// never retries on its own; retrying is the Client's decision.
// FastTransport is safe for concurrent use.
type FastTransport struct {
	c *fasthttp.Client
}

// MaxBodyBytes caps how much of a response body a transport keeps
// (64 MiB); larger bodies fail the attempt with class other.
const MaxBodyBytes = 64 << 20

// NewFastTransport returns a transport allowing maxConns connections per
// host (normally the plan's maximum concurrency). headerBytes bounds a
// response's status line and headers (0: 8192): it is the read buffer
// every request in flight holds, so it sets the memory of high
// concurrency (10,000 VUs × 8 KiB = 80 MB).
func NewFastTransport(maxConns int, tlsConfig *tls.Config, headerBytes int) *FastTransport {
	if maxConns < 1 {
		maxConns = 1
	}
	if headerBytes <= 0 {
		headerBytes = 8192
	}
	return &FastTransport{c: &fasthttp.Client{
		Name:                      "floodgate",
		MaxConnsPerHost:           maxConns,
		MaxConnWaitTimeout:        time.Minute,
		MaxIdleConnDuration:       90 * time.Second,
		MaxIdemponentCallAttempts: 1,
		RetryIfErr:                func(*fasthttp.Request, int, error) (bool, bool) { return false, false },
		MaxResponseBodySize:       MaxBodyBytes,
		ReadBufferSize:            headerBytes,
		Dial:                      dialOffStack,
		TLSConfig:                 tlsConfig,
		DialDualStack:             true,
		DisablePathNormalizing:    true,
	}}
}

// RoundTrip implements Transport.
func (t *FastTransport) RoundTrip(ctx context.Context, req *Request, resp *Response) error {
	if err := ctx.Err(); err != nil {
		return &ClassError{metrics.Timeout, err}
	}
	if resp.fast == nil {
		fr := new(fasthttp.Response)
		resp.fast = fr
		resp.header = func(name string) string { return fastHeader(&fr.Header, name) }
	}
	fr := resp.fast
	fr.Reset()
	fq := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(fq)
	fq.SetRequestURI(req.URL)
	fq.Header.SetMethod(req.Method)
	for _, h := range req.Header {
		if strings.EqualFold(h.Name, "Host") {
			fq.Header.SetHost(h.Value)
			continue
		}
		fq.Header.Set(h.Name, h.Value)
	}
	if len(req.Body) > 0 {
		fq.SetBodyRaw(req.Body)
	}
	start := time.Now()
	deadline := start.Add(time.Hour)
	if req.Timeout > 0 {
		deadline = start.Add(req.Timeout)
	}
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	err := t.c.DoDeadline(fq, fr, deadline)
	resp.Latency = time.Since(start)
	resp.BytesOut = int64(len(fq.Header.Header()) + len(req.Body))
	if err != nil {
		resp.Status, resp.Body, resp.BytesIn = 0, nil, 0
		return classifyFast(err)
	}
	resp.Status = fr.StatusCode()
	resp.Body = fr.Body()
	resp.BytesIn = int64(len(fr.Header.Header()) + len(resp.Body))
	return nil
}

// dialOffStack dials as fasthttp does by default, on a goroutine of its
// own: dialling goes deep enough to double the caller's stack (8 → 16
// KiB), and the caller is a VU, which keeps its stack for the whole run —
// 80 MB more at 10,000 VUs.
func dialOffStack(addr string) (net.Conn, error) {
	type dialed struct {
		c   net.Conn
		err error
	}
	done := make(chan dialed, 1)
	go func() {
		c, err := fasthttp.DialDualStack(addr)
		done <- dialed{c, err}
	}()
	d := <-done
	return d.c, d.err
}

// fastHeader returns the first value of the response header name, as
// Peek does. Peek first copies and normalises name, which is most of its
// cost when the header is absent, as the dozen rate-limit names that
// ParseRateLimit asks about on every response mostly are: a scan of the
// few names present, compared case-insensitively, answers those at once
// (1.6 µs of 18 µs per request against nginx before, see bench/README.md).
func fastHeader(h *fasthttp.ResponseHeader, name string) string {
	for k := range h.All() {
		if len(k) == len(name) && equalFold(k, name) {
			return string(h.Peek(name))
		}
	}
	return ""
}

func classifyFast(err error) error {
	var ne net.Error
	switch {
	case errors.Is(err, fasthttp.ErrTimeout), errors.Is(err, os.ErrDeadlineExceeded):
		return &ClassError{metrics.Timeout, err}
	case errors.Is(err, fasthttp.ErrDialTimeout), errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return &ClassError{metrics.Connect, err}
	case errors.Is(err, fasthttp.ErrTLSHandshakeTimeout):
		return &ClassError{metrics.TLS, err}
	case errors.Is(err, fasthttp.ErrConnectionClosed), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &ClassError{metrics.Reset, err}
	case errors.As(err, &ne) && ne.Timeout():
		return &ClassError{metrics.Timeout, err}
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return &ClassError{metrics.Connect, err}
	}
	var tlsErr tls.RecordHeaderError
	if errors.As(err, &tlsErr) {
		return &ClassError{metrics.TLS, err}
	}
	return err
}
