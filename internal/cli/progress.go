package cli

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/floodgate-dev/floodgate/internal/metrics"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// progress shows a run as it goes: a bar and a live stats line on a
// terminal (vbauerster/mpb), or one plain line per interval otherwise
// (CI logs, pipes). Tick is called from the engine's reporter.
type progress struct {
	mu        sync.Mutex
	w         io.Writer
	start     time.Time
	requests  int64         // planned requests, -1 if unknown
	length    time.Duration // planned length, -1 if unknown
	every     time.Duration // plain mode: print at most this often
	lastPrint time.Time

	// running totals
	completed, dropped, lost, retries int64
	statuses                          map[string]int64
	last                              metrics.Bucket

	p   *mpb.Progress
	bar *mpb.Bar
}

const barScale = 1000

func newProgress(w io.Writer, tty bool, name string, requests int64, length, every time.Duration) *progress {
	pr := &progress{w: w, start: time.Now(), requests: requests, length: length, every: every, statuses: map[string]int64{}}
	if tty {
		pr.p = mpb.New(mpb.WithOutput(w), mpb.WithWidth(100), mpb.WithRefreshRate(200*time.Millisecond))
		pr.bar = pr.p.AddBar(barScale,
			mpb.PrependDecorators(decor.Name(name+" ", decor.WCSyncSpaceR), decor.Elapsed(decor.ET_STYLE_MMSS, decor.WCSyncSpace)),
			mpb.AppendDecorators(decor.Percentage(decor.WCSyncSpace), decor.Any(func(decor.Statistics) string { return pr.line() })),
		)
	}
	return pr
}

// Tick takes one second's bucket.
func (pr *progress) Tick(b metrics.Bucket) {
	pr.mu.Lock()
	pr.completed += b.Completed
	pr.dropped += b.Dropped
	pr.lost += b.Lost
	pr.retries += b.Retries
	for k, n := range b.Statuses {
		pr.statuses[k] += n
	}
	pr.last = b
	frac := pr.fraction(b.Time.Add(time.Duration(b.Seconds * float64(time.Second))))
	pr.mu.Unlock()
	if pr.bar != nil {
		pr.bar.SetCurrent(int64(frac * barScale))
		return
	}
	now := time.Now()
	if pr.every > 0 && now.Sub(pr.lastPrint) < pr.every {
		return
	}
	pr.lastPrint = now
	fmt.Fprintf(pr.w, "%6.0fs %3.0f%%  %s\n", b.T+b.Seconds, frac*100, pr.line())
}

func (pr *progress) fraction(at time.Time) float64 {
	f := 0.0
	switch {
	case pr.requests > 0:
		f = float64(pr.completed) / float64(pr.requests)
	case pr.length > 0:
		f = at.Sub(pr.start).Seconds() / pr.length.Seconds()
	}
	return min(max(f, 0), 1)
}

// line is the live stats: last second's rates and latency, run totals.
func (pr *progress) line() string {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	b := &pr.last
	per := func(n int64) float64 {
		if b.Seconds <= 0 {
			return 0
		}
		return float64(n) / b.Seconds
	}
	var s strings.Builder
	fmt.Fprintf(&s, "offered %.0f/s achieved %.0f/s p99 %sms inflight %d | done %d", per(b.Offered), per(b.Completed),
		strconv.FormatFloat(b.FromDue.P99, 'f', 1, 64), b.InFlightMax, pr.completed)
	keys := make([]string, 0, len(pr.statuses))
	for k := range pr.statuses {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&s, " %s:%d", k, pr.statuses[k])
	}
	if pr.retries > 0 {
		fmt.Fprintf(&s, " retries %d", pr.retries)
	}
	if pr.dropped > 0 {
		fmt.Fprintf(&s, " dropped %d", pr.dropped)
	}
	if pr.lost > 0 {
		fmt.Fprintf(&s, " lost %d", pr.lost)
	}
	return s.String()
}

// Close ends the display.
func (pr *progress) Close() {
	if pr.bar != nil {
		pr.bar.SetCurrent(barScale)
		pr.p.Wait()
	}
}
