package hostcpu

import (
	"os"
	"runtime"
	"testing"
	"time"
)

// TestReadCountsTheProcessCPU: burning CPU shows in Process; on Linux
// the CPUs and steal are read from /proc/stat.
func TestReadCountsTheProcessCPU(t *testing.T) {
	a := Read()
	if a.CPUs < 1 {
		t.Fatalf("CPUs %d, want ≥ 1", a.CPUs)
	}
	if runtime.GOOS == "linux" {
		if _, err := os.Stat("/proc/stat"); err == nil && !a.StealKnown {
			t.Errorf("steal unknown on Linux with /proc/stat")
		}
	}
	// Burn 30 ms of CPU (bounded by 5 s of wall time on a starved machine).
	x := uint64(1)
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); {
		for range 100_000 {
			x = x*6364136223846793005 + 1442695040888963407
		}
		if Read().Since(a).Process >= 30*time.Millisecond {
			break
		}
	}
	u := Read().Since(a)
	if u.Process < 30*time.Millisecond {
		t.Errorf("process CPU grew %v after burning CPU, want ≥ 30ms (x=%d)", u.Process, x)
	}
	if u.Steal < 0 {
		t.Errorf("steal went back by %v", -u.Steal)
	}
	if u.CPUs != a.CPUs {
		t.Errorf("usage over %d CPUs, sampled %d", u.CPUs, a.CPUs)
	}
}
