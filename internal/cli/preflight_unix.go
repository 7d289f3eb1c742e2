//go:build unix

package cli

import "syscall"

// fdLimit is the soft limit on open files (Go raises it to the hard
// limit at start-up); 0 when unknown.
func fdLimit() int64 {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil || l.Cur > 1<<40 {
		return 0
	}
	return int64(l.Cur)
}
