package auth

import (
	"errors"
	"mime"
	"net/http"
	"strconv"

	"github.com/floodgate-dev/floodgate/internal/emulator/platform"
)

// Routes returns the token routes: POST /oauth/token (public) and
// GET/DELETE /api/v2/tokens/me.
func (r *Registry) Routes() []platform.Route {
	return []platform.Route{
		{Method: http.MethodPost, Path: "/oauth/token", Family: "oauth", Public: true, Handle: r.serveToken},
		{Method: http.MethodGet, Path: "/api/v2/tokens/me", Family: "tokens", Handle: r.serveTokenInfo},
		{Method: http.MethodDelete, Path: "/api/v2/tokens/me", Family: "tokens", Handle: r.serveRevoke},
	}
}

// oauthError writes the login service's error shape, which is not the
// API's ErrorBody: {"error","description","error_description"}.
func oauthError(w http.ResponseWriter, status int, code, desc string) {
	b := append([]byte(`{"error":`), platform.AppendString(nil, code)...)
	b = append(b, `,"description":`...)
	b = platform.AppendString(b, desc)
	b = append(b, `,"error_description":`...)
	b = platform.AppendString(b, desc)
	b = append(b, '}')
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	if status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Basic realm="oauth"`)
	}
	platform.WriteRawJSON(w, status, b)
}

// serveToken implements the client-credentials grant. Bad or missing
// client credentials answer 401 invalid_client (the platform's status is
// not documented; RFC 6749 §5.2 prescribes 401 for failed Basic auth).
// Client authentication is checked before the grant type, as the
// platform's Spring-based login service does.
func (r *Registry) serveToken(w http.ResponseWriter, req *http.Request, c *platform.Call) {
	if mt, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "Content-Type must be application/x-www-form-urlencoded")
		return
	}
	if err := req.ParseForm(); err != nil {
		var mb *http.MaxBytesError
		if asMaxBytes(err, &mb) {
			platform.WriteError(w, c.ContextID, http.StatusRequestEntityTooLarge, platform.CodeEntityTooLarge,
				platform.MsgEntityTooLarge+strconv.FormatInt(mb.Limit, 10))
			return
		}
		oauthError(w, http.StatusBadRequest, "invalid_request", "malformed form body")
		return
	}
	id, secret, ok := req.BasicAuth()
	if !ok {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "authentication failed")
		return
	}
	cl, err := r.Check(id, secret)
	if err != nil {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "authentication failed")
		return
	}
	switch gt := req.PostForm.Get("grant_type"); gt {
	case "client_credentials":
	case "":
		oauthError(w, http.StatusBadRequest, "invalid_request", "Missing grant type")
		return
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "Unsupported grant type: "+gt)
		return
	}
	t := r.issue(cl, c.Now)
	expiresIn := int64(t.Client.Lifetime.Seconds())
	if expiresIn < 1 {
		expiresIn = 1
	}
	b := append([]byte(`{"access_token":`), platform.AppendString(nil, t.Value)...)
	b = append(b, `,"token_type":"bearer","expires_in":`...)
	b = strconv.AppendInt(b, expiresIn, 10)
	b = append(b, '}')
	w.Header().Set("Cache-Control", "no-store")
	platform.WriteRawJSON(w, http.StatusOK, b)
}

func (r *Registry) serveTokenInfo(w http.ResponseWriter, _ *http.Request, c *platform.Call) {
	t, ok := r.Lookup(c.Token)
	if !ok { // revoked between authentication and here
		platform.WriteError(w, c.ContextID, http.StatusUnauthorized, platform.CodeBadCredentials, platform.MsgBadCredentials)
		return
	}
	platform.WriteRawJSON(w, http.StatusOK, t.Info)
}

// serveRevoke revokes the caller's token and answers 204 (the platform's
// status for this void operation is not documented).
func (r *Registry) serveRevoke(w http.ResponseWriter, _ *http.Request, c *platform.Call) {
	r.Revoke(c.Token)
	w.WriteHeader(http.StatusNoContent)
}

func asMaxBytes(err error, target **http.MaxBytesError) bool {
	return errors.As(err, target)
}
