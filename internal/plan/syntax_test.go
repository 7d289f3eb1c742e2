package plan

import (
	"strings"
	"testing"
)

// A tab in the indentation is YAML's most common syntax error; the error
// points at the tab and says what to do.
func TestTabErrorsNameTheTab(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, yaml, pos string
	}{
		{"indenting a key", "target: http://x\nscenarios:\n  s:\n\texecutor: {closed: {vus: 1, iterations: 1}}\n" + okSteps, "4:1"},
		{"after spaces", "target: http://x\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n    steps:\n    \t- request: {path: /}\n", "6:5"},
		{"in a block mapping", "target: http://x\nscenarios:\n  s:\n    executor:\n      closed: {vus: 1, iterations: 1}\n    steps:\n      - request:\n\t  path: /\n", "8:1"},
		{"a list item", "target: http://x\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n    steps:\n\t- request: {path: /}\n", "6:1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("p.yaml", []byte(tc.yaml), nil)
			errs := planErrors(t, err)
			if len(errs) != 1 {
				t.Fatalf("Parse = %v, want one error", err)
			}
			msg := errs[0].Error()
			if !strings.HasPrefix(msg, "p.yaml:"+tc.pos+": invalid YAML") || !strings.Contains(msg, "YAML indents with spaces only, replace the tab with spaces") {
				t.Errorf("error %q, want it at %s with the tab hint", msg, tc.pos)
			}
		})
	}
	// An error with no tab near it, or a tab inside a value, keeps the
	// general advice.
	for _, src := range []string{"target: http://x\nscenarios: [\n", "target: http://x\nname: \"a\tb\"\nscenarios: [\n"} {
		_, err := Parse("p.yaml", []byte(src), nil)
		if err == nil || strings.Contains(err.Error(), "tab") {
			t.Errorf("Parse(%q) = %v, want an error without the tab hint", src, err)
		}
	}
}

// The parser's messages carry no column; for the commonest mistakes the
// error points at the character and says what to do.
func TestSyntaxErrorsNameTheColumn(t *testing.T) {
	t.Parallel()
	const head = "target: http://x\n"
	tests := []struct {
		name, yaml, pos, fix string
	}{
		{"@ starts a value", head + "name: @bob\n", "2:7", `a value may not start with @ unquoted; quote it`},
		{"backquote in a flow list", head + "thresholds: [a, `b`]\n", "2:17", "a value may not start with ` unquoted"},
		{": in a value", head + "name: a: b\n", "2:8", `a value holding ": " must be quoted`},
		{": in a nested value", head + "defaults:\n  headers:\n    X-Note: see: here\n", "4:16", `a value holding ": " must be quoted`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("p.yaml", []byte(tc.yaml), nil)
			errs := planErrors(t, err)
			if len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), "p.yaml:"+tc.pos+": invalid YAML") || !strings.Contains(errs[0].Error(), tc.fix) {
				t.Errorf("Parse = %v, want one error at %s saying %q", err, tc.pos, tc.fix)
			}
		})
	}
}
