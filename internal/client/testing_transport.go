package client

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/floodgate-dev/floodgate/internal/metrics"
)

// HandlerTransport is a Transport that serves each attempt by calling
// Handler in-process with a response recorder, for tests and for running
// the emulator in-process. No socket is involved, so it works inside a
// testing/synctest bubble, where minute-long rate-limit windows pass in
// fake time. Latency is the fake (or real) time the handler took.
//
// The handler sees an *http.Request with Host, RemoteAddr (192.0.2.1:1234),
// headers, body and a context carrying the attempt's Timeout. A handler
// that panics fails the attempt with class Other instead of panicking in
// the caller. HandlerTransport is safe for concurrent use when Handler is.
type HandlerTransport struct {
	Handler http.Handler
}

var _ Transport = HandlerTransport{}

// RoundTrip implements Transport.
func (t HandlerTransport) RoundTrip(ctx context.Context, req *Request, resp *Response) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if req.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, req.Timeout)
		defer cancel()
	}
	hr, err := http.NewRequestWithContext(ctx, req.Method, req.URL, bytes.NewReader(req.Body))
	if err != nil {
		return &ClassError{metrics.Other, err}
	}
	hr.RemoteAddr = "192.0.2.1:1234"
	hr.RequestURI = hr.URL.RequestURI()
	for _, h := range req.Header {
		if equalFold(h.Name, "Host") {
			hr.Host = h.Value
			continue
		}
		hr.Header.Add(h.Name, h.Value)
	}
	start := time.Now()
	rec := httptest.NewRecorder()
	if err := serve(t.Handler, rec, hr); err != nil {
		return err
	}
	resp.Latency = time.Since(start)
	if err := ctx.Err(); err != nil {
		// A real client would have given up waiting.
		resp.Status, resp.Body, resp.BytesIn = 0, resp.Body[:0], 0
		return err
	}
	res := rec.Result()
	resp.Status = res.StatusCode
	resp.Body = append(resp.Body[:0], rec.Body.Bytes()...)
	resp.BytesIn = int64(len(resp.Body))
	resp.BytesOut = int64(len(req.Body))
	resp.SetHeaderFunc(res.Header.Get)
	return nil
}

func serve(h http.Handler, w http.ResponseWriter, r *http.Request) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &ClassError{metrics.Other, fmt.Errorf("handler panic: %v", p)}
		}
	}()
	if h == nil {
		return &ClassError{metrics.Other, fmt.Errorf("HandlerTransport: nil Handler")}
	}
	h.ServeHTTP(w, r)
	return nil
}

// HandlerRoundTripper is an http.RoundTripper that calls Handler
// in-process, for tests and the in-process emulator: give it to NewAuth
// or NewAuthCache so token requests stay inside a synctest bubble.
type HandlerRoundTripper struct {
	Handler http.Handler
}

var _ http.RoundTripper = HandlerRoundTripper{}

// RoundTrip implements http.RoundTripper.
func (t HandlerRoundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	if err := r.Context().Err(); err != nil {
		return nil, err
	}
	sr := r.Clone(r.Context())
	sr.RemoteAddr = "192.0.2.1:1234"
	sr.RequestURI = r.URL.RequestURI()
	if sr.Host == "" {
		sr.Host = r.URL.Host
	}
	if r.Body != nil {
		defer r.Body.Close()
	} else {
		sr.Body = http.NoBody
	}
	rec := httptest.NewRecorder()
	if err := serve(t.Handler, rec, sr); err != nil {
		return nil, err
	}
	res := rec.Result()
	res.Request = r
	return res, nil
}
