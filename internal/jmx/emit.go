package jmx

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The converted plan, before it is written as YAML. Values are floodgate
// text already (references converted and escaped); raw values are
// written unquoted (numbers, durations).

type outPlan struct {
	head      []string // comment lines at the top
	name      string
	target    string
	targetSrc string
	timeout   string
	retryOff  bool
	retrySrc  string
	scenarios []*outScenario
	tail      []comment // comments after the scenarios (elements outside any thread group)
	rootSrc   string
}

type comment struct {
	text string
	src  string
}

type kv struct {
	key, value string
	raw        bool // write value as is
	src        string
	note       string // trailing comment
}

type outScenario struct {
	name     string
	src      string
	comments []comment
	executor string // flow mapping, e.g. "closed: {vus: 10, iterations: 5}"
	execSrc  string
	headers  []kv
	data     []kv // file, mode, on_exhaust
	dataSrc  string
	cookies  string // the cookie manager's path, when it has one
	vars     []kv
	steps    []*outStep
}

type outStep struct {
	comments []comment
	src      string
	name     string
	// exactly one of the kinds, or none for a comment-only entry
	request *outRequest
	poll    *outPoll
	think   string // "300ms" or "{min: 1s, max: 2s}"
	group   []*outStep
	isGroup bool
	repeat  *outRepeat
	choose  []*outStep
	extract []kv
	// when, once and weight apply to any kind.
	when   string
	once   bool
	weight string
}

// children returns the steps a group, repeat or choose holds.
func (st *outStep) children() []*outStep {
	switch {
	case st.repeat != nil:
		return st.repeat.steps
	case st.choose != nil:
		return st.choose
	}
	return st.group
}

type outRepeat struct {
	count    string // a number or a quoted ${ENV}; "" with while or each
	while    string
	each, as string
	max      string
	steps    []*outStep
}

type outRequest struct {
	method  string
	path    string
	headers []kv
	body    string
	hasBody bool
	expect  []int
	// expectBody is an expr over the response ($text), from Response
	// Assertions on the text.
	expectBody string
	timeout    string // one attempt's bound, "" for defaults.timeout
}

type outPoll struct {
	outRequest
	every   string
	until   string
	timeout string
}

// writer writes YAML lines and remembers, for each, the element it came
// from.
type writer struct {
	b   strings.Builder
	src []string
}

func (w *writer) line(indent int, src, s string) {
	w.b.WriteString(strings.Repeat(" ", indent))
	w.b.WriteString(s)
	w.b.WriteByte('\n')
	w.src = append(w.src, src)
}

func (w *writer) comment(indent int, src, text string) {
	w.line(indent, src, "# "+oneLineComment(text))
}

// oneLineComment keeps a comment on one line and printable.
func oneLineComment(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		if !unicode.IsPrint(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	s = strings.TrimRight(s, " ")
	if utf8.RuneCountInString(s) > 400 {
		s = string([]rune(s)[:400]) + "…"
	}
	return s
}

func (p *outPlan) yaml() ([]byte, []string) {
	w := &writer{}
	for _, h := range p.head {
		if h == "" {
			w.line(0, "", "#")
			continue
		}
		w.comment(0, "", h)
	}
	w.line(0, p.rootSrc, "name: "+quote(p.name, false))
	w.line(0, p.targetSrc, "target: "+quote(p.target, false))
	if p.timeout != "" {
		w.line(0, p.targetSrc, "defaults:")
		w.line(2, p.targetSrc, "timeout: "+p.timeout)
	}
	if p.retryOff {
		w.comment(0, p.retrySrc, "JMeter sends each request once, so retries are off: the plan sends what the")
		w.comment(0, p.retrySrc, "JMeter plan sent. Remove this line for floodgate's polite retries (Retry-After,")
		w.comment(0, p.retrySrc, "backoff with jitter, a retry budget, one gate per rate-limit key).")
		w.line(0, p.retrySrc, "retry: off")
	}
	w.line(0, p.rootSrc, "scenarios:")
	for _, sc := range p.scenarios {
		sc.write(w)
	}
	for _, c := range p.tail {
		w.comment(0, c.src, c.text)
	}
	return []byte(w.b.String()), w.src
}

func (sc *outScenario) write(w *writer) {
	w.line(2, sc.src, sc.name+":")
	for _, c := range sc.comments {
		w.comment(4, c.src, c.text)
	}
	w.line(4, sc.execSrc, "executor:")
	w.line(6, sc.execSrc, sc.executor)
	if len(sc.headers) > 0 {
		w.line(4, sc.src, "headers:")
		writeKVs(w, 6, sc.headers)
	}
	if len(sc.data) > 0 {
		w.line(4, sc.dataSrc, "data:")
		writeKVs(w, 6, sc.data)
	}
	if len(sc.vars) > 0 {
		w.line(4, sc.src, "vars:")
		writeKVs(w, 6, sc.vars)
	}
	if sc.cookies != "" {
		w.line(4, sc.cookies, "cookies: true")
	}
	w.line(4, sc.src, "steps:")
	writeSteps(w, 6, sc.steps)
}

func writeKVs(w *writer, indent int, kvs []kv) {
	for _, e := range kvs {
		v := e.value
		if !e.raw {
			v = quote(v, false)
		}
		s := quoteKey(e.key) + ": " + v
		if e.note != "" {
			s += "  # " + oneLineComment(e.note)
		}
		w.line(indent, e.src, s)
	}
}

func writeSteps(w *writer, indent int, steps []*outStep) {
	for _, st := range steps {
		for _, c := range st.comments {
			w.comment(indent, c.src, c.text)
		}
		switch {
		case st.request != nil:
			w.line(indent, st.src, "- name: "+quote(st.name, false))
			st.writeControls(w, indent+2)
			w.line(indent+2, st.src, "request:")
			st.request.write(w, indent+4, st.src)
		case st.poll != nil:
			w.line(indent, st.src, "- name: "+quote(st.name, false))
			st.writeControls(w, indent+2)
			w.line(indent+2, st.src, "poll:")
			st.poll.outRequest.write(w, indent+4, st.src)
			w.line(indent+4, st.src, "every: "+st.poll.every)
			w.line(indent+4, st.src, "until: "+quote(st.poll.until, false))
			w.line(indent+4, st.src, "timeout: "+st.poll.timeout)
		case st.think != "":
			w.line(indent, st.src, "- think: "+st.think)
			st.writeControls(w, indent+2)
		case st.isGroup:
			w.line(indent, st.src, "- name: "+quote(st.name, false))
			st.writeControls(w, indent+2)
			w.line(indent+2, st.src, "group:")
			writeSteps(w, indent+4, st.group)
		case st.repeat != nil:
			w.line(indent, st.src, "- name: "+quote(st.name, false))
			st.writeControls(w, indent+2)
			w.line(indent+2, st.src, "repeat:")
			switch {
			case st.repeat.count != "":
				w.line(indent+4, st.src, "count: "+st.repeat.count)
			case st.repeat.each != "":
				w.line(indent+4, st.src, "each: "+st.repeat.each)
				w.line(indent+4, st.src, "as: "+st.repeat.as)
				w.line(indent+4, st.src, "max: "+st.repeat.max)
			default:
				w.line(indent+4, st.src, "while: "+quote(st.repeat.while, false))
				w.line(indent+4, st.src, "max: "+st.repeat.max)
			}
			w.line(indent+4, st.src, "steps:")
			writeSteps(w, indent+6, st.repeat.steps)
		case st.choose != nil:
			w.line(indent, st.src, "- name: "+quote(st.name, false))
			st.writeControls(w, indent+2)
			w.line(indent+2, st.src, "choose:")
			writeSteps(w, indent+4, st.choose)
		}
		if len(st.extract) > 0 {
			w.line(indent+2, st.src, "extract:")
			writeKVs(w, indent+4, st.extract)
		}
	}
}

// writeControls writes the keys any step takes: when, once, weight.
func (st *outStep) writeControls(w *writer, indent int) {
	if st.when != "" {
		w.line(indent, st.src, "when: "+quote(st.when, false))
	}
	if st.once {
		w.line(indent, st.src, "once: true")
	}
	if st.weight != "" {
		w.line(indent, st.src, "weight: "+st.weight)
	}
}

func (r *outRequest) write(w *writer, indent int, src string) {
	w.line(indent, src, "method: "+r.method)
	w.line(indent, src, "path: "+quote(r.path, false))
	if len(r.headers) > 0 {
		w.line(indent, src, "headers:")
		writeKVs(w, indent+2, r.headers)
	}
	if r.hasBody {
		if block, ok := literalBlock(r.body, indent+2); ok {
			w.line(indent, src, "body: "+block[0])
			for _, l := range block[1:] {
				if l == "" {
					w.line(0, src, "")
				} else {
					w.line(0, src, l)
				}
			}
		} else {
			w.line(indent, src, "body: "+quote(r.body, false))
		}
	}
	codes := make([]string, len(r.expect))
	for i, c := range r.expect {
		codes[i] = strconv.Itoa(c)
	}
	switch {
	case r.expectBody != "":
		w.line(indent, src, "expect:")
		if len(codes) > 0 {
			w.line(indent+2, src, "status: ["+strings.Join(codes, ", ")+"]")
		}
		w.line(indent+2, src, "body: "+quote(r.expectBody, false))
	case len(codes) > 0:
		w.line(indent, src, "expect: ["+strings.Join(codes, ", ")+"]")
	}
	if r.timeout != "" {
		w.line(indent, src, "timeout: "+r.timeout)
	}
}

// literalBlock writes a multi-line body as a YAML literal block ("|-" or
// "|"), indented; false when the text can't round-trip that way.
func literalBlock(s string, indent int) ([]string, bool) {
	if !strings.Contains(s, "\n") || strings.Contains(s, "\r") || !utf8.ValidString(s) {
		return nil, false
	}
	body, head := s, "|-"
	if strings.HasSuffix(s, "\n") {
		body, head = strings.TrimSuffix(s, "\n"), "|"
		if strings.HasSuffix(body, "\n") || body == "" {
			return nil, false // more than one final newline: keep exact with quotes
		}
	}
	lines := strings.Split(body, "\n")
	if lines[0] == "" || lines[0][0] == ' ' || lines[0][0] == '\t' {
		return nil, false // would need an indentation indicator
	}
	out := []string{head}
	pad := strings.Repeat(" ", indent)
	for _, l := range lines {
		for _, r := range l {
			if r != '\t' && !unicode.IsPrint(r) {
				return nil, false
			}
		}
		if strings.TrimRight(l, " \t") != l && strings.TrimSpace(l) == "" {
			return nil, false // white-space-only lines are ambiguous
		}
		if l == "" {
			out = append(out, "")
			continue
		}
		out = append(out, pad+l)
	}
	return out, true
}

// quoteKey writes a mapping key: plain when safe, else double-quoted.
func quoteKey(k string) string {
	if plainSafe(k) {
		return k
	}
	return doubleQuote(k)
}

// quote writes s as a YAML string scalar: plain when that reads back as
// the same string, else single- or double-quoted.
func quote(s string, flow bool) string {
	if plainSafe(s) && !(flow && strings.ContainsAny(s, ",[]{}")) {
		return s
	}
	printable := utf8.ValidString(s)
	for _, r := range s {
		if !unicode.IsPrint(r) {
			printable = false
			break
		}
	}
	if printable && strings.Contains(s, `"`) && !strings.Contains(s, "'") {
		return "'" + s + "'"
	}
	return doubleQuote(s)
}

func doubleQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if !unicode.IsPrint(r) {
				if r <= 0xFFFF {
					b.WriteString(`\u` + leftPad(strconv.FormatInt(int64(r), 16), 4))
				} else {
					b.WriteString(`\U` + leftPad(strconv.FormatInt(int64(r), 16), 8))
				}
				continue
			}
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func leftPad(s string, n int) string {
	for len(s) < n {
		s = "0" + s
	}
	return s
}

// plainSafe reports whether s can be written as a plain scalar and read
// back as the same string: a conservative character set, and nothing
// YAML would read as another type.
func plainSafe(s string) bool {
	if s == "" || len(s) > 200 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("_./-+=&?%~@()$", c) >= 0:
			if i == 0 && strings.IndexByte("-?&%@", c) >= 0 {
				return false
			}
		default:
			return false
		}
	}
	switch strings.ToLower(s) {
	case "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~", ".nan", ".inf", "-.inf", "+.inf":
		return false
	}
	// Numbers (and things YAML 1.1 might read as numbers or times).
	if _, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64); err == nil {
		return false
	}
	if _, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 0, 64); err == nil {
		return false
	}
	return !strings.Contains(s, "${") && !strings.Contains(s, "{{")
}
