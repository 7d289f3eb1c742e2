// Package auth holds the emulator's OAuth side: orgs, client-credentials
// clients with their granted permissions, the bounded token store, bearer
// authentication, permission matching, and the routes POST /oauth/token,
// GET /api/v2/tokens/me and DELETE /api/v2/tokens/me.
package auth
