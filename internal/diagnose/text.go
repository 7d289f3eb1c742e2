package diagnose

import (
	"fmt"
	"io"
	"strings"
)

// WriteText writes d for a terminal, as `floodgate run` prints it after
// the summary:
//
//	diagnosis: one wall: rate limit at 300 per 3.0 s (100/s) from t=0.0 s
//	  RATE LIMIT (confidence 95%): onset t=0.0 s · 100/s · 20 in flight · 300 per 3.0 s
//	    · 429 × 17 of 817 attempts, from t=0.0 s at 317/s sent and 20 in flight
//	    → the limit is …
func WriteText(w io.Writer, d *Diagnosis) error {
	var b strings.Builder
	b.WriteString("diagnosis: " + d.Verdict + "\n")
	for _, f := range d.Findings {
		fmt.Fprintf(&b, "  %s (confidence %.0f%%): onset %s\n", strings.ToUpper(f.Kind.Title()), f.Confidence*100, onsetText(f))
		if f.Scope != "" {
			fmt.Fprintf(&b, "    scope: %s\n", f.Scope)
		}
		for _, e := range f.Evidence {
			fmt.Fprintf(&b, "    · %s\n", e)
		}
		if f.Advice != "" {
			fmt.Fprintf(&b, "    → %s\n", f.Advice)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// OnsetText renders a finding's onset: "t=0.0 s · 100/s · 20 in flight".
func OnsetText(f Finding) string { return onsetText(f) }

func onsetText(f Finding) string {
	o := f.Onset
	parts := []string{fmt.Sprintf("t=%.1f s", o.Time)}
	if o.Rate > 0 {
		parts = append(parts, Rate(o.Rate))
	}
	if o.InFlight > 0 {
		parts = append(parts, fmt.Sprintf("%s in flight", Count(int64(o.InFlight+0.5))))
	}
	if o.Count > 0 && o.Window > 0 {
		parts = append(parts, fmt.Sprintf("%s per %s", Count(o.Count), Seconds(o.Window)))
	}
	if o.Count > 0 && o.Lifetime > 0 {
		parts = append(parts, fmt.Sprintf("%s open, each ≈ %s", Count(o.Count), Seconds(o.Lifetime)))
	}
	return strings.Join(parts, " · ")
}
