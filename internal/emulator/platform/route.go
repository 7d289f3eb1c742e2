package platform

import (
	"net/http"
	"time"
)

// Call is what the server learned about one request before handing it to a
// resource: who is calling and when. It is valid only until the handler
// returns; handlers must not retain it.
type Call struct {
	// ContextID is the request's correlation id: it is sent in the
	// ININ-Correlation-Id and Genesys-Correlation-Id headers and must be
	// the contextId of any ErrorBody.
	ContextID string
	// OrgID and ClientID identify the caller; empty on public routes.
	OrgID, ClientID string
	// Token is the bearer token; empty on public routes.
	Token string
	// Grants reports the caller's permissions, for handlers whose needs
	// depend on the request (a subscription's topics, a job's options);
	// nil on public routes.
	Grants Grants
	// Now is the request's arrival time on the server's clock.
	Now time.Time
}

// Grants reports whether a caller holds a permission given as
// domain:entity:action. *auth.Client implements it.
type Grants interface {
	Allowed(permission string) bool
}

// Handler serves one route. It writes the whole answer to w.
type Handler func(w http.ResponseWriter, r *http.Request, c *Call)

// Route is one operation a resource serves. The server wraps every route
// in the same pipeline: correlation ids, bearer authentication, rate
// limits, permission check, body limit, concurrency caps, faults, metrics.
type Route struct {
	// Method is the HTTP method ("" for any method).
	Method string
	// Path is a net/http.ServeMux path pattern, e.g.
	// "/api/v2/conversations/{conversationId}".
	Path string
	// Family is the route's default endpoint family, used for metrics and
	// policies when no configured family claims the route.
	Family string
	// Permission is the permission the caller needs ("" for none), in the
	// platform's domain:entity:action form.
	Permission string
	// AllOf lists further permissions the caller needs, all of them (the
	// platform's "Requires ALL permissions").
	AllOf []string
	// AnyOf, when set, lists permissions of which the caller needs at
	// least one (the platform's "Requires ANY permissions"); it is checked
	// after Permission and AllOf.
	AnyOf []string
	// Public routes skip bearer authentication and API rate limits
	// (POST /oauth/token).
	Public bool
	// Handle serves the route.
	Handle Handler
}

// Pattern returns the route's ServeMux pattern: "METHOD PATH" or "PATH".
func (r Route) Pattern() string {
	if r.Method == "" {
		return r.Path
	}
	return r.Method + " " + r.Path
}
