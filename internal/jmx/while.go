package jmx

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/floodgate-dev/floodgate/internal/plan"
	"github.com/floodgate-dev/floodgate/internal/scenario"
)

// pollTimeout bounds a poll converted from a While Controller, which has
// no bound of its own.
const pollTimeout = "5m"

// while converts a While Controller that polls — one HTTP Request, an
// extractor, and a condition on the extracted value — to a poll step:
//
//	While ${__jexl3("${state}" != "READY")}     poll:
//	  GET /jobs/${id}                      →      path: /jobs/{{.id}}
//	    JSON Extractor state = $.state             until: state == "READY"
//	    Constant Timer 1000                        every: 1s
//
// Other While Controllers don't convert.
func (c *converter) while(e *Element, sc *scope, taken map[string]bool) []*outStep {
	cond := strings.TrimSpace(e.Str("WhileController.condition"))
	var samplers []*Element
	for _, ch := range e.Children {
		if ch.Enabled && structural(ch) {
			samplers = append(samplers, ch)
		}
	}
	shape := "a While Controller converts to a poll when it holds one HTTP Request with an extractor and its condition compares the extracted value with a constant, else to a repeat when its condition compares variables with constants"
	if len(samplers) != 1 || kindOf(samplers[0]) != kHTTPSampler {
		c.notConverted(e, "%s%s", shape, leftOut(e))
		return nil
	}
	clauses, and, err := parseCondition(cond)
	if err != nil {
		c.notConverted(e, "condition %q: %v; %s%s", oneLine(cond), err, shape, leftOut(e))
		return nil
	}
	// until is the condition negated: the loop goes on while it holds.
	// Check it all before converting the request, so that nothing is
	// half converted.
	var parts []string
	for _, cl := range clauses {
		spec := jsonSpec(samplers[0], e, cl.name)
		if spec == "" {
			c.notConverted(e, "its condition reads %s, which no JSON Extractor of its request sets; %s%s", cl.name, shape, leftOut(e))
			return nil
		}
		path, ok := exprPath(spec)
		if !ok {
			c.notConverted(e, "%s's path %s can't be used in a condition%s", cl.name, spec, leftOut(e))
			return nil
		}
		op := negate[cl.op] // until is the loop's condition negated
		lhs := path
		lit := strconv.Quote(cl.value)
		switch {
		case cl.relational():
			lhs, lit = "float("+path+" ?? 0)", cl.value
		case cl.number:
			lit = cl.value
		default:
			if _, err := strconv.ParseFloat(cl.value, 64); err == nil {
				lhs = "string(" + path + ")" // "${code}" != "200" compares text
			}
		}
		parts = append(parts, lhs+" "+op+" "+lit)
	}
	join := " || "
	if !and {
		join = " && "
	}
	until := strings.Join(parts, join)
	if _, err := scenario.CompileCondition(until); err != nil {
		c.notConverted(e, "its condition converts to %q, which does not compile (%v)%s", until, err, leftOut(e))
		return nil
	}
	inner := newScope(sc, e, e.Children)
	steps := c.sampler(samplers[0], inner, taken)
	req := steps[len(steps)-1]
	thinks := steps[:len(steps)-1]

	// The timers inside the loop pace the polls.
	every := "2s"
	switch {
	case len(thinks) == 1 && !strings.HasPrefix(thinks[0].think, "{") && !strings.Contains(thinks[0].think, "$"):
		every = thinks[0].think
	case len(thinks) == 1 && strings.HasPrefix(thinks[0].think, "{"):
		every = meanThink(thinks[0].think)
		c.approximated(e, "its random timer becomes a fixed poll interval of %s (the mean)", every)
	case len(thinks) == 0:
		c.approximated(e, "JMeter polls back to back (no timer in the loop); the poll runs every 2s, floodgate's default")
	default:
		c.approximated(e, "several timers in the loop; the poll runs every 2s, floodgate's default")
	}
	c.approximated(e, "the poll gives up after %s (a While Controller has no time limit); raise timeout if the job takes longer", pollTimeout)
	poll := &outPoll{outRequest: *req.request, every: every, until: until, timeout: pollTimeout}
	poll.outRequest.timeout = "" // a poll's timeout bounds the whole poll
	if poll.expectBody != "" {
		c.approximated(samplers[0], "its Response Assertion on the text is not checked on each poll (until checks the body)")
		poll.expectBody = ""
	}
	req.request, req.poll = nil, poll
	req.comments = append(req.comments, comment{text: fmt.Sprintf("%s: while %s", label(e), oneLine(cond)), src: Path(e)})
	return []*outStep{req}
}

// meanThink returns the mean of "{min: a, max: b}".
func meanThink(t string) string {
	t = strings.Trim(t, "{}")
	var lo, hi time.Duration
	for _, f := range strings.Split(t, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(f), ":")
		d, _ := time.ParseDuration(strings.TrimSpace(v))
		if strings.TrimSpace(k) == "min" {
			lo = d
		} else {
			hi = d
		}
	}
	m := (lo + hi) / 2
	if m <= 0 {
		return "2s"
	}
	return plan.FormatDuration(m.Round(time.Millisecond))
}

type clause struct {
	name   string // the JMeter variable compared
	op     string // "==", "!=", "<", "<=", ">" or ">="
	value  string
	number bool // unquoted number
}

// relational reports whether the clause orders numbers (<, <=, >, >=).
func (cl clause) relational() bool { return cl.op != "==" && cl.op != "!=" }

// negate maps a comparison to its negation.
var negate = map[string]string{"==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}

var (
	condFunc   = regexp.MustCompile(`(?s)^\$\{__(?:jexl2|jexl3|javaScript|groovy)\((.*)\)\}$`)
	condLHS    = `(?:"\$\{([A-Za-z_][A-Za-z0-9_.-]*)\}"|'\$\{([A-Za-z_][A-Za-z0-9_.-]*)\}'|\$\{([A-Za-z_][A-Za-z0-9_.-]*)\}|vars\.get\(["']([A-Za-z_][A-Za-z0-9_.-]*)["']\))`
	condRHS    = `(?:"([^"\\]*)"|'([^'\\]*)'|(-?\d+(?:\.\d+)?))`
	condCmp    = regexp.MustCompile(`^\s*` + condLHS + `\s*(==|!=|<=|>=|<|>)\s*` + condRHS + `\s*$`)
	condEquals = regexp.MustCompile(`^\s*(!?)\s*` + condLHS + `\.equals\(\s*` + condRHS + `\s*\)\s*$`)
)

// parseCondition reads a While Controller condition made of comparisons
// of variables with constants, joined by && or || (not both). and
// reports whether they are joined by &&.
func parseCondition(cond string) ([]clause, bool, error) {
	m := condFunc.FindStringSubmatch(cond)
	if m == nil {
		return nil, false, errors.New("only ${__jexl3(...)}, ${__jexl2(...)}, ${__javaScript(...)} and ${__groovy(...)} comparisons convert")
	}
	expr := strings.TrimSpace(splitArgs(m[1])[0])
	for strings.HasPrefix(expr, "(") && strings.HasSuffix(expr, ")") && balanced(expr[1:len(expr)-1]) {
		expr = strings.TrimSpace(expr[1 : len(expr)-1])
	}
	and := strings.Contains(expr, "&&")
	if and && strings.Contains(expr, "||") {
		return nil, false, errors.New("it mixes && and ||")
	}
	sep := "||"
	if and {
		sep = "&&"
	}
	var out []clause
	for _, part := range strings.Split(expr, sep) {
		part = strings.TrimSpace(part)
		for strings.HasPrefix(part, "(") && strings.HasSuffix(part, ")") {
			part = strings.TrimSpace(part[1 : len(part)-1])
		}
		if cm := condCmp.FindStringSubmatch(part); cm != nil {
			cl := clause{name: first(cm[1:5]), op: cm[5], value: first(cm[6:9]), number: cm[8] != ""}
			if cl.relational() {
				if _, err := strconv.ParseFloat(cl.value, 64); err != nil {
					return nil, false, fmt.Errorf("%q orders text; floodgate compares numbers with %s", part, cl.op)
				}
			}
			out = append(out, cl)
			continue
		}
		if em := condEquals.FindStringSubmatch(part); em != nil {
			op := "=="
			if em[1] == "!" {
				op = "!="
			}
			out = append(out, clause{name: first(em[2:6]), op: op, value: first(em[6:9]), number: false})
			continue
		}
		return nil, false, fmt.Errorf("%q is not a comparison of a variable with a constant", part)
	}
	return out, and, nil
}

// balanced reports whether s's parentheses pair up, so that "(a) && (b)"
// is not taken for one parenthesised expression.
func balanced(s string) bool {
	depth := 0
	for _, r := range s {
		switch r {
		case '(':
			depth++
		case ')':
			if depth--; depth < 0 {
				return false
			}
		}
	}
	return depth == 0
}

func first(ss []string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

var exprIdent = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

var exprReserved = map[string]bool{
	"in": true, "not": true, "and": true, "or": true, "matches": true, "contains": true, "startsWith": true,
	"endsWith": true, "let": true, "nil": true, "true": true, "false": true, "if": true, "else": true,
}

// exprPath writes a gjson path (names and indexes) as an expr-lang
// member expression: entities.0.state → entities[0].state.
func exprPath(spec string) (string, bool) {
	if spec == "$" || strings.HasPrefix(spec, "header:") {
		return "", false
	}
	var b strings.Builder
	for i, p := range strings.Split(spec, ".") {
		switch {
		case isDigits(p) && i > 0:
			b.WriteString("[" + p + "]")
		case exprIdent.MatchString(p) && !exprReserved[p] && !strings.HasPrefix(p, "$"):
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(p)
		default:
			return "", false
		}
	}
	return b.String(), true
}

// jsonSpec returns the gjson path a JSON Extractor of the request (or of
// the While around it) sets variable name from, or "".
func jsonSpec(sampler, while *Element, name string) string {
	var cands []*Element
	cands = append(cands, sampler.Children...)
	for _, ch := range while.Children {
		if !structural(ch) {
			cands = append(cands, ch)
		}
	}
	for _, x := range cands {
		if !x.Enabled || kindOf(x) != kJSONExtractor {
			continue
		}
		names := strings.Split(x.Str("JSONPostProcessor.referenceNames"), ";")
		exprs := strings.Split(x.Str("JSONPostProcessor.jsonPathExprs"), ";")
		matches := strings.Split(x.Str("JSONPostProcessor.match_numbers"), ";")
		for i, n := range names {
			if strings.TrimSpace(n) != name || i >= len(exprs) {
				continue
			}
			m := ""
			if i < len(matches) {
				m = matches[i]
			}
			if spec, err := gjsonPath(exprs[i], m); err == nil {
				return spec
			}
		}
	}
	return ""
}
