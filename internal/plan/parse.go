package plan

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Defaults Parse fills in.
const (
	DefaultTimeout = 16 * time.Second // Defaults.Timeout, as the official SDKs
	// DefaultResponseHeaderBytes is Defaults.ResponseHeaderBytes.
	DefaultResponseHeaderBytes = 8192
	DefaultGrace               = 30 * time.Second // Plan.Grace
	DefaultMaxVUs              = 1000             // Open.MaxVUs
	DefaultGranularity         = time.Millisecond // Open.Granularity
	DefaultMethod              = "GET"            // Request.Method
	// DefaultMinRetries is Budget.MinRetries when the plan doesn't say.
	DefaultMinRetries = 10
)

// maxGranularity bounds Open.Granularity: an arrival sent later than
// this is no longer on the schedule the plan asks for.
const maxGranularity = 10 * time.Millisecond

// maxInt bounds whole numbers so arithmetic on them (Size*4) can't overflow.
const maxInt = 1 << 40

// maxErrors caps the problems Parse reports; past it, one more says so.
const maxErrors = 30

// Load reads the plan file at path and parses it with Parse. Variables are
// looked up with getenv[0] when given, else os.LookupEnv. A failure to read
// the file is returned as is (wrapped), not as an *Error.
func Load(path string, getenv ...func(string) (string, bool)) (*Plan, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	lookup := os.LookupEnv
	if len(getenv) > 0 && getenv[0] != nil {
		lookup = getenv[0]
	}
	return Parse(path, data, lookup)
}

// Parse decodes and validates a YAML plan. file names the plan in errors,
// gives the default Name and anchors relative *_file paths; it is not read.
// getenv looks up ${VAR} references; nil means an empty environment.
//
// Parse returns either a plan that satisfies every invariant documented
// on the types, with defaults filled in, or a nil plan and an error that
// joins one *Error per problem, in file order.
func Parse(file string, data []byte, getenv func(string) (string, bool)) (*Plan, error) {
	d := &decoder{file: file, src: data, getenv: getenv}
	if file != "" {
		d.dir = filepath.Dir(file)
	}
	root := d.parseYAML()
	var p *Plan
	if root != nil {
		p = d.plan(root)
	}
	if err := d.err(); err != nil {
		return nil, err
	}
	return p, nil
}

// decoder walks the YAML node tree, collecting problems as it goes.
type decoder struct {
	file      string
	dir       string // for relative *_file paths
	src       []byte
	lineStart []int // byte offset of each line, built on first use
	getenv    func(string) (string, bool)
	errs      []*Error
	basePath  string // the last request's path before its query, for default names
	jsonNodes int    // nodes visited while encoding json bodies (alias bombs)
	jsonTmpls []jsonTmpl
	stepNodes int   // steps visited, aliases expanded (alias bombs)
	flow      *flow // the scenario being decoded: its variables so far
}

func (d *decoder) err() error {
	if len(d.errs) == 0 {
		return nil
	}
	slices.SortStableFunc(d.errs, func(a, b *Error) int {
		return cmp.Or(cmp.Compare(a.Pos.Line, b.Pos.Line), cmp.Compare(a.Pos.Col, b.Pos.Col))
	})
	errs := make([]error, 0, min(len(d.errs), maxErrors+1))
	for i, e := range d.errs {
		if i == maxErrors {
			errs = append(errs, &Error{File: d.file, Pos: e.Pos,
				Msg: fmt.Sprintf("%d more problems not shown; fix the ones above first", len(d.errs)-maxErrors)})
			break
		}
		errs = append(errs, e)
	}
	return errors.Join(errs...)
}

func (d *decoder) errorAt(p Pos, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Pos: p, Msg: fmt.Sprintf(format, args...)})
}

func (d *decoder) errorf(n *yaml.Node, format string, args ...any) {
	d.errorAt(pos(n), format, args...)
}

func pos(n *yaml.Node) Pos {
	if n == nil {
		return Pos{}
	}
	return Pos{n.Line, n.Column}
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseYAML returns the document's root node, or nil after recording why
// there is none.
func (d *decoder) parseYAML() (root *yaml.Node) {
	defer func() {
		// The YAML library reports its own failures as errors; anything
		// else it panics with is a bug there, which must not crash us.
		if r := recover(); r != nil {
			d.errorAt(Pos{}, "the YAML parser failed (%v); check the file's syntax", r)
			root = nil
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(d.src))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			d.errorAt(Pos{1, 1}, "the plan is empty; give at least target and scenarios")
		} else {
			d.syntaxError(err)
		}
		return nil
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		d.syntaxError(err)
		return nil
	default:
		d.errorf(&next, "a second YAML document; a plan file holds one, remove the --- separator and what follows")
		return nil
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		d.errorAt(Pos{1, 1}, "the plan is empty; give at least target and scenarios")
		return nil
	}
	root = resolve(doc.Content[0])
	if root.Kind == yaml.ScalarNode && root.ShortTag() == nullTag {
		d.errorf(root, "the plan is empty; give at least target and scenarios")
		return nil
	}
	return root
}

// parserProblems are the YAML parser's (not scanner's) messages. It
// reports their line 0-based, one less than the scanner's.
var parserProblems = []string{"did not find expected", "found undefined tag handle", "found duplicate %", "found incompatible YAML"}

func (d *decoder) syntaxError(err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	p := Pos{}
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		p.Line, _ = strconv.Atoi(m[1])
		msg = m[2]
		for _, pp := range parserProblems {
			if strings.HasPrefix(msg, pp) {
				p.Line++
			}
		}
	}
	fix := "check the indentation and quoting here"
	if hp, hint, ok := syntaxHint(d.src, p.Line, msg); ok {
		d.errorAt(hp, "invalid YAML: %s; %s", msg, hint)
		return
	}
	// "${" can't appear unquoted inside {...} or [...]: braces are flow
	// indicators. It is the likeliest cause of a flow error, so say so.
	if strings.HasPrefix(msg, "did not find expected ',' or") && p.Line > 0 {
		lines := strings.Split(string(d.src), "\n")
		for i := p.Line - 1; i < len(lines) && i < p.Line+20; i++ {
			if j := strings.Index(lines[i], "${"); j >= 0 {
				p = Pos{i + 1, utf8.RuneCountInString(lines[i][:j]) + 1}
				fix = `inside {...} or [...] a ${VAR} must be quoted, e.g. "${VAR}"`
				break
			}
			if j := strings.Index(lines[i], "{{"); j >= 0 {
				p = Pos{i + 1, utf8.RuneCountInString(lines[i][:j]) + 1}
				fix = `inside {...} or [...] a {{...}} template must be quoted, e.g. "/jobs/{{.job_id}}"`
				break
			}
		}
	}
	d.errorAt(p, "invalid YAML: %s; %s", msg, fix)
}

// resolve follows aliases to the anchored node. Anchors may contain
// themselves, so walkers that recurse must bound their depth.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 10; i++ {
		n = n.Alias
	}
	return n
}

const (
	nullTag  = "!!null"
	boolTag  = "!!bool"
	intTag   = "!!int"
	floatTag = "!!float"
	strTag   = "!!str"
)

// describe names what n is, for "got ..." in messages. It quotes a
// scalar's text as written, never after expansion, so secrets taken from
// the environment can't appear.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.ShortTag() == nullTag {
			return "nothing"
		}
		v := n.Value
		if utf8.RuneCountInString(v) > 40 {
			v = string([]rune(v)[:40]) + "…"
		}
		return strconv.Quote(v)
	}
	return "an alias"
}

// fields is a checked YAML mapping: keys are unique, known strings.
type fields struct {
	what string
	at   *yaml.Node // where a missing key is reported
	keys map[string]*yaml.Node
	vals map[string]*yaml.Node
}

func (f *fields) has(k string) bool       { return f.vals[k] != nil }
func (f *fields) val(k string) *yaml.Node { return f.vals[k] }
func (f *fields) key(k string) *yaml.Node { return f.keys[k] }

// unknownFunc reports a key that isn't allowed.
type unknownFunc func(d *decoder, key *yaml.Node)

// mapping checks that n is a mapping whose keys are unique and in allowed
// (any key when allowed is nil) and returns it. what names the mapping in
// messages; at is where missing keys will be reported. It reports and
// returns false when n isn't a mapping.
func (d *decoder) mapping(n, at *yaml.Node, what string, allowed []string) (*fields, bool) {
	return d.mappingWith(n, at, what, allowed, func(d *decoder, k *yaml.Node) {
		hint := didYouMean(k.Value, allowed)
		if hint == "" {
			hint = " remove it"
		}
		if k.Value == "<<" {
			hint = " merge keys are not supported, write the keys out"
		}
		d.errorf(k, "unknown key %q in %s;%s (allowed: %s)", k.Value, what, hint, strings.Join(allowed, ", "))
	})
}

func (d *decoder) mappingWith(n, at *yaml.Node, what string, allowed []string, unknown unknownFunc) (*fields, bool) {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		if n.Kind == yaml.ScalarNode && n.ShortTag() == nullTag {
			d.errorf(n, "%s has no value; give a mapping of keys or remove it", what)
		} else {
			d.errorf(n, "%s must be a mapping of keys, got %s; write key: value pairs", what, describe(n))
		}
		return nil, false
	}
	f := &fields{what: what, at: at, keys: map[string]*yaml.Node{}, vals: map[string]*yaml.Node{}}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, "a key in %s is %s; keys are plain names", what, describe(k))
			continue
		}
		if first := f.keys[k.Value]; first != nil {
			d.errorf(k, "duplicate key %q in %s (first at line %d); remove one", k.Value, what, first.Line)
			continue
		}
		if allowed != nil && !slices.Contains(allowed, k.Value) {
			unknown(d, k)
			f.keys[k.Value] = k // later duplicates are still duplicates
			continue
		}
		f.keys[k.Value] = k
		f.vals[k.Value] = v
	}
	return f, true
}

// pairs returns the key/value pairs of mapping n in order, checking
// duplicates as mapping does. Use it for mappings with free keys.
func (d *decoder) pairs(n, at *yaml.Node, what string) ([][2]*yaml.Node, bool) {
	f, ok := d.mapping(n, at, what, nil)
	if !ok {
		return nil, false
	}
	n = resolve(n)
	var out [][2]*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := resolve(n.Content[i])
		if k.Kind == yaml.ScalarNode && f.keys[k.Value] == k {
			out = append(out, [2]*yaml.Node{k, n.Content[i+1]})
		}
	}
	return out, true
}

// sequence checks that n is a list and returns its items.
func (d *decoder) sequence(n *yaml.Node, what, example string) ([]*yaml.Node, bool) {
	n = resolve(n)
	if n.Kind != yaml.SequenceNode {
		if n.Kind == yaml.ScalarNode && n.ShortTag() == nullTag {
			d.errorf(n, "%s has no value; give a list such as %s", what, example)
		} else {
			d.errorf(n, "%s must be a list, got %s; write it like %s", what, describe(n), example)
		}
		return nil, false
	}
	return n.Content, true
}

// scalar is a scalar value after ${VAR} expansion.
type scalar struct {
	n   *yaml.Node
	s   string // expanded text
	tag string // YAML type after expansion
	ref bool   // the text held a ${VAR} reference
}

// scalar expands n and resolves its type. A value with references takes
// the type of its expanded text, quoted or not ("${VUS}" can be a
// number); without references, quotes make a string as usual.
func (d *decoder) scalar(n *yaml.Node, what, want string) (scalar, bool) {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, "%s must be %s, got %s; give a single value", what, want, describe(n))
		return scalar{}, false
	}
	s, refs, ok := d.expand(n)
	if !ok {
		return scalar{}, false
	}
	v := scalar{n: n, s: s, tag: n.ShortTag(), ref: refs > 0}
	if v.ref && n.Style&yaml.TaggedStyle == 0 {
		v.tag = (&yaml.Node{Kind: yaml.ScalarNode, Value: s}).ShortTag()
	}
	return v, true
}

// expand expands the references in scalar n, reporting problems at their
// positions.
func (d *decoder) expand(n *yaml.Node) (string, int, bool) {
	s, refs, errs := expand(n.Value, d.getenv)
	for _, e := range errs {
		d.errorAt(d.refPos(n, e), "%s", e.msg)
	}
	return s, refs, len(errs) == 0
}

// refPos finds a reference's position in the source. For a one-line plain
// scalar it is the node's column plus the offset; otherwise (quotes,
// escapes, block scalars) the reference text is searched for in the source
// from the node on.
func (d *decoder) refPos(n *yaml.Node, e expandError) Pos {
	before := n.Value[:e.off]
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0 && !strings.Contains(n.Value, "\n") {
		return Pos{n.Line, n.Column + utf8.RuneCountInString(before)}
	}
	if d.lineStart == nil {
		d.lineStart = []int{0}
		for i, c := range d.src {
			if c == '\n' {
				d.lineStart = append(d.lineStart, i+1)
			}
		}
	}
	if n.Line < 1 || n.Line > len(d.lineStart) {
		return pos(n)
	}
	start := d.lineStart[n.Line-1]
	for c := 1; c < n.Column && start < len(d.src); c++ {
		_, w := utf8.DecodeRune(d.src[start:])
		start += w
	}
	i := start
	for k := strings.Count(before, e.frag); ; k-- {
		j := bytes.Index(d.src[i:], []byte(e.frag))
		if j < 0 {
			return pos(n)
		}
		i += j
		if k == 0 {
			break
		}
		i += len(e.frag)
	}
	line, _ := slices.BinarySearch(d.lineStart, i+1)
	ls := d.lineStart[line-1]
	return Pos{line, utf8.RuneCount(d.src[ls:i]) + 1}
}

// str returns any non-null scalar as text.
func (d *decoder) str(n *yaml.Node, what string) (string, bool) {
	v, ok := d.scalar(n, what, "a string")
	if !ok {
		return "", false
	}
	if v.tag == nullTag && !v.ref {
		d.errorf(n, "%s has no value; give a string or remove the key", what)
		return "", false
	}
	return v.s, true
}

// nonEmpty is str that also rejects "".
func (d *decoder) nonEmpty(n *yaml.Node, what string) (string, bool) {
	s, ok := d.str(n, what)
	if ok && s == "" {
		d.errorf(n, "%s is empty; give a value", what)
		return "", false
	}
	return s, ok
}

func (d *decoder) integer(n *yaml.Node, what string, lo int) (int, bool) {
	v, ok := d.scalar(n, what, "a whole number")
	if !ok {
		return 0, false
	}
	var i int64
	switch {
	case v.tag == nullTag:
		d.errorf(n, "%s has no value; give a whole number", what)
		return 0, false
	case v.tag == strTag && !v.ref && n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 &&
		(&yaml.Node{Kind: yaml.ScalarNode, Value: v.s}).ShortTag() == intTag:
		d.errorf(n, "%s must be a whole number, got the string %s; remove the quotes", what, describe(n))
		return 0, false
	case v.tag != intTag:
		d.errorf(n, "%s must be a whole number, got %s; write one such as %d", what, describe(n), max(lo, 10))
		return 0, false
	case decodeAs(v, &i) != nil || i > maxInt || i < -maxInt:
		d.errorf(n, "%s is out of range, got %s; give a smaller number", what, describe(n))
		return 0, false
	case int(i) < lo:
		d.errorf(n, "%s must be at least %d, got %d; raise it", what, lo, i)
		return 0, false
	}
	return int(i), true
}

func (d *decoder) number(n *yaml.Node, what string) (float64, bool) {
	v, ok := d.scalar(n, what, "a number")
	if !ok {
		return 0, false
	}
	var f float64
	if (v.tag != intTag && v.tag != floatTag) || decodeAs(v, &f) != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		d.errorf(n, "%s must be a number, got %s; write one such as 2 or 1.5", what, describe(n))
		return 0, false
	}
	return f, true
}

func (d *decoder) boolean(n *yaml.Node, what string) (*bool, bool) {
	v, ok := d.scalar(n, what, "true or false")
	if !ok {
		return nil, false
	}
	var b bool
	if v.tag != boolTag || decodeAs(v, &b) != nil {
		d.errorf(n, "%s must be true or false, got %s; write true or false", what, describe(n))
		return nil, false
	}
	return &b, true
}

// decodeAs decodes the expanded scalar v with YAML's own rules.
func decodeAs(v scalar, out any) error {
	return (&yaml.Node{Kind: yaml.ScalarNode, Tag: v.tag, Value: v.s}).Decode(out)
}

// duration parses a Go duration ("10s", "1m30s"). Only 0 may be written
// without a unit. Negative durations are rejected; positive requires > 0.
func (d *decoder) duration(n *yaml.Node, what string, positive bool) (time.Duration, bool) {
	v, ok := d.scalar(n, what, "a duration such as 10s")
	if !ok {
		return 0, false
	}
	var dur time.Duration
	switch v.tag {
	case nullTag:
		d.errorf(n, "%s has no value; give a duration such as 10s or 1m30s", what)
		return 0, false
	case intTag, floatTag:
		if f, err := strconv.ParseFloat(v.s, 64); err != nil || f != 0 {
			d.errorf(n, "%s %s has no unit; write a duration such as %ss or %sms", what, describe(n), v.s, v.s)
			return 0, false
		}
	default:
		var err error
		dur, err = time.ParseDuration(strings.TrimSpace(v.s))
		if err != nil {
			hint := "write a Go duration such as 10s, 1m30s or 250ms"
			if strings.HasSuffix(strings.TrimSpace(v.s), "d") {
				hint = "days are not a unit; write hours, e.g. 24h"
			}
			d.errorf(n, "%s: bad duration %s; %s", what, describe(n), hint)
			return 0, false
		}
	}
	switch {
	case dur < 0:
		d.errorf(n, "%s must not be negative, got %s; drop the minus sign", what, describe(n))
		return 0, false
	case dur == 0 && positive:
		d.errorf(n, "%s must be longer than 0s; give a duration such as 10s", what)
		return 0, false
	}
	return dur, true
}

// rate parses "N/s", "N/m", "N/h" or "N/<duration>" ("10/100ms").
func (d *decoder) rate(n *yaml.Node, what string, positive bool) (Rate, bool) {
	v, ok := d.scalar(n, what, "a rate such as 100/s")
	if !ok {
		return Rate{}, false
	}
	const hint = "write a count per time unit such as 100/s, 6000/m or 10/100ms"
	if v.tag == intTag || v.tag == floatTag {
		d.errorf(n, "%s %s has no time unit; write %s/s (per second) or %s/m (per minute)", what, describe(n), v.s, v.s)
		return Rate{}, false
	}
	if v.tag == nullTag {
		d.errorf(n, "%s has no value; %s", what, hint)
		return Rate{}, false
	}
	num, unit, found := strings.Cut(v.s, "/")
	num, unit = strings.TrimSpace(num), strings.TrimSpace(unit)
	count, err := strconv.ParseFloat(num, 64)
	if !found || err != nil || math.IsInf(count, 0) || math.IsNaN(count) || strings.ContainsAny(num, "xXpP_") {
		d.errorf(n, "%s: bad rate %s; %s", what, describe(n), hint)
		return Rate{}, false
	}
	var per time.Duration
	switch unit {
	case "s":
		per = time.Second
	case "m":
		per = time.Minute
	case "h":
		per = time.Hour
	default:
		per, err = time.ParseDuration(unit)
		if err != nil || per <= 0 {
			d.errorf(n, "%s: bad time unit %q in rate %s; %s", what, unit, describe(n), hint)
			return Rate{}, false
		}
	}
	switch {
	case count < 0:
		d.errorf(n, "%s must not be negative, got %s; drop the minus sign", what, describe(n))
		return Rate{}, false
	case count == 0 && positive:
		d.errorf(n, "%s must be more than 0, got %s; %s", what, describe(n), hint)
		return Rate{}, false
	}
	return Rate{Count: count, Per: per}, true
}

// ratio parses "20%" or a fraction 0.2, between 0 and 1.
func (d *decoder) ratio(n *yaml.Node, what string) (float64, bool) {
	v, ok := d.scalar(n, what, "a percentage such as 20%")
	if !ok {
		return 0, false
	}
	var r float64
	switch v.tag {
	case nullTag:
		d.errorf(n, "%s has no value; write a percentage such as 20%% or a fraction such as 0.2", what)
		return 0, false
	case intTag, floatTag:
		if decodeAs(v, &r) != nil || math.IsNaN(r) || r < 0 || r > 1 {
			d.errorf(n, "%s %s is not a fraction between 0 and 1; write a percentage such as 20%% or a fraction such as 0.2", what, describe(n))
			return 0, false
		}
	default:
		num, ok := strings.CutSuffix(strings.TrimSpace(v.s), "%")
		var err error
		r, err = strconv.ParseFloat(strings.TrimSpace(num), 64)
		if !ok || err != nil || math.IsNaN(r) || r < 0 || r > 100 || strings.ContainsAny(num, "xXpP_") {
			d.errorf(n, "%s: bad percentage %s; write a percentage between 0%% and 100%% such as 20%%, or a fraction such as 0.2", what, describe(n))
			return 0, false
		}
		r /= 100
	}
	return r, true
}
