package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/floodgate-dev/floodgate/internal/metrics"
)

// WriteChecks writes what a plan's checks found, after the summary table:
// why steps failed (s.Failures) and the thresholds (s.Thresholds). It
// writes nothing when there is neither. The output depends only on s.
func WriteChecks(w io.Writer, s *metrics.Summary) error {
	var b strings.Builder
	if len(s.Failures) > 0 {
		b.WriteString("\nstep failures:\n")
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		for _, f := range s.Failures {
			name := f.Step
			if len(s.Scenarios) > 1 {
				name = f.Scenario + "/" + f.Step
			}
			line := fmt.Sprintf("  %s\t%d ×\t%s", name, f.Count, f.Error)
			if f.Example != "" {
				line += " — e.g. " + f.Example
			}
			fmt.Fprintln(tw, line)
		}
		tw.Flush()
	}
	if len(s.Thresholds) > 0 {
		failed := 0
		for _, t := range s.Thresholds {
			if !t.Passed {
				failed++
			}
		}
		fmt.Fprintf(&b, "\nthresholds: %d of %d passed\n", len(s.Thresholds)-failed, len(s.Thresholds))
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		for _, t := range s.Thresholds {
			mark := "ok  "
			if !t.Passed {
				mark = "FAIL"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", mark, t.Threshold, t.Detail)
		}
		tw.Flush()
	}
	_, err := io.WriteString(w, b.String())
	return err
}
