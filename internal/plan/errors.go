package plan

import (
	"errors"
	"strconv"
	"strings"
)

// ErrInvalid is matched by every *Error (errors.Is), so callers can tell a
// bad plan from a failure to read it without matching message text.
var ErrInvalid = errors.New("plan: invalid plan")

// Error is one problem in a plan file. Parse joins them with errors.Join;
// errors.As finds each one through the join.
type Error struct {
	// File is the path given to Parse or Load; "" for a plan parsed from
	// memory.
	File string
	// Pos is where the problem is. Col is 0 when only the line is known
	// (some YAML syntax errors); Line is 0 when neither is.
	Pos Pos
	// Msg says what is wrong and, after a semicolon, how to fix it. It
	// never contains a secret's value.
	Msg string
}

// Error formats the problem as "file:line:col: msg", the form editors and
// CI annotations recognise. Unknown parts are left out.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Pos.Line > 0 {
		if b.Len() > 0 {
			b.WriteByte(':')
		}
		b.WriteString(strconv.Itoa(e.Pos.Line))
		if e.Pos.Col > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(e.Pos.Col))
		}
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Is reports whether target is ErrInvalid.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// suggest returns the entry of known closest to got, or "" when none is
// close enough to be a plausible typo. Case, '_' and '-' are ignored first
// (rampUp, ramp-up → ramp_up); then edit distance decides.
func suggest(got string, known []string) string {
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
		d := editDistance(strings.ToLower(got), k)
		if d <= limit && d < len(got) && (best == "" || d < bestDist) {
			best, bestDist = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 20 // not a typo; don't spend time on it
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

// didYouMean returns ` did you mean "x"?` for a close match, else "".
func didYouMean(got string, known []string) string {
	if s := suggest(got, known); s != "" {
		return " did you mean " + strconv.Quote(s) + "?"
	}
	return ""
}
