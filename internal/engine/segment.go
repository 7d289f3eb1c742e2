package engine

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Segment is the I-th of N shares of a load (1 ≤ I ≤ N), for running one
// plan across N processes. Work is dealt round-robin: VU v (closed) and
// arrival k (open, batches) belong to segment v mod N + 1, so the N
// segments together are exactly the whole plan — 7 VUs over 3 segments
// are 3 + 2 + 2, and the union of the segments' due times is the
// unsegmented schedule — and each segment's share is spread evenly over
// the ramp-up and the run. The zero Segment is the whole load.
type Segment struct {
	I, N int
}

// ParseSegment reads "i/n".
func ParseSegment(s string) (Segment, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(strings.TrimSpace(a))
	n, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 1 || i > n {
		return Segment{}, fmt.Errorf("segment %q: want i/n with 1 ≤ i ≤ n, e.g. 2/4", s)
	}
	return Segment{I: i, N: n}, nil
}

func (s Segment) String() string {
	if s.N <= 1 {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.I, s.N)
}

// owns reports whether unit k (a VU index or an arrival index) is this
// segment's.
func (s Segment) owns(k int64) bool {
	return s.N <= 1 || k%int64(s.N) == int64(s.I-1)
}

// share is how many of the units 0..n-1 this segment owns.
func (s Segment) share(n int) int {
	if s.N <= 1 {
		return n
	}
	if n <= s.I-1 {
		return 0
	}
	return (n-(s.I-1)-1)/s.N + 1
}

// segmented filters a schedule down to a segment's arrivals.
type segmented struct {
	inner schedule
	seg   Segment
	k     int64
}

func (s *segmented) next() (time.Duration, bool) {
	for {
		off, ok := s.inner.next()
		if !ok {
			return 0, false
		}
		k := s.k
		s.k++
		if s.seg.owns(k) {
			return off, true
		}
	}
}

func (s *segmented) skipTo(off time.Duration) int64 {
	n := s.inner.skipTo(off)
	from := s.k
	s.k += n
	return s.seg.ownedIn(from, s.k)
}

// ownedIn counts the units in [from, to) this segment owns.
func (s Segment) ownedIn(from, to int64) int64 {
	if s.N <= 1 {
		return to - from
	}
	// Units k < x owned: those with k ≡ I-1 (mod N).
	below := func(x int64) int64 {
		if x <= int64(s.I-1) {
			return 0
		}
		return (x-int64(s.I-1)-1)/int64(s.N) + 1
	}
	return below(to) - below(from)
}

func (e *Engine) segment(s schedule) schedule {
	if e.cfg.segment.N <= 1 {
		return s
	}
	return &segmented{inner: s, seg: e.cfg.segment}
}

func sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-tm.C:
		return nil
	}
}
