package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/floodgate-dev/floodgate/internal/metrics"
)

// Sentinels for the reasons Client.Do stops retrying a logical request.
// Outcome.Err wraps exactly one of them (inside a *LostError) when
// Outcome.Lost is true; branch with errors.Is.
var (
	// ErrMaxAttempts: the policy's MaxAttempts were used up.
	ErrMaxAttempts = errors.New("client: max attempts reached")
	// ErrMaxElapsed: the next wait would have passed the policy's MaxElapsed,
	// or the server's Retry-After asked for longer than what was left of it.
	ErrMaxElapsed = errors.New("client: max elapsed time reached")
	// ErrBudgetExhausted: the retry budget refused the retry.
	ErrBudgetExhausted = errors.New("client: retry budget exhausted")
	// ErrGateClosed: the shared gate for the limit key stays closed past
	// the policy's MaxElapsed.
	ErrGateClosed = errors.New("client: rate-limit gate closed")
)

// LostError is Outcome.Err for a lost logical request: its last attempt
// was retryable but Do stopped. Reason is one of ErrMaxAttempts,
// ErrMaxElapsed, ErrBudgetExhausted or ErrGateClosed; Err is the last
// attempt's transport error (nil when it got a response).
type LostError struct {
	Reason   error
	Attempts int
	Status   int // last status; 0 when no response was received
	Err      error
}

// Error says how many attempts were made, why Do stopped and what the last one got.
func (e *LostError) Error() string {
	var last string
	switch {
	case e.Err != nil:
		last = e.Err.Error()
	case e.Status != 0:
		last = fmt.Sprintf("status %d", e.Status)
	default:
		last = "not sent"
	}
	return fmt.Sprintf("giving up after %d attempt(s): %v: %s", e.Attempts, e.Reason, last)
}

// Unwrap returns the reason and, when there was one, the transport error.
func (e *LostError) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Reason}
	}
	return []error{e.Reason, e.Err}
}

// LimitedError reports a key's gate closed for longer than a request
// could wait. Wait is how long the gate stays closed from the moment of
// the decision.
type LimitedError struct {
	Key  string
	Wait time.Duration
}

// Error names the key and how long its gate stays closed.
func (e *LimitedError) Error() string {
	return fmt.Sprintf("rate limited on %s for %s", e.Key, e.Wait)
}

// Is makes errors.Is(err, ErrGateClosed) true for a *LimitedError.
func (e *LimitedError) Is(target error) bool { return target == ErrGateClosed }

// Classify maps a transport error to a metrics class:
//
//   - nil: OK
//   - an error wrapping *ClassError: its Class (transports classify what
//     only they can recognise)
//   - Timeout: context.DeadlineExceeded, os.ErrDeadlineExceeded, or any
//     net.Error whose Timeout() is true, except while dialling
//   - Auth: the token endpoint refused the credentials
//     (ErrCredentialsRefused); nothing was sent
//   - Connect: a dial failure (refused, unreachable, DNS, dial timeout):
//     the request never left, which is why Connect is safe to retry for
//     every method
//   - TLS: tls.RecordHeaderError, tls.AlertError, remote TLS alerts,
//     certificate verification and x509 errors, "tls: " handshake errors
//   - Reset: ECONNRESET, ECONNABORTED, EPIPE, io.EOF, io.ErrUnexpectedEOF,
//     net.ErrClosed and servers closing the connection mid-exchange
//   - Other: everything else, context.Canceled included
//
// The last two checks fall back to the error text for transports whose
// errors are not typed ("server closed", "connection reset"); they run
// only after every typed check failed. Classify never panics.
func Classify(err error) metrics.Class {
	if err == nil {
		return metrics.OK
	}
	var ce *ClassError
	if errors.As(err, &ce) && ce != nil {
		return ce.Class
	}
	if errors.Is(err, context.Canceled) {
		return metrics.Other
	}
	if errors.Is(err, ErrCredentialsRefused) {
		return metrics.Auth
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return metrics.Timeout
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return metrics.Connect
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr != nil {
		switch opErr.Op {
		case "dial":
			return metrics.Connect
		case "remote error", "local error":
			return metrics.TLS
		}
	}
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) ||
		errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.EHOSTDOWN) {
		return metrics.Connect
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return metrics.Timeout
	}
	if isTLS(err) {
		return metrics.TLS
	}
	if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNABORTED) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
		return metrics.Reset
	}
	var ne net.Error
	if errors.As(err, &ne) && ne != nil && ne.Timeout() {
		return metrics.Timeout
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "tls: "), strings.Contains(msg, "x509: "),
		strings.Contains(msg, "HTTP response to HTTPS client"): // net/http's word for a TLS record that is plain HTTP
		return metrics.TLS
	case strings.Contains(msg, "connection reset"), strings.Contains(msg, "broken pipe"),
		strings.Contains(msg, "server closed"), strings.Contains(msg, "connection closed"),
		strings.Contains(msg, "closed connection"):
		return metrics.Reset
	case strings.Contains(msg, "connection refused"):
		return metrics.Connect
	case strings.Contains(msg, "timeout"):
		return metrics.Timeout
	}
	return metrics.Other
}

func isTLS(err error) bool {
	var rh tls.RecordHeaderError
	var alert tls.AlertError
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var ci x509.CertificateInvalidError
	var hn x509.HostnameError
	var ech *tls.ECHRejectionError
	var sys x509.SystemRootsError
	return errors.As(err, &rh) || errors.As(err, &alert) || errors.As(err, &cv) ||
		errors.As(err, &ua) || errors.As(err, &ci) || errors.As(err, &hn) ||
		errors.As(err, &ech) || errors.As(err, &sys)
}
