package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/floodgate-dev/floodgate/internal/emulator/config"
)

// Errors of Authenticate and Issue. The server maps them to the platform's
// 401 codes.
var (
	ErrNoToken        = errors.New("auth: no bearer token")      // authentication.required
	ErrBadCredentials = errors.New("auth: unknown bearer token") // bad.credentials
	ErrExpired        = errors.New("auth: token expired")        // credentials.expired
	ErrInvalidClient  = errors.New("auth: invalid client credentials")
)

// Org is one organization. RateKey is its rate-limit key.
type Org struct {
	ID, Name string
	RateKey  string
}

// Client is one OAuth client. Its fields are read-only after New.
type Client struct {
	ID, Name string
	Org      *Org
	// Lifetime is the tokens' lifetime, already multiplied by the time
	// scale.
	Lifetime time.Duration
	RateKey  string
	secret   []byte
	perms    []Permission
}

// Token is an issued access token. Its fields are read-only.
type Token struct {
	Value           string
	Client          *Client
	Issued, Expires time.Time
	// RateKey is the token's rate-limit key.
	RateKey string
	// Info is the encoded TokenInfo answered by GET /api/v2/tokens/me.
	Info []byte
}

// Registry holds clients and tokens. It is safe for concurrent use.
type Registry struct {
	clients map[string]*Client
	orgs    []*Org

	mu     sync.RWMutex
	tokens map[string]*Token
	ring   []*Token // issuance order, for evicting the oldest
	next   int
}

// New builds a registry from the config's orgs. scale multiplies token
// lifetimes.
func New(orgs []config.Org, tokensMax int, scale float64) (*Registry, error) {
	r := &Registry{clients: map[string]*Client{}, tokens: map[string]*Token{}, ring: make([]*Token, tokensMax)}
	for _, o := range orgs {
		org := &Org{ID: o.ID, Name: o.Name, RateKey: "o:" + o.ID}
		r.orgs = append(r.orgs, org)
		for _, c := range o.Clients {
			cl := &Client{ID: c.ID, Name: c.Name, Org: org, secret: []byte(c.Secret), RateKey: "c:" + c.ID,
				Lifetime: time.Duration(float64(c.TokenLifetime) * scale)}
			if cl.Lifetime < time.Millisecond {
				cl.Lifetime = time.Millisecond
			}
			for _, p := range c.Permissions {
				pp, err := ParsePermission(p)
				if err != nil {
					return nil, fmt.Errorf("client %s: %w", c.ID, err)
				}
				cl.perms = append(cl.perms, pp)
			}
			r.clients[c.ID] = cl
		}
	}
	return r, nil
}

// Client returns the client with id.
func (r *Registry) Client(id string) (*Client, bool) {
	c, ok := r.clients[id]
	return c, ok
}

// Issue checks the client's credentials and issues a token at now. When
// the store is full the oldest token is forgotten.
func (r *Registry) Issue(clientID, secret string, now time.Time) (*Token, error) {
	c, err := r.Check(clientID, secret)
	if err != nil {
		return nil, err
	}
	return r.issue(c, now), nil
}

// Check returns the client whose id and secret match, or ErrInvalidClient.
func (r *Registry) Check(clientID, secret string) (*Client, error) {
	c, ok := r.clients[clientID]
	if !ok || subtle.ConstantTimeCompare(c.secret, []byte(secret)) != 1 {
		return nil, ErrInvalidClient
	}
	return c, nil
}

func (r *Registry) issue(c *Client, now time.Time) *Token {
	var raw [32]byte
	_, _ = rand.Read(raw[:])
	t := &Token{Value: base64.RawURLEncoding.EncodeToString(raw[:]), Client: c, Issued: now, Expires: now.Add(c.Lifetime)}
	t.RateKey = "t:" + t.Value
	t.Info = tokenInfo(c)
	r.mu.Lock()
	if old := r.ring[r.next]; old != nil && r.tokens[old.Value] == old {
		delete(r.tokens, old.Value)
	}
	r.ring[r.next] = t
	r.next = (r.next + 1) % len(r.ring)
	r.tokens[t.Value] = t
	r.mu.Unlock()
	return t
}

// Lookup returns the token with value, expired or not.
func (r *Registry) Lookup(value string) (*Token, bool) {
	r.mu.RLock()
	t, ok := r.tokens[value]
	r.mu.RUnlock()
	return t, ok
}

// Revoke forgets the token with value; later use answers bad.credentials.
func (r *Registry) Revoke(value string) {
	r.mu.Lock()
	delete(r.tokens, value)
	r.mu.Unlock()
}

// Len returns the number of tokens held (expired ones included).
func (r *Registry) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.tokens)
}

// Authenticate finds the bearer token of a request's headers and checks it
// at now. It does not allocate.
func (r *Registry) Authenticate(h http.Header, now time.Time) (*Token, error) {
	v := h["Authorization"]
	if len(v) == 0 || v[0] == "" {
		return nil, ErrNoToken
	}
	s := v[0]
	if len(s) < 7 || !strings.EqualFold(s[:7], "bearer ") {
		return nil, ErrNoToken
	}
	s = strings.TrimSpace(s[7:])
	if s == "" {
		return nil, ErrNoToken
	}
	t, ok := r.Lookup(s)
	if !ok {
		return nil, ErrBadCredentials
	}
	if !now.Before(t.Expires) {
		return nil, ErrExpired
	}
	return t, nil
}

type orgRef struct {
	ID      string `json:"id"`
	Name    string `json:"name,omitempty"`
	SelfURI string `json:"selfUri"`
}

type tokenInfoBody struct {
	Organization     orgRef   `json:"organization"`
	HomeOrganization orgRef   `json:"homeOrganization"`
	AuthorizedScope  []string `json:"authorizedScope"`
	OAuthClient      struct {
		ID           string `json:"id"`
		Name         string `json:"name"`
		Organization orgRef `json:"organization"`
	} `json:"OAuthClient"`
}

func tokenInfo(c *Client) []byte {
	o := orgRef{ID: c.Org.ID, Name: c.Org.Name, SelfURI: "/api/v2/organizations/" + c.Org.ID}
	b := tokenInfoBody{Organization: o, HomeOrganization: o, AuthorizedScope: []string{}}
	b.OAuthClient.ID, b.OAuthClient.Name = c.ID, c.Name
	b.OAuthClient.Organization = orgRef{ID: o.ID, SelfURI: o.SelfURI}
	out, _ := json.Marshal(b)
	return out
}
