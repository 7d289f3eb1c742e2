package plan

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

// syntaxHint finds, for the YAML parser's message msg at line (1-based;
// the parser gives no column), the column of the likely cause and the
// fix, for the mistakes people make most: a tab, a reserved character
// starting a plain value, and ": " inside an unquoted value.
func syntaxHint(src []byte, line int, msg string) (Pos, string, bool) {
	// A tab is the cause when it indents, or when the parser stopped at
	// a character it could not read; elsewhere in a value it is legal.
	tabMsg := strings.Contains(msg, "tab") || strings.HasPrefix(msg, "found character that cannot start any token")
	if p, indent, ok := tabNear(src, line); ok && (indent || tabMsg) {
		return p, "a tab here: YAML indents with spaces only, replace the tab with spaces", true
	}
	text, ok := lineAt(src, line)
	if !ok {
		return Pos{}, "", false
	}
	switch {
	case strings.HasPrefix(msg, "found character that cannot start any token"):
		// @ and ` are reserved: no plain value may start with them.
		for i, c := range text {
			if (c == '@' || c == '`') && (i == 0 || text[i-1] == ' ' || text[i-1] == '[' || text[i-1] == '{' || text[i-1] == ',') {
				return Pos{line, utf8.RuneCount(text[:i]) + 1}, "a value may not start with " + string(c) + " unquoted; quote it, e.g. \"" + string(c) + "…\"", true
			}
		}
	case strings.HasPrefix(msg, "mapping values are not allowed in this context"):
		// key: a: b — the second ": " is the one the parser rejects.
		first := colon(text, 0)
		if first < 0 {
			break
		}
		if second := colon(text, first+1); second >= 0 {
			return Pos{line, utf8.RuneCount(text[:second]) + 1}, `a value holding ": " must be quoted, e.g. key: "a: b"`, true
		}
	}
	return Pos{}, "", false
}

// colon returns the index of the first ':' at or after from that ends a
// key (followed by a space or the end of the line), or -1.
func colon(text []byte, from int) int {
	for i := from; i < len(text); i++ {
		if text[i] == ':' && (i+1 == len(text) || text[i+1] == ' ') {
			return i
		}
	}
	return -1
}

func lineAt(src []byte, line int) ([]byte, bool) {
	lines := bytes.Split(src, []byte("\n"))
	if line < 1 || line > len(lines) {
		return nil, false
	}
	return bytes.TrimSuffix(lines[line-1], []byte("\r")), true
}

// tabNear finds the tab that likely caused a YAML syntax error reported
// at line (1-based): the first tab in that line or, when it has none, in
// the line before (the scanner may report the line after), and whether
// it indents (only blanks and "- " before it). YAML forbids tabs for
// indentation, and editors make them easy to type and hard to see.
func tabNear(src []byte, line int) (p Pos, indent, ok bool) {
	for _, l := range []int{line, line - 1} {
		text, ok := lineAt(src, l)
		if !ok {
			continue
		}
		if i := bytes.IndexByte(text, '\t'); i >= 0 {
			indent := len(bytes.Trim(text[:i], " -")) == 0
			return Pos{l, utf8.RuneCount(text[:i]) + 1}, indent, true
		}
	}
	return Pos{}, false, false
}
