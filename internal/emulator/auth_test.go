package emulator

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func tokenRequest(id, secret, contentType, body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	if id != "" {
		r.SetBasicAuth(id, secret)
	}
	return r
}

const formCT = "application/x-www-form-urlencoded"

func TestOAuthToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig())
	rec := e.serve(tokenRequest(DemoClientID, DemoClientSecret, formCT, "grant_type=client_credentials"))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	checkCorrelation(t, rec)
	b := decodeMap(t, rec.Body.Bytes())
	if b["token_type"] != "bearer" || b["expires_in"] != float64(86400) {
		t.Errorf("body = %v", b)
	}
	if tok, _ := b["access_token"].(string); len(tok) < 32 {
		t.Errorf("access_token = %q", tok)
	}
}

func TestOAuthTokenErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig())
	invalidClient := map[string]any{"error": "invalid_client", "description": "authentication failed", "error_description": "authentication failed"}
	for _, tc := range []struct {
		name   string
		req    *http.Request
		status int
		want   map[string]any
	}{
		{"bad secret", tokenRequest(DemoClientID, "nope", formCT, "grant_type=client_credentials"), 401, invalidClient},
		{"unknown client", tokenRequest("who", "x", formCT, "grant_type=client_credentials"), 401, invalidClient},
		{"no basic auth", tokenRequest("", "", formCT, "grant_type=client_credentials"), 401, invalidClient},
		{"unsupported grant", tokenRequest(DemoClientID, DemoClientSecret, formCT, "grant_type=password"), 400,
			map[string]any{"error": "unsupported_grant_type", "description": "Unsupported grant type: password", "error_description": "Unsupported grant type: password"}},
		{"missing grant", tokenRequest(DemoClientID, DemoClientSecret, formCT, ""), 400,
			map[string]any{"error": "invalid_request", "description": "Missing grant type", "error_description": "Missing grant type"}},
		{"json body", tokenRequest(DemoClientID, DemoClientSecret, "application/json", `{}`), 400,
			map[string]any{"error": "invalid_request", "description": "Content-Type must be application/x-www-form-urlencoded", "error_description": "Content-Type must be application/x-www-form-urlencoded"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := e.serve(tc.req)
			if rec.Code != tc.status {
				t.Fatalf("status = %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			checkCorrelation(t, rec)
			if diff := cmp.Diff(tc.want, decodeMap(t, rec.Body.Bytes())); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTokensMe(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig())
	tok := e.demoToken()
	rec := e.do("GET", "/api/v2/tokens/me", tok, "")
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	checkCorrelation(t, rec)
	b := decodeMap(t, rec.Body.Bytes())
	// The SDK's TokenInfo: NamedEntity orgs (no selfUri), and an
	// OrgOAuthClient with its required authorizedGrantType.
	org := map[string]any{"id": DemoOrgID, "name": "floodgate-demo"}
	want := map[string]any{
		"organization": org, "homeOrganization": org, "authorizedScope": []any{},
		"OAuthClient": map[string]any{"id": DemoClientID, "name": "floodgate demo client",
			"authorizedGrantType": "CLIENT-CREDENTIALS", "organization": map[string]any{"id": DemoOrgID}},
	}
	if diff := cmp.Diff(want, b); diff != "" {
		t.Errorf("TokenInfo (-want +got):\n%s", diff)
	}

	rec = e.do("DELETE", "/api/v2/tokens/me", tok, "")
	if rec.Code != http.StatusNoContent {
		t.Fatalf("DELETE status %d", rec.Code)
	}
	b = checkError(t, e.do("GET", "/api/v2/tokens/me", tok, ""), 401, "bad.credentials")
	if b["message"] != "Invalid login credentials." {
		t.Errorf("message = %v", b["message"])
	}
}

func TestBearerAuthErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig())
	tok := e.demoToken()
	for _, tc := range []struct {
		name, auth, code, msg string
	}{
		{"no header", "", "authentication.required", "No authentication bearer token specified in authorization header."},
		{"basic", "Basic Zm9vOmJhcg==", "authentication.required", "No authentication bearer token specified in authorization header."},
		{"empty bearer", "Bearer ", "authentication.required", "No authentication bearer token specified in authorization header."},
		{"unknown token", "Bearer nope", "bad.credentials", "Invalid login credentials."},
		{"lower-case scheme", "bearer " + tok, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := request("GET", "/api/v2/conversations/x", "", "")
			if tc.auth != "" {
				r.Header.Set("Authorization", tc.auth)
			}
			rec := e.serve(r)
			if tc.code == "" {
				checkError(t, rec, 404, "not.found")
				return
			}
			b := checkError(t, rec, 401, tc.code)
			if b["message"] != tc.msg {
				t.Errorf("message = %v, want %s", b["message"], tc.msg)
			}
		})
	}
}

func TestTokenExpiry(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.Orgs[0].Clients[0].TokenLifetime = cfgDuration(time.Hour)
	e := newEnv(t, cfg)
	tok := e.demoToken()
	e.clock.Advance(time.Hour - time.Millisecond)
	if rec := e.do("GET", "/api/v2/tokens/me", tok, ""); rec.Code != 200 {
		t.Fatalf("before expiry: %d", rec.Code)
	}
	e.clock.Advance(time.Millisecond)
	b := checkError(t, e.do("GET", "/api/v2/tokens/me", tok, ""), 401, "credentials.expired")
	if b["message"] != "The supplied credentials are expired and cannot be used." {
		t.Errorf("message = %v", b["message"])
	}
}

// TestTokenStoreIsBoundedCache: the store holds at most tokens.max; a
// token evicted from it still works (its signature is checked again),
// while a forged or revoked one never does.
func TestTokenStoreIsBoundedCache(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.Tokens.Max = 2
	e := newEnv(t, cfg)
	t1, t2, t3 := e.demoToken(), e.demoToken(), e.demoToken()
	if n := e.s.Stats().Tokens; n > 2 {
		t.Errorf("store holds %d tokens, cap 2", n)
	}
	for _, tok := range []string{t1, t2, t3} {
		if rec := e.do("GET", "/api/v2/tokens/me", tok, ""); rec.Code != 200 {
			t.Errorf("token: %d, want 200", rec.Code)
		}
	}
	if n := e.s.Stats().Tokens; n > 2 {
		t.Errorf("store holds %d tokens after re-verifying, cap 2", n)
	}
	forged := t1[:len(t1)-2] + "AA"
	if forged == t1 {
		forged = t1[:len(t1)-2] + "BB"
	}
	checkError(t, e.do("GET", "/api/v2/tokens/me", forged, ""), 401, "bad.credentials")
	if rec := e.do("DELETE", "/api/v2/tokens/me", t2, ""); rec.Code >= 300 {
		t.Fatalf("DELETE: %d", rec.Code)
	}
	checkError(t, e.do("GET", "/api/v2/tokens/me", t2, ""), 401, "bad.credentials")
}

// TestReplicasAcceptEachOthersTokens: two servers with one config (two
// emulator replicas) accept a token either issued.
func TestReplicasAcceptEachOthersTokens(t *testing.T) {
	t.Parallel()
	a, b := newEnv(t, testConfig()), newEnv(t, testConfig())
	tok := a.demoToken()
	if rec := b.do("GET", "/api/v2/tokens/me", tok, ""); rec.Code != 200 {
		t.Fatalf("replica b answered %d to replica a's token", rec.Code)
	}
	other := testConfig()
	other.Orgs[0].Clients[0].Secret = "another-secret"
	c := newEnv(t, other)
	checkError(t, c.do("GET", "/api/v2/tokens/me", tok, ""), 401, "bad.credentials")
}

func TestMissingPermission(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig())
	tok := e.token("viewer", "viewer-secret")
	rec := e.do("POST", "/api/v2/conversations/calls", tok, `{"phoneNumber":"+15550001"}`)
	b := checkError(t, rec, 403, "missing.permissions")
	want := "Unable to perform the requested action. You are missing the following permission(s): [conversation:conference:add]"
	if b["message"] != want {
		t.Errorf("message = %v, want %s", b["message"], want)
	}
	if diff := cmp.Diff(map[string]any{"permissions": "conversation:conference:add"}, b["messageParams"]); diff != "" {
		t.Errorf("messageParams (-want +got):\n%s", diff)
	}
	// Rate-limit headers are present on 403s too: the request counted.
	if rec.Header().Get("inin-ratelimit-count") != "1" {
		t.Errorf("count header = %q", rec.Header().Get("inin-ratelimit-count"))
	}
	// The permission it has works (404 for an unknown id, not 403).
	checkError(t, e.do("GET", "/api/v2/conversations/calls/nope", tok, ""), 404, "not.found")
}
