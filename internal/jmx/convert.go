package jmx

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/floodgate-dev/floodgate/internal/plan"
)

// ErrNothingToConvert is matched by a *NothingError: the plan has no
// thread group with an HTTP request that converts.
var ErrNothingToConvert = errors.New("jmx: nothing to convert")

// DurationVar is the environment variable that bounds a thread group that
// loops forever: its scenario runs for ${DURATION}.
const DurationVar = "DURATION"

// NothingError is a plan of which nothing converts, with why: every
// element that did not convert, by its place in JMeter's tree.
type NothingError struct {
	Root     string
	Problems []Problem // the not-converted ones, in tree order
}

func (e *NothingError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "nothing to convert: %s has no enabled Thread Group with an HTTP Request that converts", e.Root)
	if len(e.Problems) == 0 {
		b.WriteString(" (it holds no Thread Group with an HTTP Request)")
	}
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// Is reports whether target is ErrNothingToConvert.
func (e *NothingError) Is(target error) bool { return target == ErrNothingToConvert }

// ProblemKind says how an element fared.
type ProblemKind int

// Problem kinds.
const (
	// NotConverted: the element (or part of it) has no floodgate
	// counterpart and was left out; the plan says so in a comment.
	NotConverted ProblemKind = iota
	// Approximated: converted, but not exactly as JMeter runs it.
	Approximated
	// Ignored: left out on purpose (listeners: floodgate writes its own
	// results; disabled elements).
	Ignored
)

func (k ProblemKind) String() string {
	switch k {
	case NotConverted:
		return "not converted"
	case Approximated:
		return "approximated"
	case Ignored:
		return "ignored"
	}
	return "unknown"
}

// Problem is one thing the importer could not convert exactly.
type Problem struct {
	Kind ProblemKind
	// Path names the element by its place in JMeter's tree, e.g.
	// `Test Plan > Bot users > JSR223 PreProcessor "sign"`.
	Path string
	// Msg says what and why, and what to do when there is something.
	Msg string
}

func (p Problem) String() string { return p.Kind.String() + ": " + p.Path + ": " + p.Msg }

// Throughput is a Constant Throughput Timer as the importer read it, for
// checks such as lint's unit trap.
type Throughput struct {
	// Path and ThreadGroup are the timer's and its thread group's paths.
	Path, ThreadGroup string
	// PerMinute is the target as written, in samples per minute; Known
	// is false when it comes from an expression without a default.
	PerMinute float64
	Known     bool
	// Mode is the calcMode (0 this thread only … 4 all active threads in
	// the thread group, shared); ModeText says it in JMeter's words.
	Mode     int
	ModeText string
	// Threads is the thread group's thread count (0: unknown) and
	// Samplers the samples each iteration takes.
	Threads, Samplers int
	// PerSecond is the thread group's resulting total rate, in samples
	// per second (0: unknown).
	PerSecond float64
}

// Result is a converted plan.
type Result struct {
	// YAML is the floodgate plan. It parses with plan.Parse when the
	// data files it names exist.
	YAML []byte
	// Problems lists what was not converted, approximated or ignored, in
	// tree order. Each is also a comment at its place in YAML.
	Problems []Problem
	// Sources[i] is the element path output line i+1 came from ("" for
	// header comments), to map findings on the plan back to JMeter.
	Sources []string
	// Throughput lists the Constant Throughput Timers, in tree order.
	Throughput []Throughput
	// Forever lists the thread groups that loop forever: their
	// scenarios run for ${DURATION}.
	Forever []string
	// Required maps the environment variables the plan reads with no
	// default to an example value, to check that the plan parses
	// before they are known.
	Required map[string]string
}

type options struct {
	file   string
	outDir string
}

// Option configures Convert.
type Option func(*options)

// WithFile names the .jmx file: it names the plan when the Test Plan has
// no name of its own, and relative CSV file names resolve against its
// directory.
func WithFile(path string) Option { return func(o *options) { o.file = path } }

// WithOutputDir says where the plan will be written: CSV file names are
// rewritten relative to it. Default: the .jmx file's directory (names
// are kept as written).
func WithOutputDir(dir string) Option { return func(o *options) { o.outDir = dir } }

// Convert reads a JMeter plan and converts it to a floodgate plan.
// Thread Groups become scenarios, HTTP Requests request steps, and so on
// (see the package documentation). It fails when the input is not a JMeter
// plan (ErrNotJMX) or when nothing converts (*NothingError). The output is a
// function of the input and the options only.
func Convert(r io.Reader, opts ...Option) (*Result, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	root, err := Parse(r)
	if err != nil {
		return nil, err
	}
	c := &converter{opts: o, props: map[string]string{}, udv: map[string]udvValue{}, reported: map[string]bool{}, assumed: map[string]bool{}}
	if o.file != "" {
		if abs, err := filepath.Abs(o.file); err == nil {
			c.includes = []string{abs} // an Include Controller naming the plan itself
		}
	}
	p, err := c.plan(root)
	if err != nil {
		return nil, err
	}
	y, src := p.yaml()
	res := &Result{YAML: y, Problems: c.problems, Sources: src, Throughput: c.throughput, Forever: c.forever}
	if len(c.forever) > 0 {
		res.Required = map[string]string{DurationVar: "1m"}
	}
	return res, nil
}

type udvValue struct {
	raw, text string
}

type converter struct {
	opts       options
	problems   []Problem
	placed     []bool // placed[i]: problems[i] has its comment in the output
	reported   map[string]bool
	props      map[string]string // JMeter property → environment variable
	propOrder  []string
	udv        map[string]udvValue
	sc         *scenarioCtx
	throughput []Throughput
	// totalThreads sums the known thread counts of the thread groups,
	// for throughput timers that pace all active threads.
	totalThreads float64
	target0      string          // the plan's target
	badOrigin    string          // a server that is no URL, replaced by the target
	assumed      map[string]bool // URL variables given a placeholder default, reported once
	root         *Element
	modules      []*Element // the Module Controllers being converted, against cycles
	includes     []string   // the files Include Controllers are reading, against cycles
	forever      []string
}

func (c *converter) add(k ProblemKind, at *Element, format string, args ...any) {
	path := "Test Plan"
	if at != nil {
		path = Path(at)
	}
	p := Problem{Kind: k, Path: path, Msg: fmt.Sprintf(format, args...)}
	key := p.String()
	if c.reported[key] {
		return
	}
	c.reported[key] = true
	c.problems = append(c.problems, p)
	c.placed = append(c.placed, false)
}

func (c *converter) notConverted(at *Element, format string, args ...any) {
	c.add(NotConverted, at, format, args...)
}

func (c *converter) approximated(at *Element, format string, args ...any) {
	c.add(Approximated, at, format, args...)
}

func (c *converter) ignored(at *Element, format string, args ...any) {
	c.add(Ignored, at, format, args...)
}

func (c *converter) renamed(at *Element, from, to string) {
	c.approximated(at, "variable %q is %q in floodgate (names hold letters, digits and _)", from, to)
}

func (c *converter) recordProp(prop, env string) {
	if _, ok := c.props[prop]; !ok {
		c.props[prop] = env
		c.propOrder = append(c.propOrder, prop)
	}
}

// lastLabel is the last part of an element path.
func lastLabel(path string) string {
	if i := strings.LastIndex(path, " > "); i >= 0 {
		return path[i+3:]
	}
	return path
}

var nameChars = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

func (c *converter) plan(root *Element) (*outPlan, error) {
	root, err := c.fragment(root)
	if err != nil {
		return nil, err
	}
	c.root = root
	p := &outPlan{rootSrc: Path(root), retryOff: true, retrySrc: Path(root)}
	p.name = c.planName(root)
	if root.Bool("TestPlan.serialize_threadgroups", false) {
		c.approximated(root, "\"Run Thread Groups consecutively\" is on; floodgate runs scenarios at the same time")
	}
	c.collectUDVs(root)

	// Test Plan level: defaults, headers and other scoped elements apply
	// to every thread group.
	top := &scope{}
	var groups []*Element
	for _, e := range root.Children {
		if !e.Enabled {
			c.ignored(e, "disabled in JMeter")
			continue
		}
		switch kindOf(e) {
		case kThreadGroup:
			groups = append(groups, e)
		case kSetupThreadGroup, kPostThreadGroup:
			c.notConverted(e, "floodgate runs all scenarios at the same time, with no set-up or tear-down phase; make it a scenario of its own or do it before the run")
		case kController, kLoopController, kWhileController, kTransactionController, kSimpleController, kHTTPSampler, kSampler:
			if shortClass(e.TestClass) == "TestFragmentController" {
				c.ignored(e, "a Test Fragment runs only where a Module Controller runs it")
			} else {
				c.notConverted(e, "it is outside any Thread Group, so JMeter does not run it")
			}
		default:
			top.elems = append(top.elems, e)
			c.scopeOnly(e)
		}
	}
	p.target, p.targetSrc, p.timeout = c.target(root, top, groups)
	c.target0 = p.target
	for _, g := range groups {
		if n := c.number(g.Str("ThreadGroup.num_threads"), 1, g); n.known {
			c.totalThreads += n.value
		}
	}
	topComments := c.take(0)

	names := map[string]bool{}
	for _, g := range groups {
		mark := len(c.problems)
		if sc := c.threadGroup(g, top, names); sc != nil {
			sc.comments = append(sc.comments, c.take(mark)...)
			p.scenarios = append(p.scenarios, sc)
		}
	}
	if len(p.scenarios) == 0 {
		ne := &NothingError{Root: p.rootSrc}
		for _, pr := range c.problems {
			if pr.Kind == NotConverted {
				ne.Problems = append(ne.Problems, pr)
			}
		}
		return nil, ne
	}
	p.head = c.header()
	for _, cm := range topComments {
		p.head = append(p.head, cm.text)
	}
	p.tail = c.take(0) // anything not placed yet
	return p, nil
}

// fragment gives a plan saved without its Test Plan (JMeter's "Save
// Selection As": a Thread Group, or samplers and controllers) the Test
// Plan and Thread Group JMeter would run it in: one thread, one loop.
func (c *converter) fragment(root *Element) (*Element, error) {
	var loose []*Element
	kids := root.Children
	if kindOf(root) != kTestPlan {
		kids = []*Element{root}
	}
	var groups int
	var fragments []*Element
	for _, e := range kids {
		switch {
		case kindOf(e) == kThreadGroup:
			groups++
		case shortClass(e.TestClass) == "TestFragmentController":
			if e.Enabled {
				fragments = append(fragments, e)
			}
		case structural(e):
			loose = append(loose, e)
		}
	}
	if groups == 0 && len(loose) == 0 && len(fragments) > 0 {
		// A file of Test Fragments only (modules for an Include
		// Controller): run them as a selection would run.
		loose = fragments
	}
	if kindOf(root) == kTestPlan && (groups > 0 || len(loose) == 0) {
		return root, nil
	}
	if kindOf(root) != kTestPlan && groups == 0 && len(loose) == 0 {
		return nil, fmt.Errorf("%w: the first element is %s, want a Test Plan", ErrNotJMX, label(root))
	}
	plan := root
	if kindOf(root) != kTestPlan {
		plan = &Element{Tag: "TestPlan", TestClass: "TestPlan", Name: "Test Plan", Enabled: true, Children: kids}
		root.Parent = plan
	}
	if len(loose) > 0 {
		tg := &Element{Tag: "ThreadGroup", TestClass: "ThreadGroup", Name: "Thread Group", Enabled: true, Parent: plan,
			Props: []*Prop{{Kind: "stringProp", Name: "ThreadGroup.num_threads", Value: "1"}, {Kind: "stringProp", Name: "ThreadGroup.on_sample_error", Value: "startnextloop"}}}
		var rest []*Element
		for _, e := range plan.Children {
			if slices.Contains(loose, e) {
				e.Parent = tg
				tg.Children = append(tg.Children, e)
			} else {
				rest = append(rest, e)
			}
		}
		plan.Children = append(rest, tg)
		c.approximated(tg, "the file holds %s without a Thread Group; it runs in one thread, once, as JMeter would run the selection", label(loose[0]))
	}
	return plan, nil
}

// take returns comments for the problems recorded from mark on that
// have no place in the output yet, and gives them this one.
func (c *converter) take(mark int) []comment {
	var out []comment
	for i := mark; i < len(c.problems); i++ {
		if c.placed[i] {
			continue
		}
		c.placed[i] = true
		p := c.problems[i]
		out = append(out, comment{text: p.Kind.String() + ": " + lastLabel(p.Path) + ": " + p.Msg, src: p.Path})
	}
	return out
}

func (c *converter) planName(root *Element) string {
	name := strings.TrimSpace(root.Name)
	if name == "" || name == "Test Plan" {
		if c.opts.file != "" {
			base := filepath.Base(c.opts.file)
			name = strings.TrimSuffix(base, filepath.Ext(base))
		}
	}
	name = strings.Trim(nameChars.ReplaceAllString(name, "-"), "-.")
	if name == "" {
		name = "jmeter-plan"
	}
	return name
}

func (c *converter) header() []string {
	src := "a JMeter plan"
	if c.opts.file != "" {
		src = filepath.Base(c.opts.file)
	}
	h := []string{"floodgate plan imported from " + src + " by `floodgate import`."}
	if len(c.propOrder) > 0 {
		h = append(h, "JMeter properties are environment variables here (-Jname=value becomes NAME=value):")
		line := ""
		for _, p := range c.propOrder {
			item := p + " → " + c.props[p]
			if line != "" && len(line)+len(item) > 70 {
				h = append(h, "  "+line)
				line = ""
			}
			if line != "" {
				line += ", "
			}
			line += item
		}
		h = append(h, "  "+line)
	}
	var nc, ap, ig int
	for _, p := range c.problems {
		switch p.Kind {
		case NotConverted:
			nc++
		case Approximated:
			ap++
		case Ignored:
			ig++
		}
	}
	if nc+ap+ig > 0 {
		h = append(h, fmt.Sprintf("%d not converted, %d approximated, %d ignored: each is a comment where the element was.", nc, ap, ig))
	}
	return h
}

// collectUDVs reads every enabled User Defined Variables element (and the
// Test Plan's own), in tree order: JMeter sets them all at the start,
// wherever they are.
func (c *converter) collectUDVs(root *Element) {
	add := func(args *Prop, at *Element) {
		coll := args.Prop("Arguments.arguments")
		if coll == nil {
			return
		}
		for _, a := range coll.Props {
			name := strings.TrimSpace(a.Str("Argument.name"))
			if name == "" {
				continue
			}
			raw := ""
			if v := a.Prop("Argument.value"); v != nil {
				raw = v.Value
			}
			// Converted with no scenario: a value may use properties,
			// functions and earlier variables, not per-thread ones.
			saved := c.sc
			c.sc = nil
			text := c.text(raw, templated, at)
			c.sc = saved
			c.udv[name] = udvValue{raw: raw, text: text}
			if strings.Contains(text, "{{") {
				c.approximated(at, "variable %q = %q is evaluated on every use, not once at the start", name, oneLine(raw))
			}
		}
	}
	if p := root.Prop("TestPlan.user_defined_variables"); p != nil {
		add(p, root)
	}
	var walk func(e *Element)
	walk = func(e *Element) {
		for _, ch := range e.Children {
			if !ch.Enabled {
				continue
			}
			if kindOf(ch) == kArguments {
				add(&Prop{Props: ch.Props}, ch)
			}
			walk(ch)
		}
	}
	walk(root)
}

// httpFields are the URL parts of an HTTP Request or its Defaults.
type httpFields struct {
	protocol, domain, port, path string
	at                           *Element
}

func readHTTP(e *Element) httpFields {
	return httpFields{
		protocol: e.Str("HTTPSampler.protocol"),
		domain:   e.Str("HTTPSampler.domain"),
		port:     e.Str("HTTPSampler.port"),
		path:     e.Str("HTTPSampler.path"),
		at:       e,
	}
}

// merge fills f's empty fields from d (an enclosing Defaults).
func (f httpFields) merge(d httpFields) httpFields {
	if f.protocol == "" {
		f.protocol = d.protocol
	}
	if f.domain == "" {
		f.domain = d.domain
	}
	if f.port == "" {
		f.port = d.port
	}
	if f.path == "" {
		f.path = d.path
	}
	return f
}

// origin converts scheme://host[:port] (env references allowed).
func (c *converter) origin(f httpFields) string {
	proto := c.text(f.protocol, envOnly, f.at)
	if !strings.Contains(proto, "${") {
		proto = strings.ToLower(proto)
	}
	if proto == "" {
		proto = "http"
	}
	proto = c.usable(proto, "http", f.at, func(s string) bool { s = strings.ToLower(s); return s == "http" || s == "https" })
	host := c.usable(c.text(f.domain, envOnly, f.at), "127.0.0.1", f.at, func(s string) bool {
		return s != "" && !strings.ContainsAny(s, " /:?#@")
	})
	o := proto + "://" + host
	port := c.usable(c.text(f.port, envOnly, f.at), "8080", f.at, func(s string) bool {
		_, err := strconv.ParseUint(s, 10, 16)
		return s == "" || err == nil
	})
	if port != "" && !(proto == "http" && port == "80") && !(proto == "https" && port == "443") {
		o += ":" + port
	}
	return o
}

// usable gives a URL part that is one ${VAR} reference a default that
// makes a URL (placeholder) when its own default does not: JMeter plans
// often leave a server's properties without one, or with a word such as
// "port". Other text is returned as it is.
func (c *converter) usable(part, placeholder string, at *Element, valid func(string) bool) string {
	if valid(withDefaults(part)) {
		return part
	}
	m := envRef.FindStringSubmatch(part)
	if m == nil || m[0] != part {
		return part
	}
	name, _, _ := strings.Cut(strings.TrimPrefix(m[0], "${"), ":-")
	name = strings.TrimSuffix(name, "}")
	if !c.assumed[name] {
		c.assumed[name] = true
		c.approximated(at, "${%s} has no usable default for a URL (%q); %s is assumed when it is not set", name, m[1], placeholder)
	}
	return "${" + name + ":-" + placeholder + "}"
}

// withDefaults expands ${VAR:-default} references to their defaults (and
// ${VAR} to ""), as the plan parser would with no environment.
func withDefaults(s string) string {
	return envRef.ReplaceAllStringFunc(s, func(ref string) string {
		if m := envRef.FindStringSubmatch(ref); m != nil {
			return m[1]
		}
		return ""
	})
}

// defaultsOf merges e's own URL fields with the HTTP Request Defaults
// in its scope, the closest first: its own children's, then each
// enclosing level's up to the Test Plan.
func defaultsOf(e *Element) httpFields {
	f := readHTTP(e)
	for a := e; a != nil; a = a.Parent {
		for _, d := range a.Children {
			if d.Enabled && kindOf(d) == kHTTPDefaults {
				f = f.merge(readHTTP(d))
			}
		}
	}
	return f
}

// target picks the plan's target. When every request that names a server
// names the same one, it is the target and all paths are relative, so
// that --target moves the whole plan. Several servers: the Test Plan's
// HTTP Request Defaults, else the server most requests name; requests to
// the others get absolute URLs.
func (c *converter) target(root *Element, top *scope, groups []*Element) (target, src, timeout string) {
	var def *Element
	for _, e := range top.elems {
		if e.Enabled && kindOf(e) == kHTTPDefaults {
			def = e
			if t := e.Str("HTTPSampler.response_timeout"); t != "" {
				if ms, err := strconv.ParseInt(t, 10, 64); err == nil && ms > 0 {
					timeout = plan.FormatDuration(time.Duration(ms) * time.Millisecond)
				}
			}
		}
	}
	counts := map[string]int{}
	var origins []string
	first := map[string]*Element{}
	var walk func(e *Element)
	walk = func(e *Element) {
		for _, ch := range e.Children {
			if !ch.Enabled {
				continue
			}
			if kindOf(ch) == kHTTPSampler {
				f := defaultsOf(ch)
				if f.domain != "" && !absoluteURL(f.path) {
					o := c.origin(f)
					if counts[o] == 0 {
						origins = append(origins, o)
						first[o] = ch
					}
					counts[o]++
				}
			}
			walk(ch)
		}
	}
	for _, g := range groups {
		walk(g)
	}
	var pick string
	switch {
	case len(origins) == 1:
		pick, src = origins[0], Path(first[origins[0]])
	case def != nil && def.Str("HTTPSampler.domain") != "":
		pick, src = c.origin(readHTTP(def)), Path(def)
	case len(origins) > 1:
		pick = origins[0]
		for _, o := range origins[1:] {
			if counts[o] > counts[pick] {
				pick = o
			}
		}
		src = Path(first[pick])
	}
	if pick != "" {
		if validOrigin(pick) {
			return pick, src, timeout
		}
		c.approximated(root, "the server %q is not a URL with its defaults; the target is ${TARGET}, default http://127.0.0.1:8080 (or use floodgate run --target)", pick)
		c.badOrigin = pick
		return "${TARGET:-http://127.0.0.1:8080}", src, timeout
	}
	c.approximated(root, "no HTTP Request Defaults or request names a server; the target is ${TARGET}, default http://127.0.0.1:8080 (or use floodgate run --target)")
	return "${TARGET:-http://127.0.0.1:8080}", Path(root), timeout
}

func absoluteURL(p string) bool {
	p = strings.ToLower(p)
	return strings.HasPrefix(p, "http://") || strings.HasPrefix(p, "https://")
}

var envRef = regexp.MustCompile(`\$\{[A-Za-z_][A-Za-z0-9_]*(?::-([^}]*))?\}`)

// validOrigin reports whether a converted origin is an absolute http(s)
// URL once its ${ENV} references take their defaults, as the plan parser
// will check it.
func validOrigin(o string) bool {
	u, err := url.Parse(withDefaults(o))
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.User == nil
}

// numberField is a converted numeric JMeter field.
type numberField struct {
	text  string  // the YAML scalar: a number, or a quoted ${ENV} text
	value float64 // the literal value, or the default of ${ENV:-default}
	known bool
	env   bool
	// goDuration: text is a duration already (${DURATION}), not seconds.
	goDuration bool
}

var envDefault = regexp.MustCompile(`^\$\{[A-Za-z_][A-Za-z0-9_]*:-([^}]*)\}$`)

// number converts a numeric field (threads, loops, seconds...). def is
// used when the field is empty.
func (c *converter) number(s string, def float64, at *Element) numberField {
	s = strings.TrimSpace(s)
	if s == "" {
		return numberField{text: formatNum(def), value: def, known: true}
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
		return numberField{text: formatNum(f), value: f, known: true}
	}
	t := c.text(s, envOnly, at)
	if m := envDefault.FindStringSubmatch(t); m != nil {
		if f, err := strconv.ParseFloat(strings.TrimSpace(m[1]), 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return numberField{text: t, env: true, value: f, known: true}
		}
	}
	// Only a number, or one property with a numeric default, can be
	// typed as a number by the plan.
	c.notConverted(at, "%q is not a number, nor a property with a numeric default; %s is used", oneLine(s), formatNum(def))
	return numberField{text: formatNum(def), value: def, known: true}
}

func formatNum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// seconds renders a JMeter seconds field as a plan duration.
func (nf numberField) seconds() string {
	if nf.goDuration {
		return quote(nf.text, true)
	}
	if nf.env {
		return quote(nf.text+"s", true)
	}
	return plan.FormatDuration(time.Duration(nf.value * float64(time.Second)))
}

// count renders a whole-number field.
func (nf numberField) count() string {
	if nf.env {
		return quote(nf.text, true)
	}
	return formatNum(math.Round(nf.value))
}

// relPath maps a data file name, relative to the .jmx file's directory,
// to one relative to the output directory.
func (c *converter) relPath(name string) string {
	if c.opts.outDir == "" || c.opts.file == "" || strings.Contains(name, "${") || filepath.IsAbs(name) {
		return name
	}
	abs, err := filepath.Abs(filepath.Join(filepath.Dir(c.opts.file), name))
	if err != nil {
		return name
	}
	out, err := filepath.Abs(c.opts.outDir)
	if err != nil {
		return name
	}
	rel, err := filepath.Rel(out, abs)
	if err != nil {
		return name
	}
	return filepath.ToSlash(rel)
}

// readHeaderLine returns the first line of a data file, if readable.
func (c *converter) readHeaderLine(name string) (string, bool) {
	if strings.Contains(name, "${") {
		return "", false
	}
	path := name
	if !filepath.IsAbs(path) && c.opts.file != "" {
		path = filepath.Join(filepath.Dir(c.opts.file), name)
	}
	f, err := os.Open(path)
	if err != nil {
		return "", false
	}
	defer f.Close()
	buf := make([]byte, 4096)
	n, _ := io.ReadFull(f, buf)
	line, _, _ := bytes.Cut(buf[:n], []byte("\n"))
	return strings.TrimSpace(strings.TrimPrefix(string(line), "\ufeff")), true
}

func splitNames(s, sep string) []string {
	var out []string
	for _, n := range strings.Split(s, sep) {
		if n = strings.TrimSpace(n); n != "" {
			out = append(out, n)
		}
	}
	return out
}
