package plan

import (
	"errors"
	suggestpkg "github.com/floodgate-dev/floodgate/internal/suggest"
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

// suggest returns the entry of known closest to got, or "".
func suggest(got string, known []string) string { return suggestpkg.Closest(got, known) }

// didYouMean returns ` did you mean "x"?` for a close match, else "".
func didYouMean(got string, known []string) string {
	if s := suggest(got, known); s != "" {
		return " did you mean " + strconv.Quote(s) + "?"
	}
	return ""
}
