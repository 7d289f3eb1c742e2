package plan

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/floodgate-dev/floodgate/internal/scenario"
)

// stepKind decodes one kind of step. Adding a kind means a field in Step
// and one entry in stepKinds.
type stepKind struct {
	key string
	// decode fills s from the kind's value and returns the step's
	// default name, unique-ified by the caller.
	decode func(d *decoder, s *Step, key, n *yaml.Node, c *stepCtx) (defaultName string)
}

var stepKinds []stepKind

// init fills stepKinds: group decodes steps, which reads stepKinds, so a
// composite literal would be an initialization cycle.
func init() {
	stepKinds = []stepKind{
		{"request", (*decoder).requestStep},
		{"poll", (*decoder).pollStep},
		{"wait_event", (*decoder).waitEventStep},
		{"think", (*decoder).thinkStep},
		{"group", (*decoder).groupStep},
		{"repeat", (*decoder).repeatStep},
		{"choose", (*decoder).chooseStep},
	}
}

// stepFields are the keys any step takes besides its kind.
var stepFields = []string{"name", "retry", "extract", "when", "once", "weight"}

func stepKindKeys() []string {
	keys := make([]string, len(stepKinds))
	for i, k := range stepKinds {
		keys[i] = k.key
	}
	return keys
}

var (
	requestKeys   = []string{"method", "path", "query", "headers", "json", "body", "form", "expect", "timeout"}
	pollKeys      = append(slices.Clone(requestKeys), "every", "until", "fail_if")
	repeatKeys    = []string{"count", "while", "each", "as", "max", "steps"}
	expectKeys    = []string{"status", "body"}
	waitEventKeys = []string{"topic", "until", "fail_if", "timeout", "trigger", "channel"}
	thinkKeys     = []string{"min", "max"}
)

// Defaults of the step kinds.
const (
	DefaultPollEvery   = 2 * time.Second // Poll.Every: the platform tutorials' interval
	DefaultPollTimeout = 5 * time.Minute // Poll.Timeout
	DefaultWaitTimeout = 5 * time.Minute // WaitEvent.Timeout
	DefaultRepeatMax   = 1000            // Repeat.Max
)

// maxGroupDepth bounds nested groups (and anchors that contain
// themselves); maxSteps bounds the steps of a plan after expanding
// aliases, against alias bombs (a group of n aliases to a list of n
// groups, nested: n^depth steps).
const (
	maxGroupDepth = 8
	maxSteps      = 10_000
)

// stepCtx is where a list of steps sits: its scenario, the metric path
// of its group, and how deep it is nested.
type stepCtx struct {
	scenario string
	prefix   string // "" or "group/"
	depth    int
	choose   bool // the steps of a choose, which take weight
}

func (d *decoder) steps(key, n *yaml.Node, c *stepCtx) []*Step {
	items, ok := d.sequence(n, "steps", "[{request: {path: /}}]")
	if !ok {
		return nil
	}
	if len(items) == 0 {
		d.errorf(key, "steps is empty; add at least one step such as - request: {path: /}")
		return nil
	}
	kinds := stepKindKeys()
	allowed := append(append([]string{}, stepFields...), kinds...)
	type named struct {
		step     *Step
		explicit bool
		name     string
		at       *yaml.Node
	}
	var out []named
	for i, it := range items {
		if d.stepNodes++; d.stepNodes > maxSteps {
			if d.stepNodes == maxSteps+1 {
				d.errorf(key, "the plan has more than %d steps (after expanding aliases); check for aliases that repeat groups", maxSteps)
			}
			return nil
		}
		it = resolve(it)
		what := fmt.Sprintf("step %d of scenario %q", i+1, c.scenario)
		if c.prefix != "" {
			what = fmt.Sprintf("step %d of group %q in scenario %q", i+1, strings.TrimSuffix(c.prefix, "/"), c.scenario)
		}
		f, ok := d.mappingWith(it, it, what, allowed, func(d *decoder, k *yaml.Node) {
			hint := didYouMean(k.Value, allowed)
			d.errorf(k, "unknown step kind %q in %s;%s known kinds: %s (a step also takes %s)",
				k.Value, what, hint, strings.Join(kinds, ", "), strings.Join(stepFields, ", "))
		})
		if !ok {
			continue
		}
		s := &Step{Pos: pos(it)}
		kind, ok := d.oneOf(f, kinds, fmt.Sprintf("%s has no kind; add one of: %s", what, strings.Join(kinds, ", ")))
		var def string
		if ok {
			for _, k := range stepKinds {
				if k.key == kind {
					def = k.decode(d, s, f.key(kind), f.val(kind), c)
				}
			}
		}
		if v := f.val("retry"); v != nil {
			if kind == "think" {
				d.errorf(f.key("retry"), "a think step sends nothing, so retry does nothing here; remove it")
			}
			s.Retry = d.retry(v, "step retry")
		}
		if v := f.val("extract"); v != nil {
			switch kind {
			case "request", "poll", "wait_event":
				s.Extract = d.extracts(f.key("extract"), v)
			case "":
			default:
				d.errorf(f.key("extract"), "a %s step has no response to extract from; extract on a request, poll or wait_event step", kind)
			}
		}
		if v := f.val("when"); v != nil {
			s.When = d.condition(v, "when")
		}
		if v := f.val("once"); v != nil {
			if b, ok := d.boolean(v, "once"); ok {
				s.Once = *b
			}
		}
		if c.choose {
			s.Weight = 1
		}
		if v := f.val("weight"); v != nil {
			if !c.choose {
				d.errorf(f.key("weight"), "weight applies only to the steps of a choose; remove it, or put this step in a choose")
			} else if w, ok := d.number(v, "weight"); ok {
				if w <= 0 {
					d.errorf(v, "weight must be more than 0, got %s; a step that should never run can be removed", describe(resolve(v)))
				} else {
					s.Weight = w
				}
			}
		}
		nm := named{step: s, name: def, at: it}
		if v := f.val("name"); v != nil {
			if name, ok := d.nonEmpty(v, "step name"); ok {
				nm.name, nm.explicit, nm.at = name, true, resolve(v)
			}
		}
		out = append(out, nm)
	}
	// Explicit names must be unique; default names give way to them and
	// to each other with " #2", " #3"...
	taken := map[string]*yaml.Node{}
	for _, nm := range out {
		if !nm.explicit {
			continue
		}
		if first := taken[nm.name]; first != nil {
			where := fmt.Sprintf("scenario %q", c.scenario)
			if c.prefix != "" {
				where = fmt.Sprintf("group %q", strings.TrimSuffix(c.prefix, "/"))
			}
			d.errorf(nm.at, "duplicate step name %s in %s (first at line %d); step names must be unique within a scenario", describe(nm.at), where, first.Line)
			continue
		}
		taken[nm.name] = nm.at
	}
	steps := make([]*Step, len(out))
	for i, nm := range out {
		name := nm.name
		if !nm.explicit {
			for k := 2; taken[name] != nil; k++ {
				name = fmt.Sprintf("%s #%d", nm.name, k)
			}
			taken[name] = nm.at
		}
		nm.step.Name = name
		nm.step.Path = c.prefix + name
		setPaths(nm.step.Children(), nm.step.Path+"/")
		steps[i] = nm.step
	}
	return steps
}

// setPaths fixes the metric paths of a group's steps once the group's
// own name is known.
func setPaths(steps []*Step, prefix string) {
	for _, st := range steps {
		st.Path = prefix + st.Name
		setPaths(st.Children(), st.Path+"/")
	}
}

func (d *decoder) requestStep(s *Step, key, n *yaml.Node, _ *stepCtx) string {
	f, ok := d.mapping(n, key, "request", requestKeys)
	if !ok {
		return ""
	}
	s.Request = d.request(f, key, "request")
	return s.Request.Method + " " + d.basePath
}

// request decodes the request keys of f (a request, a poll or a trigger).
func (d *decoder) request(f *fields, key *yaml.Node, what string) *Request {
	r := &Request{Method: DefaultMethod}
	if v := f.val("method"); v != nil {
		if m, ok := d.nonEmpty(v, "method"); ok {
			if !scenario.ValidToken(m) {
				d.errorf(v, "method %s is not an HTTP method; use GET, POST, PUT, PATCH, DELETE...", describe(resolve(v)))
			}
			r.Method = strings.ToUpper(m)
		}
	}
	if v := f.val("path"); v != nil {
		r.Path = d.path(v)
		if scenario.HasActions(r.Path) {
			r.PathTemplate = d.template(v, r.Path, scenario.Text, "path")
		}
	} else {
		d.errorf(key, "%s needs path; add path: /api/v2/... (resolved against target)", what)
	}
	d.basePath = r.Path
	if v := f.val("query"); v != nil {
		d.query(f.key("query"), v, r)
	}
	if v := f.val("headers"); v != nil {
		r.Headers, r.HeaderTemplates = d.templatedHeaders(v, what+" headers")
	}
	if len(f.present([]string{"json", "body", "form"})) > 1 {
		d.oneOf(f, []string{"json", "body", "form"}, "")
	} else if v := f.val("form"); v != nil {
		if pairs, ok := d.pairs(v, f.key("form"), "form"); ok {
			r.Body, r.BodyTemplate = d.encodeForm(pairs, "form")
			if _, ok := r.Headers["Content-Type"]; !ok {
				if r.Headers == nil {
					r.Headers = map[string]string{}
				}
				r.Headers["Content-Type"] = "application/x-www-form-urlencoded"
			}
		}
	} else if v := f.val("json"); v != nil {
		if rv := resolve(v); rv.Kind == yaml.ScalarNode && rv.ShortTag() == nullTag && rv.Style&yaml.TaggedStyle == 0 {
			d.errorf(v, "json has no value; give the body as YAML, e.g. json: {text: hi}")
		} else if b, t, ok := d.jsonBody(v); ok {
			r.Body, r.BodyTemplate = b, t
			if _, ok := r.Headers["Content-Type"]; !ok {
				if r.Headers == nil {
					r.Headers = map[string]string{}
				}
				r.Headers["Content-Type"] = "application/json"
			}
		}
	} else if v := f.val("body"); v != nil {
		if b, ok := d.str(v, "body"); ok {
			if scenario.HasActions(b) {
				r.BodyTemplate = d.template(v, b, scenario.Text, "body")
			} else {
				r.Body = []byte(b)
			}
		}
	}
	if v := f.val("expect"); v != nil {
		statuses := v
		if resolve(v).Kind == yaml.MappingNode {
			statuses = nil
			if ef, ok := d.mapping(v, f.key("expect"), "expect", expectKeys); ok {
				statuses = ef.val("status")
				if b := ef.val("body"); b != nil {
					if what != "request" {
						d.errorf(ef.key("body"), "expect body applies to request steps; a poll checks its body with until and fail_if")
					} else {
						r.ExpectBody = d.condition(b, "expect body")
					}
				}
				if !ef.has("status") && !ef.has("body") {
					d.errorf(v, "expect is empty; give status: [200] and/or body: 'items != nil'")
				}
			}
		}
		if statuses != nil {
			items, ok := d.sequence(statuses, "expect", "[200, 201]")
			if ok && len(items) == 0 {
				d.errorf(statuses, "expect is empty; list the statuses that count as success, or remove it to accept any 2xx or 3xx")
			}
			r.Expect = []int{}
			for _, it := range items {
				if code, ok := d.status(it, "an expected status"); ok {
					r.Expect = append(r.Expect, code)
				}
			}
		}
	}
	if v := f.val("timeout"); v != nil && what != "poll" {
		if t, ok := d.duration(v, "timeout", true); ok {
			r.Timeout = t
		}
	}
	return r
}

// query appends query: {name: value} to the request's path, encoded;
// values may hold templates, encoded when rendered.
func (d *decoder) query(key, n *yaml.Node, r *Request) {
	pairs, ok := d.pairs(n, key, "query")
	if !ok || r.Path == "" {
		return
	}
	if len(pairs) == 0 {
		d.errorf(key, "query is empty; give name: value pairs, e.g. query: {page: 2}")
		return
	}
	sep := "?"
	if strings.Contains(r.Path, "?") {
		sep = "&"
	}
	static, t := d.encodeForm(pairs, "query")
	if t == nil && r.PathTemplate == nil {
		r.Path += sep + string(static)
		return
	}
	base := r.PathTemplate
	if base == nil {
		base = scenario.Literal(r.Path)
	}
	if t == nil {
		t = scenario.Literal(string(static))
	}
	r.PathTemplate = scenario.Concat(base, scenario.Literal(sep), t)
}

// encodeForm encodes name: value pairs as application/x-www-form-urlencoded
// (a form body, a query string): the bytes when no value holds a
// template, else a template.
func (d *decoder) encodeForm(pairs [][2]*yaml.Node, what string) ([]byte, *scenario.Template) {
	var parts []*scenario.Template
	var b []byte
	templated := false
	for i, kv := range pairs {
		lit := ""
		if i > 0 {
			lit = "&"
		}
		lit += url.QueryEscape(kv[0].Value) + "="
		v, ok := d.str(kv[1], what+" "+kv[0].Value)
		if !ok {
			continue
		}
		if scenario.HasActions(v) {
			if t := d.template(kv[1], v, scenario.URLQuery, what+" "+kv[0].Value); t != nil {
				parts = append(parts, scenario.Literal(lit), t)
				templated = true
			}
			continue
		}
		lit += url.QueryEscape(v)
		parts = append(parts, scenario.Literal(lit))
		b = append(b, lit...)
	}
	if !templated {
		return b, nil
	}
	return nil, scenario.Concat(parts...)
}

func (d *decoder) pollStep(s *Step, key, n *yaml.Node, _ *stepCtx) string {
	f, ok := d.mapping(n, key, "poll", pollKeys)
	if !ok {
		return ""
	}
	p := &Poll{Request: *d.request(f, key, "poll"), Every: DefaultPollEvery, Timeout: DefaultPollTimeout}
	s.Poll = p
	if v := f.val("every"); v != nil {
		if e, ok := d.duration(v, "every", true); ok {
			p.Every = e
		}
	}
	if v := f.val("timeout"); v != nil {
		if t, ok := d.duration(v, "timeout", true); ok {
			p.Timeout = t
		}
	}
	if v := f.val("until"); v != nil {
		p.Until = d.condition(v, "until")
	} else {
		d.errorf(key, `poll needs until, the condition that ends it; add until: 'state == "FULFILLED"'`)
	}
	if v := f.val("fail_if"); v != nil {
		p.FailIf = d.condition(v, "fail_if")
	}
	return p.Request.Method + " " + d.basePath
}

func (d *decoder) waitEventStep(s *Step, key, n *yaml.Node, _ *stepCtx) string {
	f, ok := d.mapping(n, key, "wait_event", waitEventKeys)
	if !ok {
		return ""
	}
	w := &WaitEvent{Timeout: DefaultWaitTimeout, Channel: ChannelVU}
	s.WaitEvent = w
	if v := f.val("topic"); v != nil {
		if t, ok := d.nonEmpty(v, "topic"); ok {
			w.Topic = t
			if scenario.HasActions(t) {
				w.TopicTemplate = d.template(v, t, scenario.Text, "topic")
			}
		}
	} else {
		d.errorf(key, "wait_event needs topic, the notification topic to subscribe to; add topic: v2.users.{{.user_id}}.conversations")
	}
	if v := f.val("until"); v != nil {
		w.Until = d.condition(v, "until")
	}
	if v := f.val("fail_if"); v != nil {
		w.FailIf = d.condition(v, "fail_if")
	}
	if v := f.val("timeout"); v != nil {
		if t, ok := d.duration(v, "timeout", true); ok {
			w.Timeout = t
		}
	}
	if v := f.val("channel"); v != nil {
		if c, ok := d.str(v, "channel"); ok {
			if c != ChannelVU && c != ChannelStep {
				d.errorf(v, "unknown channel %s; use vu (one channel per VU, reused) or step (a new channel for this wait)", describe(resolve(v)))
			}
			w.Channel = c
		}
	}
	if v := f.val("trigger"); v != nil {
		if tf, ok := d.mapping(v, f.key("trigger"), "trigger", requestKeys); ok {
			w.Trigger = d.request(tf, f.key("trigger"), "trigger")
		}
	}
	return "wait " + w.Topic
}

func (d *decoder) thinkStep(s *Step, key, n *yaml.Node, _ *stepCtx) string {
	t := &Think{}
	s.Think = t
	if resolve(n).Kind == yaml.ScalarNode {
		t.Min, _ = d.duration(n, "think", true)
		t.Max = t.Min
		return "think"
	}
	f, ok := d.mapping(n, key, "think", thinkKeys)
	if !ok {
		return "think"
	}
	for _, k := range thinkKeys {
		if !f.has(k) {
			d.errorf(key, "think needs min and max for a random pause; write {min: 1s, max: 3s}, or one duration: think: 2s")
			return "think"
		}
	}
	t.Min, _ = d.duration(f.val("min"), "min", false)
	t.Max, _ = d.duration(f.val("max"), "max", true)
	if t.Max < t.Min {
		d.errorf(f.val("max"), "think max %s is shorter than min %s; swap them", t.Max, t.Min)
	}
	return "think"
}

func (d *decoder) groupStep(s *Step, key, n *yaml.Node, c *stepCtx) string {
	if c.depth >= maxGroupDepth {
		d.errorf(key, "groups nest deeper than %d levels; flatten them (or check for an anchor that contains itself)", maxGroupDepth)
		return "group"
	}
	// The group's own name is known only once its siblings are named;
	// steps() fixes the children's paths then.
	s.Group = &Group{Steps: d.steps(key, n, &stepCtx{scenario: c.scenario, prefix: c.prefix + "group/", depth: c.depth + 1})}
	return "group"
}

func (d *decoder) repeatStep(s *Step, key, n *yaml.Node, c *stepCtx) string {
	if c.depth >= maxGroupDepth {
		d.errorf(key, "groups and repeats nest deeper than %d levels; flatten them (or check for an anchor that contains itself)", maxGroupDepth)
		return "repeat"
	}
	f, ok := d.mapping(n, key, "repeat", repeatKeys)
	if !ok {
		return "repeat"
	}
	r := &Repeat{Max: DefaultRepeatMax}
	s.Repeat = r
	kind, ok := d.oneOf(f, []string{"count", "while", "each"}, "repeat needs count (how many times), while (a condition checked before each pass) or each (a variable holding a list); add count: 3")
	if ok {
		switch kind {
		case "count":
			r.Count, _ = d.integer(f.val("count"), "count", 1)
			if f.has("max") {
				d.errorf(f.key("max"), "max bounds a while or each repeat; with count, remove it")
			}
		case "while":
			r.While = d.condition(f.val("while"), "while")
		case "each":
			d.repeatEach(f, key, r)
		}
	}
	if f.has("as") && kind != "each" {
		d.errorf(f.key("as"), "as names the variable each pass of an each repeat sets; remove it, or use each")
	}
	if v := f.val("max"); v != nil && kind != "count" {
		r.Max, _ = d.integer(v, "max", 1)
	}
	if v := f.val("steps"); v != nil {
		r.Steps = d.steps(f.key("steps"), v, &stepCtx{scenario: c.scenario, prefix: c.prefix + "repeat/", depth: c.depth + 1})
	} else {
		d.errorf(key, "repeat needs steps, the steps of each pass; add steps: [{request: {path: /}}]")
	}
	return "repeat"
}

// repeatEach decodes each: a variable set before the repeat, and as: the
// variable its passes set, defined for the repeat's steps.
func (d *decoder) repeatEach(f *fields, key *yaml.Node, r *Repeat) {
	v := f.val("each")
	name, ok := d.nonEmpty(v, "each")
	if !ok {
		return
	}
	name = strings.TrimPrefix(name, ".")
	if !scenario.ValidName(name) {
		d.errorf(v, "each: %q is not a variable name; name the variable that holds the list, e.g. each: ids", name)
		return
	}
	slot, err := d.flow.resolver()(name)
	if err != nil {
		d.errorf(v, "each: %v", err)
		return
	}
	r.Each, r.EachSlot = name, slot
	av := f.val("as")
	if av == nil {
		d.errorf(key, "an each repeat needs as, the variable each pass sets; add as: id")
		return
	}
	as, ok := d.nonEmpty(av, "as")
	if !ok {
		return
	}
	if !scenario.ValidName(as) {
		d.errorf(av, "as: %q is not a variable name; use letters, digits and _ (templates read it as {{.name}})", as)
		return
	}
	r.As, r.AsSlot = as, d.flow.scope.Define(as)
	d.flow.defined[as] = true
}

func (d *decoder) chooseStep(s *Step, key, n *yaml.Node, c *stepCtx) string {
	if c.depth >= maxGroupDepth {
		d.errorf(key, "groups nest deeper than %d levels; flatten them (or check for an anchor that contains itself)", maxGroupDepth)
		return "choose"
	}
	s.Choose = &Choose{Steps: d.steps(key, n, &stepCtx{scenario: c.scenario, prefix: c.prefix + "choose/", depth: c.depth + 1, choose: true})}
	return "choose"
}

// extracts decodes extract: {name: "json.path" | "header:Name"}. The
// names become defined once the step's own templates are compiled.
func (d *decoder) extracts(key, n *yaml.Node) []*scenario.Extractor {
	pairs, ok := d.pairs(n, key, "extract")
	if !ok {
		return nil
	}
	if len(pairs) == 0 {
		d.errorf(key, "extract is empty; map variable names to JSON paths, e.g. extract: {job_id: id}")
	}
	var out []*scenario.Extractor
	for _, kv := range pairs {
		name := kv[0].Value
		if !scenario.ValidName(name) {
			d.errorf(kv[0], "extract: %q is not a variable name; use letters, digits and _ (templates read it as {{.name}})", name)
			continue
		}
		spec, ok := d.nonEmpty(kv[1], "extract "+name)
		if !ok {
			continue
		}
		x, err := scenario.ParseExtractor(name, spec, d.flow.scope.Define(name))
		if err != nil {
			d.errorf(kv[1], "%s", err)
			continue
		}
		d.flow.defined[name] = true
		out = append(out, x)
	}
	return out
}

// path accepts "/..." or an absolute http(s) URL.
func (d *decoder) path(n *yaml.Node) string {
	p, ok := d.nonEmpty(n, "path")
	if !ok {
		return ""
	}
	if strings.HasPrefix(p, "/") {
		return p
	}
	if u, err := url.Parse(p); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		return p
	}
	d.errorf(n, "path %s is not a path or URL; start it with / (it is resolved against target) or give an absolute http(s) URL", describe(resolve(n)))
	return ""
}

// Limits on json bodies, against anchors that contain themselves and
// alias bombs (a few lines that expand to billions of nodes).
const (
	maxJSONDepth = 100
	maxJSONNodes = 100_000
)

// json appends the JSON encoding of YAML node n to b, keeping mapping
// order. Scalars are expanded; a plain scalar that held a reference takes
// the type of its expanded text, a quoted one stays a string.
func (d *decoder) json(b []byte, n *yaml.Node, depth int) ([]byte, bool) {
	n = resolve(n)
	d.jsonNodes++
	switch {
	case d.jsonNodes > maxJSONNodes:
		d.errorf(n, "json body has more than %d values (after expanding aliases); shorten it or send it with body", maxJSONNodes)
		return b, false
	case depth > maxJSONDepth:
		d.errorf(n, "json body nests deeper than %d levels; check for an anchor that contains itself", maxJSONDepth)
		return b, false
	}
	switch n.Kind {
	case yaml.MappingNode:
		b = append(b, '{')
		seen := map[string]*yaml.Node{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := resolve(n.Content[i])
			if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!merge" {
				d.errorf(k, "a json key is %s; keys are plain strings (merge keys are not supported, and a {{...}} template must be quoted: \"{{.id}}\")", describe(k))
				return b, false
			}
			if first := seen[k.Value]; first != nil {
				d.errorf(k, "duplicate key %q in json (first at line %d); remove one", k.Value, first.Line)
				return b, false
			}
			seen[k.Value] = k
			if i > 0 {
				b = append(b, ',')
			}
			b = scenario.AppendJSONString(b, k.Value)
			b = append(b, ':')
			var ok bool
			if b, ok = d.json(b, n.Content[i+1], depth+1); !ok {
				return b, false
			}
		}
		return append(b, '}'), true
	case yaml.SequenceNode:
		b = append(b, '[')
		for i, it := range n.Content {
			if i > 0 {
				b = append(b, ',')
			}
			var ok bool
			if b, ok = d.json(b, it, depth+1); !ok {
				return b, false
			}
		}
		return append(b, ']'), true
	case yaml.ScalarNode:
		s, refs, ok := d.expand(n)
		if !ok {
			return b, false
		}
		tag := n.ShortTag()
		if refs > 0 && n.Style&(yaml.TaggedStyle|yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0 {
			tag = (&yaml.Node{Kind: yaml.ScalarNode, Value: s}).ShortTag()
		}
		v := scalar{n: n, s: s, tag: tag}
		switch tag {
		case nullTag:
			return append(b, "null"...), true
		case boolTag:
			var x bool
			if decodeAs(v, &x) == nil {
				return strconv.AppendBool(b, x), true
			}
		case intTag:
			var i int64
			var u uint64
			if decodeAs(v, &i) == nil {
				return strconv.AppendInt(b, i, 10), true
			}
			if decodeAs(v, &u) == nil {
				return strconv.AppendUint(b, u, 10), true
			}
		case floatTag:
			var f float64
			if decodeAs(v, &f) == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
				out, err := json.Marshal(f)
				if err == nil {
					return append(b, out...), true
				}
			}
			d.errorf(n, "json value %s is not a finite number; JSON has no NaN or infinity, quote it to send a string", describe(n))
			return b, false
		case strTag, "!!timestamp", "!!binary":
			if tag == strTag && scenario.HasActions(s) {
				// A value with {{...}}: rendered per request. Remember
				// where it goes; jsonBody splits the body there.
				if t := d.template(n, s, scenario.JSONValue, "json value"); t != nil {
					d.jsonTmpls = append(d.jsonTmpls, jsonTmpl{len(b), t})
					return b, true
				}
				return b, false
			}
			return scenario.AppendJSONString(b, s), true
		default:
			d.errorf(n, "json value %s has the YAML tag %s, which JSON can't carry; remove the tag", describe(n), tag)
			return b, false
		}
		d.errorf(n, "json value %s is not a valid %s; quote it to send a string", describe(n), strings.TrimPrefix(tag, "!!"))
		return b, false
	}
	d.errorf(n, "json holds %s, which JSON can't carry; use mappings, lists and plain values", describe(n))
	return b, false
}

// jsonTmpl is a templated value of a json body: t renders at byte off of
// the static encoding.
type jsonTmpl struct {
	off int
	t   *scenario.Template
}

// jsonBody encodes a json body. Without templates it returns the bytes,
// encoded once; with them, a template made of the literal JSON between
// the templated values.
func (d *decoder) jsonBody(n *yaml.Node) ([]byte, *scenario.Template, bool) {
	d.jsonTmpls = d.jsonTmpls[:0]
	b, ok := d.json(nil, n, 0)
	if !ok || len(d.jsonTmpls) == 0 {
		return b, nil, ok
	}
	var parts []*scenario.Template
	last := 0
	for _, jt := range d.jsonTmpls {
		parts = append(parts, scenario.Literal(string(b[last:jt.off])), jt.t)
		last = jt.off
	}
	parts = append(parts, scenario.Literal(string(b[last:])))
	return nil, scenario.Concat(parts...), true
}
