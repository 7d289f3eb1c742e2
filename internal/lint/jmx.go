package lint

import (
	"fmt"
	"math"
	"strconv"

	"github.com/floodgate-dev/floodgate/internal/jmx"
	"github.com/floodgate-dev/floodgate/internal/plan"
)

// JMX lints a plan converted from JMeter: Plan over the converted plan,
// with findings placed at the JMeter elements they come from, and the
// Constant Throughput Timer unit trap.
func JMX(res *jmx.Result, p *plan.Plan, opts ...Option) *Report {
	locate := func(pos plan.Pos) string {
		if pos.Line >= 1 && pos.Line <= len(res.Sources) && res.Sources[pos.Line-1] != "" {
			return res.Sources[pos.Line-1]
		}
		return "Test Plan"
	}
	r := Plan(p, append(opts, WithLocator(locate))...)
	r.Add(Throughput(res.Throughput)...)
	r.Add(Forever(res)...)
	return r
}

// minPacing is the wait between one thread's samples beyond which a
// Constant Throughput Timer's target looks like a per-second figure
// entered as per-minute.
const minPacing = 10.0 // seconds

// Throughput checks Constant Throughput Timers for the unit trap: the
// target is in samples per MINUTE, and a figure such as 100 with 100
// threads ("100 requests per second") gives 1.7/s, each thread sampling
// once a minute.
func Throughput(ts []jmx.Throughput) []Finding {
	var out []Finding
	for _, t := range ts {
		if !t.Known || t.PerMinute <= 0 || t.Threads <= 0 {
			continue
		}
		threads := float64(t.Threads)
		perSecond := t.PerMinute / 60 // what the figure gives, as written
		pacing := 60 / t.PerMinute    // seconds between one thread's samples
		scope := "each thread"
		if t.Mode != 0 {
			pacing = 60 * threads / t.PerMinute
			scope = fmt.Sprintf("all %d threads together", t.Threads)
		}
		if pacing < minPacing {
			continue
		}
		meant := t.PerMinute * 60
		out = append(out, Finding{Severity: Warning, Rule: "ctt_unit", Where: t.Path,
			Message: fmt.Sprintf("throughput %s is in samples per MINUTE (%s): %s/min is %s/s for %s, one sample per thread every %s; with %d threads this reads like %s/s was meant",
				num(t.PerMinute), t.ModeText, num(t.PerMinute), num(math.Round(perSecond*100)/100), scope, secs(pacing), t.Threads, num(t.PerMinute)),
			Fix: fmt.Sprintf("for %s samples per second set throughput to %s (per minute = per second × 60); the imported plan's open rate follows the value", num(t.PerMinute), num(meant))})
	}
	return out
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func secs(s float64) string {
	if s >= 120 {
		return strconv.FormatFloat(s/60, 'f', 1, 64) + " min"
	}
	return strconv.FormatFloat(s, 'f', 0, 64) + " s"
}

// Forever finds the thread groups that loop forever: their scenarios run
// for ${DURATION}, which the run must set.
func Forever(res *jmx.Result) []Finding {
	var out []Finding
	for _, path := range res.Forever {
		out = append(out, Finding{Severity: Warning, Rule: "unbounded", Where: path,
			Message: fmt.Sprintf("the thread group loops forever (Loop Count \"Infinite\") with no duration: the scenario runs for ${%s}, which must be set when it runs (lint predicts it with %s=%s when it is not set)", jmx.DurationVar, jmx.DurationVar, res.Required[jmx.DurationVar]),
			Fix:     fmt.Sprintf("run it with %s=10m (any duration), or set Loop Count to a number, or tick \"Specify Thread lifetime\" and give a Duration (seconds)", jmx.DurationVar)})
	}
	return out
}
