package engine

import (
	"math"
	"time"

	"github.com/floodgate-dev/floodgate/internal/plan"
)

// A schedule yields the due offsets, from the scenario's start, of an
// open or batch executor's iterations, in order. Schedules are pure: the
// same plan always yields the same offsets, so they are tested without
// clocks and split exactly across segments.
type schedule interface {
	// next returns the i-th arrival's offset; ok is false past the end.
	next() (off time.Duration, ok bool)
	// skipTo passes over every arrival not yet returned that is due
	// before off, and returns how many it passed over.
	skipTo(off time.Duration) int64
}

// stagesSchedule places arrivals on a piecewise-linear rate curve: the
// i-th arrival (from 0) is due when the curve's integral reaches i.
type stagesSchedule struct {
	stages []rampStage
	i      int64 // next arrival index
	k      int   // current stage
}

type rampStage struct {
	start    time.Duration // offset of the stage's start
	dur      time.Duration
	r0, r1   float64 // per second
	n0, nEnd float64 // cumulative arrivals at start and end
}

func newOpenSchedule(o *plan.Open) *stagesSchedule {
	s := &stagesSchedule{}
	if len(o.Stages) == 0 {
		r := o.Rate.PerSecond()
		s.add(o.Duration, r, r)
		return s
	}
	prev := o.StartRate.PerSecond()
	for _, st := range o.Stages {
		r := st.Target.PerSecond()
		s.add(st.Duration, prev, r)
		prev = r
	}
	return s
}

func (s *stagesSchedule) add(d time.Duration, r0, r1 float64) {
	var start time.Duration
	var n0 float64
	if k := len(s.stages); k > 0 {
		last := s.stages[k-1]
		start, n0 = last.start+last.dur, last.nEnd
	}
	n := n0 + (r0+r1)/2*d.Seconds()
	s.stages = append(s.stages, rampStage{start: start, dur: d, r0: r0, r1: r1, n0: n0, nEnd: n})
}

// total is the number of arrivals the schedule yields.
func (s *stagesSchedule) total() int64 {
	if len(s.stages) == 0 {
		return 0
	}
	// Arrivals sit at integral values 0, 1, 2, … strictly before the end.
	return int64(math.Ceil(s.stages[len(s.stages)-1].nEnd - 1e-9))
}

func (s *stagesSchedule) next() (time.Duration, bool) {
	i := float64(s.i)
	for s.k < len(s.stages) && i >= s.stages[s.k].nEnd-1e-9 {
		s.k++
	}
	if s.k >= len(s.stages) {
		return 0, false
	}
	st := s.stages[s.k]
	c := i - st.n0
	var t float64 // seconds into the stage
	D := st.dur.Seconds()
	a := (st.r1 - st.r0) / (2 * D)
	switch {
	case math.Abs(a) < 1e-12:
		t = c / st.r0
	default:
		// a t² + r0 t − c = 0; take the root inside the stage.
		disc := st.r0*st.r0 + 4*a*c
		if disc < 0 {
			disc = 0
		}
		t = (-st.r0 + math.Sqrt(disc)) / (2 * a)
	}
	if t < 0 {
		t = 0
	}
	if t > D {
		t = D
	}
	s.i++
	return st.start + time.Duration(t*float64(time.Second)), true
}

func (s *stagesSchedule) skipTo(off time.Duration) int64 {
	if len(s.stages) == 0 {
		return 0
	}
	// f is the curve's integral at off: arrivals i < f are due before it.
	var f float64
	last := s.stages[len(s.stages)-1]
	if off >= last.start+last.dur {
		f = last.nEnd
	} else {
		for _, st := range s.stages {
			if off < st.start+st.dur {
				t := max(off-st.start, 0).Seconds()
				a := (st.r1 - st.r0) / (2 * st.dur.Seconds())
				f = st.n0 + st.r0*t + a*t*t
				break
			}
		}
	}
	to := int64(math.Ceil(f - 1e-9))
	if to <= s.i {
		return 0
	}
	n := to - s.i
	s.i = to
	return n
}

// batchSchedule releases size arrivals every pause until total.
type batchSchedule struct {
	size, total int64
	pause       time.Duration
	i           int64
}

func newBatchSchedule(b *plan.Batches) *batchSchedule {
	return &batchSchedule{size: int64(b.Size), total: int64(b.Total), pause: b.Pause}
}

func (s *batchSchedule) next() (time.Duration, bool) {
	if s.i >= s.total {
		return 0, false
	}
	off := time.Duration(s.i/s.size) * s.pause
	s.i++
	return off, true
}

func (s *batchSchedule) skipTo(off time.Duration) int64 {
	if off <= 0 {
		return 0
	}
	to := s.total
	if s.pause > 0 {
		// Batches b with b*pause < off are due before off.
		nb := int64((off + s.pause - 1) / s.pause)
		to = min(s.total, nb*s.size)
	}
	if to <= s.i {
		return 0
	}
	n := to - s.i
	s.i = to
	return n
}

// rampOffset is when the v-th of vus closed-model VUs starts: evenly over
// rampUp, the first at zero (JMeter's Thread Group).
func rampOffset(v, vus int, rampUp time.Duration) time.Duration {
	if vus <= 1 || rampUp <= 0 {
		return 0
	}
	return time.Duration(int64(rampUp) * int64(v) / int64(vus))
}
