package plan

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Threshold is a pass/fail check on a run's metrics, parsed from one
// entry of `thresholds` (the grammar is in the package doc). Limit is in
// the metric's unit: milliseconds for latencies, a fraction for rate(),
// per second for goodput and the other rates, a plain number otherwise.
type Threshold struct {
	// Text is the expression as written; Pos where it is in the plan.
	Text string
	Pos  Pos
	// Func is "p" (with Percentile), "mean", "max" or "min" over a
	// latency; "rate" or "count" over an event; "" for a counter.
	Func       string
	Percentile float64
	// Metric is the latency (LatencyFromDue, LatencyFromSend,
	// LatencyAttempt), the event of rate() and count() ("status",
	// "final_status", "error", "lost", "failed", "dropped", "retries"),
	// or the counter ("requests", "goodput", ...).
	Metric string
	// Match is the status pattern ("429", "4xx") of a status or
	// final_status event, or the class of an error event.
	Match string
	// Scenario and Step select what is measured; "" means every one.
	// Step is a metric path such as "create_job" or "checkout/pay".
	Scenario, Step string
	// Op is one of <, <=, >, >=, ==, !=.
	Op    string
	Limit float64
	// Unit is how Limit (and the measured value) is shown: "ms", "%"
	// (Limit is a fraction), "/s" or "".
	Unit string
	// AbortOnFail stops the run as soon as the threshold fails, checked
	// every second once DelayAbortEval has passed since the start.
	AbortOnFail    bool
	DelayAbortEval time.Duration
}

// Latency metric names, as Threshold.Metric holds them.
const (
	LatencyFromDue  = "latency.from_due"
	LatencyFromSend = "latency.from_send"
	LatencyAttempt  = "latency.attempt"
)

// Threshold vocabularies, in the order messages list them.
var (
	thresholdLatencies = []string{"latency", LatencyFromDue, LatencyFromSend, LatencyAttempt}
	thresholdEvents    = []string{"status", "final_status", "error", "lost", "failed", "dropped", "retries"}
	thresholdCounters  = []string{"requests", "succeeded", "failed", "lost", "dropped", "offered", "started",
		"attempts", "retries", "goodput", "achieved_rate", "offered_rate", "retry_amplification"}
	thresholdRates   = []string{"goodput", "achieved_rate", "offered_rate"}
	thresholdClasses = []string{"status", "connect", "timeout", "tls", "reset", "other", "budget", "auth"}
	thresholdOps     = []string{"<=", ">=", "==", "!=", "<", ">"}
	thresholdLabels  = []string{"scenario", "step"}
)

// ThresholdError is a threshold that does not parse; Offset is the byte
// offset in its text.
type ThresholdError struct {
	Offset int
	Msg    string
}

func (e *ThresholdError) Error() string {
	return fmt.Sprintf("col %d: %s", e.Offset+1, e.Msg)
}

// ParseThreshold parses one threshold expression.
func ParseThreshold(text string) (*Threshold, error) {
	p := &thresholdParser{s: text}
	t, err := p.parse()
	if err != nil {
		return nil, err
	}
	t.Text = strings.TrimSpace(text)
	return t, nil
}

// Pass reports whether the measured value v meets the threshold.
func (t *Threshold) Pass(v float64) bool {
	if math.IsNaN(v) {
		return false
	}
	switch t.Op {
	case "<":
		return v < t.Limit
	case "<=":
		return v <= t.Limit
	case ">":
		return v > t.Limit
	case ">=":
		return v >= t.Limit
	case "==":
		return v == t.Limit
	case "!=":
		return v != t.Limit
	}
	return false
}

// FormatValue renders v (or Limit) in the threshold's unit: "812.5 ms",
// "0.42%", "51.2/s", "3".
func (t *Threshold) FormatValue(v float64) string {
	switch t.Unit {
	case "ms":
		return formatFloat(v) + " ms"
	case "%":
		return formatFloat(v*100) + "%"
	case "/s":
		return formatFloat(v) + "/s"
	}
	return formatFloat(v)
}

// formatFloat writes v in its shortest form after rounding to six
// decimals, so that float noise (0.936*100 = 93.60000000000001) does not
// reach the user.
func formatFloat(v float64) string {
	return strconv.FormatFloat(math.Round(v*1e6)/1e6, 'f', -1, 64)
}

type thresholdParser struct {
	s   string
	pos int
}

func (p *thresholdParser) errf(at int, format string, args ...any) error {
	return &ThresholdError{at, fmt.Sprintf(format, args...)}
}

func (p *thresholdParser) skipSpace() {
	for p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t') {
		p.pos++
	}
}

// isWord reports whether c may be part of a word: names, numbers with
// units, status patterns, step paths.
func isWord(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '.' || c == '-' || c == '/' || c == '%' || c >= 0x80
}

// word reads a word (or a quoted string) and returns it and its offset.
func (p *thresholdParser) word(what string) (string, int, error) {
	p.skipSpace()
	at := p.pos
	if p.pos < len(p.s) && p.s[p.pos] == '"' {
		end := p.pos + 1
		for ; end < len(p.s) && p.s[end] != '"'; end++ {
			if p.s[end] == '\\' {
				end++
			}
		}
		if end >= len(p.s) {
			return "", at, p.errf(at, "unterminated string; close it with \"")
		}
		w, err := strconv.Unquote(p.s[at : end+1])
		if err != nil {
			return "", at, p.errf(at, "bad string %s", p.s[at:end+1])
		}
		p.pos = end + 1
		return w, at, nil
	}
	for p.pos < len(p.s) && isWord(p.s[p.pos]) {
		p.pos++
	}
	if p.pos == at {
		if at >= len(p.s) {
			return "", at, p.errf(at, "expected %s, found the end", what)
		}
		r, _ := utf8.DecodeRuneInString(p.s[at:])
		return "", at, p.errf(at, "expected %s, found %q", what, r)
	}
	return p.s[at:p.pos], at, nil
}

// peek reports whether the next non-space text is tok, and consumes it
// if so.
func (p *thresholdParser) accept(tok string) bool {
	p.skipSpace()
	if strings.HasPrefix(p.s[p.pos:], tok) {
		p.pos += len(tok)
		return true
	}
	return false
}

func (p *thresholdParser) expect(tok, hint string) error {
	if p.accept(tok) {
		return nil
	}
	p.skipSpace()
	found := "the end"
	if p.pos < len(p.s) {
		r, _ := utf8.DecodeRuneInString(p.s[p.pos:])
		found = strconv.QuoteRune(r)
	}
	return p.errf(p.pos, "expected %q, found %s; %s", tok, found, hint)
}

func (p *thresholdParser) parse() (*Threshold, error) {
	t := &Threshold{}
	name, at, err := p.word("a metric such as p99(latency), rate(status=429) or lost")
	if err != nil {
		return nil, err
	}
	kind := ""
	if p.accept("(") {
		switch {
		case name == "rate" || name == "count":
			t.Func = name
			if err := p.event(t); err != nil {
				return nil, err
			}
			kind = "%"
			if name == "count" {
				kind = ""
			}
		case name == "mean" || name == "max" || name == "min" || strings.HasPrefix(name, "p"):
			if name[0] == 'p' && name != "p" {
				pct, err := strconv.ParseFloat(name[1:], 64)
				if err != nil || !(pct > 0 && pct <= 100) || strings.ContainsAny(name[1:], "eE+-_") {
					return nil, p.errf(at, "bad percentile %q; write p50, p95, p99 or p99.9 (above 0, at most 100)", name)
				}
				t.Func, t.Percentile = "p", pct
			} else if name == "p" {
				return nil, p.errf(at, "p needs a percentile; write p95(latency) or p99.9(latency)")
			} else {
				t.Func = name
			}
			lat, lat0, err := p.word("a latency: latency, latency.from_send or latency.attempt")
			if err != nil {
				return nil, err
			}
			if !slices.Contains(thresholdLatencies, lat) {
				return nil, p.errf(lat0, "%s() takes a latency, got %q;%s use %s", name, lat, didYouMean(lat, thresholdLatencies), strings.Join(thresholdLatencies, ", "))
			}
			if lat == "latency" {
				lat = LatencyFromDue
			}
			t.Metric = lat
			if err := p.selector(t); err != nil {
				return nil, err
			}
			if err := p.expect(")", "close the function call"); err != nil {
				return nil, err
			}
			kind = "ms"
		default:
			return nil, p.errf(at, "unknown function %q; use p95(...), p99(...), mean(...), max(...), min(...), rate(...) or count(...)", name)
		}
	} else {
		switch {
		case slices.Contains(thresholdLatencies, name):
			return nil, p.errf(at, "%s needs an aggregation; write p99(%s), mean(%s) or max(%s)", name, name, name, name)
		case !slices.Contains(thresholdCounters, name):
			hint := didYouMean(name, append(slices.Clone(thresholdCounters), "rate", "count", "p99", "mean", "max"))
			return nil, p.errf(at, "unknown metric %q;%s use a counter (%s), pNN(latency), mean(latency), max(latency), rate(...) or count(...)",
				name, hint, strings.Join(thresholdCounters, ", "))
		}
		t.Metric = name
		if err := p.selector(t); err != nil {
			return nil, err
		}
		if slices.Contains(thresholdRates, name) {
			kind = "/s"
		}
	}
	p.skipSpace()
	opAt := p.pos
	for _, op := range thresholdOps {
		if strings.HasPrefix(p.s[p.pos:], op) {
			t.Op = op
			p.pos += len(op)
			break
		}
	}
	if t.Op == "" {
		if p.pos < len(p.s) && p.s[p.pos] == '=' {
			return nil, p.errf(opAt, "= assigns; compare with ==")
		}
		return nil, p.errf(opAt, "expected a comparison (<, <=, >, >=, == or !=) after the metric")
	}
	p.skipSpace()
	valAt := p.pos
	val := strings.ReplaceAll(strings.TrimSpace(p.s[p.pos:]), " ", "")
	if val == "" {
		return nil, p.errf(valAt, "expected a value after %s", t.Op)
	}
	if err := t.setLimit(val, kind); err != nil {
		return nil, p.errf(valAt, "%s", err)
	}
	return t, nil
}

// event parses rate's or count's arguments: an event, then labels.
func (p *thresholdParser) event(t *Threshold) error {
	ev, at, err := p.word("an event: status=429, final_status=5xx, error=timeout, lost, failed, dropped or retries")
	if err != nil {
		return err
	}
	if !slices.Contains(thresholdEvents, ev) {
		if slices.Contains(thresholdLabels, ev) {
			return p.errf(at, "%s() needs an event first, e.g. %s(status=429, %s=...)", t.Func, t.Func, ev)
		}
		return p.errf(at, "unknown event %q;%s use status=NNN, final_status=NNN, error=CLASS, lost, failed, dropped or retries",
			ev, didYouMean(ev, thresholdEvents))
	}
	t.Metric = ev
	switch ev {
	case "status", "final_status", "error":
		if err := p.expect("=", fmt.Sprintf("write %s=...", ev)); err != nil {
			return err
		}
		v, vat, err := p.word("a value")
		if err != nil {
			return err
		}
		if ev == "error" {
			if !slices.Contains(thresholdClasses, v) {
				return p.errf(vat, "unknown error class %q;%s use %s", v, didYouMean(v, thresholdClasses), strings.Join(thresholdClasses, ", "))
			}
		} else if !statusPattern(v) {
			return p.errf(vat, "bad status %q; write a status such as 429, or a class such as 4xx", v)
		}
		t.Match = v
	}
	for p.accept(",") {
		if err := p.label(t); err != nil {
			return err
		}
	}
	return p.expect(")", "close rate(...) or count(...); separate labels with commas")
}

// selector parses an optional {label=value, ...}.
func (p *thresholdParser) selector(t *Threshold) error {
	if !p.accept("{") {
		return nil
	}
	for {
		if err := p.label(t); err != nil {
			return err
		}
		if p.accept("}") {
			return nil
		}
		if err := p.expect(",", "separate labels with commas and close with }"); err != nil {
			return err
		}
	}
}

func (p *thresholdParser) label(t *Threshold) error {
	l, at, err := p.word("a label: scenario=... or step=...")
	if err != nil {
		return err
	}
	if !slices.Contains(thresholdLabels, l) {
		return p.errf(at, "unknown label %q;%s select with scenario=NAME or step=NAME", l, didYouMean(l, thresholdLabels))
	}
	if err := p.expect("=", fmt.Sprintf("write %s=NAME", l)); err != nil {
		return err
	}
	v, vat, err := p.word("a name (quote names with spaces)")
	if err != nil {
		return err
	}
	if v == "" {
		return p.errf(vat, "%s is empty", l)
	}
	dst := &t.Scenario
	if l == "step" {
		dst = &t.Step
	}
	if *dst != "" {
		return p.errf(at, "%s is given twice; keep one", l)
	}
	*dst = v
	return nil
}

// statusPattern accepts 100-599 and 1xx-5xx.
func statusPattern(s string) bool {
	if len(s) != 3 || s[0] < '1' || s[0] > '5' {
		return false
	}
	if s[1:] == "xx" {
		return true
	}
	return s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9'
}

// setLimit reads the value in the metric's kind: "ms" (latency), "%"
// (a fraction), "/s" (per second) or "" (a plain number).
func (t *Threshold) setLimit(v, kind string) error {
	n := 0
	for n < len(v) && (v[n] >= '0' && v[n] <= '9' || v[n] == '.') {
		n++
	}
	num, unit := v[:n], v[n:]
	f, err := strconv.ParseFloat(num, 64)
	if num == "" || err != nil || math.IsInf(f, 0) {
		return fmt.Errorf("bad value %q; give a number such as %s", v, example(kind))
	}
	t.Unit = kind
	switch kind {
	case "ms":
		if unit == "" {
			t.Limit = f
			break
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("%s compares a latency: give a duration such as 800ms or 2s (or milliseconds), not %q", t.metricText(), v)
		}
		t.Limit = float64(d) / float64(time.Millisecond)
	case "%":
		switch unit {
		case "%":
			if f > 100 {
				return fmt.Errorf("%q is over 100%%", v)
			}
			t.Limit = f / 100
		case "":
			if f > 1 {
				return fmt.Errorf("a rate is a fraction of 1 or a percentage; write %g%% or %g", f, f/100)
			}
			t.Limit = f
		default:
			return fmt.Errorf("%s compares a share: give a percentage such as 1%% or a fraction such as 0.01, not %q", t.metricText(), v)
		}
	case "/s":
		switch unit {
		case "", "/s":
			t.Limit = f
		case "/m":
			t.Limit = f / 60
		case "/h":
			t.Limit = f / 3600
		default:
			return fmt.Errorf("%s is per second: give a rate such as 50/s or 3000/m, not %q", t.metricText(), v)
		}
	default:
		if unit != "" {
			return fmt.Errorf("%s is a plain number: drop the unit from %q", t.metricText(), v)
		}
		t.Limit = f
	}
	return nil
}

func (t *Threshold) metricText() string {
	if t.Func != "" {
		return t.Func + "(...)"
	}
	return t.Metric
}

func example(kind string) string {
	switch kind {
	case "ms":
		return "800ms"
	case "%":
		return "1%"
	case "/s":
		return "50/s"
	}
	return "0"
}
