package auth

import (
	"container/heap"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
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

	// key signs tokens. It is derived from the orgs and clients, so
	// replicas with one config accept each other's tokens (see verify).
	key []byte

	mu      sync.RWMutex
	tokens  map[string]*Token
	revoked map[string]time.Time // value → expiry, so verify can't revive it
	expiry  revocations          // the same, soonest expiry first, to evict in O(log n)
	ring    []*Token             // issuance order, for evicting the oldest
	next    int
}

// New builds a registry from the config's orgs. scale multiplies token
// lifetimes.
func New(orgs []config.Org, tokensMax int, scale float64) (*Registry, error) {
	r := &Registry{clients: map[string]*Client{}, tokens: map[string]*Token{}, revoked: map[string]time.Time{}, ring: make([]*Token, tokensMax)}
	kh := sha256.New()
	kh.Write([]byte("floodgate emulator token key v1\x00"))
	for _, o := range orgs {
		for _, c := range o.Clients {
			fmt.Fprintf(kh, "%s\x00%s\x00%s\x00%d\x00", o.ID, c.ID, c.Secret, c.TokenLifetime)
		}
	}
	r.key = kh.Sum(nil)
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
	var nonce [16]byte
	_, _ = rand.Read(nonce[:])
	payload := c.ID + "." + strconv.FormatInt(now.UnixMilli(), 36) + "." + base64.RawURLEncoding.EncodeToString(nonce[:])
	value := base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + r.sign(payload)
	return r.remember(c, value, time.UnixMilli(now.UnixMilli()))
}

func (r *Registry) sign(payload string) string {
	m := hmac.New(sha256.New, r.key)
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:24])
}

// verify accepts a token this registry did not issue but a replica with
// the same config did: its value carries the client and issue time,
// signed with the key both derive from the config. Emulator replicas
// behind one load balancer thus share tokens without sharing a store.
// (A revocation stays with the replica that received it.)
func (r *Registry) verify(value string) (*Token, bool) {
	enc, mac, ok := strings.Cut(value, ".")
	if !ok {
		return nil, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil || !hmac.Equal([]byte(r.sign(string(raw))), []byte(mac)) {
		return nil, false
	}
	parts := strings.Split(string(raw), ".")
	if len(parts) != 3 {
		return nil, false
	}
	c, ok := r.clients[parts[0]]
	ms, err := strconv.ParseInt(parts[1], 36, 64)
	if !ok || err != nil {
		return nil, false
	}
	return r.remember(c, value, time.UnixMilli(ms)), true
}

func (r *Registry) remember(c *Client, value string, issued time.Time) *Token {
	t := &Token{Value: value, Client: c, Issued: issued, Expires: issued.Add(c.Lifetime)}
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
// Revocations are remembered until the token would have expired, at most
// as many as the token store holds (the oldest then go first).
func (r *Registry) Revoke(value string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.tokens[value]
	delete(r.tokens, value)
	if !ok {
		return
	}
	// Forgetting the revocation that expires first is a heap pop, not a
	// scan: this runs under the lock every authentication takes.
	for len(r.revoked) >= len(r.ring) && len(r.expiry) > 0 {
		old := heap.Pop(&r.expiry).(revocation)
		delete(r.revoked, old.value)
	}
	r.revoked[value] = t.Expires
	heap.Push(&r.expiry, revocation{value: value, expires: t.Expires})
}

// Revoked returns how many revocations the registry remembers.
func (r *Registry) Revoked() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.revoked)
}

type revocation struct {
	value   string
	expires time.Time
}

// revocations is a min-heap of revocations by expiry (container/heap).
type revocations []revocation

func (h revocations) Len() int           { return len(h) }
func (h revocations) Less(i, j int) bool { return h[i].expires.Before(h[j].expires) }
func (h revocations) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *revocations) Push(x any)        { *h = append(*h, x.(revocation)) }
func (h *revocations) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
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
		r.mu.RLock()
		_, gone := r.revoked[s]
		r.mu.RUnlock()
		if gone {
			return nil, ErrBadCredentials
		}
		if t, ok = r.verify(s); !ok {
			return nil, ErrBadCredentials
		}
	}
	if !now.Before(t.Expires) {
		return nil, ErrExpired
	}
	return t, nil
}

// orgRef is the SDK's NamedEntity: id and name, no selfUri.
type orgRef struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

type tokenInfoBody struct {
	Organization     orgRef   `json:"organization"`
	HomeOrganization orgRef   `json:"homeOrganization"`
	AuthorizedScope  []string `json:"authorizedScope"`
	OAuthClient      struct {
		ID                  string `json:"id"`
		Name                string `json:"name"`
		AuthorizedGrantType string `json:"authorizedGrantType"`
		Organization        orgRef `json:"organization"`
	} `json:"OAuthClient"`
}

func tokenInfo(c *Client) []byte {
	o := orgRef{ID: c.Org.ID, Name: c.Org.Name}
	b := tokenInfoBody{Organization: o, HomeOrganization: o, AuthorizedScope: []string{}}
	b.OAuthClient.ID, b.OAuthClient.Name = c.ID, c.Name
	// The emulator's clients are all client-credentials clients.
	b.OAuthClient.AuthorizedGrantType = "CLIENT-CREDENTIALS"
	b.OAuthClient.Organization = orgRef{ID: o.ID}
	out, _ := json.Marshal(b)
	return out
}
