// Package numfmt writes counts, rates and durations for people to read,
// the same way in the diagnosis, lint's findings and the reports.
package numfmt

import (
	"math"
	"strconv"
)

// Count formats n with thousands separators: 5000 → "5,000".
func Count(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// Rate formats a per-second rate with sensible precision: "312/s",
// "16.7/s", "0.50/s".
func Rate(r float64) string {
	switch {
	case r >= 100:
		return Count(int64(math.Round(r))) + "/s"
	case r >= 10:
		return strconv.FormatFloat(r, 'f', 1, 64) + "/s"
	}
	return strconv.FormatFloat(r, 'f', 2, 64) + "/s"
}

// Seconds formats a duration in seconds as "2.5 h", "16.7 min", "8.0 s"
// or "450 ms".
func Seconds(s float64) string {
	switch {
	case s >= 7200:
		return strconv.FormatFloat(s/3600, 'f', 1, 64) + " h"
	case s >= 120:
		return strconv.FormatFloat(s/60, 'f', 1, 64) + " min"
	case s >= 1:
		return strconv.FormatFloat(s, 'f', 1, 64) + " s"
	}
	return strconv.FormatFloat(s*1000, 'f', 0, 64) + " ms"
}
