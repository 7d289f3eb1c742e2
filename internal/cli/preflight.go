package cli

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Preflight bounds. A VU's memory is what bench/README.md measured for
// 10,000 closed VUs (~125 MB peak RSS, sockets included) rounded up; the
// arrival rate is where handing arrivals to VUs alone, about a
// microsecond each, takes a whole core.
const (
	vuBytes        = 12 << 10
	baseBytes      = 64 << 20
	fdReserve      = 64 // the binary's own files, the token endpoint, live metrics
	maxArrivalRate = 1e6
)

// runScale is what a plan asks of this process.
type runScale struct {
	closedVUs int     // closed VUs: each holds a connection all run long
	maxConc   int     // every VU the plan may run at once (closed + max_vus)
	rate      float64 // peak arrivals per second of its open scenarios
}

// hostLimits is what this process may use; 0 means unknown (not checked).
type hostLimits struct {
	fds      int64 // ulimit -n
	memAvail int64 // bytes available to it (MemAvailable, cgroup limit)
}

// preflight checks a plan's scale against the host before the first
// request. Problems that must fail the run (more closed VUs than file
// descriptors) are in fatal; those that may only hurt it (memory, an
// arrival rate no one process can keep, max_vus beyond the descriptors)
// are in soft, which --force turns into warnings.
func preflight(s runScale, h hostLimits) (fatal, soft []string) {
	const split = "or split the load across processes with --segment i/n"
	if h.fds > 0 {
		switch {
		case int64(s.closedVUs)+fdReserve > h.fds:
			fatal = append(fatal, fmt.Sprintf("the plan runs %d closed VUs, each with its own connection, but this process may open only %d files (ulimit -n); raise the limit (ulimit -n %d), lower vus, %s",
				s.closedVUs, h.fds, s.closedVUs+fdReserve, split))
		case int64(s.maxConc)+fdReserve > h.fds:
			soft = append(soft, fmt.Sprintf("the plan may run %d VUs at once (vus and max_vus), each with its own connection, but this process may open only %d files (ulimit -n); raise the limit (ulimit -n %d), lower max_vus, %s",
				s.maxConc, h.fds, s.maxConc+fdReserve, split))
		}
	}
	if need := int64(s.maxConc)*vuBytes + baseBytes; h.memAvail > 0 && need > h.memAvail {
		soft = append(soft, fmt.Sprintf("the plan may run %d VUs at once (vus and max_vus), about %s at ~%d KiB each, but only %s of memory is available; lower vus or max_vus, %s",
			s.maxConc, bytesText(need), vuBytes>>10, bytesText(h.memAvail), split))
	}
	if s.rate > maxArrivalRate {
		soft = append(soft, fmt.Sprintf("the plan asks for %s arrivals a second, more than one process can schedule (about %s); lower the rate, %s",
			rateText(s.rate), rateText(maxArrivalRate), split))
	}
	return fatal, soft
}

// preflightError joins the problems into the run's error.
func preflightError(fatal, soft []string, force bool) error {
	var errs []error
	for _, m := range fatal {
		errs = append(errs, errors.New("run: "+m))
	}
	if !force {
		for _, m := range soft {
			errs = append(errs, errors.New("run: "+m+" (--force runs it anyway)"))
		}
	}
	return errors.Join(errs...)
}

func bytesText(b int64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
	default:
		return fmt.Sprintf("%d MiB", b>>20)
	}
}

func rateText(r float64) string {
	return strconv.FormatFloat(r, 'f', -1, 64)
}

// readLimits reads this host's limits; what it cannot read stays 0.
func readLimits() hostLimits {
	h := hostLimits{fds: fdLimit()}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "MemAvailable:"); ok {
				kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
				if err == nil {
					h.memAvail = kb << 10
				}
			}
		}
	}
	// In a container the cgroup's limit, less what it uses, may be lower.
	if lim, err := readInt("/sys/fs/cgroup/memory.max"); err == nil {
		cur, _ := readInt("/sys/fs/cgroup/memory.current")
		if free := lim - cur; free > 0 && (h.memAvail == 0 || free < h.memAvail) {
			h.memAvail = free
		}
	}
	return h
}

func readInt(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
}
