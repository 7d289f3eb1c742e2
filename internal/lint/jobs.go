package lint

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	emuconfig "github.com/floodgate-dev/floodgate/internal/emulator/config"
	"github.com/floodgate-dev/floodgate/internal/numfmt"
	"github.com/floodgate-dev/floodgate/internal/plan"
)

// recordingJobs is the path that creates recording bulk jobs.
const recordingJobs = "/api/v2/recording/jobs"

// JobCap is the org's cap on open recording jobs (PENDING or
// PROCESSING): at most N at once, each open for about Open after its
// create (until it is READY).
type JobCap struct {
	N    int
	Open time.Duration
	// Source says where the cap comes from.
	Source string
}

// DefaultJobCap is the platform's documented cap, with the emulator's
// default time to READY.
func DefaultJobCap() JobCap { return ConfigJobCap(emuconfig.Default(), "emulator default") }

// ConfigJobCap returns the recording job cap of an emulator
// configuration; its time to READY runs time_scale times as long.
func ConfigJobCap(c emuconfig.Config, source string) JobCap {
	open := c.Recordings.ReadyAfter.D()
	if c.TimeScale > 0 && c.TimeScale != 1 {
		open = time.Duration(float64(open) * c.TimeScale)
		source += fmt.Sprintf(", time_scale %g", c.TimeScale)
	}
	return JobCap{N: c.Recordings.ActiveJobsPerOrg, Open: open, Source: source}
}

// WithJobCap checks recording job creates against jc instead of
// DefaultJobCap; N ≤ 0 turns the check off.
func WithJobCap(jc JobCap) Option { return func(c *config) { c.jobCap = &jc } }

// createsJob reports whether r creates a recording job.
func createsJob(r *plan.Request) bool {
	if r == nil || r.Method != "POST" {
		return false
	}
	p := r.Path
	if u, err := url.Parse(p); err == nil && u.Scheme != "" {
		p = u.Path
	}
	p, _, _ = strings.Cut(p, "?")
	return strings.TrimSuffix(p, "/") == recordingJobs
}

// jobSteps counts the recording job creates of one iteration (as
// perIteration counts requests), and reports the first create step and
// whether a poll or event wait follows a create in the iteration: then
// each VU waits for its job before it creates the next, and holds at
// most one open at a time.
func jobSteps(steps []*plan.Step) (creates float64, first *plan.Step, waits bool) {
	var seen bool
	var walk func(steps []*plan.Step, k float64)
	walk = func(steps []*plan.Step, k float64) {
		for _, st := range steps {
			switch {
			case createsJob(st.Request), createsJob(triggerReq(st)):
				creates += k
				seen = true
				if first == nil {
					first = st
				}
			case st.Poll != nil || st.WaitEvent != nil:
				waits = waits || seen
			case st.Group != nil:
				walk(st.Group.Steps, k)
			case st.Repeat != nil:
				n := float64(st.Repeat.Count)
				if st.Repeat.While != nil || st.Repeat.Each != "" || n < 1 {
					n = 1
				}
				walk(st.Repeat.Steps, k*n)
			case st.Choose != nil:
				var total float64
				for _, ch := range st.Choose.Steps {
					total += ch.Weight
				}
				for _, ch := range st.Choose.Steps {
					if total > 0 {
						walk([]*plan.Step{ch}, k*ch.Weight/total)
					}
				}
			}
		}
	}
	walk(steps, 1)
	return creates, first, waits
}

// checkJobCap predicts how many recording jobs a scenario keeps open at
// once: with a wait after each create, one per VU creating at once;
// without, the create rate times how long a job stays open (at most all
// the creates). Above the org's cap, the platform refuses the rest.
func checkJobCap(l *load, jc JobCap, cfg config) []Finding {
	if jc.N <= 0 || l.pred.PerIteration == 0 {
		return nil
	}
	creates, first, waits := jobSteps(l.sc.Steps)
	if creates == 0 {
		return nil
	}
	share := creates / float64(l.pred.PerIteration)
	total := float64(l.pred.Requests) * share
	rate := l.pred.PeakRate * share
	creators := l.pred.PeakConcurrency
	open := float64(creators)
	why := fmt.Sprintf("up to %d VUs create jobs at once", creators)
	if byRate := math.Min(rate*jc.Open.Seconds(), total); !waits && byRate > open {
		open = byRate
		why = fmt.Sprintf("creates come at up to %s and nothing waits for a job before the next create", rateText(rate))
	}
	open = math.Min(open, total)
	if open <= float64(jc.N) {
		return nil
	}
	return []Finding{{Severity: Warning, Rule: "job_cap", Where: cfg.locate(first.Pos),
		Message: fmt.Sprintf("scenario %s creates recording jobs (POST %s): %s, each open ~%s until READY, so ~%s are open at once against the cap of %d open jobs per org (%s): the creates above it are refused (429)",
			l.sc.Name, recordingJobs, why, plan.FormatDuration(jc.Open), numfmt.Count(int64(math.Round(open))), jc.N, jc.Source),
		Fix: fmt.Sprintf("create at most %d at a time: e.g. closed: {vus: %d} with a poll step after the create that waits for the job to be READY (as examples/export-flow.yaml does)", jc.N, jc.N)}}
}

// rateText says a rate per second, or per minute below one.
func rateText(perSecond float64) string {
	switch {
	case perSecond >= 10:
		return numfmt.Count(int64(math.Round(perSecond))) + "/s"
	case perSecond >= 1:
		return strconv.FormatFloat(math.Round(perSecond*10)/10, 'f', -1, 64) + "/s"
	}
	return strconv.FormatFloat(math.Round(perSecond*600)/10, 'f', -1, 64) + "/min"
}
