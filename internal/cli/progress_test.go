package cli

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/floodgate-dev/floodgate/internal/metrics"
)

type fakeRun struct {
	requests int64
	length   time.Duration
	vus      int
	busy     int64
}

func (f fakeRun) Planned() (int64, time.Duration) { return f.requests, f.length }
func (f fakeRun) MaxConcurrency() int             { return f.vus }
func (f fakeRun) InFlight() int64                 { return f.busy }

// second is the bucket of second i of a run that started at t0.
func second(t0 time.Time, i int, length float64, f metrics.Flow, p99 float64) metrics.Bucket {
	b := metrics.Bucket{T: float64(i), Time: t0.Add(time.Duration(i) * time.Second), Seconds: length, Flow: f}
	if f.Completed > 0 {
		b.FromDue = metrics.Percentiles{Count: f.Completed, P99: p99}
	}
	return b
}

// TestProgressPlainLines: without a terminal, a line on each multiple of
// --progress from the run's start (and at its end), a bar of one width,
// and the fields a person reads: time, percentage by time, ETA, VUs,
// rates, p99 from due, failures by class and what the attempts met.
func TestProgressPlainLines(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		every time.Duration
		want  []string // the clock of each line printed
	}{
		{0, []string{"00:01", "00:02", "00:03", "00:04", "00:05", "00:06", "00:07", "00:07"}},
		{time.Second, []string{"00:01", "00:02", "00:03", "00:04", "00:05", "00:06", "00:07", "00:07"}},
		{2 * time.Second, []string{"00:02", "00:04", "00:06", "00:07"}},
		{3 * time.Second, []string{"00:03", "00:06", "00:07"}},
	} {
		var out bytes.Buffer
		pr := newProgress(&out, false, "cap-ramp", fakeRun{requests: 300, length: 10 * time.Second, vus: 40, busy: 8}, tc.every)
		for i := range 7 {
			pr.Tick(second(t0, i, 1, metrics.Flow{Offered: 30, Completed: 30, Goodput: 30, Attempts: 30,
				Statuses: map[string]int64{"200": 30}}, 475.12))
		}
		pr.Tick(second(t0, 7, 0.4, metrics.Flow{Offered: 12, Completed: 12, Goodput: 12, Attempts: 12,
			Statuses: map[string]int64{"200": 12}}, 12))
		pr.Close()
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		var clocks []string
		for _, l := range lines {
			clocks = append(clocks, strings.Fields(l)[1])
		}
		if strings.Join(clocks, " ") != strings.Join(tc.want, " ") {
			t.Errorf("--progress %s: lines at %v; want %v\n%s", tc.every, clocks, tc.want, out.String())
		}
		// The line of second 3: 30 % of the 10 s planned, whatever the
		// requests completed.
		if tc.every == time.Second {
			l := lines[2]
			for _, want := range []string{"cap-ramp 00:03 [=======>--------------------]  30% ETA 00:07",
				"VUs 8/40", "offered 30/s", "achieved 30/s", "ok 30/s", "p99 from due 475.1 ms",
				"done 90  ok 90  failed 0", "attempts 200:90"} {
				if !strings.Contains(l, want) {
					t.Errorf("line %q lacks %q", l, want)
				}
			}
		}
		bars := regexp.MustCompile(`\[[=>-]*\]`)
		for _, l := range lines {
			if b := bars.FindString(l); len(b) != barWidth {
				t.Errorf("bar %q is %d wide; want %d", b, len(b), barWidth)
			}
		}
	}
}

// TestProgressShowsADeadTarget: a target that refuses every connection
// reads as failing: ok 0/s, failures by class, connect attempts.
func TestProgressShowsADeadTarget(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	var out bytes.Buffer
	pr := newProgress(&out, false, "dead", fakeRun{requests: 100, length: -1, vus: 5}, 0)
	pr.Tick(second(t0, 0, 1, metrics.Flow{Offered: 20, Completed: 20, Attempts: 26, Retries: 6, Lost: 20,
		Statuses: map[string]int64{"0": 26}, Errors: map[string]int64{"budget": 20},
		AttemptErrors: map[string]int64{"connect": 26}}, 90))
	l := out.String()
	// By planned requests: 20 of 100 done in 1 s leaves 4 s.
	for _, want := range []string{" 20% ETA 00:04", "VUs 0/5", "achieved 20/s  ok 0/s", "done 20  ok 0  failed 20 (20 budget)",
		"attempts connect:26", "retries 6", "lost 20"} {
		if !strings.Contains(l, want) {
			t.Errorf("line %q lacks %q", l, want)
		}
	}
	if strings.Contains(l, "0:26") {
		t.Errorf("line %q shows status 0; want the attempts' class", l)
	}
}

func TestProgressETAUnknown(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	pr := newProgress(&out, false, "soak", fakeRun{requests: -1, length: -1, vus: 1}, 0)
	pr.Tick(second(time.Now(), 0, 1, metrics.Flow{}, 0))
	if l := out.String(); !strings.Contains(l, "  0% ETA --:--") || !strings.Contains(l, "p99 from due -") {
		t.Errorf("line %q; want no percentage, ETA or p99 yet", l)
	}
}

// TestProgressMessagesAboveTheBar: on a terminal a message during the run
// is drawn above the bar (the bar's redraw would erase it otherwise),
// after it on w; without a terminal it goes to w as written.
func TestProgressMessagesAboveTheBar(t *testing.T) {
	t.Parallel()
	var out, errs lockedBuffer
	pr := newProgress(&out, true, "tty", fakeRun{requests: 10, length: -1, vus: 1}, 0)
	fmt.Fprint(pr.Above(&errs), "\ninterrupt: stopping\n")
	pr.Tick(second(time.Now(), 0, 1, metrics.Flow{Completed: 10, Goodput: 10}, 1))
	pr.Close()
	fmt.Fprint(pr.Above(&errs), "after\n")
	if !strings.Contains(out.String(), "\rinterrupt: stopping\n") || strings.Contains(errs.String(), "interrupt") {
		t.Errorf("during the run: terminal %q, stderr %q; want the message on the terminal", out.String(), errs.String())
	}
	if errs.String() != "after\n" {
		t.Errorf("after the run: stderr %q; want the message", errs.String())
	}
	if !strings.Contains(out.String(), "100% ETA 00:00") {
		t.Errorf("terminal %q lacks the finished bar", out.String())
	}

	var plain, perr bytes.Buffer
	pr = newProgress(&plain, false, "pipe", fakeRun{requests: 10, length: -1, vus: 1}, 0)
	fmt.Fprint(pr.Above(&perr), "\ninterrupt: stopping\n")
	if perr.String() != "\ninterrupt: stopping\n" || plain.Len() != 0 {
		t.Errorf("without a terminal: stderr %q, stdout %q", perr.String(), plain.String())
	}
}

// TestProgressFailureClasses: each class reads count first, classes apart,
// so that a count is never read as an HTTP status.
func TestProgressFailureClasses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		errs map[string]int64
		want string
	}{
		{map[string]int64{"status": 400}, "failed 400 (400 unexpected status)"},
		{map[string]int64{"budget": 3485, "status": 206}, "failed 3691 (3485 budget · 206 unexpected status)"},
		{map[string]int64{"connect": 2, "timeout": 2, "status": 1}, "failed 5 (2 connect · 2 timeout · 1 unexpected status)"},
	} {
		var n int64
		for _, c := range tc.errs {
			n += c
		}
		var out bytes.Buffer
		pr := newProgress(&out, false, "classes", fakeRun{requests: -1, length: -1, vus: 1}, 0)
		pr.Tick(second(time.Now(), 0, 1, metrics.Flow{Completed: n, Errors: tc.errs}, 0))
		if l := out.String(); !strings.Contains(l, tc.want) {
			t.Errorf("line %q lacks %q", l, tc.want)
		}
	}
}
