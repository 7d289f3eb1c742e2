package plan

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/floodgate-dev/floodgate/internal/scenario"
)

var (
	dataKeys      = []string{"file", "mode", "on_exhaust"}
	thresholdKeys = []string{"threshold", "abort_on_fail", "delay_abort_eval"}
)

// flow tracks, while a scenario is decoded in order, which variables are
// set so far: data columns, then vars, then each step's extractions.
type flow struct {
	scenario string
	scope    *scenario.Scope
	defined  map[string]bool
	// later holds every name some step extracts, with where, so that a
	// use before the extraction can say so.
	later  map[string]Pos
	visits int // steps collectExtracts visited (alias bombs)
}

func newFlow(name string) *flow {
	return &flow{scenario: name, scope: scenario.NewScope(), defined: map[string]bool{}, later: map[string]Pos{}}
}

// resolver resolves the variables a template names against what is set
// at this point of the scenario.
func (fl *flow) resolver() scenario.Resolver {
	if fl == nil {
		return func(name string) (int, error) {
			return 0, fmt.Errorf("undefined variable .%s; only functions such as {{uuid}} work here, variables belong to a scenario", name)
		}
	}
	return func(name string) (int, error) {
		if fl.defined[name] {
			return fl.scope.Define(name), nil
		}
		if p, ok := fl.later[name]; ok {
			return 0, fmt.Errorf("variable .%s is not set yet here: the extract at line %d sets it, later; a step can use only what earlier steps extracted", name, p.Line)
		}
		var known, all []string
		for k := range fl.defined {
			known = append(known, k)
		}
		slices.Sort(known)
		all = append(all, known...)
		for k := range fl.later {
			all = append(all, k)
		}
		slices.Sort(all)
		list := "none is defined here"
		if len(known) > 0 {
			list = "defined here: " + strings.Join(known, ", ")
		}
		return 0, fmt.Errorf("undefined variable .%s;%s %s (set variables with vars, data or extract)", name, didYouMean(name, all), list)
	}
}

// collectExtracts records the names the steps under n extract, before
// they are decoded, for resolver's messages.
func (fl *flow) collectExtracts(n *yaml.Node, depth int) {
	n = resolve(n)
	if n.Kind != yaml.SequenceNode || depth > maxGroupDepth {
		return
	}
	for _, it := range n.Content {
		if fl.visits++; fl.visits > maxSteps {
			return
		}
		it = resolve(it)
		if it.Kind != yaml.MappingNode {
			continue
		}
		for i := 0; i+1 < len(it.Content); i += 2 {
			k, v := resolve(it.Content[i]), resolve(it.Content[i+1])
			switch k.Value {
			case "extract":
				if v.Kind == yaml.MappingNode {
					for j := 0; j+1 < len(v.Content); j += 2 {
						if name := resolve(v.Content[j]); name.Kind == yaml.ScalarNode {
							if _, seen := fl.later[name.Value]; !seen {
								fl.later[name.Value] = pos(name)
							}
						}
					}
				}
			case "group", "choose":
				fl.collectExtracts(v, depth+1)
			case "repeat":
				if v.Kind == yaml.MappingNode {
					for j := 0; j+1 < len(v.Content); j += 2 {
						if resolve(v.Content[j]).Value == "steps" {
							fl.collectExtracts(v.Content[j+1], depth+1)
						}
					}
				}
			}
		}
	}
}

// offsetPos is the position of byte off of scalar n's value: exact for a
// one-line scalar without ${VAR} (quoted ones shift by their quote, and
// escapes before off are not counted), else n's own position.
func (d *decoder) offsetPos(n *yaml.Node, off int) Pos {
	n = resolve(n)
	if off < 0 || off > len(n.Value) || strings.Contains(n.Value, "\n") || strings.Contains(n.Value, "${") ||
		n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return pos(n)
	}
	col := n.Column + utf8.RuneCountInString(n.Value[:off])
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		col++
	}
	return Pos{n.Line, col}
}

// template compiles text (n's expanded value) against the variables set
// so far, reporting a problem at its position. It returns nil after one.
func (d *decoder) template(n *yaml.Node, text string, mode scenario.Mode, what string) *scenario.Template {
	t, err := scenario.Parse(text, mode, d.flow.resolver())
	if err != nil {
		var te *scenario.TemplateError
		if errors.As(err, &te) {
			msg := te.Msg
			if !strings.Contains(msg, "; ") {
				msg += "; templates read {{.variable}} or {{function args}}, e.g. {{.job_id}} or {{now \"-1h\"}}"
			}
			d.errorAt(d.offsetPos(n, te.Offset), "%s: %s", what, msg)
		} else {
			d.errorf(n, "%s: %s", what, err)
		}
		return nil
	}
	return t
}

// condition compiles an expr-lang condition, reporting problems at their
// position in the plan.
func (d *decoder) condition(n *yaml.Node, what string) *scenario.Condition {
	src, ok := d.nonEmpty(n, what)
	if !ok {
		return nil
	}
	c, err := scenario.CompileCondition(src)
	if err != nil {
		var ce *scenario.ConditionError
		p := pos(n)
		if errors.As(err, &ce) {
			if ce.Line == 1 {
				off := 0
				for i := 1; i < ce.Col && off < len(src); i++ {
					_, w := utf8.DecodeRuneInString(src[off:])
					off += w
				}
				p = d.offsetPos(n, off)
			}
			err = errors.New(ce.Msg)
		}
		d.errorAt(p, "%s %s: %s; conditions are expr-lang expressions over the JSON, e.g. state == \"FULFILLED\"", what, describe(resolve(n)), err)
		return nil
	}
	return c
}

// templatedHeaders decodes headers and compiles the values holding
// {{...}}.
func (d *decoder) templatedHeaders(n *yaml.Node, what string) (map[string]string, map[string]*scenario.Template) {
	h := d.headers(n, what)
	var ts map[string]*scenario.Template
	for name, v := range h {
		if !scenario.HasActions(v) {
			continue
		}
		at := n
		if pairs, ok := d.pairsQuiet(n); ok {
			for _, kv := range pairs {
				if strings.EqualFold(kv[0].Value, name) {
					at = kv[1]
				}
			}
		}
		if t := d.template(at, v, scenario.Text, "header "+name); t != nil {
			if ts == nil {
				ts = map[string]*scenario.Template{}
			}
			ts[name] = t
		}
	}
	return h, ts
}

// pairsQuiet returns a mapping's pairs without reporting anything.
func (d *decoder) pairsQuiet(n *yaml.Node) ([][2]*yaml.Node, bool) {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		return nil, false
	}
	var out [][2]*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		out = append(out, [2]*yaml.Node{resolve(n.Content[i]), n.Content[i+1]})
	}
	return out, true
}

// data decodes data: {file, mode, on_exhaust} and reads the file.
func (d *decoder) data(key, n *yaml.Node, sc *Scenario) {
	f, ok := d.mapping(n, key, "data", dataKeys)
	if !ok {
		return
	}
	dt := &Data{Pos: pos(resolve(n)), Mode: scenario.Sequential}
	if v := f.val("mode"); v != nil {
		if m, ok := d.str(v, "mode"); ok {
			if !slices.Contains(scenario.Modes, m) {
				d.errorf(v, "unknown data mode %s;%s use sequential, random or unique", describe(resolve(v)), didYouMean(m, scenario.Modes))
			}
			dt.Mode = m
		}
	}
	switch dt.Mode {
	case scenario.Sequential:
		dt.OnExhaust = scenario.Recycle
	case scenario.Unique:
		dt.OnExhaust = scenario.Stop
	}
	if v := f.val("on_exhaust"); v != nil {
		if o, ok := d.str(v, "on_exhaust"); ok {
			switch {
			case !slices.Contains(scenario.OnExhaust, o):
				d.errorf(v, "unknown on_exhaust %s;%s use stop or recycle", describe(resolve(v)), didYouMean(o, scenario.OnExhaust))
			case dt.Mode == scenario.Random:
				d.errorf(f.key("on_exhaust"), "random data never runs out, so on_exhaust does nothing; remove it")
			case dt.Mode == scenario.Unique && o == scenario.Recycle:
				d.errorf(v, "unique hands each row out once, so it can't recycle; use mode: sequential to go round again")
			default:
				dt.OnExhaust = o
			}
		}
	}
	v := f.val("file")
	if v == nil {
		d.errorf(key, "data needs file, a CSV file with a header row; add file: users.csv")
		return
	}
	file, ok := d.nonEmpty(v, "file")
	if !ok {
		return
	}
	dt.File = file
	path := file
	if !filepath.IsAbs(path) {
		path = filepath.Join(d.dir, path)
	}
	fh, err := os.Open(path)
	if err != nil {
		d.errorf(v, "data file %s can't be read (%v); the path is relative to the plan's directory", describe(resolve(v)), errors.Unwrap(err))
		return
	}
	defer fh.Close()
	cols, rows, err := scenario.ReadCSV(fh)
	if err != nil {
		var ce *scenario.CSVError
		if errors.As(err, &ce) {
			d.errorf(v, "data file %s:%d: %s", file, ce.Line, ce.Msg)
		} else {
			d.errorf(v, "data file %s: %v", file, err)
		}
		return
	}
	dt.Columns, dt.Rows = cols, rows
	for _, c := range cols {
		dt.Slots = append(dt.Slots, d.flow.scope.Define(c))
		d.flow.defined[c] = true
	}
	sc.Data = dt
}

// vars decodes vars: {name: template}, in order; each may use data
// columns and the vars before it.
func (d *decoder) vars(key, n *yaml.Node, sc *Scenario) {
	pairs, ok := d.pairs(n, key, "vars")
	if !ok {
		return
	}
	for _, kv := range pairs {
		name := kv[0].Value
		if !scenario.ValidName(name) {
			d.errorf(kv[0], "vars: %q is not a variable name; use letters, digits and _ (templates read it as {{.name}})", name)
			continue
		}
		text, ok := d.str(kv[1], "vars "+name)
		if !ok {
			continue
		}
		var t *scenario.Template
		if scenario.HasActions(text) {
			if t = d.template(kv[1], text, scenario.Text, "vars "+name); t == nil {
				continue
			}
		} else {
			t = scenario.Literal(text)
		}
		slot := d.flow.scope.Define(name)
		d.flow.defined[name] = true
		sc.Vars = append(sc.Vars, &Var{Name: name, Pos: pos(kv[0]), Slot: slot, Template: t})
	}
}

// thresholds decodes the plan's thresholds: strings, or mappings with
// threshold, abort_on_fail and delay_abort_eval.
func (d *decoder) thresholds(key, n *yaml.Node) []*Threshold {
	items, ok := d.sequence(n, "thresholds", `["p99(latency) < 800ms", "lost == 0"]`)
	if !ok {
		return nil
	}
	var out []*Threshold
	for _, it := range items {
		it = resolve(it)
		var th *Threshold
		if it.Kind == yaml.MappingNode {
			f, ok := d.mapping(it, it, "threshold", thresholdKeys)
			if !ok {
				continue
			}
			v := f.val("threshold")
			if v == nil {
				d.errorf(it, `threshold needs threshold, the expression; add threshold: "p99(latency) < 800ms"`)
				continue
			}
			if th = d.threshold(v); th == nil {
				continue
			}
			if v := f.val("abort_on_fail"); v != nil {
				if b, ok := d.boolean(v, "abort_on_fail"); ok {
					th.AbortOnFail = *b
				}
			}
			if v := f.val("delay_abort_eval"); v != nil {
				th.DelayAbortEval, _ = d.duration(v, "delay_abort_eval", false)
				if !th.AbortOnFail {
					d.errorf(f.key("delay_abort_eval"), "delay_abort_eval applies only with abort_on_fail: true; add it or remove this")
				}
			}
		} else if th = d.threshold(it); th == nil {
			continue
		}
		out = append(out, th)
	}
	return out
}

func (d *decoder) threshold(n *yaml.Node) *Threshold {
	s, ok := d.nonEmpty(n, "threshold")
	if !ok {
		return nil
	}
	th, err := ParseThreshold(s)
	if err != nil {
		var te *ThresholdError
		if errors.As(err, &te) {
			msg := te.Msg
			if !strings.Contains(msg, "; ") {
				msg += "; thresholds read like p99(latency) < 800ms, rate(status=429) < 1% or lost == 0"
			}
			d.errorAt(d.offsetPos(n, te.Offset), "threshold %s: %s", describe(resolve(n)), msg)
		} else {
			d.errorf(n, "threshold %s: %v", describe(resolve(n)), err)
		}
		return nil
	}
	th.Pos = pos(resolve(n))
	return th
}

// checkThresholds checks that what thresholds select exists.
func (d *decoder) checkThresholds(p *Plan) {
	for _, th := range p.Thresholds {
		var scens []string
		var steps []string
		found := th.Step == ""
		for _, sc := range p.Scenarios {
			scens = append(scens, sc.Name)
			if th.Scenario != "" && sc.Name != th.Scenario {
				continue
			}
			WalkSteps(sc.Steps, func(st *Step) {
				if st.Think == nil {
					steps = append(steps, st.Path)
					if st.Path == th.Step {
						found = true
					}
				}
			})
		}
		switch {
		case th.Scenario != "" && !slices.Contains(scens, th.Scenario):
			d.errorAt(th.Pos, "threshold %q selects scenario %q, which the plan doesn't have;%s scenarios: %s",
				th.Text, th.Scenario, didYouMean(th.Scenario, scens), strings.Join(scens, ", "))
		case !found:
			d.errorAt(th.Pos, "threshold %q selects step %q, which %s doesn't have;%s steps: %s (a group's steps are group/step)",
				th.Text, th.Step, orAll(th.Scenario), didYouMean(th.Step, steps), strings.Join(steps, ", "))
		}
	}
}

func orAll(sc string) string {
	if sc == "" {
		return "no scenario"
	}
	return fmt.Sprintf("scenario %q", sc)
}

// WalkSteps calls fn for every step in steps, the steps of a group,
// repeat or choose after it, in file order.
func WalkSteps(steps []*Step, fn func(*Step)) {
	for _, st := range steps {
		fn(st)
		WalkSteps(st.Children(), fn)
	}
}
