package client

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Authenticator puts credentials on requests. Implementations are safe
// for concurrent use, and their String, GoString and LogValue never
// reveal a secret.
type Authenticator interface {
	// Apply sets req's Authorization header, fetching a token first if
	// none is usable (blocking until it arrives or ctx is done).
	Apply(ctx context.Context, req *Request) error
	// Invalidate discards the credential req was sent with, after the
	// server answered 401. It reports whether a different credential can
	// be applied now, that is whether replaying req is worthwhile: true
	// for OAuth2 (the next Apply fetches a fresh token, once for all
	// concurrent callers), false for static credentials.
	Invalidate(req *Request) bool
	// Key identifies the credentials for the default rate-limit key: a
	// kind and a hash, never a secret ("oauth2:1f2e…").
	Key() string
}

// ErrToken is wrapped by every *TokenError.
var ErrToken = errors.New("client: oauth2 token request failed")

// ErrCredentialsRefused is wrapped by a *TokenError whose token endpoint
// refused the client's credentials (see TokenError.Refused): every
// further request would be refused alike, so runs stop on it.
var ErrCredentialsRefused = errors.New("client: credentials refused by the token endpoint")

// TokenError reports a failed OAuth2 token request. Its text never holds
// the client secret: the server's error code and description are kept,
// the response body is not, and anything echoing the secret is redacted.
type TokenError struct {
	TokenURL string
	Status   int    // HTTP status of the token response; 0 if none
	Code     string // RFC 6749 error code, e.g. "invalid_client"
	msg      string // redacted detail
	cause    error  // kept only when its text is free of secrets
}

// Error names the token URL, the status and the server's error code; never a secret.
func (e *TokenError) Error() string {
	var b strings.Builder
	b.WriteString("client: oauth2 token from ")
	b.WriteString(e.TokenURL)
	if e.Status != 0 {
		fmt.Fprintf(&b, ": status %d", e.Status)
	}
	if e.Code != "" {
		b.WriteString(": ")
		b.WriteString(e.Code)
	}
	if e.msg != "" {
		b.WriteString(": ")
		b.WriteString(e.msg)
	}
	return b.String()
}

// Refused reports whether the token endpoint refused the credentials
// themselves: a 401, or an RFC 6749 invalid_client, invalid_grant or
// unauthorized_client answer. A 5xx, a timeout or an unreachable endpoint
// is not a refusal: those may pass.
func (e *TokenError) Refused() bool {
	switch e.Code {
	case "invalid_client", "invalid_grant", "unauthorized_client":
		return true
	}
	return e.Status == 401
}

// Answer is what the token endpoint said, for messages: its status and
// error code, e.g. "401 invalid_client"; never a secret.
func (e *TokenError) Answer() string {
	var parts []string
	if e.Status != 0 {
		parts = append(parts, strconv.Itoa(e.Status))
	}
	if e.Code != "" {
		parts = append(parts, e.Code)
	}
	if e.msg != "" {
		parts = append(parts, "("+e.msg+")")
	}
	return strings.Join(parts, " ")
}

// Unwrap returns ErrToken, ErrCredentialsRefused when Refused, and the
// underlying cause when it could be kept (transport and context errors),
// so Classify and errors.Is see it.
func (e *TokenError) Unwrap() []error {
	errs := []error{ErrToken}
	if e.Refused() {
		errs = append(errs, ErrCredentialsRefused)
	}
	if e.cause != nil {
		errs = append(errs, e.cause)
	}
	return errs
}

// Token refresh timing, see oauth2Auth.
const (
	tokenFetchTimeout = 30 * time.Second
	tokenFailHold     = time.Second
	refreshMaxLead    = 30 * time.Second
)

// NewAuth builds an Authenticator for a (nil: none, and a nil
// Authenticator is returned). target resolves a relative OAuth2 token
// URL. rt carries token requests (nil: http.DefaultTransport); pass a
// HandlerRoundTripper to fetch tokens in-process. Each call builds an
// independent token cache: use an AuthCache to share one per credential
// set.
func NewAuth(a *AuthConfig, target string, rt http.RoundTripper) (Authenticator, error) {
	switch {
	case a == nil:
		return nil, nil
	case a.OAuth2 != nil:
		return newOAuth2(a.OAuth2, target, rt)
	case a.Bearer != nil:
		tok := reveal(a.Bearer.Token)
		if tok == "" {
			return nil, errors.New("client: bearer auth: empty token")
		}
		return &staticAuth{kind: "bearer", header: "Bearer " + tok,
			key: "bearer:" + shortHash("bearer", tok)}, nil
	case a.Basic != nil:
		u := a.Basic.Username
		if strings.Contains(u, ":") {
			return nil, errors.New("client: basic auth: username contains ':'")
		}
		cred := base64.StdEncoding.EncodeToString([]byte(u + ":" + reveal(a.Basic.Password)))
		// The key hashes the username only: a password may be weak enough
		// to brute-force from a hash, and the user is the limit identity.
		return &staticAuth{kind: "basic", header: "Basic " + cred, user: u,
			key: "basic:" + shortHash("basic", u)}, nil
	}
	return nil, errors.New("client: auth: no method set")
}

// AuthCache shares one Authenticator, and so one token cache, among
// every VU and scenario using the same credentials: the same kind, token
// URL, client id, scopes and secret. It is safe for concurrent use.
type AuthCache struct {
	rt http.RoundTripper
	mu sync.Mutex
	m  map[[sha256.Size]byte]Authenticator
}

// NewAuthCache returns an empty cache whose OAuth2 authenticators fetch
// tokens through rt (nil: http.DefaultTransport).
func NewAuthCache(rt http.RoundTripper) *AuthCache {
	return &AuthCache{rt: rt, m: make(map[[sha256.Size]byte]Authenticator)}
}

// Auth returns the cache's Authenticator for a, building it on first
// use. A nil a gives a nil Authenticator.
func (c *AuthCache) Auth(a *AuthConfig, target string) (Authenticator, error) {
	if a == nil {
		return nil, nil
	}
	k := cacheKey(a, target)
	c.mu.Lock()
	defer c.mu.Unlock()
	if au, ok := c.m[k]; ok {
		return au, nil
	}
	au, err := NewAuth(a, target, c.rt)
	if err != nil {
		return nil, err
	}
	c.m[k] = au
	return au, nil
}

// cacheKey digests everything that makes credentials distinct, secrets
// included; the digest stays in memory and is never shown.
func cacheKey(a *AuthConfig, target string) [sha256.Size]byte {
	h := sha256.New()
	w := func(s string) { h.Write([]byte(s)); h.Write([]byte{0}) }
	switch {
	case a.OAuth2 != nil:
		o := a.OAuth2
		u, _ := resolveURL(target, o.TokenURL)
		w("oauth2")
		w(u)
		w(o.ClientID)
		w(reveal(o.ClientSecret))
		s := slices.Clone(o.Scopes)
		slices.Sort(s)
		w(strings.Join(s, " "))
	case a.Bearer != nil:
		w("bearer")
		w(reveal(a.Bearer.Token))
	case a.Basic != nil:
		w("basic")
		w(a.Basic.Username)
		w(reveal(a.Basic.Password))
	}
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

// shortHash is a 64-bit hex digest of parts, for keys that may be shown.
func shortHash(parts ...string) string {
	h := sha256.New()
	h.Write([]byte("floodgate limit key"))
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

func resolveURL(target, ref string) (string, error) {
	r, err := url.Parse(ref)
	if err != nil {
		return "", fmt.Errorf("client: oauth2 token_url: %w", err)
	}
	if r.IsAbs() {
		return r.String(), nil
	}
	b, err := url.Parse(target)
	if err != nil || !b.IsAbs() {
		return "", fmt.Errorf("client: oauth2 token_url %q is relative and target %q is not an absolute URL", ref, target)
	}
	return b.ResolveReference(r).String(), nil
}

// staticAuth is a fixed bearer token or Basic credential.
type staticAuth struct {
	kind   string
	header string // the whole Authorization value
	user   string
	key    string
}

func (s *staticAuth) Apply(_ context.Context, req *Request) error {
	req.SetHeader("Authorization", s.header)
	return nil
}

func (s *staticAuth) Invalidate(*Request) bool { return false }
func (s *staticAuth) Key() string              { return s.key }
func (s *staticAuth) String() string {
	if s.user != "" {
		return fmt.Sprintf("%s auth (user %q, password redacted)", s.kind, s.user)
	}
	return s.kind + " auth (token redacted)"
}
func (s *staticAuth) GoString() string     { return s.String() }
func (s *staticAuth) LogValue() slog.Value { return slog.StringValue(s.String()) }

// oauth2Auth is the client-credentials grant with one token cache.
//
// Apply reads the current token without locking. A token is used until
// it expires; from refreshAt (lifetime − min(10 % of lifetime, 30 s)) on,
// the first Apply starts a background refresh and keeps using the still
// valid token, so VUs never stall on a routine refresh. Without a usable
// token (first use, expired, invalidated after a 401), callers start or
// join one fetch and wait for it: N concurrent callers cause one token
// request. A failed fetch is remembered for a second so that bad
// credentials do not turn every request into a token request.
type oauth2Auth struct {
	cfg     clientcredentials.Config
	hc      *http.Client
	key     string
	desc    string
	secrets []string // the secret as it may appear on the wire, for redaction

	cur atomic.Pointer[token]

	mu        sync.Mutex
	inflight  *tokenFetch
	failErr   error
	failUntil time.Time
}

type token struct {
	header    string    // "Bearer <access token>"
	expiry    time.Time // zero: no expiry given
	refreshAt time.Time
	invalid   atomic.Bool
}

type tokenFetch struct {
	done chan struct{}
	tok  *token
	err  error
}

func newOAuth2(o *OAuth2Config, target string, rt http.RoundTripper) (*oauth2Auth, error) {
	if o.ClientID == "" {
		return nil, errors.New("client: oauth2: empty client_id")
	}
	if o.TokenURL == "" {
		return nil, errors.New("client: oauth2: empty token_url")
	}
	u, err := resolveURL(target, o.TokenURL)
	if err != nil {
		return nil, err
	}
	if rt == nil {
		rt = http.DefaultTransport
	}
	secret := reveal(o.ClientSecret)
	scopes := slices.Clone(o.Scopes)
	a := &oauth2Auth{
		cfg: clientcredentials.Config{
			ClientID:     o.ClientID,
			ClientSecret: secret,
			TokenURL:     u,
			Scopes:       scopes,
			// Genesys Cloud (and most servers) take HTTP Basic; auto-detect
			// would resend the secret in the body after every failure.
			AuthStyle: oauth2.AuthStyleInHeader,
		},
		hc: &http.Client{Transport: rt,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		key:  "oauth2:" + shortHash("oauth2", u, o.ClientID, strings.Join(scopes, " ")),
		desc: fmt.Sprintf("oauth2 client credentials (client %q, token URL %s, secret redacted)", o.ClientID, u),
	}
	if secret != "" {
		a.secrets = []string{
			secret,
			url.QueryEscape(secret),
			base64.StdEncoding.EncodeToString([]byte(o.ClientID + ":" + secret)),
			base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(o.ClientID) + ":" + url.QueryEscape(secret))),
		}
	}
	return a, nil
}

func (a *oauth2Auth) Key() string          { return a.key }
func (a *oauth2Auth) String() string       { return a.desc }
func (a *oauth2Auth) GoString() string     { return a.desc }
func (a *oauth2Auth) LogValue() slog.Value { return slog.StringValue(a.desc) }

func (a *oauth2Auth) Apply(ctx context.Context, req *Request) error {
	if t := a.cur.Load(); t != nil && !t.invalid.Load() {
		if t.expiry.IsZero() {
			req.SetHeader("Authorization", t.header)
			return nil
		}
		now := time.Now()
		if now.Before(t.expiry) {
			if !now.Before(t.refreshAt) {
				a.refreshAsync(now)
			}
			req.SetHeader("Authorization", t.header)
			return nil
		}
	}
	t, err := a.fetchWait(ctx)
	if err != nil {
		return err
	}
	req.SetHeader("Authorization", t.header)
	return nil
}

func (a *oauth2Auth) Invalidate(req *Request) bool {
	var sent string
	for _, h := range req.Header {
		if equalFold(h.Name, "Authorization") {
			sent = h.Value
			break
		}
	}
	if t := a.cur.Load(); t != nil && t.header == sent {
		t.invalid.Store(true)
	}
	return true
}

func usable(t *token, now time.Time) bool {
	return t != nil && !t.invalid.Load() && (t.expiry.IsZero() || now.Before(t.expiry))
}

// refreshAsync starts a background fetch unless one runs or failed just now.
func (a *oauth2Auth) refreshAsync(now time.Time) {
	a.mu.Lock()
	if a.inflight == nil && !now.Before(a.failUntil) {
		a.start()
	}
	a.mu.Unlock()
}

// start launches a fetch. a.mu is held.
func (a *oauth2Auth) start() *tokenFetch {
	f := &tokenFetch{done: make(chan struct{})}
	a.inflight = f
	go a.run(f)
	return f
}

// fetchWait joins or starts a fetch and waits for it.
func (a *oauth2Auth) fetchWait(ctx context.Context) (*token, error) {
	a.mu.Lock()
	now := time.Now()
	if t := a.cur.Load(); usable(t, now) { // fetched while we were unlocked
		a.mu.Unlock()
		return t, nil
	}
	f := a.inflight
	if f == nil {
		if a.failErr != nil && now.Before(a.failUntil) {
			err := a.failErr
			a.mu.Unlock()
			return nil, err
		}
		f = a.start()
	}
	a.mu.Unlock()
	select {
	case <-f.done:
		return f.tok, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// run fetches one token. It does not use any caller's context: the
// fetch serves every caller, and one caller giving up must not fail it
// for the others.
func (a *oauth2Auth) run(f *tokenFetch) {
	ctx, cancel := context.WithTimeout(context.WithValue(context.Background(), oauth2.HTTPClient, a.hc), tokenFetchTimeout)
	tk, err := a.cfg.Token(ctx)
	cancel()
	now := time.Now()
	var t *token
	if err == nil {
		if tk == nil || tk.AccessToken == "" {
			err = &TokenError{TokenURL: a.cfg.TokenURL, msg: "response has no access_token"}
		} else {
			t = &token{header: tk.Type() + " " + tk.AccessToken, expiry: tk.Expiry}
			if !tk.Expiry.IsZero() {
				lead := min(tk.Expiry.Sub(now)/10, refreshMaxLead)
				t.refreshAt = tk.Expiry.Add(-max(lead, 0))
			}
		}
	} else {
		err = a.tokenError(err)
	}
	a.mu.Lock()
	if err != nil {
		f.err = err
		a.failErr, a.failUntil = err, now.Add(tokenFailHold)
	} else {
		f.tok = t
		a.cur.Store(t)
		a.failErr, a.failUntil = nil, time.Time{}
	}
	a.inflight = nil
	a.mu.Unlock()
	close(f.done)
}

// tokenError turns an error from the oauth2 package into a *TokenError
// free of secrets.
func (a *oauth2Auth) tokenError(err error) error {
	te := &TokenError{TokenURL: a.redact(a.cfg.TokenURL)}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		if re.Response != nil {
			te.Status = re.Response.StatusCode
		}
		te.Code = a.redact(re.ErrorCode)
		te.msg = a.redact(re.ErrorDescription)
		return te
	}
	msg := err.Error()
	te.msg = a.redact(msg)
	switch {
	case te.msg == msg:
		te.cause = err
	case errors.Is(err, context.DeadlineExceeded):
		te.cause = context.DeadlineExceeded
	default:
		// The error echoed the secret (or a short secret matched by
		// chance): keep its class, not its text, so that an unreachable
		// token endpoint still counts as one.
		te.cause = &ClassError{Class: Classify(err), Err: errors.New(te.msg)}
	}
	return te
}

// redact replaces every wire form of the secret in s.
func (a *oauth2Auth) redact(s string) string {
	for _, v := range a.secrets {
		if v != "" && strings.Contains(s, v) {
			s = strings.ReplaceAll(s, v, "[redacted]")
		}
	}
	return s
}
