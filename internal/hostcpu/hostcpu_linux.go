package hostcpu

import (
	"time"

	"github.com/prometheus/procfs"
	"golang.org/x/sys/unix"
)

// Read samples the counters. It does not fail: what cannot be read is
// left zero (and StealKnown false).
func Read() Sample {
	var s Sample
	var ru unix.Rusage
	if unix.Getrusage(unix.RUSAGE_SELF, &ru) == nil {
		s.Process = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	var set unix.CPUSet
	affinity := unix.SchedGetaffinity(0, &set) == nil
	fs, err := procfs.NewDefaultFS()
	if err != nil {
		return s
	}
	st, err := fs.Stat()
	if err != nil {
		return s
	}
	var steal float64
	for cpu, c := range st.CPU {
		if affinity && !set.IsSet(int(cpu)) {
			continue
		}
		steal += c.Steal
		s.CPUs++
	}
	s.Steal = time.Duration(steal * float64(time.Second))
	s.StealKnown = s.CPUs > 0
	return s
}
