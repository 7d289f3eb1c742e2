// Package hostcpu measures what generating load cost the machine: the
// CPU time the process used, and the CPU time the hypervisor took from
// the CPUs it may run on ("steal": a virtual CPU that had work but was
// not running). On a shared VM or CI runner, steal is when the generator
// was not generating: requests went out late, or not at all, because the
// host ran someone else.
package hostcpu

import "time"

// Sample is a reading of the counters, or (from Since) what happened
// between two readings.
type Sample struct {
	Process time.Duration // the process's user + system CPU time
	Steal   time.Duration // steal summed over the CPUs the process may use
	CPUs    int           // CPUs the process may use
	// StealKnown is false where the system does not report steal
	// (not Linux, or /proc unreadable).
	StealKnown bool
}

// Since returns what happened from a to s.
func (s Sample) Since(a Sample) Sample {
	return Sample{
		Process:    s.Process - a.Process,
		Steal:      s.Steal - a.Steal,
		CPUs:       s.CPUs,
		StealKnown: s.StealKnown && a.StealKnown,
	}
}
