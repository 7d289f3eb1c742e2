package jmx

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/floodgate-dev/floodgate/internal/plan"
	"github.com/floodgate-dev/floodgate/internal/scenario"
)

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
		switch shortClass(e.TestClass) {
		case "DebugSampler":
			c.ignored(e, "a debugging aid; floodgate's results hold what it shows")
			return nil
		case "TestAction":
			return c.flowAction(e, sc)
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
		switch shortClass(e.TestClass) {
		case "JSONPathAssertion":
			c.jsonAssertion(e) // reports what does not convert
			return
		case "SizeAssertion":
			c.sizeAssertion(e)
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
	req.timeout = c.requestTimeout(e)
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
			if kindOf(a) == kAssertion && shortClass(a.TestClass) == "SizeAssertion" {
				if cond, ok := c.sizeAssertion(a); ok {
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

// requestTimeout converts a request's connect and response timeouts (its
// own, else those of the closest HTTP Request Defaults below the Test
// Plan, whose become defaults.timeout) to one bound on the attempt: their
// sum. "" when none applies.
func (c *converter) requestTimeout(e *Element) string {
	read := func(x *Element) (float64, bool) {
		var total float64
		var set bool
		for _, k := range []string{"HTTPSampler.connect_timeout", "HTTPSampler.response_timeout"} {
			s := x.Str(k)
			if s == "" {
				continue
			}
			if n := c.number(s, 0, x); n.env || n.value <= 0 {
				c.approximated(x, "its %s %q is not converted: only a number of milliseconds is", strings.TrimPrefix(k, "HTTPSampler."), s)
			} else {
				total, set = total+n.value, true
			}
		}
		return total, set
	}
	if v, ok := read(e); ok {
		return plan.FormatDuration(ms(v))
	}
	for a := e.Parent; a != nil && a.Parent != nil; a = a.Parent {
		for _, d := range a.Children {
			if d.Enabled && kindOf(d) == kHTTPDefaults {
				if v, ok := read(d); ok {
					return plan.FormatDuration(ms(v))
				}
			}
		}
	}
	return ""
}

// flowAction converts a Flow Control Action that pauses (JMeter's way of
// thinking between requests) to think steps: the timers in its scope,
// then its own pause.
func (c *converter) flowAction(e *Element, sc *scope) []*outStep {
	for _, ch := range e.Children {
		if ch.Enabled {
			c.scopeOnly(ch)
		}
	}
	if a := e.Str("ActionProcessor.action"); a != "1" {
		what := map[string]string{"0": "stops the thread or test", "2": "stops the test now", "3": "starts the next iteration",
			"5": "breaks out of its loop", "6": "starts the loop's next pass"}[a]
		if what == "" {
			what = "acts on the flow (action " + a + ")"
		}
		c.notConverted(e, "it %s; floodgate ends an iteration only when a step fails", what)
		return nil
	}
	var steps []*outStep
	for _, s := range newScope(sc, e, e.Children).chain() {
		for _, t := range s.elems {
			if th := c.timer(t); th != "" {
				steps = append(steps, &outStep{think: th, src: Path(t)})
			}
		}
	}
	if d := c.number(e.Str("ActionProcessor.duration"), 0, e); d.env {
		steps = append(steps, &outStep{think: quote(d.text+"ms", true), src: Path(e)})
	} else if d.value > 0 {
		steps = append(steps, &outStep{think: plan.FormatDuration(ms(d.value)), src: Path(e)})
	}
	return steps
}

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
		return plan.FormatDuration(ms(delay.value))
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
		c.approximated(t, "a uniform think from %s to %s, with the Gaussian's mean", plan.FormatDuration(ms(lo)), plan.FormatDuration(ms(hi)))
	}
	if hi <= 0 {
		return ""
	}
	if lo < 0 {
		lo = 0
	}
	if hi <= lo {
		return plan.FormatDuration(ms(hi))
	}
	return "{min: " + plan.FormatDuration(ms(lo)) + ", max: " + plan.FormatDuration(ms(hi)) + "}"
}

func ms(v float64) time.Duration {
	return time.Duration(v * float64(time.Millisecond)).Round(time.Millisecond)
}
