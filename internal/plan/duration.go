package plan

import (
	"strings"
	"time"
)

// FormatDuration writes d as a plan would: time.Duration's form without
// its trailing zero units ("1m", "1h30m", "1.5s"), which Parse reads back
// as d. Lint's messages and the JMeter import's plans both use it.
func FormatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") || strings.HasSuffix(s, "h0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
