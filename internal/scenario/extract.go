package scenario

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/tidwall/gjson"
)

// ErrNotFound is wrapped by every *ExtractError: what an extraction names
// is not in the response.
var ErrNotFound = errors.New("not found")

// Extractor takes one variable's value from a response: a JSON path into
// the body (gjson syntax; a leading "$." is dropped, "$" alone is the
// whole body), "header:Name", or "regex:pattern" (the first capture
// group of the first match in the body as text, the whole match without
// a group; Go's RE2 syntax). It is read-only and safe for concurrent use.
type Extractor struct {
	// Name and Slot are the variable set.
	Name string
	Slot int
	// Spec is the source as written: "id", "$.entities.0.id", "header:Location".
	Spec   string
	header string
	path   string
	re     *regexp.Regexp
	group  int
}

// ParseExtractor compiles spec for the variable name held in slot.
func ParseExtractor(name, spec string, slot int) (*Extractor, error) {
	x := &Extractor{Name: name, Slot: slot, Spec: spec}
	s := strings.TrimSpace(spec)
	if h, ok := strings.CutPrefix(s, "header:"); ok {
		h = strings.TrimSpace(h)
		if !ValidToken(h) {
			return nil, fmt.Errorf("extract %s: bad header name %q; write header:Location", name, h)
		}
		x.header = h
		return x, nil
	}
	if r, ok := strings.CutPrefix(s, "regex:"); ok {
		re, err := regexp.Compile(r)
		if err != nil {
			return nil, fmt.Errorf("extract %s: regex %q: %v; the syntax is Go's RE2 (no lookaround or backreferences)", name, r, err)
		}
		x.re = re
		if re.NumSubexp() > 0 {
			x.group = 1
		}
		return x, nil
	}
	switch {
	case s == "$":
		s = "@this"
	case strings.HasPrefix(s, "$."):
		s = s[2:]
	case strings.HasPrefix(s, "$["):
		return nil, fmt.Errorf("extract %s: %q indexes with brackets; write array indexes with dots (gjson syntax), e.g. entities.0.id", name, spec)
	}
	if s == "" {
		return nil, fmt.Errorf("extract %s: empty path; give a JSON path such as id or entities.0.id, or header:Location", name)
	}
	x.path = s
	return x, nil
}

// Header reports whether x reads a response header, and which.
func (x *Extractor) Header() (string, bool) { return x.header, x.header != "" }

// ExtractError says why an extraction failed; it wraps ErrNotFound.
type ExtractError struct {
	Name, Spec string
	// Reason is "not found in the response body", "not JSON", ...
	Reason string
}

func (e *ExtractError) Error() string {
	return fmt.Sprintf("extract %s (%s): %s", e.Name, e.Spec, e.Reason)
}

func (e *ExtractError) Unwrap() error { return ErrNotFound }

// Extract returns x's value from a response: its body and a header
// lookup (which may be nil for documents without headers, such as
// notification frames).
func (x *Extractor) Extract(body []byte, header func(string) string) (Value, error) {
	if x.header != "" {
		v := ""
		if header != nil {
			v = header(x.header)
		}
		if v == "" {
			return Value{}, &ExtractError{x.Name, x.Spec, "the response has no " + x.header + " header"}
		}
		return StringValue(v), nil
	}
	if x.re != nil {
		m := x.re.FindSubmatch(body)
		if m == nil {
			return Value{}, &ExtractError{x.Name, x.Spec, "no match in " + Snippet(body, 120)}
		}
		return StringValue(string(m[x.group])), nil
	}
	r := gjson.GetBytes(body, x.path)
	if !r.Exists() {
		reason := "not found in " + Snippet(body, 120)
		if !gjson.ValidBytes(body) {
			reason = "the body is not JSON: " + Snippet(body, 120)
		}
		return Value{}, &ExtractError{x.Name, x.Spec, reason}
	}
	return resultValue(r), nil
}

// resultValue types a gjson result as a variable's value.
func resultValue(r gjson.Result) Value {
	switch r.Type {
	case gjson.String:
		return StringValue(r.Str)
	case gjson.Number:
		return NumberValue(r.Raw)
	case gjson.True, gjson.False:
		return BoolValue(r.Type == gjson.True)
	case gjson.Null:
		return NullValue()
	}
	return RawJSONValue(r.Raw)
}

// Snippet returns b for messages: at most n bytes (cut at a rune), on one
// line, "(empty body)" when empty.
func Snippet(b []byte, n int) string {
	if len(b) == 0 {
		return "(empty body)"
	}
	s := b
	cut := len(s) > n
	if cut {
		s = s[:n]
	}
	out := strings.Join(strings.Fields(strings.ToValidUTF8(string(s), "\uFFFD")), " ")
	if cut {
		out += fmt.Sprintf("… (%d bytes)", len(b))
	}
	return out
}
