package diagnose

import (
	"fmt"
	"github.com/floodgate-dev/floodgate/internal/junit"
	"io"
	"strconv"
	"strings"
	"time"
)

// kinds in the order their test cases are written.
var kinds = []Kind{RateLimit, JobCap, ConcurrencyCap, Authorization, Saturation, GeneratorBound,
	Credentials, Unreachable, TLSFailure, CutOff}

// plain reports whether k is a plain failure, not a wall of the service.
func (k Kind) plain() bool {
	return k == Credentials || k == Unreachable || k == TLSFailure || k == CutOff
}

// WriteJUnit writes d as JUnit XML for runs without thresholds: one test
// case per kind of wall ("no rate limit wall", …), failed when a wall of
// that kind was found, with its evidence and advice. The set of test
// cases is the same for every run, so CI dashboards can track them.
// plan names the suite; start and durationS are the run's.
func WriteJUnit(w io.Writer, d *Diagnosis, plan string, start time.Time, durationS float64) error {
	class := "floodgate.diagnosis." + plan
	dur := strconv.FormatFloat(durationS, 'f', 3, 64)
	suite := junit.Suite{Name: class, Time: dur, Timestamp: start.UTC().Format("2006-01-02T15:04:05")}
	for _, k := range kinds {
		name := "no " + k.Title() + " wall"
		if k.plain() {
			name = "no " + k.Title()
		}
		c := junit.Case{Name: name, Classname: class, Time: "0"}
		var msgs, texts []string
		for _, f := range d.Findings {
			if f.Kind != k {
				continue
			}
			msgs = append(msgs, f.Summary)
			var b strings.Builder
			fmt.Fprintf(&b, "%s (confidence %.0f%%): onset %s\n", f.Summary, f.Confidence*100, onsetText(f))
			for _, e := range f.Evidence {
				b.WriteString("· " + e + "\n")
			}
			if f.Advice != "" {
				b.WriteString("→ " + f.Advice + "\n")
			}
			texts = append(texts, b.String())
		}
		if len(msgs) > 0 {
			c.Failure = &junit.Failure{Message: strings.Join(msgs, "; "), Type: string(k), Text: strings.Join(texts, "\n")}
		}
		suite.Cases = append(suite.Cases, c)
	}
	return junit.Write(w, "floodgate "+plan, suite)
}
