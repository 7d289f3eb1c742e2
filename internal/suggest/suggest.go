// Package suggest finds the likely intended word for a typo, for the
// "did you mean" in the errors of floodgate's strict YAML files (plans and
// emulator configs).
package suggest

import "strings"

// Closest returns the entry of known closest to got, or "" when none is
// close enough to be a plausible typo. Case, '_' and '-' are ignored first
// (rampUp, ramp-up → ramp_up); then edit distance decides: at most 2 (1
// for words of 4 bytes or fewer), and less than got's length.
func Closest(got string, known []string) string {
	norm := func(s string) string {
		return strings.NewReplacer("_", "", "-", "").Replace(strings.ToLower(s))
	}
	g := norm(got)
	best, bestDist := "", 0
	for _, k := range known {
		if norm(k) == g {
			return k
		}
		limit := 2
		if len(k) <= 4 {
			limit = 1
		}
		d := Distance(strings.ToLower(got), k)
		if d <= limit && d < len(got) && (best == "" || d < bestDist) {
			best, bestDist = k, d
		}
	}
	return best
}

// Distance is the Levenshtein distance between a and b, in bytes. Words
// longer than 64 bytes are no typos: their distance is reported as huge
// without computing it.
func Distance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 20
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
