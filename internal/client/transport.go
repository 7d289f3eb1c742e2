package client

import (
	"context"
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
	// could be dialled (package h1's transport). Without it a connection
	// is dialled for it at once (within the pool's bounds): a
	// closed-model VU is a user with a connection of its own, while an
	// open model's concurrency is the server's answer to the arrival
	// rate.
	ShareConns bool
}

// Idempotent reports whether r may be repeated safely: an idempotent
// method (RFC 9110 §9.2.2), or any method carrying an Idempotency-Key.
func (r *Request) Idempotent() bool {
	switch r.Method {
	case "", "GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE":
		return true
	}
	for _, h := range r.Header {
		if equalFold(h.Name, "Idempotency-Key") {
			return true
		}
	}
	return false
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
// It holds the response, never the transport's own state: any
// transport can fill any Response.
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
	head    Head

	loop doLoop // Client.DoInto's state
}

// Head is a response's header fields as a transport read them. A
// transport may reuse the Head it set on a Response for the next
// response into it.
type Head interface {
	// Get returns the first value of the field name (case-insensitive),
	// "" when there is none.
	Get(name string) string
}

// RateLimitHead is a Head that reads its own rate-limit fields, faster
// than ParseRateLimit's dozen Gets (it may skip them all when the
// response has none).
type RateLimitHead interface {
	Head
	RateLimit(now time.Time) RateLimit
}

// HeaderFunc is a Head that is a lookup function (http.Header.Get, say).
type HeaderFunc func(name string) string

var _ Head = HeaderFunc(nil)

// Get implements Head.
func (f HeaderFunc) Get(name string) string { return f(name) }

// SetHead installs the response's header fields; transports call it.
func (r *Response) SetHead(h Head) { r.head = h }

// Head returns the Head the last transport set (nil if none).
func (r *Response) Head() Head { return r.head }

// SetHeaderFunc is SetHead(HeaderFunc(f)).
func (r *Response) SetHeaderFunc(f func(name string) string) { r.head = HeaderFunc(f) }

// Header returns the first value of the response header name (case-insensitive).
func (r *Response) Header(name string) string {
	if r.head == nil {
		return ""
	}
	return r.head.Get(name)
}

// ValuesHead is a Head that gives every value of a field that repeats.
type ValuesHead interface {
	Head
	Values(name string) []string
}

// Values returns every value of the response header name, for headers
// that repeat (Set-Cookie).
func (r *Response) Values(name string) []string {
	if h, ok := r.head.(ValuesHead); ok {
		return h.Values(name)
	}
	if v := r.Header(name); v != "" {
		return []string{v}
	}
	return nil
}

// RateLimit parses the response's rate-limit headers (ParseRateLimit).
func (r *Response) RateLimit(now time.Time) RateLimit {
	if h, ok := r.head.(RateLimitHead); ok {
		return h.RateLimit(now)
	}
	return ParseRateLimit(r.Header, now)
}

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
