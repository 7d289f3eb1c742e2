package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"syscall"
	"time"

	"github.com/floodgate-dev/floodgate/internal/metrics"
)

// StdTransport sends requests with net/http: HTTP/2 over TLS when the
// server offers it, HTTP/1.1 otherwise. It is what https targets use;
// package h1's transport, HTTP/1.1 only, is faster for plain http.
// StdTransport is safe for concurrent use.
type StdTransport struct {
	c *http.Client
}

// NewStdTransport returns a net/http transport allowing maxConns
// connections per host. headerBytes bounds a response's header section
// as it does package h1's (0: net/http's default, 10 MiB).
func NewStdTransport(maxConns int, tlsConfig *tls.Config, headerBytes int) *StdTransport {
	tr := &http.Transport{
		MaxResponseHeaderBytes: int64(headerBytes),
		Proxy:                  nil, // a load generator must not go through an env proxy unasked
		MaxIdleConns:           maxConns,
		MaxIdleConnsPerHost:    maxConns,
		MaxConnsPerHost:        maxConns,
		IdleConnTimeout:        90 * time.Second,
		DisableCompression:     true,
		ForceAttemptHTTP2:      true,
		TLSClientConfig:        tlsConfig,
		TLSHandshakeTimeout:    10 * time.Second,
	}
	return &StdTransport{c: &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// RoundTrip implements Transport.
func (t *StdTransport) RoundTrip(ctx context.Context, req *Request, resp *Response) error {
	if req.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, req.Timeout)
		defer cancel()
	}
	var body io.Reader
	if len(req.Body) > 0 {
		body = bytes.NewReader(req.Body)
	}
	hr, err := http.NewRequestWithContext(ctx, req.Method, req.URL, body)
	if err != nil {
		return &ClassError{metrics.Other, err}
	}
	for _, h := range req.Header {
		if h.Name == "Host" || h.Name == "host" {
			hr.Host = h.Value
			continue
		}
		hr.Header.Set(h.Name, h.Value)
	}
	start := time.Now()
	r, err := t.c.Do(hr)
	resp.BytesOut = int64(len(req.Body))
	if err != nil {
		resp.Start, resp.Latency = start, time.Since(start)
		resp.Status, resp.Body, resp.BytesIn = 0, nil, 0
		resp.SetHead(nil) // not the last response's
		return &ClassError{classifyStd(ctx, err), err}
	}
	buf := bytes.NewBuffer(resp.Body[:0])
	n, err := io.Copy(buf, io.LimitReader(r.Body, MaxBodyBytes+1))
	r.Body.Close()
	resp.Start, resp.Latency = start, time.Since(start)
	resp.Status = r.StatusCode
	resp.Body = buf.Bytes()
	resp.BytesIn = n
	resp.SetHead(httpHead(r.Header))
	if err != nil {
		return &ClassError{classifyStd(ctx, err), err}
	}
	if n > MaxBodyBytes {
		return &ClassError{metrics.Other, fmt.Errorf("response body over %d bytes", MaxBodyBytes)}
	}
	return nil
}

// httpHead is net/http's header as a Head.
type httpHead http.Header

var _ ValuesHead = httpHead(nil)

func (h httpHead) Get(name string) string      { return http.Header(h).Get(name) }
func (h httpHead) Values(name string) []string { return http.Header(h).Values(name) }

func classifyStd(ctx context.Context, err error) metrics.Class {
	var ne net.Error
	var opErr *net.OpError
	var tlsErr tls.RecordHeaderError
	var certErr *tls.CertificateVerificationError
	switch {
	case ctx.Err() != nil, errors.Is(err, os.ErrDeadlineExceeded):
		return metrics.Timeout
	case errors.As(err, &tlsErr), errors.As(err, &certErr):
		return metrics.TLS
	case errors.As(err, &opErr) && opErr.Op == "dial", errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return metrics.Connect
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return metrics.Reset
	case errors.As(err, &ne) && ne.Timeout():
		return metrics.Timeout
	}
	// What net/http rewords (a TLS record that is plain HTTP becomes
	// "server gave HTTP response to HTTPS client") Classify reads.
	return Classify(err)
}
