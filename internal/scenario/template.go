package scenario

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Mode says how a template writes what its actions yield.
type Mode uint8

const (
	// Text writes values as they are: paths, header values, raw bodies,
	// topics, vars.
	Text Mode = iota
	// JSONString writes the inside of a JSON string: literal text and
	// values are escaped, the caller adds the quotes.
	JSONString
	// JSONValue writes one whole JSON value. A template that is exactly
	// one action keeps its value's type (a string is quoted, a number,
	// boolean, null, object or array is written bare); any other
	// template becomes one JSON string, quotes included.
	JSONValue
	// URLQuery writes a query parameter's name or value: literal text and
	// values are percent-encoded (application/x-www-form-urlencoded), so
	// a value holding & or = stays one value.
	URLQuery
)

// Template is a compiled template (see the package doc for the syntax).
// It is read-only once parsed and safe for concurrent use; each render
// gets its own Env.
type Template struct {
	src  string
	segs []segment
}

type segment struct {
	lit  string  // literal output, already escaped for its mode
	act  *action // nil for a literal
	mode Mode    // how act's value is written
}

type fnKind uint8

const (
	fnVar fnKind = iota
	fnString
	fnUUID
	fnNow
	fnUnix
	fnRandInt
	fnRandString
	fnVU
	fnIteration
)

type action struct {
	kind   fnKind
	slot   int           // fnVar
	name   string        // the variable's or function's name
	str    string        // fnString
	offset time.Duration // fnNow, fnUnix
	lo, hi int64         // fnRandInt; hi is the length for fnRandString
}

// Functions lists the template functions, for messages and docs.
var Functions = []string{"uuid", "now", "unix", "randInt", "randString", "vu", "iteration"}

// Env is what a render reads: the iteration's variables, the VU and
// iteration numbers, a random source and a clock. Rand and Now may be
// nil (a fresh random source; time.Now).
type Env struct {
	Vars      *Vars
	VU        int // 1-based
	Iteration int // 0-based, counted per VU
	Rand      *rand.Rand
	Now       func() time.Time
}

// TemplateError is a template that does not parse, or names a variable
// not defined where it is used. Offset is the byte offset in the source
// where the problem is.
type TemplateError struct {
	Offset int
	Msg    string
}

func (e *TemplateError) Error() string { return e.Msg }

// UnsetError is a render that read a variable not set in this iteration.
type UnsetError struct{ Name string }

func (e *UnsetError) Error() string {
	return fmt.Sprintf("variable .%s is not set in this iteration", e.Name)
}

// Resolver returns the slot of a variable a template names, or an error
// saying why it can't be used there. A nil Resolver knows no variables.
type Resolver func(name string) (slot int, err error)

// HasActions reports whether s holds "{{", that is whether it must be
// parsed as a template rather than used as it is.
func HasActions(s string) bool { return strings.Contains(s, "{{") }

// Parse compiles src for mode. Every variable it names must resolve.
func Parse(src string, mode Mode, resolve Resolver) (*Template, error) {
	t := &Template{src: src}
	var acts []*action
	var lits []string // lits[i] precedes acts[i]; one more at the end
	rest, base := src, 0
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			lits = append(lits, rest)
			break
		}
		lits = append(lits, rest[:i])
		end, err := closing(rest, i+2)
		if err != nil {
			return nil, &TemplateError{base + i, err.Error()}
		}
		a, perr := parseAction(rest[i+2:end], resolve)
		if perr != nil {
			perr.Offset += base + i
			return nil, perr
		}
		acts = append(acts, a)
		rest, base = rest[end+2:], base+end+2
	}
	single := len(acts) == 1 && lits[0] == "" && lits[1] == ""
	actMode := mode
	if mode == JSONValue && !single {
		actMode = JSONString
		t.segs = append(t.segs, segment{lit: `"`})
	}
	for i, l := range lits {
		if l != "" {
			switch actMode {
			case JSONString:
				l = string(appendJSONEscaped(nil, l))
			case URLQuery:
				l = url.QueryEscape(l)
			}
			t.segs = append(t.segs, segment{lit: l})
		}
		if i < len(acts) {
			t.segs = append(t.segs, segment{act: acts[i], mode: actMode})
		}
	}
	if mode == JSONValue && !single {
		t.segs = append(t.segs, segment{lit: `"`})
	}
	return t, nil
}

// MustParse is Parse for templates known to be valid; it panics otherwise.
func MustParse(src string, mode Mode, resolve Resolver) *Template {
	t, err := Parse(src, mode, resolve)
	if err != nil {
		panic(err)
	}
	return t
}

// closing returns the index of the "}}" that ends the action opened just
// before i, skipping quoted strings.
func closing(s string, i int) (int, error) {
	for i < len(s) {
		switch c := s[i]; {
		case c == '"' || c == '`':
			j := i + 1
			for ; j < len(s) && s[j] != c; j++ {
				if c == '"' && s[j] == '\\' {
					j++
				}
			}
			if j >= len(s) {
				return 0, fmt.Errorf(`unterminated string in {{...}}; close it with %c`, c)
			}
			i = j + 1
		case strings.HasPrefix(s[i:], "}}"):
			return i, nil
		default:
			i++
		}
	}
	return 0, fmt.Errorf(`unclosed {{; close it with }}, or write {{"{{"}} for a literal {{`)
}

// Literal returns a template that writes s as it is.
func Literal(s string) *Template { return &Template{src: s, segs: []segment{{lit: s}}} }

// Concat joins templates into one, in order: a JSON body is literal JSON
// text with templates for the values that hold actions.
func Concat(parts ...*Template) *Template {
	t := &Template{}
	var src strings.Builder
	for _, p := range parts {
		src.WriteString(p.src)
		for _, s := range p.segs {
			if n := len(t.segs); s.act == nil && n > 0 && t.segs[n-1].act == nil {
				t.segs[n-1].lit += s.lit
				continue
			}
			t.segs = append(t.segs, s)
		}
	}
	t.src = src.String()
	return t
}

// Source returns the template as written.
func (t *Template) Source() string { return t.src }

// String is Source.
func (t *Template) String() string { return t.src }

// Append renders t onto dst. It allocates nothing beyond dst's growth.
func (t *Template) Append(dst []byte, env *Env) ([]byte, error) {
	for i := range t.segs {
		s := &t.segs[i]
		if s.act == nil {
			dst = append(dst, s.lit...)
			continue
		}
		var err error
		if s.mode == URLQuery {
			start := len(dst)
			if dst, err = s.act.append(dst, Text, env); err != nil {
				return dst, err
			}
			dst = appendQueryEscaped(dst, start)
			continue
		}
		if dst, err = s.act.append(dst, s.mode, env); err != nil {
			return dst, err
		}
	}
	return dst, nil
}

// appendQueryEscaped percent-encodes dst[start:] in place, as
// url.QueryEscape does, allocating only when something needs escaping.
func appendQueryEscaped(dst []byte, start int) []byte {
	raw := dst[start:]
	clean := true
	for _, c := range raw {
		if !queryUnreserved(c) {
			clean = false
			break
		}
	}
	if clean {
		return dst
	}
	esc := url.QueryEscape(string(raw))
	return append(dst[:start], esc...)
}

func queryUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~'
}

// Render returns t rendered as a string.
func (t *Template) Render(env *Env) (string, error) {
	b, err := t.Append(nil, env)
	return string(b), err
}

// Value renders t as a variable's value: a template that is exactly one
// action keeps that action's type (see Value); anything else is text.
func (t *Template) Value(env *Env) (Value, error) {
	if len(t.segs) == 1 && t.segs[0].act != nil {
		a := t.segs[0].act
		switch a.kind {
		case fnVar:
			v := env.Vars.Get(a.slot)
			if !v.IsSet() {
				return Value{}, &UnsetError{a.name}
			}
			return v, nil
		case fnUnix, fnRandInt, fnVU, fnIteration:
			b, err := a.append(nil, Text, env)
			return NumberValue(string(b)), err
		}
	}
	b, err := t.Append(nil, env)
	return StringValue(string(b)), err
}

const isoMillis = "2006-01-02T15:04:05.000Z"

const randChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func (a *action) append(dst []byte, mode Mode, env *Env) ([]byte, error) {
	switch a.kind {
	case fnVar:
		v := env.Vars.Get(a.slot)
		switch {
		case !v.IsSet():
			return dst, &UnsetError{a.name}
		case mode == JSONValue:
			return v.appendJSON(dst), nil
		case mode == JSONString:
			return appendJSONEscaped(dst, v.s), nil
		}
		return v.appendText(dst), nil
	case fnString:
		switch mode {
		case JSONValue:
			return AppendJSONString(dst, a.str), nil
		case JSONString:
			return appendJSONEscaped(dst, a.str), nil
		}
		return append(dst, a.str...), nil
	case fnUnix:
		return strconv.AppendInt(dst, env.now().Add(a.offset).Unix(), 10), nil
	case fnRandInt:
		return strconv.AppendInt(dst, a.lo+env.rand().Int64N(a.hi-a.lo+1), 10), nil
	case fnVU:
		return strconv.AppendInt(dst, int64(env.VU), 10), nil
	case fnIteration:
		return strconv.AppendInt(dst, a.lo+a.hi*int64(env.Iteration), 10), nil
	}
	// The rest yield text that needs no escaping: quote it for JSONValue.
	if mode == JSONValue {
		dst = append(dst, '"')
	}
	switch a.kind {
	case fnUUID:
		dst = appendUUID(dst, env.rand())
	case fnNow:
		dst = env.now().Add(a.offset).UTC().AppendFormat(dst, isoMillis)
	case fnRandString:
		r := env.rand()
		for range a.hi {
			dst = append(dst, randChars[r.IntN(len(randChars))])
		}
	}
	if mode == JSONValue {
		dst = append(dst, '"')
	}
	return dst, nil
}

func (e *Env) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e *Env) rand() *rand.Rand {
	if e.Rand == nil {
		e.Rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	return e.Rand
}

// appendUUID appends a random (version 4) UUID.
func appendUUID(dst []byte, r *rand.Rand) []byte {
	const hex = "0123456789abcdef"
	var u [16]byte
	a, b := r.Uint64(), r.Uint64()
	for i := range 8 {
		u[i], u[8+i] = byte(a>>(8*i)), byte(b>>(8*i))
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, hex[c>>4], hex[c&0xf])
	}
	return dst
}

// parseAction compiles the text between {{ and }}. Offsets in errors are
// relative to the {{.
func parseAction(body string, resolve Resolver) (*action, *TemplateError) {
	words, offs, err := splitWords(body)
	if err != nil {
		return nil, &TemplateError{0, err.Error()}
	}
	at := func(i int) int { return 2 + offs[i] }
	if len(words) == 0 {
		return nil, &TemplateError{0, "empty {{}}; write a variable such as {{.id}} or a function such as {{uuid}}"}
	}
	w := words[0]
	switch {
	case w[0] == '.':
		name := w[1:]
		if len(words) > 1 {
			return nil, &TemplateError{at(1), fmt.Sprintf("{{%s}} takes nothing after the variable; remove %q", w, words[1])}
		}
		if strings.Contains(name, ".") {
			return nil, &TemplateError{at(0), fmt.Sprintf("%s: variables have no fields; extract the field you need into its own variable", w)}
		}
		if !validName(name) {
			return nil, &TemplateError{at(0), fmt.Sprintf("bad variable name %q; names are letters, digits and _, e.g. {{.job_id}}", w)}
		}
		if resolve == nil {
			return nil, &TemplateError{at(0), fmt.Sprintf("undefined variable .%s; no variables are defined here", name)}
		}
		slot, err := resolve(name)
		if err != nil {
			return nil, &TemplateError{at(0), err.Error()}
		}
		return &action{kind: fnVar, slot: slot, name: name}, nil
	case w[0] == '"' || w[0] == '`':
		if len(words) > 1 {
			return nil, &TemplateError{at(1), fmt.Sprintf("a string in {{...}} stands alone; remove %q", words[1])}
		}
		s, err := strconv.Unquote(w)
		if err != nil {
			return nil, &TemplateError{at(0), fmt.Sprintf("bad string %s in {{...}}; use Go string syntax, e.g. \"-1h\"", w)}
		}
		return &action{kind: fnString, str: s}, nil
	}
	a := &action{name: w}
	args := words[1:]
	nargs := func(lo, hi int, usage string) *TemplateError {
		if len(args) < lo || len(args) > hi {
			return &TemplateError{at(0), fmt.Sprintf("%s takes %s; write {{%s}}", w, plural(lo, hi), usage)}
		}
		return nil
	}
	switch w {
	case "uuid", "vu":
		if err := nargs(0, 0, w); err != nil {
			return nil, err
		}
		a.kind = map[string]fnKind{"uuid": fnUUID, "vu": fnVU}[w]
	case "iteration":
		// {{iteration start step}} counts from start by step (a JMeter
		// Counter): start + step × iteration.
		if len(args) != 0 && len(args) != 2 {
			return nil, &TemplateError{at(0), "iteration takes no arguments, or a start and a step; write {{iteration}} or {{iteration 1 1}}"}
		}
		a.kind, a.hi = fnIteration, 1
		if len(args) == 2 {
			var errAt int
			a.lo, errAt = parseInt(args[0], 1)
			if errAt == 0 {
				a.hi, errAt = parseInt(args[1], 2)
			}
			if errAt > 0 {
				return nil, &TemplateError{at(errAt), fmt.Sprintf("iteration: %s is not a whole number; write {{iteration 1 1}}", args[errAt-1])}
			}
		}
	case "now", "unix":
		if err := nargs(0, 1, w+` "-1h"`); err != nil {
			return nil, err
		}
		a.kind = fnNow
		if w == "unix" {
			a.kind = fnUnix
		}
		if len(args) == 1 {
			s := args[0]
			if u, err := strconv.Unquote(s); err == nil {
				s = u
			}
			d, err := time.ParseDuration(strings.TrimPrefix(s, "+"))
			if err != nil {
				return nil, &TemplateError{at(1), fmt.Sprintf("%s: bad offset %s; give a duration such as -1h, 30m or -24h", w, args[0])}
			}
			a.offset = d
		}
	case "randInt":
		if err := nargs(2, 2, "randInt 1 100"); err != nil {
			return nil, err
		}
		var errAt int
		a.lo, errAt = parseInt(args[0], 1)
		if errAt == 0 {
			a.hi, errAt = parseInt(args[1], 2)
		}
		if errAt > 0 {
			return nil, &TemplateError{at(errAt), fmt.Sprintf("randInt: %s is not a whole number; write {{randInt 1 100}}", args[errAt-1])}
		}
		if a.lo > a.hi || a.hi-a.lo < 0 || a.hi-a.lo == 1<<63-1 {
			return nil, &TemplateError{at(1), fmt.Sprintf("randInt: min %d is above max %d; swap them", a.lo, a.hi)}
		}
		a.kind = fnRandInt
	case "randString":
		if err := nargs(1, 1, "randString 12"); err != nil {
			return nil, err
		}
		n, errAt := parseInt(args[0], 1)
		if errAt > 0 || n < 1 || n > 4096 {
			return nil, &TemplateError{at(1), fmt.Sprintf("randString: length %s is not a whole number from 1 to 4096; write {{randString 12}}", args[0])}
		}
		a.kind, a.hi = fnRandString, n
	default:
		hint := ""
		if validName(w) && resolve != nil {
			if _, err := resolve(w); err == nil {
				hint = fmt.Sprintf(" did you mean the variable {{.%s}}?", w)
			}
		}
		return nil, &TemplateError{at(0), fmt.Sprintf("unknown function %q;%s functions are %s, and variables start with a dot: {{.name}}",
			w, hint, strings.Join(Functions, ", "))}
	}
	return a, nil
}

func parseInt(s string, idx int) (int64, int) {
	i, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, idx
	}
	return i, 0
}

func plural(lo, hi int) string {
	switch {
	case lo == hi && lo == 0:
		return "no arguments"
	case lo == hi && lo == 1:
		return "one argument"
	case lo == hi:
		return fmt.Sprintf("%d arguments", lo)
	}
	return fmt.Sprintf("%d to %d arguments", lo, hi)
}

// splitWords splits an action's body at spaces, keeping quoted strings
// whole, and returns each word's byte offset in body.
func splitWords(s string) ([]string, []int, error) {
	var words []string
	var offs []int
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
			i += w
			continue
		}
		start := i
		if c := s[i]; c == '"' || c == '`' {
			j := i + 1
			for ; j < len(s) && s[j] != c; j++ {
				if c == '"' && s[j] == '\\' {
					j++
				}
			}
			if j >= len(s) {
				return nil, nil, fmt.Errorf("unterminated string in {{...}}; close it with its quote")
			}
			i = j + 1
		} else {
			for i < len(s) && s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r' {
				i++
			}
		}
		words = append(words, s[start:i])
		offs = append(offs, start)
	}
	return words, offs, nil
}

// ValidToken reports whether s is an HTTP token (RFC 9110 §5.6.2), as
// header names and methods must be.
func ValidToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !tokenChars[s[i]] {
			return false
		}
	}
	return true
}

var tokenChars = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", byte(c)) >= 0
	}
	return t
}()

// ValidName reports whether s can name a variable: a letter or _, then
// letters, digits and _.
func ValidName(s string) bool { return validName(s) }

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
