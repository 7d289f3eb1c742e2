package plan

import (
	"fmt"
	"github.com/floodgate-dev/floodgate/internal/scenario"
	"strings"
)

// Environment references in scalar values (never in keys):
//
//	text    = { literal | escape | ref } .
//	escape  = "$${" .                          (a literal "${")
//	ref     = "${" name [ ":-" default ] "}" .
//	name    = ( letter | "_" ) { letter | digit | "_" } .
//	default = { any character except "}" } .    (no nested references)
//
// As in the shell, the default applies when the variable is unset or
// empty. A "$" not followed by "{" is literal.

// expandError is a problem at byte offset off of the expanded text.
type expandError struct {
	off  int
	frag string // the reference as written, to locate it in the source
	msg  string
}

// expand replaces the references in s using getenv. refs counts the
// substituted references (escapes don't count).
func expand(s string, getenv func(string) (string, bool)) (out string, refs int, errs []expandError) {
	if !strings.Contains(s, "${") {
		return s, 0, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if strings.HasPrefix(s[i:], "$${") {
			b.WriteString("${")
			i += 3
			continue
		}
		if !strings.HasPrefix(s[i:], "${") {
			b.WriteByte(s[i])
			i++
			continue
		}
		end := strings.IndexByte(s[i+2:], '}')
		if end < 0 {
			errs = append(errs, expandError{i, "${", `unterminated "${"; close it with "}", or write "$${" for a literal "${"`})
			break
		}
		ref := s[i : i+3+end]
		body := s[i+2 : i+2+end]
		i += 3 + end
		name, def, hasDef := strings.Cut(body, ":-")
		switch {
		case !validEnvName(name):
			hint := "write ${NAME} or ${NAME:-default}, NAME made of letters, digits and _"
			if n, _, ok := strings.Cut(body, "-"); ok && validEnvName(n) {
				hint = fmt.Sprintf("write ${%s:-default} for a default", n)
			}
			errs = append(errs, expandError{i - len(ref), ref, fmt.Sprintf("bad environment reference %q; %s", ref, hint)})
			continue
		case strings.Contains(def, "${"):
			errs = append(errs, expandError{i - len(ref), ref, fmt.Sprintf("nested reference in the default of ${%s}; defaults are plain text", name)})
			continue
		}
		v, ok := "", false
		if getenv != nil {
			v, ok = getenv(name)
		}
		if hasDef && v == "" {
			v, ok = def, true
		}
		if !ok {
			errs = append(errs, expandError{i - len(ref), ref, fmt.Sprintf("environment variable %s is not set; set it in the environment or use ${%s:-default}", name, name)})
			continue
		}
		b.WriteString(v)
		refs++
	}
	return b.String(), refs, errs
}

// validEnvName: environment variable names follow the same rule as plan
// variables (a letter or _, then letters, digits and _).
func validEnvName(s string) bool { return scenario.ValidName(s) }
