package plan

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// stepKind decodes one kind of step. Adding a kind (poll, wait_event,
// think, group) means a field in Step and one entry in stepKinds.
type stepKind struct {
	key string
	// decode fills s from the kind's value and returns the step's
	// default name, unique-ified by the caller.
	decode func(d *decoder, s *Step, key, n *yaml.Node) (defaultName string)
}

var stepKinds = []stepKind{
	{"request", (*decoder).requestStep},
}

// stepFields are the keys any step takes besides its kind.
var stepFields = []string{"name", "retry"}

func stepKindKeys() []string {
	keys := make([]string, len(stepKinds))
	for i, k := range stepKinds {
		keys[i] = k.key
	}
	return keys
}

var requestKeys = []string{"method", "path", "headers", "json", "body", "expect"}

func (d *decoder) steps(key, n *yaml.Node, scenario string) []*Step {
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
		it = resolve(it)
		what := fmt.Sprintf("step %d of scenario %q", i+1, scenario)
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
					def = k.decode(d, s, f.key(kind), f.val(kind))
				}
			}
		}
		if v := f.val("retry"); v != nil {
			s.Retry = d.retry(v, "step retry")
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
			d.errorf(nm.at, "duplicate step name %s in scenario %q (first at line %d); step names must be unique within a scenario", describe(nm.at), scenario, first.Line)
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
		steps[i] = nm.step
	}
	return steps
}

func (d *decoder) requestStep(s *Step, key, n *yaml.Node) string {
	f, ok := d.mapping(n, key, "request", requestKeys)
	if !ok {
		return ""
	}
	r := &Request{Method: DefaultMethod}
	s.Request = r
	if v := f.val("method"); v != nil {
		if m, ok := d.nonEmpty(v, "method"); ok {
			if !validToken(m) {
				d.errorf(v, "method %s is not an HTTP method; use GET, POST, PUT, PATCH, DELETE...", describe(resolve(v)))
			}
			r.Method = strings.ToUpper(m)
		}
	}
	if v := f.val("path"); v != nil {
		r.Path = d.path(v)
	} else {
		d.errorf(key, "request needs path; add path: /api/v2/... (resolved against target)")
	}
	if v := f.val("headers"); v != nil {
		r.Headers = d.headers(v, "request headers")
	}
	if f.has("json") && f.has("body") {
		d.oneOf(f, []string{"json", "body"}, "")
	} else if v := f.val("json"); v != nil {
		if rv := resolve(v); rv.Kind == yaml.ScalarNode && rv.ShortTag() == nullTag && rv.Style&yaml.TaggedStyle == 0 {
			d.errorf(v, "json has no value; give the body as YAML, e.g. json: {text: hi}")
		} else if b, ok := d.json(nil, v, 0); ok {
			r.Body = b
			if _, ok := r.Headers["Content-Type"]; !ok {
				if r.Headers == nil {
					r.Headers = map[string]string{}
				}
				r.Headers["Content-Type"] = "application/json"
			}
		}
	} else if v := f.val("body"); v != nil {
		if b, ok := d.str(v, "body"); ok {
			r.Body = []byte(b)
		}
	}
	if v := f.val("expect"); v != nil {
		items, ok := d.sequence(v, "expect", "[200, 201]")
		if ok && len(items) == 0 {
			d.errorf(v, "expect is empty; list the statuses that count as success, or remove it to accept any 2xx or 3xx")
		}
		r.Expect = []int{}
		for _, it := range items {
			if code, ok := d.status(it, "an expected status"); ok {
				r.Expect = append(r.Expect, code)
			}
		}
	}
	return r.Method + " " + r.Path
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
				d.errorf(k, "a json key is %s; keys are plain strings (merge keys are not supported)", describe(k))
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
			b = appendJSONString(b, k.Value)
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
			return appendJSONString(b, s), true
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

// appendJSONString appends s as a JSON string. Unlike encoding/json it
// leaves <, > and & alone; invalid UTF-8 becomes U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\r':
			b = append(b, '\\', 'r')
		case r == '\t':
			b = append(b, '\\', 't')
		case r < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[r>>4], hex[r&0xf])
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return append(b, '"')
}
