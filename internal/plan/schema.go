package plan

import (
	"cmp"
	"fmt"
	"net/textproto"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/floodgate-dev/floodgate/internal/scenario"
	"go.yaml.in/yaml/v3"
)

// Allowed keys, in the order messages list them.
var (
	planKeys     = []string{"name", "target", "defaults", "grace", "tls", "abort_on_unreachable", "auth", "retry", "scenarios", "thresholds"}
	defaultsKeys = []string{"headers", "timeout", "response_header_bytes"}
	scenarioKeys = []string{"executor", "headers", "auth", "retry", "data", "vars", "cookies", "steps"}
	executorKeys = []string{"closed", "open", "batches"}
	closedKeys   = []string{"vus", "ramp_up", "iterations", "duration"}
	openKeys     = []string{"rate", "duration", "start_rate", "stages", "max_vus", "granularity"}
	stageKeys    = []string{"target", "duration"}
	batchesKeys  = []string{"size", "pause", "total", "max_vus"}
)

var scenarioName = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// present returns which of keys f holds, in file order.
func (f *fields) present(keys []string) []string {
	var out []string
	for _, k := range keys {
		if f.has(k) {
			out = append(out, k)
		}
	}
	slices.SortFunc(out, func(a, b string) int {
		ka, kb := f.key(a), f.key(b)
		return cmp.Or(cmp.Compare(ka.Line, kb.Line), cmp.Compare(ka.Column, kb.Column))
	})
	return out
}

// oneOf reports unless f holds exactly one of kinds, and returns it.
func (d *decoder) oneOf(f *fields, kinds []string, none string) (string, bool) {
	got := f.present(kinds)
	switch len(got) {
	case 0:
		d.errorf(f.at, "%s", none)
		return "", false
	case 1:
		return got[0], true
	}
	d.errorf(f.key(got[1]), "%s has both %s and %s; keep one", f.what, got[0], got[1])
	return "", false
}

// defaultName is the file's base name without extension, or "plan".
func defaultName(file string) string {
	if file == "" {
		return "plan"
	}
	base := filepath.Base(file)
	if name := strings.TrimSuffix(base, filepath.Ext(base)); name != "" && name != "." && name != string(filepath.Separator) {
		return name
	}
	return "plan"
}

func (d *decoder) plan(root *yaml.Node) *Plan {
	p := &Plan{
		File:     d.file,
		Name:     defaultName(d.file),
		Grace:    DefaultGrace,
		Defaults: Defaults{Timeout: DefaultTimeout, ResponseHeaderBytes: DefaultResponseHeaderBytes},
	}
	f, ok := d.mapping(root, root, "the plan", planKeys)
	if !ok {
		return nil
	}
	if n := f.val("name"); n != nil {
		if s, ok := d.nonEmpty(n, "name"); ok {
			if strings.ContainsAny(s, `/\`) || s == "." || s == ".." {
				d.errorf(n, "name %s is not usable as a directory name; drop / and \\", describe(n))
			} else {
				p.Name = s
			}
		}
	}
	if n := f.val("target"); n != nil {
		p.Target = d.target(n)
	} else {
		d.errorf(root, "missing target; add the base URL of the API under test, e.g. target: http://127.0.0.1:8080")
	}
	if n := f.val("defaults"); n != nil {
		d.defaults(f.key("defaults"), n, &p.Defaults)
	}
	if n := f.val("grace"); n != nil {
		if g, ok := d.duration(n, "grace", false); ok {
			p.Grace = g
		}
	}
	if n := f.val("tls"); n != nil {
		p.TLS = d.tls(f.key("tls"), n)
	}
	p.Unreachable = DefaultUnreachable
	if n := f.val("abort_on_unreachable"); n != nil {
		p.Unreachable = d.unreachable(n)
	}
	if n := f.val("auth"); n != nil {
		p.Auth = d.auth(f.key("auth"), n, p.Target)
	}
	if n := f.val("retry"); n != nil {
		p.Retry = d.retry(n, "retry")
	}
	if n := f.val("scenarios"); n != nil {
		p.Scenarios = d.scenarios(f.key("scenarios"), n, p.Target)
	} else {
		d.errorf(root, "missing scenarios; add at least one, e.g. scenarios: {main: {executor: {closed: {vus: 1, iterations: 1}}, steps: [{request: {path: /}}]}}")
	}
	if n := f.val("thresholds"); n != nil {
		p.Thresholds = d.thresholds(f.key("thresholds"), n)
		d.checkThresholds(p)
	}
	return p
}

// target checks an absolute http(s) URL and trims trailing slashes. It
// returns "" after a problem.
func (d *decoder) target(n *yaml.Node) string {
	s, ok := d.nonEmpty(n, "target")
	if !ok {
		return ""
	}
	u, err := url.Parse(s)
	const eg = "give an absolute URL such as http://127.0.0.1:8080 or https://api.mypurecloud.com"
	switch {
	case err != nil:
		d.errorf(n, "target %s is not a URL; %s", describe(n), eg)
	case u.User != nil:
		// Don't quote it: it holds a credential.
		d.errorf(n, "target holds credentials (user:password@); remove them and use auth: {basic: ...}")
	case u.Scheme != "http" && u.Scheme != "https":
		d.errorf(n, "target %s must start with http:// or https://; %s", describe(n), eg)
	case u.Host == "":
		d.errorf(n, "target %s has no host; %s", describe(n), eg)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		d.errorf(n, "target %s has a query or fragment; put them in each step's path instead", describe(n))
	default:
		return strings.TrimRight(s, "/")
	}
	return ""
}

func (d *decoder) defaults(key, n *yaml.Node, def *Defaults) {
	f, ok := d.mapping(n, key, "defaults", defaultsKeys)
	if !ok {
		return
	}
	if v := f.val("headers"); v != nil {
		def.Headers, def.HeaderTemplates = d.templatedHeaders(v, "defaults headers")
	}
	if v := f.val("timeout"); v != nil {
		if t, ok := d.duration(v, "timeout", true); ok {
			def.Timeout = t
		}
	}
	if v := f.val("response_header_bytes"); v != nil {
		if n, ok := d.integer(v, "response_header_bytes", 1024); ok {
			if n > 1<<20 {
				d.errorf(v, "response_header_bytes %d is over 1048576; no API needs more", n)
			} else {
				def.ResponseHeaderBytes = n
			}
		}
	}
}

// headers decodes a mapping of header names to values, canonicalising the
// names. Names that differ only in case are duplicates.
func (d *decoder) headers(n *yaml.Node, what string) map[string]string {
	pairs, ok := d.pairs(n, n, what)
	if !ok {
		return nil
	}
	h := make(map[string]string, len(pairs))
	seen := map[string]*yaml.Node{}
	for _, kv := range pairs {
		k := kv[0]
		if !scenario.ValidToken(k.Value) {
			d.errorf(k, "bad header name %q in %s; use letters, digits and - (no spaces or colons)", k.Value, what)
			continue
		}
		name := textproto.CanonicalMIMEHeaderKey(k.Value)
		if first := seen[name]; first != nil {
			d.errorf(k, "header %s given twice in %s (first at line %d); names ignore case, remove one", name, what, first.Line)
			continue
		}
		seen[name] = k
		v, ok := d.str(kv[1], "header "+name)
		if !ok {
			continue
		}
		if strings.ContainsAny(v, "\r\n\x00") {
			d.errorf(kv[1], "header %s holds a line break; a header value is one line", name)
			continue
		}
		h[name] = v
	}
	return h
}

func (d *decoder) scenarios(key, n *yaml.Node, target string) []*Scenario {
	pairs, ok := d.pairs(n, key, "scenarios")
	if !ok {
		return nil
	}
	if len(resolve(n).Content) == 0 {
		d.errorf(key, "scenarios is empty; add at least one scenario")
	}
	var out []*Scenario
	for _, kv := range pairs {
		if sc := d.scenario(kv[0], kv[1], target); sc != nil {
			out = append(out, sc)
		}
	}
	return out
}

func (d *decoder) scenario(k, n *yaml.Node, target string) *Scenario {
	sc := &Scenario{Name: k.Value, Pos: pos(k)}
	if !scenarioName.MatchString(k.Value) {
		d.errorf(k, "scenario name %q may hold only letters, digits, _, . and -; rename it", k.Value)
	}
	what := fmt.Sprintf("scenario %q", k.Value)
	f, ok := d.mapping(n, k, what, scenarioKeys)
	if !ok {
		return nil
	}
	if v := f.val("executor"); v != nil {
		sc.Executor = d.executor(f.key("executor"), v)
	} else {
		d.errorf(k, "%s has no executor; add one, e.g. executor: {closed: {vus: 1, iterations: 1}}", what)
	}
	if v := f.val("auth"); v != nil {
		sc.Auth = d.auth(f.key("auth"), v, target)
	}
	if v := f.val("retry"); v != nil {
		sc.Retry = d.retry(v, "retry")
	}
	// Variables are set in this order in every iteration: data columns,
	// vars, then each step's extractions. Decode in that order too, so
	// that each template sees exactly what is set before it.
	d.flow = newFlow(k.Value)
	defer func() { d.flow = nil }()
	sc.Scope = d.flow.scope
	if v := f.val("steps"); v != nil {
		d.flow.collectExtracts(v, 0)
	}
	if v := f.val("data"); v != nil {
		d.data(f.key("data"), v, sc)
	}
	if v := f.val("vars"); v != nil {
		d.vars(f.key("vars"), v, sc)
	}
	if v := f.val("headers"); v != nil {
		sc.Headers, sc.HeaderTemplates = d.templatedHeaders(v, what+" headers")
	}
	if v := f.val("cookies"); v != nil {
		if b, ok := d.boolean(v, "cookies"); ok {
			sc.Cookies = *b
		}
	}
	if v := f.val("steps"); v != nil {
		sc.Steps = d.steps(f.key("steps"), v, &stepCtx{scenario: k.Value})
		sends := false
		WalkSteps(sc.Steps, func(st *Step) { sends = sends || st.Sends() })
		if len(sc.Steps) > 0 && !sends {
			d.errorf(f.key("steps"), "%s only thinks; add a step that sends a request (request, poll or wait_event)", what)
		}
	} else {
		d.errorf(k, "%s has no steps; add steps: [{request: {path: /}}]", what)
	}
	return sc
}

func (d *decoder) executor(key, n *yaml.Node) Executor {
	var e Executor
	f, ok := d.mapping(n, key, "executor", executorKeys)
	if !ok {
		return e
	}
	kind, ok := d.oneOf(f, executorKeys, "executor has no kind; add one of closed, open or batches")
	if !ok {
		return e
	}
	k, v := f.key(kind), f.val(kind)
	switch kind {
	case "closed":
		e.Closed = d.closed(k, v)
	case "open":
		e.Open = d.open(k, v)
	case "batches":
		e.Batches = d.batches(k, v)
	}
	return e
}

func (d *decoder) closed(key, n *yaml.Node) *Closed {
	f, ok := d.mapping(n, key, "closed executor", closedKeys)
	if !ok {
		return nil
	}
	c := &Closed{}
	if v := f.val("vus"); v != nil {
		c.VUs, _ = d.integer(v, "vus", 1)
	} else {
		d.errorf(key, "closed executor needs vus, the number of virtual users; add vus: 10")
	}
	if v := f.val("ramp_up"); v != nil {
		c.RampUp, _ = d.duration(v, "ramp_up", false)
	}
	if v := f.val("iterations"); v != nil {
		c.Iterations, _ = d.integer(v, "iterations", 1)
	}
	if v := f.val("duration"); v != nil {
		c.Duration, _ = d.duration(v, "duration", true)
	}
	if !f.has("iterations") && !f.has("duration") {
		d.errorf(key, "closed executor is unbounded; set iterations (per VU) or duration, e.g. duration: 5m, so the run ends")
	}
	if c.Duration > 0 && c.RampUp > c.Duration {
		d.errorf(f.val("ramp_up"), "ramp_up %s is longer than duration %s; shorten ramp_up so every VU starts", c.RampUp, c.Duration)
	}
	return c
}

func (d *decoder) open(key, n *yaml.Node) *Open {
	f, ok := d.mapping(n, key, "open executor", openKeys)
	if !ok {
		return nil
	}
	o := &Open{MaxVUs: DefaultMaxVUs, Granularity: DefaultGranularity}
	if v := f.val("max_vus"); v != nil {
		if m, ok := d.integer(v, "max_vus", 1); ok {
			o.MaxVUs = m
		}
	}
	if v := f.val("granularity"); v != nil {
		if g, ok := d.duration(v, "granularity", false); ok {
			if g > maxGranularity {
				d.errorf(v, "granularity %s is coarser than %s: arrivals would go out up to that late; use at most %s (default %s), or 0 to send each at its due time", describe(v), maxGranularity, maxGranularity, DefaultGranularity)
			}
			o.Granularity = g
		}
	}
	switch {
	case f.has("stages"):
		if f.has("rate") {
			d.errorf(f.key("rate"), "open executor has both rate and stages; use rate with duration for a constant rate, or stages to ramp")
		}
		if f.has("duration") {
			d.errorf(f.key("duration"), "duration goes with rate; with stages, each stage has its own duration")
		}
		if v := f.val("start_rate"); v != nil {
			o.StartRate, _ = d.rate(v, "start_rate", false)
		}
		d.stages(f.key("stages"), f.val("stages"), o)
	case f.has("rate"):
		o.Rate, _ = d.rate(f.val("rate"), "rate", true)
		if f.has("start_rate") {
			d.errorf(f.key("start_rate"), "start_rate applies only to stages; remove it, or use stages to ramp")
		}
		if v := f.val("duration"); v != nil {
			o.Duration, _ = d.duration(v, "duration", true)
		} else {
			d.errorf(key, "open executor is unbounded; add a duration next to rate, e.g. duration: 1m")
		}
	default:
		d.errorf(key, "open executor is unbounded; give rate and duration, e.g. {rate: 100/s, duration: 1m}, or stages")
	}
	return o
}

func (d *decoder) stages(key, n *yaml.Node, o *Open) {
	items, ok := d.sequence(n, "stages", "[{target: 100/s, duration: 30s}]")
	if !ok {
		return
	}
	if len(items) == 0 {
		d.errorf(key, "stages is empty; add at least one stage such as {target: 100/s, duration: 30s}")
		return
	}
	nerr := len(d.errs)
	for i, it := range items {
		it = resolve(it)
		what := fmt.Sprintf("stage %d", i+1)
		f, ok := d.mapping(it, it, what, stageKeys)
		if !ok {
			continue
		}
		st := Stage{Pos: pos(it)}
		if v := f.val("target"); v != nil {
			st.Target, _ = d.rate(v, what+" target", false)
		} else {
			d.errorf(it, "%s needs target, the rate to reach; add target: 100/s", what)
		}
		if v := f.val("duration"); v != nil {
			st.Duration, _ = d.duration(v, what+" duration", false)
		} else {
			d.errorf(it, "%s needs duration, the time to reach its target; add duration: 30s", what)
		}
		o.Stages = append(o.Stages, st)
	}
	if len(d.errs) == nerr && o.TotalDuration() <= 0 {
		d.errorf(key, "open executor is unbounded: its stages last 0s in total; give a stage a duration")
	}
}

func (d *decoder) batches(key, n *yaml.Node) *Batches {
	f, ok := d.mapping(n, key, "batches executor", batchesKeys)
	if !ok {
		return nil
	}
	b := &Batches{}
	if v := f.val("size"); v != nil {
		b.Size, _ = d.integer(v, "size", 1)
	} else {
		d.errorf(key, "batches executor needs size, the iterations released at once; add size: 50")
	}
	if v := f.val("pause"); v != nil {
		b.Pause, _ = d.duration(v, "pause", false)
	} else {
		d.errorf(key, "batches executor needs pause, the time from one batch to the next; add pause: 10s")
	}
	if v := f.val("total"); v != nil {
		b.Total, _ = d.integer(v, "total", 1)
	} else {
		d.errorf(key, "batches executor is unbounded; add total, the iterations in all, e.g. total: 500")
	}
	if v := f.val("max_vus"); v != nil {
		if m, ok := d.integer(v, "max_vus", 1); ok {
			b.MaxVUs = m
			if b.Size > 0 && m < b.Size {
				d.errorf(v, "max_vus %d is smaller than size %d; every batch would drop iterations, raise max_vus to at least %d", m, b.Size, b.Size)
			}
		}
	} else {
		b.MaxVUs = min(b.Size*4, b.Total)
	}
	return b
}
