// Package probe discovers an endpoint's rate limit within a hard budget
// of requests and time: the count per window, the window's length (from
// rate-limit headers where present, else from timing), whether the quota
// comes back at once or gradually, what the limit is kept per (token,
// client, or shared) and how Retry-After behaves.
//
// Run sends only to the URL it is given (and to the token URL of its
// credentials), never more than Config.MaxRequests requests, and stops
// at Config.MaxTime, whether or not the server ever limits.
package probe
