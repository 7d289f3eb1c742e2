package client

import (
	"context"
	"net/http"
	"time"

	"github.com/floodgate-dev/floodgate/internal/metrics"
)

// Request is one HTTP request as the engine builds it. Transports must not
// retain it after RoundTrip returns.
type Request struct {
	Method string
	// URL is absolute (scheme, host, path and query).
	URL    string
	Header []HeaderField
	Body   []byte
	// Timeout bounds the attempt; 0 means none beyond ctx.
	Timeout time.Duration
	// ShareConns lets a request that finds no idle connection wait for a
	// busy one to free up when that is expected sooner than a new one
	// could be dialled (H1Transport). Without it a connection is dialled
	// for it at once (within the pool's bounds): a closed-model VU is a
	// user with a connection of its own, while an open model's
	// concurrency is the server's answer to the arrival rate.
	ShareConns bool
}

// HeaderField is one request header.
type HeaderField struct{ Name, Value string }

// SetHeader replaces (or adds) the header name, matched case-insensitively.
func (r *Request) SetHeader(name, value string) {
	for i := range r.Header {
		if equalFold(r.Header[i].Name, name) {
			r.Header[i].Value = value
			return
		}
	}
	r.Header = append(r.Header, HeaderField{name, value})
}

// Response is what a transport read back. A Response is reused across
// attempts by its owner; Body is valid until the next RoundTrip into it.
type Response struct {
	Status int
	// Body holds the response body (the transport may cap what it keeps;
	// BytesIn counts everything read).
	Body     []byte
	BytesIn  int64
	BytesOut int64
	// Start is when the transport sent the request (zero when it does
	// not say), and Latency the time from then to the last body byte.
	Start   time.Time
	Latency time.Duration
	header  func(name string) string
	values  func(name string) []string

	// Transport-owned state reused across attempts (see h1.go, std.go).
	h1   *h1State
	loop doLoop // Client.DoInto's state
	std  http.Header
}

// Header returns the first value of the response header name (case-insensitive).
func (r *Response) Header(name string) string {
	if r.header == nil {
		return ""
	}
	return r.header(name)
}

// Values returns every value of the response header name, for headers
// that repeat (Set-Cookie).
func (r *Response) Values(name string) []string {
	if r.values != nil {
		return r.values(name)
	}
	if v := r.Header(name); v != "" {
		return []string{v}
	}
	return nil
}

// RateLimit parses the response's rate-limit headers (ParseRateLimit).
func (r *Response) RateLimit(now time.Time) RateLimit {
	if r.h1 != nil {
		if r.h1.head.known&knownRateLimit == 0 {
			return RateLimit{} // none of the names: no need to ask for each
		}
		return ParseRateLimit(r.h1.view, now) // copies no value
	}
	return ParseRateLimit(r.Header, now)
}

// SetHeaderFunc installs the lookup used by Header; transports call it.
func (r *Response) SetHeaderFunc(f func(name string) string) { r.header = f }

// MaxBodyBytes caps how much of a response body a transport keeps
// (64 MiB); larger bodies fail the attempt with class other.
const MaxBodyBytes = 64 << 20

// Transport sends one attempt. It returns a non-nil error only when no
// HTTP response was received; the error's class is given by Classify.
// Implementations are safe for concurrent use.
type Transport interface {
	RoundTrip(ctx context.Context, req *Request, resp *Response) error
}

// ClassError is a transport error that knows its class; Classify
// returns Class for any error wrapping one.
type ClassError struct {
	Class metrics.Class
	Err   error
}

func (e *ClassError) Error() string { return e.Class.String() + ": " + e.Err.Error() }
func (e *ClassError) Unwrap() error { return e.Err }

// equalFold reports whether a and b are equal ignoring ASCII case.
func equalFold[T string | []byte](a T, b string) bool {
	if len(a) != len(b) {
		return false
	}
	if string(a) == b { // the usual case, and a memequal
		return true
	}
	for i := 0; i < len(a); i++ {
		ca, cb := a[i], b[i]
		if 'A' <= ca && ca <= 'Z' {
			ca += 'a' - 'A'
		}
		if 'A' <= cb && cb <= 'Z' {
			cb += 'a' - 'A'
		}
		if ca != cb {
			return false
		}
	}
	return true
}
