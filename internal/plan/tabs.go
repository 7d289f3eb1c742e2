package plan

import (
	"bytes"
	"unicode/utf8"
)

// tabNear finds the tab that likely caused a YAML syntax error reported
// at line (1-based): the first tab in that line or, when it has none, in
// the line before (the scanner may report the line after). YAML forbids
// tabs for indentation, and editors make them easy to type and hard to
// see.
func tabNear(src []byte, line int) (Pos, bool) {
	if line < 1 {
		return Pos{}, false
	}
	lines := bytes.Split(src, []byte("\n"))
	for _, l := range []int{line, line - 1} {
		if l < 1 || l > len(lines) {
			continue
		}
		text := lines[l-1]
		if i := bytes.IndexByte(text, '\t'); i >= 0 {
			return Pos{l, utf8.RuneCount(text[:i]) + 1}, true
		}
	}
	return Pos{}, false
}
