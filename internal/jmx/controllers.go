package jmx

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/floodgate-dev/floodgate/internal/scenario"
)

// Controllers: how JMeter's logic controllers become repeat, when,
// once and choose.

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
		switch {
		case cl.relational():
			lhs, lit = "float("+exprIdentOf(cl.name)+" ?? 0)", cl.value // JMeter variables are text; unset reads 0
		case cl.number:
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
