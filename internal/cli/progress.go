package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/floodgate-dev/floodgate/internal/metrics"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// runShape is what the progress display asks of the engine: the run's
// planned size, its most VUs, and how many are busy now.
type runShape interface {
	Planned() (requests int64, length time.Duration)
	MaxConcurrency() int
	InFlight() int64
}

// progress shows a run as it goes: a fixed-width bar with the run's
// position and a live stats line under it on a terminal (vbauerster/mpb),
// or one plain line per interval otherwise (CI logs, pipes). Tick is
// called from the engine's reporter with each second's bucket.
type progress struct {
	mu       sync.Mutex
	w        io.Writer
	name     string
	run      runShape
	requests int64         // planned requests, -1 if unknown
	length   time.Duration // planned length, -1 if unknown
	maxVUs   int
	every    time.Duration // plain mode: print on each multiple of every since the start
	now      func() time.Time

	// started is the run's time zero, known from the first bucket (a run
	// may wait for --start-at before it starts).
	started time.Time
	elapsed float64 // seconds up to the end of the last bucket
	printed int64   // plain mode: the last multiple of every printed

	// running totals
	completed, goodput, dropped, lost, retries int64
	statuses                                   map[string]int64 // attempts by status, "0" none
	attemptErrs                                map[string]int64 // attempts by failure class
	errors                                     map[string]int64 // logical requests by failure class
	last                                       metrics.Bucket
	ticked, closed                             bool

	p   *mpb.Progress
	bar *mpb.Bar
}

const (
	barScale = 1000
	barWidth = 30 // the bar's cells, brackets included; never resized by the text around it
)

func newProgress(w io.Writer, tty bool, name string, run runShape, every time.Duration) *progress {
	reqs, length := run.Planned()
	if every <= 0 {
		every = time.Second
	}
	pr := &progress{w: w, name: name, run: run, requests: reqs, length: length, maxVUs: run.MaxConcurrency(),
		every: every, now: time.Now, statuses: map[string]int64{}, attemptErrs: map[string]int64{}, errors: map[string]int64{}}
	if tty {
		// AutoRefresh: the caller has decided w is a terminal.
		pr.p = mpb.New(mpb.WithOutput(w), mpb.WithRefreshRate(200*time.Millisecond), mpb.WithAutoRefresh())
		pr.bar = pr.p.New(barScale, mpb.BarStyle().Lbound("[").Filler("=").Tip(">").Padding("-").Rbound("]"),
			mpb.BarWidth(barWidth),
			mpb.PrependDecorators(decor.Any(func(decor.Statistics) string { return pr.head() })),
			mpb.AppendDecorators(decor.Any(func(decor.Statistics) string { return pr.tail() })),
			// The stats go on their own line, cut to the terminal's width,
			// so that their growth never moves the bar.
			mpb.BarExtender(mpb.BarFillerFunc(func(w io.Writer, st decor.Statistics) error {
				_, err := fmt.Fprintln(w, clip("  "+pr.line(), st.AvailableWidth))
				return err
			}), false),
		)
	}
	return pr
}

// Tick takes one second's bucket (the last may be shorter).
func (pr *progress) Tick(b metrics.Bucket) {
	pr.mu.Lock()
	pr.completed += b.Completed
	pr.goodput += b.Goodput
	pr.dropped += b.Dropped
	pr.lost += b.Lost
	pr.retries += b.Retries
	for k, n := range b.Statuses {
		pr.statuses[k] += n
	}
	for k, n := range b.Errors {
		pr.errors[k] += n
	}
	for k, n := range b.AttemptErrors {
		pr.attemptErrs[k] += n
	}
	if !pr.ticked {
		pr.started = b.Time.Add(-time.Duration(b.T * float64(time.Second)))
	}
	pr.ticked = true
	pr.last = b
	pr.elapsed = b.T + b.Seconds
	frac := pr.fractionLocked(pr.elapsed)
	pr.mu.Unlock()
	if pr.bar != nil {
		pr.bar.SetCurrent(int64(frac * barScale))
		return
	}
	// One line each time the run's clock passes a multiple of every,
	// counted from the run's start: the buckets are cut on whole seconds
	// of it, so --progress 2s prints at 2, 4, 6 s whatever the reporter's
	// jitter. A last, partial second always prints.
	k := int64(math.Floor(pr.elapsed/pr.every.Seconds() + 1e-9))
	if k <= pr.printed && b.Seconds >= 1-1e-9 {
		return
	}
	pr.printed = k
	fmt.Fprintf(pr.w, "%s %s %s\n", pr.head(), bar(frac, barWidth), pr.tail()+"  "+pr.line())
}

// fractionLocked is how far the run is at elapsed seconds: by time when
// the plan has a length, else by the planned requests done.
func (pr *progress) fractionLocked(elapsed float64) float64 {
	f := 0.0
	switch {
	case pr.length > 0:
		f = elapsed / pr.length.Seconds()
	case pr.requests > 0:
		f = float64(pr.completed+pr.dropped) / float64(pr.requests)
	}
	return min(max(f, 0), 1)
}

// clock is the run's elapsed seconds now: live on a terminal, the last
// bucket's end otherwise.
func (pr *progress) clockLocked() float64 {
	if !pr.ticked {
		return 0
	}
	if pr.bar != nil && !pr.closed {
		return max(pr.now().Sub(pr.started).Seconds(), pr.elapsed)
	}
	return pr.elapsed
}

// head is the bar's left side: the plan's name and the time run.
func (pr *progress) head() string {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	return pr.name + " " + mmss(pr.clockLocked())
}

// tail is the bar's right side, of fixed width: percentage and ETA.
func (pr *progress) tail() string {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	t := pr.clockLocked()
	f := pr.fractionLocked(t)
	eta := "--:--"
	switch {
	case pr.length > 0:
		eta = mmss(pr.length.Seconds() - t)
	case pr.requests > 0 && f > 0:
		eta = mmss(t * (1 - f) / f)
	}
	return fmt.Sprintf("%3.0f%% ETA %s", 100*f, eta)
}

// line is the live stats: VUs, last second's rates and latency, and the
// run's totals with failures by class and the statuses seen, so that a
// target that refuses every connection does not look healthy.
func (pr *progress) line() string {
	busy := pr.run.InFlight()
	pr.mu.Lock()
	defer pr.mu.Unlock()
	b := &pr.last
	per := func(n int64) string {
		if b.Seconds <= 0 {
			return "0/s"
		}
		return strconv.FormatFloat(float64(n)/b.Seconds, 'f', 0, 64) + "/s"
	}
	var s strings.Builder
	fmt.Fprintf(&s, "VUs %d/%d | offered %s  achieved %s  ok %s  p99 from due ", busy, pr.maxVUs,
		per(b.Offered), per(b.Completed), per(b.Goodput))
	if b.FromDue.Count > 0 {
		s.WriteString(strconv.FormatFloat(b.FromDue.P99, 'f', 1, 64) + " ms")
	} else {
		s.WriteString("-")
	}
	fmt.Fprintf(&s, " | done %d  ok %d  failed %d", pr.completed, pr.goodput, pr.completed-pr.goodput)
	// Count first, then the class, " · " between classes: "(915 unexpected
	// status)" cannot be read as status 915; the statuses met are in
	// the attempts that follow.
	if fails := failClasses(pr.errors); fails != "" {
		s.WriteString(" (" + fails + ")")
	}
	// What the attempts met: statuses, then transport failures by class
	// (connect for a refused connection) in place of "no response".
	st := joinCounts(pr.statuses, ":", func(k string) bool { return k != "0" })
	if ae := joinCounts(pr.attemptErrs, ":", func(k string) bool { return k != "status" }); ae != "" {
		st = strings.TrimSpace(st + " " + ae)
	}
	if st != "" {
		s.WriteString(" | attempts " + st)
	}
	if pr.retries > 0 {
		fmt.Fprintf(&s, " | retries %d", pr.retries)
	}
	if pr.dropped > 0 {
		fmt.Fprintf(&s, " | dropped %d", pr.dropped)
	}
	if pr.lost > 0 {
		fmt.Fprintf(&s, " | lost %d", pr.lost)
	}
	return s.String()
}

// failClasses lists the logical requests' failure classes, largest
// first, as "count class" joined by " · ".
func failClasses(m map[string]int64) string {
	var parts []string
	for _, kv := range strings.Split(joinCounts(m, "\x00", nil), " ") {
		class, n, ok := strings.Cut(kv, "\x00")
		if !ok {
			continue
		}
		if class == "status" {
			class = "unexpected status"
		}
		parts = append(parts, n+" "+class)
	}
	return strings.Join(parts, " · ")
}

// joinCounts lists m's entries that keep accepts (all when nil), largest
// first, as "key<sep>count".
func joinCounts(m map[string]int64, sep string, keep func(string) bool) string {
	keys := make([]string, 0, len(m))
	for k, n := range m {
		if n > 0 && (keep == nil || keep(k)) {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + sep + strconv.FormatInt(m[k], 10)
	}
	return strings.Join(parts, " ")
}

// bar draws f (0..1) in width cells, brackets included.
func bar(f float64, width int) string {
	n := width - 2
	full := int(f * float64(n))
	switch {
	case full >= n:
		return "[" + strings.Repeat("=", n) + "]"
	case full == 0:
		return "[" + strings.Repeat("-", n) + "]"
	}
	return "[" + strings.Repeat("=", full-1) + ">" + strings.Repeat("-", n-full) + "]"
}

// mmss formats seconds as mm:ss (h:mm:ss from an hour).
func mmss(sec float64) string {
	s := int64(math.Max(math.Round(sec), 0))
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%02d:%02d", s/60, s%60)
}

// clip cuts s to width columns (the stats are ASCII), so that a line
// never wraps and breaks the terminal's redraw.
func clip(s string, width int) string {
	if width <= 0 || len(s) <= width {
		return s
	}
	if width < 2 {
		return s[:width]
	}
	return s[:width-1] + "~"
}

// Above returns a writer for messages during the run: on a terminal they
// print above the bar, which would otherwise draw over them; otherwise,
// and once the display is closed, they go to w.
func (pr *progress) Above(w io.Writer) io.Writer { return aboveBar{pr, w} }

type aboveBar struct {
	pr *progress
	w  io.Writer
}

func (a aboveBar) Write(b []byte) (int, error) {
	if a.pr.p != nil {
		// The newline that would end the bar's line is not needed above
		// it; a carriage return writes over what the terminal echoed
		// (^C) where the bar was.
		line := append([]byte("\r"), bytes.TrimLeft(b, "\n")...)
		if _, err := a.pr.p.Write(line); !errors.Is(err, mpb.ErrDone) {
			return len(b), err
		}
	}
	return a.w.Write(b)
}

// Close ends the display at the run's last bucket: full when the run
// did its work, where it stopped when it was interrupted.
func (pr *progress) Close() {
	if pr.bar == nil {
		return
	}
	pr.mu.Lock()
	pr.closed = true
	f := pr.fractionLocked(pr.elapsed)
	pr.mu.Unlock()
	if f >= 0.99 {
		pr.bar.SetCurrent(barScale)
	} else {
		pr.bar.Abort(false)
	}
	pr.p.Wait()
}
