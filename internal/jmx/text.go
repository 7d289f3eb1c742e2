package jmx

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/expr-lang/expr"

	"github.com/floodgate-dev/floodgate/internal/plan"
)

// JMeter text holds references: variables ${name} and function calls
// ${__name(arg1,arg2)} (commas in arguments escaped as \,). They become:
//
//	${__P(name,default)}          → ${NAME:-default}   (environment; default "1" when omitted, as JMeter)
//	${__property(name,,default)}  → ${NAME:-default}   (default: the property name)
//	${__env(NAME,,default)}       → ${NAME:-default}
//	${__UUID}                     → {{uuid}}
//	${__Random(1,100)}            → {{randInt 1 100}}
//	${__RandomString(8,abc)}      → {{randString 8}}   (letters and digits)
//	${__threadNum}                → {{vu}}
//	${__time()}                   → {{unix}}000        (milliseconds, to the second)
//	${__time(/1000)}              → {{unix}}
//	${__time(yyyy-MM-dd'T'HH:mm:ss.SSSX)} → {{now}}    (ISO-8601 formats, in UTC)
//	${__counter(TRUE,)}           → {{iteration 1 1}}
//	${__javaScript(new Date().toISOString())}            → {{now}}
//	${__javaScript(new Date(Date.now()-3600000).toISOString())} → {{now -1h}}
//	${__javaScript(Date.now()+60000)}                     → {{unix 1m}}000
//	${__javaScript(Math.floor(Math.random()*10)+1)}       → {{randInt 1 10}}
//	${__javaScript(60*60*1000)}                           → 3600000 (arithmetic on numbers)
//	  (__groovy and __jexl3 alike)
//	${__jm__<group>__idx}         → {{iteration}}
//	${var}                        → {{.var}}           (a User Defined Variable's value is put in place)
//
// Any other function is left out (empty) and reported, never sent as
// "${__fn(...)}".

// textMode says what the converted text may hold.
type textMode int

const (
	// envOnly: ${ENV} references only (target, numbers, durations, file
	// names): floodgate does not template these.
	envOnly textMode = iota
	// templated: {{...}} templates as well (paths, headers, bodies).
	templated
)

const maxRefDepth = 16

// envName turns a JMeter property name into an environment variable
// name: upper case, anything but letters, digits and _ as _.
func envName(prop string) string {
	var b strings.Builder
	for _, r := range strings.TrimSpace(prop) {
		switch {
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			b.WriteRune(unicode.ToUpper(r))
		default:
			b.WriteByte('_')
		}
	}
	s := b.String()
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		s = "P_" + s
	}
	return s
}

// varName turns a JMeter variable name into a floodgate one (letters,
// digits and _, not starting with a digit).
func varName(v string) string {
	var b strings.Builder
	for _, r := range v {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	s := b.String()
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		s = "v_" + s
	}
	return s
}

// scanRef returns the index just past the reference starting at s[i]
// ("${"), or false when it is not terminated.
func scanRef(s string, i, depth int) (int, bool) {
	if depth > maxRefDepth {
		return 0, false
	}
	j := i + 2
	if strings.HasPrefix(s[j:], "__") {
		k := j + 2
		for k < len(s) && (isWord(s[k])) {
			k++
		}
		if k < len(s) && s[k] == '}' {
			return k + 1, true
		}
		if k >= len(s) || s[k] != '(' {
			// ${__jm__Group name__idx} and other odd names: a variable.
			end := strings.IndexByte(s[j:], '}')
			if end < 0 {
				return 0, false
			}
			return j + end + 1, true
		}
		level := 0
		for ; k < len(s); k++ {
			switch {
			case s[k] == '\\':
				k++
			case strings.HasPrefix(s[k:], "${"):
				e, ok := scanRef(s, k, depth+1)
				if !ok {
					return 0, false
				}
				k = e - 1
			case s[k] == '(':
				level++
			case s[k] == ')':
				level--
				if level == 0 {
					if k+1 < len(s) && s[k+1] == '}' {
						return k + 2, true
					}
					return 0, false
				}
			}
		}
		return 0, false
	}
	end := strings.IndexByte(s[j:], '}')
	if end < 0 {
		return 0, false
	}
	return j + end + 1, true
}

func isWord(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// splitArgs splits a function's argument text at unescaped commas
// outside nested references, and unescapes \, and \\.
func splitArgs(s string) []string {
	var args []string
	var cur strings.Builder
	for k := 0; k < len(s); k++ {
		switch {
		case s[k] == '\\' && k+1 < len(s) && (s[k+1] == ',' || s[k+1] == '\\'):
			cur.WriteByte(s[k+1])
			k++
		case strings.HasPrefix(s[k:], "${"):
			e, ok := scanRef(s, k, 0)
			if !ok {
				cur.WriteString(s[k:])
				k = len(s)
				continue
			}
			cur.WriteString(s[k:e])
			k = e - 1
		case s[k] == ',':
			args = append(args, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(s[k])
		}
	}
	return append(args, cur.String())
}

// escapeLiteral makes literal JMeter text safe in a floodgate value:
// "${" would start an environment reference and (templated) "{{" a
// template action.
func escapeLiteral(s string, mode textMode) string {
	s = strings.ReplaceAll(s, "${", "$${")
	if mode == templated {
		s = strings.ReplaceAll(s, "{{", `{{"{{"}}`)
	}
	return s
}

// text converts JMeter text s, found in element at, for a floodgate value
// of the given mode.
func (c *converter) text(s string, mode textMode, at *Element) string {
	return c.textDepth(s, mode, at, 0)
}

func (c *converter) textDepth(s string, mode textMode, at *Element, depth int) string {
	if !strings.Contains(s, "${") {
		return escapeLiteral(s, mode)
	}
	var b strings.Builder
	lit := 0
	for i := 0; i < len(s); {
		if !strings.HasPrefix(s[i:], "${") {
			i++
			continue
		}
		end, ok := scanRef(s, i, 0)
		if !ok {
			break
		}
		b.WriteString(escapeLiteral(s[lit:i], mode))
		b.WriteString(c.ref(s[i:end], mode, at, depth))
		i, lit = end, end
	}
	b.WriteString(escapeLiteral(s[lit:], mode))
	return b.String()
}

var randomArg = regexp.MustCompile(`^-?\d{1,15}$`)

// ref converts one reference, "${...}" included.
func (c *converter) ref(r string, mode textMode, at *Element, depth int) string {
	inner := r[2 : len(r)-1]
	// A function that does not convert is left out, never sent as
	// "${__fn(...)}", which no server expects.
	literal := func(why string) string {
		c.notConverted(at, "%s is left out (empty here): %s; put its value in place", oneLine(r), why)
		return ""
	}
	if depth > maxRefDepth {
		return literal("references nest too deep")
	}
	if !strings.HasPrefix(inner, "__") || strings.HasPrefix(inner, "__jm__") || !strings.Contains(inner, "(") && !isFuncName(inner) {
		return c.variable(inner, r, mode, at)
	}
	name, argText, _ := strings.Cut(inner, "(")
	argText = strings.TrimSuffix(argText, ")")
	var args []string
	if strings.Contains(inner, "(") {
		args = splitArgs(argText)
	}
	arg := func(i int) (string, bool) {
		if i < len(args) {
			return args[i], true
		}
		return "", false
	}
	switch name {
	case "__P", "__property", "__env":
		prop, _ := arg(0)
		prop = strings.TrimSpace(prop)
		if prop == "" || strings.Contains(prop, "${") {
			return literal("the property name must be plain text")
		}
		if name != "__env" && mode == templated && c.sc != nil && c.sc.setup[varName(prop)] {
			// JMeter hands a setUp group's value to the others as a
			// property; here the setUp is each scenario's once step.
			c.approximated(at, "%s is the variable %s that the setUp Thread Group extracts (JMeter hands it over as a property)", oneLine(r), varName(prop))
			return c.variable(prop, r, mode, at)
		}
		env := prop
		if name == "__env" {
			if !validEnv(prop) {
				return literal("not a usable environment variable name")
			}
		} else {
			env = envName(prop)
			c.recordProp(prop, env)
		}
		def, hasDef := arg(1)
		if name != "__P" {
			def, hasDef = arg(2)
		}
		if !hasDef {
			switch name {
			case "__P":
				def, hasDef = "1", true // JMeter's default
			case "__property":
				def, hasDef = prop, true
			}
		}
		if !hasDef {
			def = "" // __env: unset is empty, as in JMeter
		}
		d, ok := c.plainDefault(def, at)
		if !ok {
			return literal("its default must be plain text (no } and no references)")
		}
		return "${" + env + ":-" + d + "}"
	case "__UUID":
		if mode != templated {
			return literal("templates can't be used here")
		}
		return "{{uuid}}"
	case "__threadNum":
		if mode != templated {
			return literal("templates can't be used here")
		}
		return "{{vu}}"
	case "__Random":
		lo, _ := arg(0)
		hi, _ := arg(1)
		lo, hi = strings.TrimSpace(lo), strings.TrimSpace(hi)
		if mode != templated || !randomArg.MatchString(lo) || !randomArg.MatchString(hi) {
			return literal("only __Random(min,max) with whole numbers converts, in templated values")
		}
		if v, _ := arg(2); strings.TrimSpace(v) != "" {
			c.approximated(at, "%s: the value is not also stored in variable %q", oneLine(r), strings.TrimSpace(v))
		}
		return "{{randInt " + lo + " " + hi + "}}"
	case "__RandomString":
		n, _ := arg(0)
		n = strings.TrimSpace(n)
		if k, err := strconv.Atoi(n); mode != templated || err != nil || k < 1 || k > 4096 {
			return literal("only __RandomString(length) with a length from 1 to 4096 converts, in templated values")
		}
		if chars, _ := arg(1); chars != "" {
			c.approximated(at, "%s: floodgate draws letters and digits, not %q", oneLine(r), chars)
		}
		return "{{randString " + n + "}}"
	case "__time":
		f, _ := arg(0)
		if mode != templated {
			return literal("templates can't be used here")
		}
		if v, _ := arg(1); strings.TrimSpace(v) != "" {
			c.approximated(at, "%s: the value is not also stored in variable %q", oneLine(r), strings.TrimSpace(v))
		}
		switch f = strings.TrimSpace(f); {
		case f == "":
			c.approximated(at, "%s: {{unix}}000 is the time in milliseconds, to the second", oneLine(r))
			return "{{unix}}000"
		case f == "/1000":
			return "{{unix}}"
		case isoFormats[f]:
			c.approximated(at, "%s: {{now}} is the time in UTC, ISO-8601 with milliseconds (2026-11-22T10:00:00.000Z)", oneLine(r))
			return "{{now}}"
		}
		return literal("only __time() (milliseconds), __time(/1000) (seconds) and ISO-8601 formats convert, to {{unix}} and {{now}}")
	case "__counter":
		if mode != templated {
			return literal("templates can't be used here")
		}
		if per, _ := arg(0); !strings.EqualFold(strings.TrimSpace(per), "true") {
			c.approximated(at, "%s: counts per VU ({{iteration 1 1}}), not across all threads", oneLine(r))
		}
		return "{{iteration 1 1}}"
	case "__javaScript", "__groovy", "__jexl3", "__jexl2":
		src, _ := arg(0)
		if mode != templated {
			return literal("templates can't be used here")
		}
		out, how, ok := scriptValue(strings.TrimSpace(strings.ReplaceAll(src, `\,`, ",")))
		if !ok {
			return literal("only simple dates (new Date().toISOString(), Date.now() ± ms), Math.random ranges and arithmetic on numbers convert")
		}
		if how != "" {
			c.approximated(at, "%s: %s", oneLine(r), how)
		}
		return out
	}
	return literal("JMeter function " + name + " has no floodgate counterpart")
}

func isFuncName(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isWord(s[i]) {
			return false
		}
	}
	return true
}

func validEnv(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isWord(s[i]) {
			return false
		}
	}
	return true
}

// plainDefault converts a property default: plain text, in which
// references to User Defined Variables with plain values are put in place.
func (c *converter) plainDefault(def string, at *Element) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(def); {
		if !strings.HasPrefix(def[i:], "${") {
			b.WriteByte(def[i])
			i++
			continue
		}
		end, ok := scanRef(def, i, 0)
		if !ok {
			return "", false
		}
		v, ok := c.udv[def[i+2:end-1]]
		if !ok || strings.Contains(v.text, "${") || strings.Contains(v.text, "{{") {
			return "", false
		}
		b.WriteString(v.text)
		i = end
	}
	out := b.String()
	return out, !strings.Contains(out, "}") && !strings.Contains(out, "${")
}

// variable converts ${name}.
func (c *converter) variable(name, r string, mode textMode, at *Element) string {
	if v, ok := c.udv[name]; ok {
		if mode == envOnly && strings.Contains(v.text, "{{") {
			c.notConverted(at, "%s is sent literally: its value %q is a template, which can't be used here", oneLine(r), v.raw)
			return escapeLiteral(r, mode)
		}
		return v.text
	}
	if strings.HasPrefix(name, "__jm__") && strings.HasSuffix(name, "__idx") && mode == templated {
		return "{{iteration}}"
	}
	if mode != templated || c.sc == nil {
		c.notConverted(at, "%s is sent literally: variables can't be used here (only JMeter properties, as ${ENV})", oneLine(r))
		return escapeLiteral(r, mode)
	}
	fv := varName(name)
	if fv != name {
		c.renamed(at, name, fv)
	}
	c.sc.use(fv, at)
	return "{{." + fv + "}}"
}

// isoFormats are the __time formats that are ISO-8601 with milliseconds,
// as {{now}} writes it (in UTC).
var isoFormats = map[string]bool{
	"yyyy-MM-dd'T'HH:mm:ss.SSS'Z'": true,
	"yyyy-MM-dd'T'HH:mm:ss.SSSX":   true,
	"yyyy-MM-dd'T'HH:mm:ss.SSSXX":  true,
	"yyyy-MM-dd'T'HH:mm:ss.SSSXXX": true,
	"yyyy-MM-dd'T'HH:mm:ss.SSSZ":   true,
}

var (
	// jsNow is the current time in milliseconds: Date.now(),
	// new Date().getTime(), (new Date()).getTime(), +new Date().
	jsNow = `(?:Date\.now\(\)|\(?new Date\(\)\)?\.getTime\(\)|\+new Date\(\))`
	// jsOffset is a constant offset in milliseconds, perhaps a product.
	jsOffset = `\s*([+-])\s*([\d\s*]+)`

	jsISO       = regexp.MustCompile(`^new Date\(\s*\)\.toISOString\(\)$`)
	jsISOOffset = regexp.MustCompile(`^new Date\(\s*` + jsNow + jsOffset + `\s*\)\.toISOString\(\)$`)
	jsMillis    = regexp.MustCompile(`^` + jsNow + `(?:` + jsOffset + `)?$`)
	jsRandom    = regexp.MustCompile(`^Math\.floor\(\s*Math\.random\(\)\s*\*\s*(\d+)\s*\)(?:\s*\+\s*(\d+))?$`)
	jsArith     = regexp.MustCompile(`^[\d\s.+\-*/%()]+$`)
)

// scriptValue converts the value of a small script expression (the
// argument of __javaScript or __groovy) to a template: out, and how it
// differs from JMeter's value when it does.
func scriptValue(src string) (out, how string, ok bool) {
	offset := func(sign, factors string) (time.Duration, bool) {
		ms := int64(1)
		for _, f := range strings.Split(factors, "*") {
			n, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64)
			if err != nil || n > 1<<40 {
				return 0, false
			}
			ms *= n
			if ms > 1<<45 {
				return 0, false
			}
		}
		d := time.Duration(ms) * time.Millisecond
		if sign == "-" {
			d = -d
		}
		return d, true
	}
	switch {
	case jsISO.MatchString(src):
		return "{{now}}", "", true
	case jsISOOffset.MatchString(src):
		m := jsISOOffset.FindStringSubmatch(src)
		d, ok := offset(m[1], m[2])
		if !ok {
			return "", "", false
		}
		return "{{now " + plan.FormatDuration(d) + "}}", "", true
	case jsMillis.MatchString(src):
		m := jsMillis.FindStringSubmatch(src)
		if m[1] == "" {
			return "{{unix}}000", "{{unix}}000 is the time in milliseconds, to the second", true
		}
		d, ok := offset(m[1], m[2])
		if !ok {
			return "", "", false
		}
		return "{{unix " + plan.FormatDuration(d) + "}}000", "{{unix}}000 is the time in milliseconds, to the second", true
	case jsRandom.MatchString(src):
		m := jsRandom.FindStringSubmatch(src)
		n, err1 := strconv.ParseInt(m[1], 10, 64)
		lo := int64(0)
		var err2 error
		if m[2] != "" {
			lo, err2 = strconv.ParseInt(m[2], 10, 64)
		}
		if err1 != nil || err2 != nil || n < 1 || n > 1<<40 || lo > 1<<40 {
			return "", "", false
		}
		return fmt.Sprintf("{{randInt %d %d}}", lo, lo+n-1), "", true
	case jsArith.MatchString(src) && strings.ContainsAny(src, "0123456789"):
		v, err := expr.Eval(src, nil)
		if err != nil {
			return "", "", false
		}
		var f float64
		switch x := v.(type) {
		case int:
			return strconv.Itoa(x), "", true
		case float64:
			f = x
		default:
			return "", "", false
		}
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return "", "", false
		}
		return strconv.FormatFloat(f, 'f', -1, 64), "", true
	}
	return "", "", false
}
