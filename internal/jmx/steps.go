package jmx

import (
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

	"github.com/floodgate-dev/floodgate/internal/scenario"
)

// maxUnroll bounds how many times a Loop Controller is unrolled.
const maxUnroll = 10

// walk converts one level's children, in order. Elements that apply to
// the level's samplers (timers, headers...) convert where they apply;
// those that do not convert leave a comment at their place.
func (c *converter) walk(children []*Element, sc *scope, taken map[string]bool) []*outStep {
	var out []*outStep
	for _, e := range children {
		mark := len(c.problems)
		var steps []*outStep
		switch {
		case !e.Enabled:
			c.ignored(e, "disabled in JMeter")
		case structural(e):
			steps = c.structural(e, sc, taken)
		default:
			c.scopeOnly(e)
		}
		if cms := c.take(mark); len(cms) > 0 {
			if len(steps) > 0 {
				steps[0].comments = append(cms, steps[0].comments...)
			} else {
				steps = []*outStep{{comments: cms}}
			}
		}
		out = append(out, steps...)
	}
	return out
}

// stepName makes a step name from a testname: unique among its
// siblings, and with "${" kept literal.
func stepName(name, fallback string, taken map[string]bool) string {
	name = oneLine(name)
	if name == "" {
		name = fallback
	}
	return unique(escapeLiteral(name, envOnly), taken, " #")
}

func (c *converter) structural(e *Element, sc *scope, taken map[string]bool) []*outStep {
	switch kindOf(e) {
	case kHTTPSampler:
		return c.sampler(e, sc, taken)
	case kTransactionController:
		inner := newScope(sc, e, e.Children)
		steps := c.walk(e.Children, inner, map[string]bool{})
		if !sends(steps) {
			return steps
		}
		return []*outStep{{isGroup: true, name: stepName(e.Name, "group", taken), group: steps, src: Path(e)}}
	case kSimpleController:
		return c.walk(e.Children, newScope(sc, e, e.Children), taken)
	case kLoopController:
		return c.loop(e, sc, taken)
	case kWhileController:
		mark := len(c.problems)
		if steps := c.while(e, sc, taken); steps != nil {
			return steps
		}
		end := len(c.problems)
		if steps := c.whileRepeat(e, sc, taken); steps != nil {
			c.forget(mark, end) // not a poll, but it converts as a repeat
			return steps
		}
		return nil
	case kController:
		switch shortClass(e.TestClass) {
		case "OnceOnlyController":
			return c.onceOnly(e, sc, taken)
		case "IfController":
			return c.ifController(e, sc, taken)
		case "RandomController":
			return c.random(e, sc, taken)
		case "ModuleController":
			return c.module(e, sc, taken)
		case "IncludeController":
			return c.include(e, sc, taken)
		case "TestFragmentController":
			// Reached in a file of fragments only (see fragment).
			return c.walk(e.Children, newScope(sc, e, e.Children), taken)
		case "ForeachController":
			return c.forEach(e, sc, taken)
		case "InterleaveControl":
			c.approximated(e, "JMeter runs its children in turn, one per iteration; here one is picked at random each time (the same share in the long run)")
			return c.random(e, sc, taken)
		case "SwitchController":
			return c.switchController(e, sc, taken)
		case "ThroughputController":
			return c.throughputController(e, sc, taken)
		}
		c.notConverted(e, "%s", controllerWhy(e))
	case kSampler:
		if shortClass(e.TestClass) == "DebugSampler" {
			c.ignored(e, "a debugging aid; floodgate's results hold what it shows")
			return nil
		}
		c.notConverted(e, "floodgate sends HTTP requests only")
	case kScript:
		c.notConverted(e, "scripts don't convert; do what it does with request steps, vars, extract or templates")
	default:
		c.notConverted(e, "%s", controllerWhy(e))
	}
	return nil
}

// controllerWhy explains why a controller does not convert, naming what
// it holds.
func controllerWhy(e *Element) string {
	why := "floodgate has no counterpart"
	switch shortClass(e.TestClass) {
	case "RandomOrderController":
		why = "floodgate runs steps in order (choose picks one at random); give each branch its own scenario"
	}
	return why + leftOut(e)
}

// leftOut names the samplers and controllers left out with e.
func leftOut(e *Element) string {
	var kids []string
	n := 0
	var walk func(es []*Element)
	walk = func(es []*Element) {
		for _, ch := range es {
			if ch.Enabled && structural(ch) {
				n++
				if len(kids) < 4 {
					kids = append(kids, label(ch))
				}
				walk(ch.Children)
			}
		}
	}
	walk(e.Children)
	if n == 0 {
		return ""
	}
	s := "; left out with it: " + strings.Join(kids, ", ")
	if n > len(kids) {
		s += fmt.Sprintf(" and %d more", n-len(kids))
	}
	return s
}

// scopeOnly reports a non-structural element that does not convert, or
// converts only in part. Those that convert where they apply (timers,
// headers, defaults, data, variables, extractors, status assertions)
// report nothing here.
func (c *converter) scopeOnly(e *Element) {
	switch kindOf(e) {
	case kHTTPDefaults:
		if e.Bool("HTTPSampler.image_parser", false) {
			c.notConverted(e, "\"Retrieve All Embedded Resources\": floodgate sends only the requests the plan lists")
		}
		if args := arguments(e); len(args) > 0 {
			c.notConverted(e, "its default parameters are not added to requests; put them in each request's path or body")
		}
	case kHeaderManager, kArguments, kCSVDataSet, kConstantTimer, kUniformTimer, kGaussianTimer, kThroughputTimer:
	case kResponseAssertion:
		c.assertion(e)
	case kJSONExtractor, kRegexExtractor, kJSONPathPlugin:
		if owner := e.Parent; owner != nil && kindOf(owner) != kHTTPSampler {
			switch n := countHTTP(owner); {
			case n == 0:
				c.notConverted(e, "it reads the response of %s, which is not an HTTP Request", label(owner))
			case n > 1:
				c.notConverted(e, "it applies to each of the %d requests in its scope; floodgate extracts per step — move it under the request it reads", n)
			}
		}
	case kListener:
		c.ignored(e, "floodgate writes its own results (summary.json, report.html; floodgate report reads JTL files too)")
	case kScript:
		c.notConverted(e, "scripts don't convert; do what it does with vars, extract or templates (%s)", scriptHint(e))
	case kConfig:
		switch shortClass(e.TestClass) {
		case "CookieManager":
			// The scenario keeps cookies (threadGroup); what differs:
			if e.Bool("CookieManager.clearEachIteration", false) {
				c.approximated(e, "\"Clear cookies each iteration\": floodgate keeps a VU's cookies across its iterations")
			}
			if coll := e.Prop("CookieManager.cookies"); coll != nil && len(coll.Props) > 0 {
				c.notConverted(e, "its user-defined cookies don't convert; send them in a Cookie header")
			}
		case "CounterConfig":
			// Converted to a scenario variable (threadGroup).
		case "AuthManager":
			c.notConverted(e, "use the plan's auth: {basic: {username: ..., password: ${PASSWORD}}} or bearer")
		case "CacheManager", "DNSCacheManager":
			c.ignored(e, "floodgate does not cache responses or DNS answers per thread")
		default:
			c.notConverted(e, "floodgate has no counterpart")
		}
	case kTimer:
		c.notConverted(e, "use think steps, or an open executor with a rate")
	case kAssertion:
		if shortClass(e.TestClass) == "JSONPathAssertion" {
			c.jsonAssertion(e) // reports what does not convert
			return
		}
		c.notConverted(e, "floodgate checks request steps by status and body (expect: {status: [...], body: ...}); a poll's until can check the body")
	case kProcessor:
		c.notConverted(e, "extract takes JSON paths (gjson), header:Name and regex: on the body")
	case kUnknown:
		if strings.Contains(e.TestClass, "ThreadGroup") {
			c.notConverted(e, "a plugin thread group (testclass %s); write its load profile as a scenario by hand, e.g. open: {stages: [...]}", e.TestClass)
			return
		}
		c.notConverted(e, "unknown element (a plugin?), testclass %s", e.TestClass)
	}
}

func scriptHint(e *Element) string {
	lang := e.Str("scriptLanguage")
	if lang == "" && strings.HasPrefix(e.TestClass, "BeanShell") {
		lang = "beanshell"
	}
	lines := strings.Count(strings.TrimSpace(e.Str("script")), "\n") + 1
	switch {
	case e.Str("script") == "" && e.Str("filename") != "":
		return lang + " file " + e.Str("filename")
	case e.Str("script") == "":
		return lang + ", empty"
	case lines == 1:
		return lang + ", 1 line"
	}
	return fmt.Sprintf("%s, %d lines", lang, lines)
}

// countHTTP counts the enabled HTTP Requests in e's subtree.
func countHTTP(e *Element) int {
	n := 0
	for _, ch := range e.Children {
		if !ch.Enabled {
			continue
		}
		if kindOf(ch) == kHTTPSampler {
			n++
		}
		n += countHTTP(ch)
	}
	return n
}

type httpArg struct {
	name, value string
	encode      bool
	equals      bool
}

func arguments(e *Element) []httpArg {
	p := e.Prop("HTTPsampler.Arguments")
	if p == nil {
		return nil
	}
	coll := p.Prop("Arguments.arguments")
	if coll == nil {
		return nil
	}
	var out []httpArg
	for _, a := range coll.Props {
		arg := httpArg{name: a.Str("Argument.name"), equals: true}
		if v := a.Prop("Argument.value"); v != nil {
			arg.value = v.Value
		}
		if v := a.Prop("HTTPArgument.always_encode"); v != nil {
			arg.encode = strings.TrimSpace(v.Value) == "true"
		}
		if v := a.Prop("HTTPArgument.use_equals"); v != nil {
			arg.equals = strings.TrimSpace(v.Value) != "false"
		}
		out = append(out, arg)
	}
	return out
}

// sampler converts an HTTP Request: think steps for the timers in its
// scope, then the request step with its headers, expect and extract.
func (c *converter) sampler(e *Element, sc *scope, taken map[string]bool) []*outStep {
	own := newScope(sc, e, e.Children)
	for _, ch := range e.Children {
		if !ch.Enabled {
			c.ignored(ch, "disabled in JMeter")
			continue
		}
		c.scopeOnly(ch)
	}
	chain := own.chain()

	// URL: the request's own fields, then the closest Defaults'.
	f := defaultsOf(e)
	req := &outRequest{method: strings.ToUpper(strings.TrimSpace(e.Str("HTTPSampler.method")))}
	if req.method == "" {
		req.method = "GET"
	}
	if !scenario.ValidToken(req.method) {
		c.notConverted(e, "method %q is not an HTTP method; GET is sent", req.method)
		req.method = "GET"
	}
	path := c.text(f.path, templated, e)
	switch {
	case absoluteURL(f.path) || urlLike.MatchString(path):
		if rest, ok := strings.CutPrefix(path, c.planTarget()); ok && (rest == "" || rest[0] == '/' || rest[0] == '?') {
			path = "/" + strings.TrimPrefix(rest, "/")
		} else if !validOrigin(path) {
			c.approximated(e, "its URL %q is not a URL with its defaults; the path is sent to the target", oneLine(f.path))
			if u := strings.Index(path[strings.Index(path, "//")+2:], "/"); u >= 0 {
				path = path[strings.Index(path, "//")+2+u:]
			} else {
				path = "/"
			}
		}
	default:
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		if f.domain != "" {
			switch o := c.origin(f); {
			case o == c.planTarget():
			case o == c.badOrigin || !validOrigin(o):
				if o != c.badOrigin {
					c.approximated(e, "its server %q is not a URL with its defaults; the request goes to the target", o)
				}
			default:
				path = o + path
			}
		}
	}

	args := arguments(e)
	bodyMethod := req.method == "POST" || req.method == "PUT" || req.method == "PATCH"
	var form bool
	switch {
	case e.Bool("HTTPSampler.postBodyRaw", false):
		var b strings.Builder
		for _, a := range args {
			b.WriteString(c.text(a.value, templated, e))
		}
		req.body, req.hasBody = b.String(), true
	case len(args) > 0:
		if e.Bool("HTTPSampler.DO_MULTIPART_POST", false) {
			c.notConverted(e, "multipart/form-data bodies don't convert; send the parts as a raw body")
			break
		}
		var parts []string
		for _, a := range args {
			if strings.TrimSpace(a.name) == "" && !bodyMethod {
				continue
			}
			name, value := c.text(a.name, templated, e), c.text(a.value, templated, e)
			if a.encode {
				name, value = encodeLiteral(name), encodeLiteral(value)
			}
			if a.equals || value != "" {
				parts = append(parts, name+"="+value)
			} else {
				parts = append(parts, name)
			}
		}
		if bodyMethod {
			req.body, req.hasBody, form = strings.Join(parts, "&"), true, true
		} else if len(parts) > 0 {
			sep := "?"
			if strings.Contains(path, "?") {
				sep = "&"
			}
			path += sep + strings.Join(parts, "&")
		}
	}
	req.path = path
	if files := e.Prop("HTTPsampler.Files"); files != nil && len(files.Props) > 0 {
		if coll := files.Prop("HTTPFileArgs.files"); coll != nil && len(coll.Props) > 0 {
			c.notConverted(e, "file uploads don't convert; send the file's content as the body")
		}
	}
	if e.Bool("HTTPSampler.image_parser", false) {
		c.notConverted(e, "\"Retrieve All Embedded Resources\": floodgate sends only the requests the plan lists")
	}
	if e.Str("HTTPSampler.connect_timeout") != "" || e.Str("HTTPSampler.response_timeout") != "" {
		c.approximated(e, "per-request timeouts don't convert; the plan's defaults.timeout bounds every attempt")
	}
	if e.Str("HTTPSampler.ipSource") != "" || e.Str("HTTPSampler.proxyHost") != "" {
		c.notConverted(e, "source address and proxy settings don't convert")
	}

	// Headers from controllers and the request itself (Test Plan and
	// Thread Group ones are the scenario's).
	for _, s := range chain {
		if s.level < 2 {
			continue
		}
		for _, h := range s.elems {
			if kindOf(h) == kHeaderManager {
				req.headers = mergeHeaders(req.headers, c.headerManager(h))
			}
		}
	}
	if form && !slices.ContainsFunc(req.headers, func(h kv) bool { return h.key == "Content-Type" }) {
		req.headers = append(req.headers, kv{key: "Content-Type", value: "application/x-www-form-urlencoded", src: Path(e)})
	}

	// Status assertions in scope narrow expect; those on the text add
	// to expect body.
	var expect []int
	var expectSet bool
	var bodies []string
	for _, s := range chain {
		for _, a := range s.elems {
			if kindOf(a) == kAssertion && shortClass(a.TestClass) == "JSONPathAssertion" {
				if cond, ok := c.jsonAssertion(a); ok {
					bodies = append(bodies, cond)
				}
				continue
			}
			if kindOf(a) != kResponseAssertion {
				continue
			}
			if a.Str("Assertion.test_field") == "Assertion.response_data" {
				if cond, ok := c.bodyAssertion(a); ok {
					bodies = append(bodies, cond)
				}
				continue
			}
			if codes, ok := c.assertion(a); ok {
				if !expectSet {
					expect, expectSet = codes, true
				} else {
					expect = intersect(expect, codes)
				}
			}
		}
	}
	switch len(bodies) {
	case 0:
	case 1:
		req.expectBody = bodies[0]
	default:
		req.expectBody = "(" + strings.Join(bodies, ") && (") + ")"
	}
	if expectSet {
		if len(expect) == 0 {
			c.notConverted(e, "its Response Assertions accept no status together; expect is left at any 2xx or 3xx")
		} else {
			req.expect = expect
		}
	}

	// Think time before the request, from every timer in scope.
	var steps []*outStep
	for _, s := range chain {
		for _, t := range s.elems {
			if th := c.timer(t); th != "" {
				steps = append(steps, &outStep{think: th, src: Path(t)})
			}
		}
	}

	// Extractors: the request's own, and those of enclosing levels
	// holding this one request.
	var extract []kv
	for _, s := range chain {
		if s.owner != e && (s.owner == nil || countHTTP(s.owner) != 1) {
			continue
		}
		for _, x := range s.elems {
			for _, x1 := range c.extractor(x) {
				if i := slices.IndexFunc(extract, func(o kv) bool { return o.key == x1.key }); i >= 0 {
					c.approximated(x, "variable %s is extracted twice from one response; the last extractor (%s) wins", x1.key, label(x))
					extract = slices.Delete(extract, i, i+1)
				}
				extract = append(extract, x1)
			}
		}
	}
	st := &outStep{name: stepName(e.Name, req.method+" "+path, taken), request: req, src: Path(e), extract: extract}
	for _, x := range extract {
		c.sc.defined[x.key] = true
		c.sc.extracted[x.key] = true
	}
	return append(steps, st)
}

// urlLike matches a path that is a whole URL, its scheme perhaps a
// reference: ${PROTOCOL:-}://host/x.
var urlLike = regexp.MustCompile(`^[^/?#]*://`)

// planTarget is the target chosen for the plan.
func (c *converter) planTarget() string { return c.target0 }

// encodeLiteral URL-encodes the literal parts of converted text, leaving
// {{...}} actions and ${...} references alone.
func encodeLiteral(s string) string {
	var b strings.Builder
	for len(s) > 0 {
		i := strings.Index(s, "{{")
		j := strings.Index(s, "${")
		if m := strings.Index(s, "$${"); m >= 0 && m+1 == j && (i < 0 || m < i) {
			// "$${...}" is a literal "${...}" (sent as written): encode
			// it whole, which leaves no reference behind.
			b.WriteString(url.QueryEscape(s[:m]))
			e := strings.IndexByte(s[m:], '}')
			if e < 0 {
				b.WriteString(url.QueryEscape(s[m+1:]))
				break
			}
			b.WriteString(url.QueryEscape(s[m+1 : m+e+1]))
			s = s[m+e+1:]
			continue
		}
		k := -1
		switch {
		case i >= 0 && (j < 0 || i < j):
			k = i
		case j >= 0:
			k = j
		}
		if k < 0 {
			b.WriteString(url.QueryEscape(s))
			break
		}
		b.WriteString(url.QueryEscape(s[:k]))
		end := "}}"
		if k == j {
			end = "}"
		}
		e := strings.Index(s[k:], end)
		if e < 0 {
			b.WriteString(s[k:])
			break
		}
		b.WriteString(s[k : k+e+len(end)])
		s = s[k+e+len(end):]
	}
	return b.String()
}

func intersect(a, b []int) []int {
	var out []int
	for _, x := range a {
		if slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// timer converts a Constant, Uniform or Gaussian Random Timer to a think
// value ("" for anything else, and for no delay).
func (c *converter) timer(t *Element) string {
	k := kindOf(t)
	if k != kConstantTimer && k != kUniformTimer && k != kGaussianTimer {
		return ""
	}
	delay := c.number(t.Str("ConstantTimer.delay"), 0, t)
	if k == kConstantTimer {
		if delay.env {
			return quote(delay.text+"ms", true)
		}
		if delay.value <= 0 {
			return ""
		}
		return fmtDuration(ms(delay.value))
	}
	rng := c.number(t.Str("RandomTimer.range"), 0, t)
	if !delay.known || !rng.known {
		c.notConverted(t, "its delay or range is not a number")
		return ""
	}
	if delay.env || rng.env {
		c.approximated(t, "its delay and range are the defaults of their properties")
	}
	lo, hi := delay.value, delay.value+rng.value
	if k == kGaussianTimer {
		// JMeter waits offset + |N(0,1)| × deviation: a mean of
		// offset + 0.8 × deviation, which a uniform draw over
		// [offset, offset + 1.6 × deviation] keeps.
		hi = delay.value + 1.6*rng.value
		c.approximated(t, "a uniform think from %s to %s, with the Gaussian's mean", fmtDuration(ms(lo)), fmtDuration(ms(hi)))
	}
	if hi <= 0 {
		return ""
	}
	if lo < 0 {
		lo = 0
	}
	if hi <= lo {
		return fmtDuration(ms(hi))
	}
	return "{min: " + fmtDuration(ms(lo)) + ", max: " + fmtDuration(ms(hi)) + "}"
}

func ms(v float64) time.Duration {
	return time.Duration(v * float64(time.Millisecond)).Round(time.Millisecond)
}

// loop converts a Loop Controller to a repeat (a group when it runs once).
func (c *converter) loop(e *Element, sc *scope, taken map[string]bool) []*outStep {
	raw := loopCount(e)
	steps := c.walk(e.Children, newScope(sc, e, e.Children), map[string]bool{})
	if !sends(steps) {
		return steps
	}
	st := &outStep{name: stepName(e.Name, "loop", taken), src: Path(e), repeat: &outRepeat{steps: steps}}
	if name, ok := soleVar(raw); ok {
		// ${n}: a count known only when the loop starts.
		st.repeat.while, st.repeat.max = "$index < int("+exprIdentOf(name)+")", "1000"
		c.sc.use(varName(name), e)
		c.approximated(e, "its count ${%s} is read before each pass (at most 1000 passes)", name)
		return []*outStep{st}
	}
	n := c.number(raw, 1, e)
	switch {
	case !n.known:
		return nil
	case !n.env && n.value < 0:
		st.repeat.while, st.repeat.max = "true", "1000"
		c.approximated(e, "it loops forever inside the iteration; the repeat stops after 1000 passes, or when a step fails")
		return []*outStep{st}
	case !n.env && n.value == 0:
		c.ignored(e, "Loop Count 0: JMeter runs none of it")
		return nil
	case !n.env && n.value == 1:
		st.repeat, st.isGroup, st.group = nil, true, steps
		return []*outStep{st}
	}
	st.repeat.count = n.count()
	return []*outStep{st}
}

// soleVar reports whether s is one JMeter variable reference, ${name}.
func soleVar(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if m := jmeterVar.FindStringSubmatch(s); m != nil && !strings.HasPrefix(m[1], "__") {
		return m[1], true
	}
	return "", false
}

var jmeterVar = regexp.MustCompile(`^\$\{([A-Za-z_][A-Za-z0-9_.-]*)\}$`)

// exprIdentOf names a JMeter variable in a condition: by name, or as
// $vars["name"] when its name is not an identifier.
func exprIdentOf(name string) string {
	v := varName(name)
	if exprIdent.MatchString(v) && !exprReserved[v] {
		return v
	}
	return "$vars[" + strconv.Quote(v) + "]"
}

// block converts a controller's children into one step: the step itself
// when there is one, else a group named after the controller.
func (c *converter) block(e *Element, sc *scope, taken map[string]bool) *outStep {
	return c.blockOf(e.Children, e, newScope(sc, e, e.Children), taken)
}

// blockOf is block over some of owner's children, in scope sc.
func (c *converter) blockOf(children []*Element, e *Element, sc *scope, taken map[string]bool) *outStep {
	steps := c.walk(children, sc, map[string]bool{})
	if !sends(steps) {
		return nil
	}
	var real []*outStep
	for _, st := range steps {
		if st.request != nil || st.poll != nil || st.think != "" || st.isGroup || st.repeat != nil || st.choose != nil {
			real = append(real, st)
		}
	}
	if len(real) == 1 && len(steps) == 1 {
		real[0].name = unique(real[0].name, taken, " #")
		return real[0]
	}
	return &outStep{isGroup: true, name: stepName(e.Name, "group", taken), group: steps, src: Path(e)}
}

// whileRepeat converts a While Controller that is not a poll to a repeat
// while its condition holds; nil when the condition does not convert.
func (c *converter) whileRepeat(e *Element, sc *scope, taken map[string]bool) []*outStep {
	raw := strings.TrimSpace(e.Str("WhileController.condition"))
	cond := "true"
	if raw != "" {
		var err error
		if cond, err = c.condition(raw, e); err != nil {
			return nil
		}
	}
	steps := c.walk(e.Children, newScope(sc, e, e.Children), map[string]bool{})
	if !sends(steps) {
		return steps
	}
	if raw == "" {
		c.approximated(e, "with no condition JMeter loops until a sampler fails; the repeat stops there too, or after 1000 passes")
	} else {
		c.approximated(e, "the repeat stops after 1000 passes")
	}
	return []*outStep{{name: stepName(e.Name, "while", taken), src: Path(e), repeat: &outRepeat{while: cond, max: "1000", steps: steps}}}
}

// forget drops the problems recorded in [from, to).
func (c *converter) forget(from, to int) {
	for _, p := range c.problems[from:to] {
		delete(c.reported, p.String())
	}
	c.problems = slices.Delete(c.problems, from, to)
	c.placed = slices.Delete(c.placed, from, to)
}

// forEach converts a ForEach Controller over the matches of a JSON
// Extractor (match number -1, a list here) to a repeat over the list.
func (c *converter) forEach(e *Element, sc *scope, taken map[string]bool) []*outStep {
	in, out := strings.TrimSpace(e.Str("ForeachController.inputVal")), strings.TrimSpace(e.Str("ForeachController.returnVal"))
	list, as := varName(in), varName(out)
	if in == "" || out == "" {
		c.notConverted(e, "it names no input or output variable%s", leftOut(e))
		return nil
	}
	if !c.sc.lists[list] {
		c.notConverted(e, "its input %s_1, %s_2… comes from no converted JSON Extractor with match number -1 (all matches), which floodgate extracts as a list%s", in, in, leftOut(e))
		return nil
	}
	if strings.TrimSpace(e.Str("ForeachController.startIndex")) != "" || strings.TrimSpace(e.Str("ForeachController.endIndex")) != "" {
		c.approximated(e, "its start and end indexes are not kept: the repeat goes over the whole list")
	}
	if out != as {
		c.renamed(e, out, as)
	}
	c.sc.defined[as] = true
	steps := c.walk(e.Children, newScope(sc, e, e.Children), map[string]bool{})
	if !sends(steps) {
		return steps
	}
	return []*outStep{{name: stepName(e.Name, "each", taken), src: Path(e), repeat: &outRepeat{each: list, as: as, max: "1000", steps: steps}}}
}

// module converts a Module Controller: the controller it names (by its
// path in JMeter's tree) is converted in its place.
func (c *converter) module(e *Element, sc *scope, taken map[string]bool) []*outStep {
	var names []string
	if coll := e.Prop("ModuleController.node_path"); coll != nil {
		for _, p := range coll.Props {
			names = append(names, p.Value)
		}
	}
	target := c.moduleTarget(names)
	if target == nil {
		c.notConverted(e, "the controller it runs (%s) is not in the plan", strings.Join(names, " > "))
		return nil
	}
	for a := e; a != nil; a = a.Parent {
		if a == target {
			c.notConverted(e, "it runs %s, which holds it: JMeter would recurse", label(target))
			return nil
		}
	}
	if slices.Contains(c.modules, e) || len(c.modules) >= maxDepth {
		c.notConverted(e, "its Module Controllers run each other in a cycle")
		return nil
	}
	c.modules = append(c.modules, e)
	defer func() { c.modules = c.modules[:len(c.modules)-1] }()
	var steps []*outStep
	if shortClass(target.TestClass) == "TestFragmentController" || kindOf(target) == kThreadGroup {
		steps = c.walk(target.Children, newScope(sc, target, target.Children), map[string]bool{})
	} else {
		steps = c.structural(target, sc, map[string]bool{})
	}
	if !sends(steps) {
		return steps
	}
	return []*outStep{{isGroup: true, name: stepName(e.Name, "module", taken), group: steps, src: Path(e)}}
}

// maxIncludeBytes bounds a file an Include Controller reads.
const maxIncludeBytes = 64 << 20

// include converts an Include Controller: the .jmx file it names
// (relative to the plan's directory) is read, and its Test Fragments'
// steps (or its Test Plan's) are converted in its place, as a group.
func (c *converter) include(e *Element, sc *scope, taken map[string]bool) []*outStep {
	name := strings.TrimSpace(e.Str("IncludeController.includepath"))
	switch {
	case name == "":
		c.notConverted(e, "it names no file")
		return nil
	case strings.Contains(name, "${"):
		c.notConverted(e, "its file %q is named by a variable; give the path", name)
		return nil
	}
	path := name
	if !filepath.IsAbs(path) {
		if c.opts.file == "" {
			c.notConverted(e, "it reads %s, relative to a plan file this conversion has no name for", name)
			return nil
		}
		path = filepath.Join(filepath.Dir(c.opts.file), path)
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	if slices.Contains(c.includes, path) || len(c.includes) >= maxDepth {
		c.notConverted(e, "%s includes itself, directly or through the files it includes", name)
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		c.notConverted(e, "%s can't be read (%v); import it on its own, or put it where the plan names it", name, errors.Unwrap(err))
		return nil
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		c.notConverted(e, "%s is not a regular file", name) // a device or pipe could block the import
		return nil
	}
	root, err := Parse(io.LimitReader(f, maxIncludeBytes))
	f.Close()
	if err != nil {
		c.notConverted(e, "%s: %v", name, err)
		return nil
	}
	root.Parent = e
	c.includes = append(c.includes, path)
	defer func() { c.includes = c.includes[:len(c.includes)-1] }()
	top := newScope(sc, root, root.Children)
	names := map[string]bool{}
	var steps []*outStep
	for _, ch := range root.Children {
		switch {
		case !ch.Enabled || !structural(ch) && shortClass(ch.TestClass) != "TestFragmentController":
		case shortClass(ch.TestClass) == "TestFragmentController":
			steps = append(steps, c.walk(ch.Children, newScope(top, ch, ch.Children), names)...)
		default:
			steps = append(steps, c.walk([]*Element{ch}, top, names)...)
		}
	}
	if len(steps) == 0 {
		c.notConverted(e, "%s holds no Test Fragment or controller to include", name)
		return nil
	}
	if !sends(steps) {
		return steps
	}
	return []*outStep{{isGroup: true, name: stepName(e.Name, "include", taken), group: steps, src: Path(e)}}
}

// moduleTarget finds the element a Module Controller's node path names:
// the tree's root (WorkBench or the Test Plan), the Test Plan, then the
// names down to it.
func (c *converter) moduleTarget(names []string) *Element {
	if len(names) < 2 || c.root == nil {
		return nil
	}
	cur := c.root
	for _, n := range names[2:] {
		var next *Element
		for _, ch := range cur.Children {
			if ch.Name == n {
				next = ch
				break
			}
		}
		if next == nil {
			return nil
		}
		cur = next
	}
	if cur == c.root {
		return nil
	}
	return cur
}

// onceOnly converts a Once Only Controller: its steps run in each VU's
// first iteration only.
func (c *converter) onceOnly(e *Element, sc *scope, taken map[string]bool) []*outStep {
	st := c.block(e, sc, taken)
	if st == nil {
		return nil
	}
	st.once = true
	return []*outStep{st}
}

// ifController converts an If Controller whose condition compares
// variables with constants to a when.
func (c *converter) ifController(e *Element, sc *scope, taken map[string]bool) []*outStep {
	raw := e.Str("IfController.condition")
	cond, err := c.condition(raw, e)
	if err != nil {
		c.notConverted(e, "condition %q: %v; a condition converts when it compares variables with constants%s", oneLine(raw), err, leftOut(e))
		return nil
	}
	if e.Bool("IfController.evaluateAll", false) {
		c.approximated(e, "\"Evaluate for all children\": the condition is checked once, before its steps")
	}
	st := c.block(e, sc, taken)
	if st == nil {
		return nil
	}
	st.when = andCond(st.when, cond)
	return []*outStep{st}
}

func andCond(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return "(" + a + ") && (" + b + ")"
}

// condition converts a JMeter condition (If, While) to an expr over the
// scenario's variables.
func (c *converter) condition(raw string, at *Element) (string, error) {
	s := strings.TrimSpace(raw)
	switch strings.ToLower(s) {
	case "true", "${__jexl3(true)}", "${__groovy(true)}":
		return "true", nil
	case "false":
		return "false", nil
	}
	if name, ok := soleVar(s); ok {
		c.sc.use(varName(name), at)
		return "string(" + exprIdentOf(name) + ") == \"true\"", nil
	}
	if !condFunc.MatchString(s) {
		s = "${__javaScript(" + s + ")}"
	}
	clauses, and, err := parseCondition(s)
	if err != nil {
		return "", err
	}
	var parts []string
	for _, cl := range clauses {
		c.sc.use(varName(cl.name), at)
		lhs, lit := "string("+exprIdentOf(cl.name)+")", strconv.Quote(cl.value)
		if cl.number {
			lhs, lit = exprIdentOf(cl.name), cl.value
		}
		parts = append(parts, lhs+" "+cl.op+" "+lit)
	}
	join := " || "
	if and {
		join = " && "
	}
	out := strings.Join(parts, join)
	if _, err := scenario.CompileCondition(out); err != nil {
		return "", fmt.Errorf("it converts to %q, which does not compile (%v)", out, err)
	}
	return out, nil
}

// random converts a Random Controller to a choose over its children.
func (c *converter) random(e *Element, sc *scope, taken map[string]bool) []*outStep {
	var opts []*outStep
	names := map[string]bool{}
	for _, ch := range e.Children {
		if !ch.Enabled || !structural(ch) {
			continue
		}
		if st := c.blockOf([]*Element{ch}, ch, newScope(sc, e, e.Children), names); st != nil {
			opts = append(opts, st)
		}
	}
	for _, ch := range e.Children {
		if ch.Enabled && !structural(ch) {
			c.scopeOnly(ch)
		}
	}
	if len(opts) == 0 {
		return nil
	}
	if e.Bool("InterleaveControl.style", false) {
		c.approximated(e, "\"Ignore sub-controller blocks\" is not converted: each child is picked whole")
	}
	return []*outStep{{name: stepName(e.Name, "choose", taken), src: Path(e), choose: opts}}
}

// switchController converts a Switch Controller: a constant value picks
// one child; a variable value becomes a when on each child.
func (c *converter) switchController(e *Element, sc *scope, taken map[string]bool) []*outStep {
	raw := strings.TrimSpace(e.Str("SwitchController.value"))
	var kids []*Element
	for _, ch := range e.Children {
		if ch.Enabled && structural(ch) {
			kids = append(kids, ch)
		}
	}
	for _, ch := range e.Children {
		if ch.Enabled && !structural(ch) {
			c.scopeOnly(ch)
		}
	}
	if len(kids) == 0 {
		return nil
	}
	inner := newScope(sc, e, e.Children)
	one := func(ch *Element) *outStep {
		return c.blockOf([]*Element{ch}, ch, inner, taken)
	}
	if !strings.Contains(raw, "${") {
		pick := kids[0]
		if i, err := strconv.Atoi(raw); err == nil && i >= 0 && i < len(kids) {
			pick = kids[i]
		} else if err != nil && raw != "" {
			pick = nil
			for _, ch := range kids {
				if ch.Name == raw {
					pick = ch
				}
			}
			if pick == nil {
				for _, ch := range kids {
					if strings.EqualFold(ch.Name, "default") {
						pick = ch
					}
				}
			}
		}
		if pick == nil {
			c.ignored(e, "its value %q names no child, so JMeter runs none", raw)
			return nil
		}
		if st := one(pick); st != nil {
			return []*outStep{st}
		}
		return nil
	}
	if m := switchRandom.FindStringSubmatch(raw); m != nil {
		// ${__Random(lo,hi)}: a random child, out of range ones
		// counting for the first, as JMeter runs it then.
		lo, _ := strconv.Atoi(m[1])
		hi, _ := strconv.Atoi(m[2])
		if hi < lo {
			lo, hi = hi, lo
		}
		weights := make([]int, len(kids))
		for v := lo; v <= hi && v-lo < 10_000; v++ {
			if v >= 0 && v < len(kids) {
				weights[v]++
			} else {
				weights[0]++
			}
		}
		var opts []*outStep
		names := map[string]bool{}
		for i, ch := range kids {
			if weights[i] == 0 {
				continue
			}
			if st := c.blockOf([]*Element{ch}, ch, inner, names); st != nil {
				if weights[i] != 1 {
					st.weight = strconv.Itoa(weights[i])
				}
				opts = append(opts, st)
			}
		}
		if len(opts) == 0 {
			return nil
		}
		return []*outStep{{name: stepName(e.Name, "choose", taken), src: Path(e), choose: opts}}
	}
	name, ok := soleVar(raw)
	if !ok {
		c.notConverted(e, "its value %q is not a number, a name, one variable or ${__Random(lo,hi)}%s", oneLine(raw), leftOut(e))
		return nil
	}
	c.sc.use(varName(name), e)
	v := "string(" + exprIdentOf(name) + ")"
	c.approximated(e, "each child runs when ${%s} is its index or its name; a value that matches none runs no child (JMeter runs the first or \"default\")", name)
	var out []*outStep
	for i, ch := range kids {
		st := one(ch)
		if st == nil {
			continue
		}
		st.when = andCond(st.when, fmt.Sprintf("%s == %q || %s == %q", v, strconv.Itoa(i), v, ch.Name))
		out = append(out, st)
	}
	return out
}

var switchRandom = regexp.MustCompile(`^\$\{__Random\(\s*(-?\d+)\s*,\s*(-?\d+)\s*(?:,[^)]*)?\)\}$`)

// throughputController converts a Throughput Controller: a percentage
// becomes a when on a random draw; a total count per thread a when on
// the VU's iteration.
func (c *converter) throughputController(e *Element, sc *scope, taken map[string]bool) []*outStep {
	style := e.Str("ThroughputController.style")
	var cond string
	if style == "1" {
		raw := e.Str("ThroughputController.percentThroughput")
		n := c.number(raw, 100, e)
		if n.env {
			c.notConverted(e, "its percentage %q is a property; write the share as a number%s", raw, leftOut(e))
			return nil
		}
		if n.value >= 100 {
			cond = ""
		} else {
			cond = "$rand < " + formatNum(math.Max(n.value, 0)/100)
		}
	} else {
		raw := e.Str("ThroughputController.maxThroughput")
		n := c.number(raw, 1, e)
		if n.env || n.value < 0 {
			c.notConverted(e, "its total %q is not a number%s", raw, leftOut(e))
			return nil
		}
		cond = "$iteration < " + formatNum(math.Round(n.value))
		if !e.Bool("ThroughputController.perThread", false) {
			c.approximated(e, "its total of %s executions is per VU here, not for all threads together", formatNum(n.value))
		}
	}
	st := c.block(e, sc, taken)
	if st == nil {
		return nil
	}
	st.when = andCond(st.when, cond)
	return []*outStep{st}
}
