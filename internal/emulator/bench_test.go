package emulator

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// discardWriter is a ResponseWriter that reuses its header map, so the
// benchmark counts the handler's allocations, not the recorder's.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(code int)        { w.status = code }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }

func benchServer(b *testing.B) (*Server, string, *fakeClock) {
	b.Helper()
	cfg := DefaultConfig()
	// A limit high enough that the benchmark measures admitted requests;
	// the loops move the clock a window ahead every 1000 requests, so
	// counts stay realistic.
	cfg.Limits.Token.Requests = 2000
	clock := newFakeClock()
	s, err := New(cfg, WithClock(clock.Now))
	if err != nil {
		b.Fatal(err)
	}
	tok, err := s.auth.Issue(DemoClientID, DemoClientSecret, clock.Now())
	if err != nil {
		b.Fatal(err)
	}
	return s, tok.Value, clock
}

// BenchmarkTokensMe measures a token-checked, rate-limited GET through the
// whole handler (mux, correlation ids, auth, limiter, metrics).
func BenchmarkTokensMe(b *testing.B) {
	s, tok, clock := benchServer(b)
	h := s.Handler()
	req := httptest.NewRequest(http.MethodGet, "/api/v2/tokens/me", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%1000 == 0 {
			clock.Advance(time.Minute)
		}
		clear(w.h)
		h.ServeHTTP(w, req)
	}
	if w.status != http.StatusOK {
		b.Fatalf("status %d", w.status)
	}
}

func BenchmarkTokensMeParallel(b *testing.B) {
	s, tok, clock := benchServer(b)
	h := s.Handler()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		req := httptest.NewRequest(http.MethodGet, "/api/v2/tokens/me", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		w := &discardWriter{h: http.Header{}}
		for i := 0; pb.Next(); i++ {
			if i%1000 == 0 {
				clock.Advance(time.Minute)
			}
			clear(w.h)
			h.ServeHTTP(w, req)
		}
	})
}

// BenchmarkConversationGet measures GET /api/v2/conversations/{id}, whose
// body is rendered per request.
func BenchmarkConversationGet(b *testing.B) {
	s, tok, clock := benchServer(b)
	h := s.Handler()
	w := &discardWriter{h: http.Header{}}
	post := httptest.NewRequest(http.MethodPost, "/api/v2/conversations/calls", strings.NewReader(`{"phoneNumber":"+15551234567"}`))
	post.Header.Set("Authorization", "Bearer "+tok)
	post.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, post)
	id := decodeMap(b, rec.Body.Bytes())["id"].(string)
	req := httptest.NewRequest(http.MethodGet, "/api/v2/conversations/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%1000 == 0 {
			clock.Advance(time.Minute)
		}
		clear(w.h)
		h.ServeHTTP(w, req)
	}
	if w.status != http.StatusOK {
		b.Fatalf("status %d", w.status)
	}
}

// BenchmarkCatalogGet measures a catalogued GET of an entity nobody
// created: the generic layer's synthetic User.
func BenchmarkCatalogGet(b *testing.B) {
	s, tok, clock := benchServer(b)
	h := s.Handler()
	req := httptest.NewRequest(http.MethodGet, "/api/v2/users/6f1d2c3a-0b6e-4c39-9a55-7a1e2f0c9d11", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%1000 == 0 {
			clock.Advance(time.Minute)
		}
		clear(w.h)
		h.ServeHTTP(w, req)
	}
	if w.status != http.StatusOK {
		b.Fatalf("status %d", w.status)
	}
}
