//go:build unix && !linux

package hostcpu

import (
	"runtime"
	"syscall"
	"time"
)

// Read samples the counters: the process's CPU time; steal is reported
// on Linux only.
func Read() Sample {
	s := Sample{CPUs: runtime.NumCPU()}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		s.Process = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return s
}
