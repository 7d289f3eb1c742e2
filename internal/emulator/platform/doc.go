// Package platform holds the Genesys Cloud wire conventions shared by the
// emulator's resource packages: the ErrorBody and its code catalogue, the
// Route and Call types through which resources plug into the server, JSON
// request decoding with the platform's 400/413/415 answers, and cheap ids.
//
// Resource packages (auth, conversations, recordings, analytics,
// notifications) import platform and never the server package, so the
// server can import them all without cycles.
package platform
