//go:build !unix

package cli

// fdLimit is unknown off Unix.
func fdLimit() int64 { return 0 }
