package client

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/floodgate-dev/floodgate/internal/metrics"
)

const (
	testClientID = "client-1"
	testSecret   = "s3cr3t/VALUE+with=odd&chars"
)

// tokenServer is a client-credentials token endpoint and an API that
// accepts only its live tokens.
type tokenServer struct {
	ttl     time.Duration
	latency time.Duration // fake time the token endpoint takes

	mu      sync.Mutex
	issued  int
	expires map[string]time.Time
	revoked map[string]bool
	api401  int
}

func newTokenServer(ttl time.Duration) *tokenServer {
	return &tokenServer{ttl: ttl, expires: map[string]time.Time{}, revoked: map[string]bool{}}
}

func (s *tokenServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/oauth/token" {
		s.token(w, r)
		return
	}
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	exp, ok := s.expires[tok]
	ok = ok && !s.revoked[tok] && time.Now().Before(exp)
	if !ok {
		s.api401++
	}
	s.mu.Unlock()
	if !ok {
		w.WriteHeader(401)
		_, _ = w.Write([]byte(`{"message":"The supplied credentials are expired and cannot be used.","code":"credentials.expired","status":401}`))
		return
	}
	w.WriteHeader(200)
}

func (s *tokenServer) token(w http.ResponseWriter, r *http.Request) {
	if s.latency > 0 {
		wait(r.Context(), s.latency)
	}
	id, secret, ok := r.BasicAuth()
	// RFC 6749 §2.3.1: both are form-urlencoded before Basic encoding.
	id, _ = url.QueryUnescape(id)
	secret, _ = url.QueryUnescape(secret)
	if !ok || id != testClientID || secret != testSecret || r.FormValue("grant_type") != "client_credentials" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(401)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_client", "description": "authentication failed"})
		return
	}
	s.mu.Lock()
	s.issued++
	tok := fmt.Sprintf("tok-%d", s.issued)
	s.expires[tok] = time.Now().Add(s.ttl)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "bearer", "expires_in": int(s.ttl / time.Second)})
}

func (s *tokenServer) stats() (issued, api401 int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issued, s.api401
}

func (s *tokenServer) revoke(tok string) {
	s.mu.Lock()
	s.revoked[tok] = true
	s.mu.Unlock()
}

func oauthPlan(secret string) *AuthConfig {
	return &AuthConfig{OAuth2: &OAuth2Config{TokenURL: "/oauth/token", ClientID: testClientID,
		ClientSecret: secretValue(secret), Scopes: []string{"b", "a"}}}
}

func authHeader(r *Request) string {
	for _, h := range r.Header {
		if h.Name == "Authorization" {
			return h.Value
		}
	}
	return ""
}

func TestTokenFetchedOnceForConcurrentVUs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newTokenServer(time.Hour)
		srv.latency = 200 * time.Millisecond
		cache := NewAuthCache(HandlerRoundTripper{srv})
		var wg sync.WaitGroup
		headers := make([]string, 100)
		for i := range 100 {
			wg.Go(func() {
				// Every VU asks the cache, as the engine does per VU.
				a, err := cache.Auth(oauthPlan(testSecret), "http://api.test")
				if err != nil {
					t.Error(err)
					return
				}
				req := getReq("http://api.test/x")
				if err := a.Apply(context.Background(), req); err != nil {
					t.Error(err)
				}
				headers[i] = authHeader(req)
			})
		}
		wg.Wait()
		if issued, _ := srv.stats(); issued != 1 {
			t.Fatalf("%d token requests for 100 concurrent VUs, want 1", issued)
		}
		for i, h := range headers {
			if h != "Bearer tok-1" {
				t.Fatalf("VU %d sent %q", i, h)
			}
		}
	})
}

func TestAuthCacheKeys(t *testing.T) {
	t.Parallel()
	cache := NewAuthCache(HandlerRoundTripper{newTokenServer(time.Hour)})
	a1, _ := cache.Auth(oauthPlan(testSecret), "http://api.test")
	a2, _ := cache.Auth(oauthPlan(testSecret), "http://api.test/")
	abs := oauthPlan(testSecret)
	abs.OAuth2.TokenURL = "http://api.test/oauth/token"
	a3, _ := cache.Auth(abs, "http://elsewhere.test")
	other, _ := cache.Auth(oauthPlan("another secret"), "http://api.test")
	if a1 != a2 || a1 != a3 {
		t.Error("same credentials gave different authenticators")
	}
	if a1 == other {
		t.Error("different secrets share an authenticator")
	}
	// The limit key does not depend on the secret and never contains it.
	if a1.Key() != other.Key() || !strings.HasPrefix(a1.Key(), "oauth2:") || strings.Contains(a1.Key(), testSecret) {
		t.Errorf("keys %q, %q", a1.Key(), other.Key())
	}
	if a, err := cache.Auth(nil, ""); a != nil || err != nil {
		t.Errorf("nil auth = %v, %v", a, err)
	}
}

func TestUnauthorizedRefreshAndReplay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newTokenServer(time.Hour)
		auth, err := NewAuth(oauthPlan(testSecret), "http://api.test", HandlerRoundTripper{srv})
		if err != nil {
			t.Fatal(err)
		}
		c := New(HandlerTransport{srv})
		req, resp := getReq("http://api.test/x"), &Response{}
		if out := c.Do(context.Background(), req, resp, nil, auth, nil); out.Status != 200 || out.Attempts != 1 {
			t.Fatalf("first: %+v", out)
		}
		// The server revokes the token: the next request gets a 401, the
		// client refreshes once and replays.
		srv.revoke("tok-1")
		var as []Attempt
		out := c.Do(context.Background(), req, resp, nil, auth, collect(&as))
		if out.Status != 200 || out.Attempts != 2 || out.Lost || out.Err != nil {
			t.Fatalf("after revoke: %+v", out)
		}
		if as[0].Status != 401 || as[0].Replay || !as[1].Replay || as[1].Status != 200 || authHeader(req) != "Bearer tok-2" ||
			as[0].Final || !as[1].Final {
			t.Fatalf("attempts %+v %+v, header %q", as[0], as[1], authHeader(req))
		}
		if issued, _ := srv.stats(); issued != 2 {
			t.Errorf("%d tokens issued, want 2", issued)
		}
		// The replay is not a retry: it uses no budget.
		if n := c.Budget(auth.Key(), *DefaultPolicy().Budget); n.Refused() != 0 {
			t.Error("budget touched")
		}

		// 100 VUs hit the revoked token at once: still one refresh.
		srv.revoke("tok-2")
		var wg sync.WaitGroup
		for range 100 {
			wg.Go(func() {
				if out := c.Do(context.Background(), getReq("http://api.test/x"), &Response{}, nil, auth, nil); out.Status != 200 {
					t.Errorf("VU: %+v", out)
				}
			})
		}
		wg.Wait()
		if issued, _ := srv.stats(); issued != 3 {
			t.Errorf("%d tokens issued after a shared 401, want 3", issued)
		}
	})
}

func TestUnauthorizedReplaysOnlyOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newTokenServer(time.Hour)
		api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/oauth/token" {
				srv.ServeHTTP(w, r)
				return
			}
			w.WriteHeader(401) // the client lacks a permission, say
		})
		auth, _ := NewAuth(oauthPlan(testSecret), "http://api.test", HandlerRoundTripper{api})
		out := New(HandlerTransport{api}).Do(context.Background(), getReq("http://api.test/x"), &Response{}, nil, auth, nil)
		if out.Status != 401 || out.Attempts != 2 || out.Lost || out.Class != metrics.Status {
			t.Fatalf("outcome = %+v", out)
		}
		// Static credentials cannot refresh: no replay.
		bearer, _ := NewAuth(&AuthConfig{Bearer: &BearerConfig{Token: secretValue("static")}}, "", nil)
		out = New(HandlerTransport{api}).Do(context.Background(), getReq("http://api.test/x"), &Response{}, nil, bearer, nil)
		if out.Status != 401 || out.Attempts != 1 {
			t.Fatalf("bearer outcome = %+v", out)
		}
	})
}

func TestTokenRefreshedBeforeExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newTokenServer(100 * time.Second)
		auth, _ := NewAuth(oauthPlan(testSecret), "http://api.test", HandlerRoundTripper{srv})
		c := New(HandlerTransport{srv})
		req, resp := getReq("http://api.test/x"), &Response{}
		start := time.Now()
		var bad []Attempt
		for time.Since(start) < 350*time.Second {
			c.Do(context.Background(), req, resp, nil, auth, func(a Attempt) {
				if a.Status != 200 {
					bad = append(bad, a)
				}
			})
			wait(context.Background(), time.Second)
		}
		issued, api401 := srv.stats()
		// Lead = min(10 % of 100 s, 30 s) = 10 s: tokens at 0, 90, 180, 270 s.
		if issued != 4 || api401 != 0 || len(bad) != 0 {
			t.Fatalf("issued %d tokens, %d 401s, bad attempts %+v", issued, api401, bad)
		}
	})
}

func TestRefreshLeadCappedAt30s(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newTokenServer(24 * time.Hour)
		auth, _ := NewAuth(oauthPlan(testSecret), "http://api.test", HandlerRoundTripper{srv})
		req := getReq("http://api.test/x")
		_ = auth.Apply(context.Background(), req)
		wait(context.Background(), 24*time.Hour-31*time.Second)
		_ = auth.Apply(context.Background(), req)
		synctest.Wait()
		if issued, _ := srv.stats(); issued != 1 {
			t.Fatalf("refreshed %d s early", 31)
		}
		wait(context.Background(), time.Second)
		_ = auth.Apply(context.Background(), req) // 30 s before expiry: background refresh
		synctest.Wait()
		if issued, _ := srv.stats(); issued != 2 || authHeader(req) != "Bearer tok-1" {
			t.Fatalf("issued %d, header %q: want a background refresh while the old token is used", issued, authHeader(req))
		}
		_ = auth.Apply(context.Background(), req)
		if authHeader(req) != "Bearer tok-2" {
			t.Fatalf("header %q after refresh", authHeader(req))
		}
	})
}

func TestStaticAuth(t *testing.T) {
	t.Parallel()
	bearer, err := NewAuth(&AuthConfig{Bearer: &BearerConfig{Token: secretValue("tkn-SECRET")}}, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	basic, err := NewAuth(&AuthConfig{Basic: &BasicConfig{Username: "ann", Password: secretValue("pw-SECRET")}}, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	req := getReq("http://api.test/x")
	_ = bearer.Apply(context.Background(), req)
	if authHeader(req) != "Bearer tkn-SECRET" {
		t.Errorf("bearer header %q", authHeader(req))
	}
	_ = basic.Apply(context.Background(), req)
	if want := "Basic " + base64.StdEncoding.EncodeToString([]byte("ann:pw-SECRET")); authHeader(req) != want || len(req.Header) != 1 {
		t.Errorf("basic header %q (%d headers)", authHeader(req), len(req.Header))
	}
	if bearer.Invalidate(req) || basic.Invalidate(req) {
		t.Error("static credentials claim they can refresh")
	}
	for _, a := range []Authenticator{bearer, basic} {
		if strings.Contains(a.Key(), "SECRET") || a.Key() == "" {
			t.Errorf("key %q", a.Key())
		}
	}
	for _, bad := range []*AuthConfig{
		{}, {Bearer: &BearerConfig{}}, {Basic: &BasicConfig{Username: "a:b"}},
		{OAuth2: &OAuth2Config{TokenURL: "/t"}}, {OAuth2: &OAuth2Config{ClientID: "x"}},
		{OAuth2: &OAuth2Config{ClientID: "x", TokenURL: "/t"}}, // relative, no target
	} {
		if a, err := NewAuth(bad, "", nil); err == nil {
			t.Errorf("NewAuth(%+v) = %v, want an error", bad, a)
		}
	}
}

// TestSecretsNeverLeak checks every error and formatting path for the
// secret in each wire form, including a token endpoint echoing it.
func TestSecretsNeverLeak(t *testing.T) {
	forms := []string{
		testSecret,
		url.QueryEscape(testSecret),
		base64.StdEncoding.EncodeToString([]byte(testClientID + ":" + testSecret)),
		base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(testClientID) + ":" + url.QueryEscape(testSecret))),
		"tkn-SECRET", "pw-SECRET",
	}
	check := func(t *testing.T, what, s string) {
		t.Helper()
		for _, f := range forms {
			if strings.Contains(s, f) {
				t.Errorf("%s leaks a secret (%q): %s", what, f, s)
			}
		}
	}
	echo := func(w http.ResponseWriter, r *http.Request) string {
		_ = r.ParseForm()
		return fmt.Sprintf("got %s %s %v", r.Header.Get("Authorization"), testSecret, r.Form)
	}
	endpoints := map[string]http.HandlerFunc{
		"error with description echoing": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(401)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_client " + testSecret, "error_description": echo(w, r)})
		},
		"plain body echoing": func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(500)
			_, _ = w.Write([]byte(echo(w, r)))
		},
		"200 without a token": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"note":"` + testSecret + `"}`))
		},
		"garbage 200": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{` + echo(w, r)))
		},
	}
	for name, h := range endpoints {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				auth, err := NewAuth(oauthPlan(testSecret), "http://api.test", HandlerRoundTripper{h})
				if err != nil {
					t.Fatal(err)
				}
				err = auth.Apply(context.Background(), getReq("http://api.test/x"))
				if err == nil || !errors.Is(err, ErrToken) {
					t.Fatalf("Apply = %v, want a token error", err)
				}
				check(t, "Apply error", err.Error())
				check(t, "Apply error %+v", fmt.Sprintf("%+v %#v", err, err))
				out := New(HandlerTransport{h}).Do(context.Background(), getReq("http://api.test/x"), &Response{}, nil, auth, nil)
				if out.Err == nil || out.Attempts != 0 {
					t.Fatalf("Do = %+v", out)
				}
				check(t, "Outcome.Err", out.Err.Error())
				check(t, "Outcome", fmt.Sprintf("%+v", out))
			})
		})
	}
	t.Run("transport error", func(t *testing.T) {
		rt := roundTripperFunc(func(r *http.Request) (*http.Response, error) {
			return nil, fmt.Errorf("proxy refused %s with %s", r.Header.Get("Authorization"), testSecret)
		})
		auth, _ := NewAuth(oauthPlan(testSecret), "http://api.test", rt)
		err := auth.Apply(context.Background(), getReq("http://api.test/x"))
		if err == nil {
			t.Fatal("no error")
		}
		check(t, "transport error", err.Error())
		for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
			check(t, "wrapped error", e.Error())
		}
	})
	t.Run("formatting and logging", func(t *testing.T) {
		o, _ := NewAuth(oauthPlan(testSecret), "http://api.test", nil)
		b, _ := NewAuth(&AuthConfig{Bearer: &BearerConfig{Token: secretValue("tkn-SECRET")}}, "", nil)
		p, _ := NewAuth(&AuthConfig{Basic: &BasicConfig{Username: "ann", Password: secretValue("pw-SECRET")}}, "", nil)
		var buf bytes.Buffer
		log := slog.New(slog.NewTextHandler(&buf, nil))
		for _, a := range []Authenticator{o, b, p} {
			check(t, "format", fmt.Sprintf("%v %+v %#v %s", a, a, a, a))
			log.Info("auth", "a", a)
			check(t, "slog", buf.String())
			check(t, "key", a.Key())
		}
	})
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestTokenFailureHeldBriefly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newTokenServer(time.Hour)
		calls := 0
		counting := HandlerRoundTripper{http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls++
			srv.ServeHTTP(w, r)
		})}
		auth, _ := NewAuth(oauthPlan("wrong"), "http://api.test", counting)
		for range 10 {
			err := auth.Apply(context.Background(), getReq("http://api.test/x"))
			var te *TokenError
			if !errors.As(err, &te) || te.Status != 401 || te.Code != "invalid_client" {
				t.Fatalf("Apply = %v", err)
			}
		}
		if calls != 1 {
			t.Fatalf("%d token requests within the hold, want 1", calls)
		}
		wait(context.Background(), time.Second)
		_ = auth.Apply(context.Background(), getReq("http://api.test/x"))
		if calls != 2 {
			t.Fatalf("%d token requests after the hold, want 2", calls)
		}
	})
}

func TestApplyHonoursContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := newTokenServer(time.Hour)
		srv.latency = time.Minute
		auth, _ := NewAuth(oauthPlan(testSecret), "http://api.test", HandlerRoundTripper{srv})
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		start := time.Now()
		if err := auth.Apply(ctx, getReq("http://api.test/x")); !errors.Is(err, context.DeadlineExceeded) || time.Since(start) != time.Second {
			t.Fatalf("Apply = %v after %v", err, time.Since(start))
		}
		// The shared fetch goes on for the others and completes.
		synctest.Wait()
		if err := auth.Apply(context.Background(), getReq("http://api.test/x")); err != nil {
			t.Fatal(err)
		}
		if issued, _ := srv.stats(); issued != 1 {
			t.Errorf("issued %d", issued)
		}
	})
}

// A token endpoint that refuses the credentials gives class Auth and
// ErrCredentialsRefused; one that fails for another reason does not.
func TestTokenRefusalClass(t *testing.T) {
	t.Parallel()
	answer := func(status int, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(body))
		}
	}
	cases := []struct {
		name    string
		h       http.HandlerFunc
		refused bool
		answer  string
	}{
		{"401 invalid_client", answer(401, `{"error":"invalid_client","error_description":"authentication failed"}`), true, "401 invalid_client (authentication failed)"},
		{"400 invalid_client", answer(400, `{"error":"invalid_client"}`), true, "400 invalid_client"},
		{"400 invalid_grant", answer(400, `{"error":"invalid_grant"}`), true, "400 invalid_grant"},
		{"400 unauthorized_client", answer(400, `{"error":"unauthorized_client"}`), true, "400 unauthorized_client"},
		{"401 without a body", answer(401, ``), true, "401"},
		{"400 invalid_scope", answer(400, `{"error":"invalid_scope"}`), false, "400 invalid_scope"},
		{"500", answer(500, `{"error":"server_error"}`), false, "500 server_error"},
		{"503 html", answer(503, `<html>down</html>`), false, "503"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			auth, err := NewAuth(oauthPlan(testSecret), "http://api.test", HandlerRoundTripper{c.h})
			if err != nil {
				t.Fatal(err)
			}
			err = auth.Apply(context.Background(), getReq("http://api.test/x"))
			var te *TokenError
			if !errors.As(err, &te) {
				t.Fatalf("Apply = %v, want a *TokenError", err)
			}
			if te.Refused() != c.refused || errors.Is(err, ErrCredentialsRefused) != c.refused {
				t.Errorf("Refused = %v, errors.Is refused = %v, want %v", te.Refused(), errors.Is(err, ErrCredentialsRefused), c.refused)
			}
			if got := Classify(err) == metrics.Auth; got != c.refused {
				t.Errorf("Classify = %v, want auth: %v", Classify(err), c.refused)
			}
			if !strings.HasPrefix(te.Answer(), c.answer) {
				t.Errorf("Answer = %q, want it to start %q", te.Answer(), c.answer)
			}
			if strings.Contains(err.Error(), testSecret) || strings.Contains(te.Answer(), testSecret) {
				t.Errorf("the secret leaks: %v", err)
			}
		})
	}
}

// A transport error whose text had to be redacted keeps its class: a
// secret short enough to match inside "connection refused" must not turn
// an unreachable token endpoint into class other.
func TestRedactedTokenErrorKeepsItsClass(t *testing.T) {
	t.Parallel()
	rt := roundTripperFunc(func(*http.Request) (*http.Response, error) {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	})
	for _, secret := range []string{"s", "refused", testSecret} {
		auth, err := NewAuth(oauthPlan(secret), "http://api.test", rt)
		if err != nil {
			t.Fatal(err)
		}
		err = auth.Apply(context.Background(), getReq("http://api.test/x"))
		if Classify(err) != metrics.Connect || strings.Contains(err.Error(), " "+secret+" ") {
			t.Errorf("secret %q: Apply = %v, class %v; want connect", secret, err, Classify(err))
		}
	}
}
