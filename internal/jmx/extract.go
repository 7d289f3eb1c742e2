package jmx

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/floodgate-dev/floodgate/internal/scenario"
)

// extractor converts a JSON Extractor, the JSON Path Extractor plugin or
// a Regular Expression Extractor to extract entries; nil for other
// elements and for what does not convert (reported).
func (c *converter) extractor(x *Element) []kv {
	var out []kv
	add := func(ref, spec, def string) {
		ref = strings.TrimSpace(ref)
		if ref == "" {
			return
		}
		name := varName(ref)
		if name != ref {
			c.renamed(x, ref, name)
		}
		if _, err := scenario.ParseExtractor(name, spec, 0); err != nil {
			c.notConverted(x, "%v", err)
			return
		}
		if def = strings.TrimSpace(def); def != "" {
			c.approximated(x, "default %q for %s is not kept: floodgate fails the step when the value is missing", def, ref)
		}
		out = append(out, kv{key: name, value: spec, src: Path(x)})
	}
	switch kindOf(x) {
	case kJSONExtractor:
		if s := x.Str("Sample.scope"); s == "variable" {
			c.notConverted(x, "it reads a JMeter variable, not the response; floodgate extracts from responses")
			return nil
		}
		names := strings.Split(x.Str("JSONPostProcessor.referenceNames"), ";")
		exprs := strings.Split(x.Str("JSONPostProcessor.jsonPathExprs"), ";")
		matches := strings.Split(x.Str("JSONPostProcessor.match_numbers"), ";")
		defs := strings.Split(x.Str("JSONPostProcessor.defaultValues"), ";")
		at := func(ss []string, i int) string {
			if i < len(ss) {
				return strings.TrimSpace(ss[i])
			}
			return ""
		}
		for i, n := range names {
			if strings.TrimSpace(n) == "" {
				continue
			}
			expr := at(exprs, i)
			if expr == "" && len(exprs) == 1 {
				expr = at(exprs, 0)
			}
			spec, err := gjsonPath(expr, at(matches, i))
			if err != nil {
				c.notConverted(x, "JSON path %q for %s: %v", expr, strings.TrimSpace(n), err)
				continue
			}
			if at(matches, i) == "-1" {
				ref := strings.TrimSpace(n)
				c.approximated(x, "all matches: {{.%s}} holds them as a list (JMeter's %s_1, %s_2… are not set); a ForEach Controller over %s converts to a repeat over it", varName(ref), ref, ref, ref)
				if c.sc != nil {
					c.sc.lists[varName(ref)] = true
				}
			}
			add(n, spec, at(defs, i))
		}
	case kJSONPathPlugin:
		spec, err := gjsonPath(x.Str("JSONPATH"), "1")
		if err != nil {
			c.notConverted(x, "JSON path %q: %v", x.Str("JSONPATH"), err)
			return nil
		}
		if x.Str("SUBJECT") == "VAR" {
			c.notConverted(x, "it reads a JMeter variable, not the response")
			return nil
		}
		add(x.Str("VAR"), spec, x.Str("DEFAULT"))
	case kRegexExtractor:
		spec, why := regexSpec(x)
		if spec == "" {
			c.notConverted(x, "regex %q: %s; floodgate extracts JSON paths (gjson), header:Name and regex: with one group", oneLine(x.Str("RegexExtractor.regex")), why)
			return nil
		}
		if strings.HasPrefix(spec, "regex:") {
			c.approximated(x, "regex %q is read with Go's RE2 syntax", oneLine(x.Str("RegexExtractor.regex")))
		} else {
			c.approximated(x, "regex %q is read as %s", oneLine(x.Str("RegexExtractor.regex")), spec)
		}
		add(x.Str("RegexExtractor.refname"), spec, x.Str("RegexExtractor.default"))
	}
	return out
}

var jsonName = regexp.MustCompile(`^[A-Za-z0-9_$-]+$`)

// gjsonPath converts a JSONPath (Jayway, as JMeter's JSON Extractor reads
// it) to a gjson path, for the match number given ("", "1": the first
// match; "0": random; "-1": all).
func gjsonPath(p, match string) (string, error) {
	p = strings.TrimSpace(p)
	if p == "" {
		return "", errors.New("empty")
	}
	if p == "$" {
		return "$", nil
	}
	rest, ok := strings.CutPrefix(p, "$")
	if !ok {
		rest = "." + p // Jayway reads "a.b" as "$.a.b"
	}
	var parts []string
	for rest != "" {
		switch {
		case strings.HasPrefix(rest, ".."):
			return "", errors.New("deep scan (..) has no gjson counterpart; give the full path")
		case strings.HasPrefix(rest, ".*"):
			parts = append(parts, "#")
			rest = rest[2:]
		case strings.HasPrefix(rest, "."):
			rest = rest[1:]
			end := strings.IndexAny(rest, ".[")
			if end < 0 {
				end = len(rest)
			}
			name := rest[:end]
			if !jsonName.MatchString(name) {
				return "", fmt.Errorf("field %q has characters gjson reads as syntax", name)
			}
			parts = append(parts, name)
			rest = rest[end:]
		case strings.HasPrefix(rest, "["):
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return "", errors.New("unclosed [")
			}
			in := strings.TrimSpace(rest[1:end])
			rest = rest[end+1:]
			switch {
			case in == "*":
				parts = append(parts, "#")
			case isDigits(in):
				parts = append(parts, in)
			case len(in) >= 2 && (in[0] == '\'' && in[len(in)-1] == '\'' || in[0] == '"' && in[len(in)-1] == '"'):
				name := in[1 : len(in)-1]
				if !jsonName.MatchString(name) {
					return "", fmt.Errorf("field %q has characters gjson reads as syntax", name)
				}
				parts = append(parts, name)
			default:
				return "", fmt.Errorf("[%s] (filters, slices, unions, negative indexes) has no gjson counterpart", in)
			}
		default:
			return "", fmt.Errorf("unexpected %q", rest)
		}
	}
	if len(parts) == 0 {
		return "$", nil
	}
	if i := slices.Index(parts, "#"); i >= 0 {
		n := 1
		switch m := strings.TrimSpace(match); m {
		case "-1":
			return strings.Join(parts, "."), nil // all matches: a list
		case "", "1":
		case "0":
			return "", errors.New("match number 0 (random) has no counterpart; give a match number")
		default:
			k, err := strconv.Atoi(m)
			if err != nil || k < 1 {
				return "", fmt.Errorf("match number %s (all matches) has no counterpart", m)
			}
			n = k
		}
		parts[i] = strconv.Itoa(n - 1)
	}
	return strings.Join(parts, "."), nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Regular expressions that read one JSON field or one header: the
// usual shapes of a Regular Expression Extractor over an API response.
const ws = `(?:\\s[*+?]|\s)*`

var (
	bodyField   = regexp.MustCompile(`^"([A-Za-z_][A-Za-z0-9_]*)"` + ws + `:` + ws + `("?)\(([^()]*)\)("?)$`)
	headerField = regexp.MustCompile(`^(?i)([A-Za-z][A-Za-z0-9-]*):` + ws + `\(([^()]*)\)(?:\\r|\\n|\\s\*|\$)*$`)
)

// regexSpec reads a Regular Expression Extractor as a gjson path or a
// header, when its regex has one of the usual shapes.
func regexSpec(x *Element) (string, string) {
	re := strings.TrimSpace(x.Str("RegexExtractor.regex"))
	if t := x.Str("RegexExtractor.template"); t != "" && t != "$1$" {
		return "", "only the template $1$ converts"
	}
	if m := x.Str("RegexExtractor.match_number"); m != "" && m != "1" {
		return "", "only match number 1 converts"
	}
	switch h := x.Str("RegexExtractor.useHeaders"); h {
	case "", "false", "unescaped":
		if m := bodyField.FindStringSubmatch(re); m != nil && m[2] == m[4] {
			return m[1], ""
		}
		// Any other regex on the body reads as it is: Java's regexes
		// and Go's RE2 agree on the usual ones.
		switch rx, err := regexp.Compile(re); {
		case strings.Contains(re, "${"):
			return "", "it holds a JMeter reference"
		case err != nil:
			return "", fmt.Sprintf("Go's RE2 can't read it (%v)", err)
		case rx.NumSubexp() == 0:
			return "", "it has no group to extract"
		}
		return "regex:" + re, ""
	case "true":
		if m := headerField.FindStringSubmatch(re); m != nil {
			return "header:" + m[1], ""
		}
		return "", "not the shape Name: (...)"
	default:
		return "", fmt.Sprintf("it reads %q, not the body or headers", h)
	}
}

// Response Assertion test types (bit flags).
const (
	assertMatch     = 1 << 0
	assertContains  = 1 << 1
	assertNot       = 1 << 2
	assertEquals    = 1 << 3
	assertSubstring = 1 << 4
	assertOr        = 1 << 5
)

// assertion converts a Response Assertion on the response code to the
// statuses it accepts; false (reported) when it checks anything else.
// testStrings returns a Response Assertion's patterns.
func testStrings(a *Element) []string {
	coll := a.Prop("Asserion.test_strings") // sic: JMeter's name
	if coll == nil {
		coll = a.Prop("Assertion.test_strings")
	}
	var pats []string
	if coll != nil {
		for _, p := range coll.Props {
			if p.Value != "" {
				pats = append(pats, p.Value)
			}
		}
	}
	return pats
}

// bodyAssertion converts a Response Assertion on the response text to an
// expect body condition over $text: substring → contains, equals → ==,
// contains (a regex found) → matches, matches (the whole text) →
// matches "^(?:re)$"; Not negates, Or joins with ||.
func (c *converter) bodyAssertion(a *Element) (string, bool) {
	typ, _ := strconv.Atoi(a.Str("Assertion.test_type"))
	pats := testStrings(a)
	if len(pats) == 0 {
		return "", false
	}
	var parts []string
	for _, p := range pats {
		if strings.Contains(p, "${") {
			c.notConverted(a, "pattern %q holds a JMeter reference; expect body compares with constants", oneLine(p))
			return "", false
		}
		var x string
		switch {
		case typ&assertSubstring != 0:
			x = "$text contains " + strconv.Quote(p)
		case typ&assertEquals != 0:
			x = "$text == " + strconv.Quote(p)
		case typ&assertContains != 0:
			x = "$text matches " + strconv.Quote(p)
		default: // matches: the whole text
			x = "$text matches " + strconv.Quote("^(?s:"+p+")$")
		}
		if typ&(assertContains|assertMatch) != 0 {
			if _, err := regexp.Compile(p); err != nil {
				c.notConverted(a, "pattern %q is not a regular expression floodgate reads (%v)", oneLine(p), err)
				return "", false
			}
		}
		if typ&assertNot != 0 {
			x = "not (" + x + ")"
		}
		parts = append(parts, x)
	}
	join := " && "
	if typ&assertOr != 0 {
		join = " || "
	}
	cond := strings.Join(parts, join)
	if _, err := scenario.CompileCondition(cond); err != nil {
		c.notConverted(a, "it converts to %q, which does not compile (%v)", cond, err)
		return "", false
	}
	return cond, true
}

// sizeAssertion converts a Size Assertion on the response body to an
// expect body condition on len($text) (bytes, as JMeter counts them).
func (c *converter) sizeAssertion(a *Element) (string, bool) {
	if f := a.Str("Assertion.test_field"); f != "" && f != "SizeAssertion.response_data" && f != "SizeAssertion.response_network_size" {
		c.notConverted(a, "it measures %s; expect body measures the body", strings.TrimPrefix(f, "SizeAssertion."))
		return "", false
	}
	n := c.number(a.Str("SizeAssertion.size"), -1, a)
	op := map[string]string{"1": "==", "2": "!=", "3": ">", "4": "<", "5": ">=", "6": "<="}[a.Str("SizeAssertion.operator")]
	if n.env || n.value < 0 || op == "" {
		c.notConverted(a, "its size or comparison is not a number and an operator")
		return "", false
	}
	if a.Str("Assertion.test_field") == "SizeAssertion.response_network_size" {
		c.approximated(a, "it counts the body only, not the headers")
	}
	return "len($text) " + op + " " + formatNum(n.value), true
}

// jsonAssertion converts a JSON Assertion to an expect body condition:
// the path exists, or its value equals (or, as a regex, matches) the
// expected one; Invert negates.
func (c *converter) jsonAssertion(a *Element) (string, bool) {
	raw := a.Str("JSON_PATH")
	spec, err := gjsonPath(raw, "")
	if err != nil {
		c.notConverted(a, "JSON path %q: %v", oneLine(raw), err)
		return "", false
	}
	path, ok := exprPath(spec)
	if !ok {
		c.notConverted(a, "JSON path %q can't be used in a condition", oneLine(raw))
		return "", false
	}
	want := a.Str("EXPECTED_VALUE")
	var cond string
	switch {
	case a.Bool("EXPECT_NULL", false):
		cond = path + " == nil"
	case !a.Bool("JSONVALIDATION", false):
		cond = path + " != nil"
	case strings.Contains(want, "${"):
		c.notConverted(a, "its expected value %q holds a JMeter reference; expect body compares with constants", oneLine(want))
		return "", false
	case a.Bool("ISREGEX", true):
		if _, err := regexp.Compile(want); err != nil {
			c.notConverted(a, "expected value %q is not a regular expression floodgate reads (%v)", oneLine(want), err)
			return "", false
		}
		cond = "string(" + path + ") matches " + strconv.Quote("^(?s:"+want+")$")
	default:
		cond = "string(" + path + ") == " + strconv.Quote(want)
	}
	if a.Bool("INVERT", false) {
		cond = "not (" + cond + ")"
	}
	if _, err := scenario.CompileCondition(cond); err != nil {
		c.notConverted(a, "it converts to %q, which does not compile (%v)", cond, err)
		return "", false
	}
	return cond, true
}

func (c *converter) assertion(a *Element) ([]int, bool) {
	field := a.Str("Assertion.test_field")
	if field == "Assertion.response_data" {
		c.bodyAssertion(a) // reports what does not convert
		return nil, false
	}
	if field != "Assertion.response_code" {
		c.notConverted(a, "it checks %s; floodgate request steps check the status (expect: [...]) and the body (expect: {body: ...})", strings.TrimPrefix(strings.TrimPrefix(field, "Assertion."), "response_"))
		return nil, false
	}
	typ, _ := strconv.Atoi(a.Str("Assertion.test_type"))
	var pats []string
	for _, p := range testStrings(a) {
		if s := strings.TrimSpace(p); s != "" {
			pats = append(pats, s)
		}
	}
	if len(pats) == 0 {
		return nil, false
	}
	if len(pats) == 1 && typ&(assertNot|assertEquals|assertSubstring) == 0 {
		if cs, ok := expandCodes(pats[0], false, 100); ok && len(cs) == 100 && cs[0] == 200 && cs[99] == 299 {
			c.approximated(a, "any 2xx: floodgate's default expect (any 2xx or 3xx) is kept")
			return nil, false
		}
	}
	var codes []int
	for i, p := range pats {
		cs, ok := expandCodes(p, typ&(assertEquals|assertSubstring) != 0, 20)
		if !ok {
			c.notConverted(a, "pattern %q does not read as status codes", oneLine(p))
			return nil, false
		}
		switch {
		case i == 0:
			codes = cs
		case typ&assertOr != 0:
			for _, x := range cs {
				if !slices.Contains(codes, x) {
					codes = append(codes, x)
				}
			}
		default:
			codes = intersect(codes, cs)
		}
	}
	slices.Sort(codes)
	assume := a.Bool("Assertion.assume_success", false)
	if typ&assertNot != 0 {
		for _, x := range codes {
			if x >= 200 && x < 400 {
				c.notConverted(a, "\"Not\" on a 2xx/3xx status has no counterpart; list the statuses that succeed")
				return nil, false
			}
		}
		if assume {
			c.notConverted(a, "\"Not\" with \"Ignore Status\" accepts nearly every status; list the statuses that succeed")
			return nil, false
		}
		return nil, false // JMeter fails non-2xx/3xx already: floodgate's default
	}
	if !assume {
		for _, x := range codes {
			if x < 200 || x >= 400 {
				c.approximated(a, "JMeter fails status %d anyway unless \"Ignore Status\" is ticked; floodgate accepts it", x)
				break
			}
		}
	}
	return codes, true
}

// expandCodes reads a pattern as HTTP statuses: "200", "200|202",
// "2\d\d", "20[0-4]"... (at most most statuses). literal patterns
// (Equals, Substring) are read as one code.
func expandCodes(p string, literal bool, most int) ([]int, bool) {
	if literal {
		n, err := strconv.Atoi(p)
		return []int{n}, err == nil && n >= 100 && n <= 599
	}
	p = strings.TrimSuffix(strings.TrimPrefix(p, "^"), "$")
	if strings.HasPrefix(p, "(") && strings.HasSuffix(p, ")") {
		p = p[1 : len(p)-1]
	}
	var out []int
	for _, alt := range strings.Split(p, "|") {
		sets, ok := digitSets(alt)
		if !ok || len(sets) != 3 {
			return nil, false
		}
		for _, a := range sets[0] {
			for _, b := range sets[1] {
				for _, d := range sets[2] {
					n := int(a-'0')*100 + int(b-'0')*10 + int(d-'0')
					if n < 100 || n > 599 {
						continue
					}
					if !slices.Contains(out, n) {
						out = append(out, n)
					}
					if len(out) > most {
						return nil, false
					}
				}
			}
		}
	}
	return out, len(out) > 0
}

// digitSets reads a pattern of digits, \d, ., [0-9] and [abc] as one
// set of digits per position.
func digitSets(p string) ([][]byte, bool) {
	const all = "0123456789"
	var out [][]byte
	for i := 0; i < len(p); i++ {
		switch ch := p[i]; {
		case ch >= '0' && ch <= '9':
			out = append(out, []byte{ch})
		case ch == '.':
			out = append(out, []byte(all))
		case ch == '\\' && i+1 < len(p) && p[i+1] == 'd':
			out = append(out, []byte(all))
			i++
		case ch == '[':
			end := strings.IndexByte(p[i:], ']')
			if end < 0 {
				return nil, false
			}
			var set []byte
			in := p[i+1 : i+end]
			for j := 0; j < len(in); j++ {
				switch {
				case j+2 < len(in) && in[j+1] == '-' && in[j] <= in[j+2]:
					for d := in[j]; d <= in[j+2]; d++ {
						set = append(set, d)
					}
					j += 2
				default:
					set = append(set, in[j])
				}
			}
			for _, d := range set {
				if d < '0' || d > '9' {
					return nil, false
				}
			}
			out = append(out, set)
			i += end
		default:
			return nil, false
		}
	}
	return out, true
}
