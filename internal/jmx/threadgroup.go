package jmx

import (
	"fmt"
	"math"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/floodgate-dev/floodgate/internal/plan"
	"github.com/floodgate-dev/floodgate/internal/scenario"
)

// scope is one level of JMeter's tree (Test Plan, Thread Group, a
// controller, a sampler): its config elements, timers, assertions and
// processors apply to every sampler below it.
type scope struct {
	parent *scope
	owner  *Element
	elems  []*Element // enabled, non-structural children
	level  int        // 0 Test Plan, 1 Thread Group, 2+ below
}

// chain returns the scopes from the outermost to s.
func (s *scope) chain() []*scope {
	var out []*scope
	for ; s != nil; s = s.parent {
		out = append(out, s)
	}
	slices.Reverse(out)
	return out
}

// scenarioCtx tracks a scenario's variables while its steps convert, in
// order: data columns, then each step's extractions.
type scenarioCtx struct {
	defined map[string]bool
	// early lists variables used before anything converted sets them,
	// in order of first use.
	early   []string
	earlyAt map[string]*Element
	// extracted holds every name some step extracts.
	extracted map[string]bool
	// why says why a name is used unset, when it is not a script's doing.
	why map[string]string
	// lists holds the names extracted as lists (all matches).
	lists map[string]bool
}

func (s *scenarioCtx) use(name string, at *Element) {
	if s.defined[name] || s.earlyAt[name] != nil {
		return
	}
	s.early = append(s.early, name)
	s.earlyAt[name] = at
}

// structural reports whether e is a sampler or controller: something that
// runs in sequence, rather than applying to the samplers in its scope.
func structural(e *Element) bool {
	switch kindOf(e) {
	case kHTTPSampler, kSampler, kLoopController, kWhileController, kTransactionController, kSimpleController, kController:
		return true
	case kScript:
		return strings.HasSuffix(e.TestClass, "Sampler")
	}
	return false
}

func newScope(parent *scope, owner *Element, children []*Element) *scope {
	s := &scope{parent: parent, owner: owner}
	if parent != nil {
		s.level = parent.level + 1
	}
	for _, e := range children {
		if e.Enabled && !structural(e) {
			s.elems = append(s.elems, e)
		}
	}
	return s
}

var scenarioChars = func(s string) string {
	var b strings.Builder
	last := byte(0)
	for _, r := range strings.ToLower(strings.TrimSpace(s)) {
		c := byte('_')
		if r < 128 && (isWord(byte(r)) || r == '.' || r == '-') {
			c = byte(r)
		}
		if c == '_' && last == '_' {
			continue
		}
		b.WriteByte(c)
		last = c
	}
	return strings.Trim(b.String(), "_")
}

func unique(name string, taken map[string]bool, sep string) string {
	n := name
	for k := 2; taken[n]; k++ {
		n = name + sep + strconv.Itoa(k)
	}
	taken[n] = true
	return n
}

// threadGroup converts a Thread Group to a scenario; nil when it has
// nothing to run.
func (c *converter) threadGroup(g *Element, top *scope, names map[string]bool) *outScenario {
	key := scenarioChars(g.Name)
	if key == "" {
		key = "thread_group"
	}
	sc := &outScenario{src: Path(g), execSrc: Path(g), name: unique(key, names, "_")}
	tg := newScope(top, g, g.Children)
	ctx := &scenarioCtx{defined: map[string]bool{}, earlyAt: map[string]*Element{}, extracted: map[string]bool{}, why: map[string]string{}, lists: map[string]bool{}}
	c.sc = ctx
	defer func() { c.sc = nil }()

	ex := c.readThreadGroup(g)
	if ex.threads.known && ex.threads.value < 1 {
		c.notConverted(g, "it has %s threads, so JMeter runs nothing", ex.threads.text)
		return nil
	}

	// The data file and scenario headers come first: steps use them.
	c.data(g, top, tg, sc)
	c.counters(g, top, tg, sc)
	if cm := c.inScope(g, top, tg, func(e *Element) bool { return shortClass(e.TestClass) == "CookieManager" }); len(cm) > 0 {
		sc.cookies = Path(cm[0])
	}
	sc.headers = c.scopeHeaders(top, tg)

	// One Loop Controller holding everything multiplies the iterations.
	children, body := g.Children, tg
	if lc := soleLoop(g.Children); lc != nil && ex.loops.known && !ex.loops.env {
		n := c.number(loopCount(lc), 1, lc)
		if n.known && !n.env && n.value >= 1 && !ex.forever {
			ex.loops.value *= math.Round(n.value)
			ex.loops.text = formatNum(ex.loops.value)
			ex.folded = lc
			children, body = lc.Children, newScope(tg, lc, lc.Children)
		}
	}
	taken := map[string]bool{}
	sc.steps = c.walk(children, body, taken)
	if !sends(sc.steps) {
		c.notConverted(g, "no HTTP Request in it converts, so it becomes no scenario")
		return nil
	}
	sc.executor = c.executor(g, tg, top, ex, sc)

	// Variables used before anything sets them: declare them empty, so
	// the plan parses, and say why.
	for _, name := range ctx.early {
		at := ctx.earlyAt[name]
		note := "nothing converted sets it; give it a value"
		if why := ctx.why[name]; why != "" {
			note = why
		} else if ctx.extracted[name] {
			note = "a later step extracts it; JMeter would use the previous iteration's value"
			c.approximated(at, "variable %s is used before the step that extracts it; it starts empty in each iteration", name)
		} else {
			c.notConverted(at, "variable %s is set by nothing that converted (a script?); it is declared empty under vars", name)
		}
		sc.vars = append(sc.vars, kv{key: name, value: "", src: Path(at), note: note})
	}
	return sc
}

// sends reports whether steps hold a request or poll.
func sends(steps []*outStep) bool {
	for _, st := range steps {
		if st.request != nil || st.poll != nil || sends(st.children()) {
			return true
		}
	}
	return false
}

// soleLoop returns the Loop Controller that is the only structural child.
func soleLoop(children []*Element) *Element {
	var only *Element
	for _, e := range children {
		if !e.Enabled || !structural(e) {
			continue
		}
		if only != nil {
			return nil
		}
		only = e
	}
	if only != nil && kindOf(only) == kLoopController {
		return only
	}
	return nil
}

func loopCount(e *Element) string {
	if s := e.Str("LoopController.loops"); s != "" {
		return s
	}
	if p := e.Prop("ThreadGroup.main_controller"); p != nil {
		return p.Str("LoopController.loops")
	}
	return "1"
}

// tgSettings are a Thread Group's load settings.
type tgSettings struct {
	threads, ramp, loops, duration numberField
	forever, scheduler             bool
	folded                         *Element // a Loop Controller folded into loops
}

func (c *converter) readThreadGroup(g *Element) *tgSettings {
	ex := &tgSettings{}
	ex.threads = c.number(g.Str("ThreadGroup.num_threads"), 1, g)
	ex.ramp = c.number(g.Str("ThreadGroup.ramp_time"), 0, g)
	lc := g.Prop("ThreadGroup.main_controller")
	loops := "1"
	if lc != nil {
		if s := lc.Str("LoopController.loops"); s != "" {
			loops = s
		}
	}
	ex.loops = c.number(loops, 1, g)
	ex.forever = ex.loops.known && ex.loops.value < 0
	if ex.loops.known && ex.loops.value == 0 {
		ex.forever = false
		ex.loops.value, ex.loops.text = 1, "1"
		c.approximated(g, "Loop Count 0 runs once in floodgate")
	}
	ex.scheduler = g.Bool("ThreadGroup.scheduler", false)
	if c.pluginSchedule(g, ex) {
		ex.scheduler = true
	} else if ex.scheduler {
		ex.duration = c.number(g.Str("ThreadGroup.duration"), 0, g)
		if d := strings.TrimSpace(g.Str("ThreadGroup.delay")); d != "" && d != "0" {
			c.approximated(g, "the startup delay of %s s is not converted: the scenario starts at once", d)
		}
	}
	hasDuration := ex.scheduler && (ex.duration.env || ex.duration.value > 0)
	if !hasDuration {
		ex.duration = numberField{}
	}
	if ex.forever && !hasDuration {
		// JMeter users run these with a duration or until they stop
		// them; floodgate runs are bounded, so the duration becomes a
		// variable the run must set.
		ex.duration = numberField{text: "${" + DurationVar + "}", env: true, known: true, goDuration: true}
		c.forever = append(c.forever, Path(g))
		c.approximated(g, "it loops forever (Loop Count \"Infinite\", no Duration): the scenario runs for ${%s}, which must be set when the plan runs, e.g. %s=10m floodgate run plan.yaml", DurationVar, DurationVar)
	}
	switch g.Str("ThreadGroup.on_sample_error") {
	case "", "continue":
		c.approximated(g, "on a sampler error JMeter continues with the next sampler; floodgate ends the iteration at a failed step (JMeter's \"Start Next Thread Loop\")")
	case "startnextloop":
	default:
		c.approximated(g, "on a sampler error JMeter stops the thread or the test (%s); floodgate ends the iteration and goes on", g.Str("ThreadGroup.on_sample_error"))
	}
	return ex
}

// pluginSchedule reads the load profile of the jmeter-plugins thread
// groups (Ultimate, Stepping, Concurrency) as a closed executor: their
// threads, one linear ramp, and the profile's length as the duration.
// It reports whether g is one of them.
func (c *converter) pluginSchedule(g *Element, ex *tgSettings) bool {
	num := func(name string) float64 {
		n := c.number(g.Str(name), 0, g)
		return n.value
	}
	var threads, ramp, length float64
	switch shortClass(g.TestClass) {
	case "UltimateThreadGroup":
		rows := g.Prop("ultimatethreadgroupdata")
		if rows == nil || len(rows.Props) == 0 {
			return false
		}
		for _, row := range rows.Props {
			var f [5]float64
			for i, p := range row.Props {
				if i < len(f) {
					f[i] = c.number(p.Value, 0, g).value
				}
			}
			threads += f[0]
			ramp = max(ramp, f[1]+f[2])
			length = max(length, f[1]+f[2]+f[3])
		}
		c.approximated(g, "its %d schedule row(s) become one ramp: %s threads over %s s, for %s s in all (row delays and shutdowns are not kept)", len(rows.Props), formatNum(threads), formatNum(ramp), formatNum(length))
	case "SteppingThreadGroup":
		threads = num("ThreadGroup.num_threads")
		step, period, delay, hold := num("Start users count"), num("Start users period"), num("Threads initial delay"), num("flighttime")
		if step <= 0 {
			step = threads
		}
		ramp = delay + math.Ceil(threads/math.Max(step, 1))*period
		length = ramp + hold
		c.approximated(g, "its steps of %s threads every %s s become one ramp of %s s, then %s s at %s threads", formatNum(step), formatNum(period), formatNum(ramp), formatNum(hold), formatNum(threads))
	case "ConcurrencyThreadGroup":
		unit := 1.0
		if strings.EqualFold(g.Str("Unit"), "M") {
			unit = 60
		}
		threads, ramp = num("TargetLevel"), num("RampUp")*unit
		length = ramp + num("Hold")*unit
		if steps := g.Str("Steps"); steps != "" && steps != "0" {
			c.approximated(g, "its %s steps become one linear ramp", steps)
		}
		// Its threads loop until the profile ends, or Iterations.
		ex.forever = true
		if n := num("Iterations"); n >= 1 {
			ex.loops = numberField{text: formatNum(n), value: n, known: true}
			ex.forever = false
		}
	default:
		return false
	}
	if threads < 1 || length <= 0 {
		return false
	}
	ex.threads = numberField{text: formatNum(math.Round(threads)), value: math.Round(threads), known: true}
	ex.ramp = numberField{text: formatNum(math.Min(ramp, length)), value: math.Min(ramp, length), known: true}
	ex.duration = numberField{text: formatNum(length), value: length, known: true}
	return true
}

// executor writes the scenario's executor: closed, or open when a
// Constant Throughput Timer paces the thread group.
func (c *converter) executor(g *Element, tg, top *scope, ex *tgSettings, sc *outScenario) string {
	if open := c.throughputTimer(g, tg, top, ex, sc); open != "" {
		return open
	}
	parts := []string{"vus: " + ex.threads.count()}
	if ex.ramp.env || ex.ramp.value > 0 {
		ramp := ex.ramp
		if !ramp.env && !ex.duration.env && ex.duration.value > 0 && ramp.value > ex.duration.value {
			c.approximated(g, "ramp-up %s s is longer than the duration %s s; it is cut to the duration", formatNum(ramp.value), formatNum(ex.duration.value))
			ramp = ex.duration
		}
		parts = append(parts, "ramp_up: "+ramp.seconds())
	}
	if !ex.forever {
		parts = append(parts, "iterations: "+ex.loops.count())
	}
	if ex.duration.env || ex.duration.value > 0 {
		parts = append(parts, "duration: "+ex.duration.seconds())
	}
	desc := fmt.Sprintf("%s: %s threads", label(g), ex.threads.text)
	if ex.ramp.env || ex.ramp.value > 0 {
		desc += ", ramp-up " + ex.ramp.text + " s"
	}
	if ex.forever {
		desc += ", loops forever"
	} else {
		desc += ", " + ex.loops.text + " loops"
		if ex.folded != nil {
			desc += " (with " + label(ex.folded) + ")"
		}
	}
	if ex.duration.goDuration {
		desc += ", for " + ex.duration.text
	} else if ex.duration.env || ex.duration.value > 0 {
		desc += ", for " + ex.duration.text + " s"
	}
	sc.comments = append(sc.comments, comment{text: desc, src: Path(g)})
	return "closed: {" + strings.Join(parts, ", ") + "}"
}

var calcModes = []string{
	"this thread only",
	"all active threads",
	"all active threads in current thread group",
	"all active threads (shared)",
	"all active threads in current thread group (shared)",
}

// throughputTimer converts a Constant Throughput Timer in the thread
// group's scope to an open executor: its target is in samples per
// MINUTE; with k samples per iteration, the iteration rate is
//
//	this thread only:                        threads × target / k per minute
//	all active threads in the thread group:  target / k per minute
//	all active threads:                      target × threads/all threads / k per minute
//
// with max_vus = threads, and duration the thread group's, or the time the
// JMeter plan's threads × loops iterations take at that rate.
func (c *converter) throughputTimer(g *Element, tg, top *scope, ex *tgSettings, sc *outScenario) string {
	var timers []*Element
	for _, s := range []*scope{top, tg} {
		for _, e := range s.elems {
			if kindOf(e) == kThroughputTimer {
				timers = append(timers, e)
			}
		}
	}
	var deep func(es []*Element)
	deep = func(es []*Element) {
		for _, e := range es {
			if !e.Enabled {
				continue
			}
			if structural(e) {
				for _, ch := range e.Children {
					if ch.Enabled && kindOf(ch) == kThroughputTimer {
						timers = append(timers, ch)
					}
				}
				deep(e.Children)
			}
		}
	}
	deep(g.Children)
	if len(timers) == 0 {
		return ""
	}
	t := timers[0]
	for _, o := range timers[1:] {
		c.notConverted(o, "only the first Constant Throughput Timer of a thread group converts (%s)", label(t))
	}
	k := countSamplers(sc.steps)
	tp := Throughput{Path: Path(t), ThreadGroup: Path(g), Samplers: k}
	raw := t.Str("throughput")
	n := c.number(raw, 0, t)
	mode, _ := strconv.Atoi(t.Str("calcMode"))
	if mode < 0 || mode >= len(calcModes) {
		mode = 0
	}
	tp.Mode, tp.ModeText = mode, calcModes[mode]
	tp.PerMinute, tp.Known = n.value, n.known
	if ex.threads.known {
		tp.Threads = int(ex.threads.value)
	}
	defer func() { c.throughput = append(c.throughput, tp) }()
	if !n.known || n.value <= 0 || !ex.threads.known || k == 0 {
		c.notConverted(t, "its target %q (samples per minute) or the thread count is not a number; the scenario runs unpaced", raw)
		return ""
	}
	threads := ex.threads.value
	perMin := n.value // samples per minute, for the thread group
	switch mode {
	case 0:
		perMin = n.value * threads
	case 1, 3:
		if all := c.allThreads(); all > 0 {
			perMin = n.value * threads / all
		}
	}
	tp.PerSecond = perMin / 60
	iterPerMin := perMin / float64(k)
	rate := strconv.FormatFloat(math.Round(iterPerMin*1000)/1000, 'f', -1, 64) + "/m"
	var duration string
	switch {
	case ex.duration.env || ex.duration.value > 0:
		duration = ex.duration.seconds()
	case !ex.forever && ex.loops.known:
		total := threads * ex.loops.value
		secs := math.Ceil(total / (iterPerMin / 60))
		duration = plan.FormatDuration(time.Duration(secs) * time.Second)
		if ex.loops.env || ex.threads.env {
			c.approximated(g, "the duration is computed from the defaults of its properties")
		}
	}
	ps := strconv.FormatFloat(math.Round(tp.PerSecond*1000)/1000, 'f', -1, 64)
	var why string
	switch mode {
	case 0:
		why = fmt.Sprintf("%s per thread (%s) × %s threads = %s samples/s", formatNum(n.value), calcModes[mode], formatNum(threads), ps)
	case 1, 3:
		why = fmt.Sprintf("%s (%s), this thread group's share = %s samples/s", formatNum(n.value), calcModes[mode], ps)
	default:
		why = fmt.Sprintf("%s (%s) = %s samples/s", formatNum(n.value), calcModes[mode], ps)
	}
	why += fmt.Sprintf("; %d sample(s) per iteration → open rate %s with up to %s VUs", k, rate, ex.threads.text)
	c.approximated(t, "JMeter's target is in samples per MINUTE: %s; iterations now arrive on schedule (open model) instead of threads pacing themselves", why)
	threadsCount := ex.threads
	if mode == 2 || mode == 4 {
		threadsCount = numberField{} // the thread group's total does not depend on them
	}
	if n.env || threadsCount.env {
		c.approximated(t, "the rate is computed from the defaults of %s; change the rate here when you change them", strings.Join(envNames(n, threadsCount), " and "))
	}
	if ex.ramp.env || ex.ramp.value > 0 {
		c.approximated(g, "the ramp-up is not kept under a Constant Throughput Timer: the rate applies from the start")
	}
	parts := []string{"rate: " + rate}
	if duration != "" {
		parts = append(parts, "duration: "+duration)
	}
	parts = append(parts, "max_vus: "+ex.threads.count())
	sc.comments = append(sc.comments, comment{text: fmt.Sprintf("%s: %s threads paced by %s", label(g), ex.threads.text, label(t)), src: Path(g)})
	return "open: {" + strings.Join(parts, ", ") + "}"
}

// allThreads sums the thread counts of every enabled thread group whose
// count is known.
func (c *converter) allThreads() float64 { return c.totalThreads }

func countSamplers(steps []*outStep) int {
	n := 0
	for _, st := range steps {
		if st.request != nil || st.poll != nil {
			n++
		}
		n += countSamplers(st.children())
	}
	return n
}

// data converts the first CSV Data Set Config in the thread group's
// scope to data:, and defines its columns.
func (c *converter) data(g *Element, top, tg *scope, sc *outScenario) {
	var sets []*Element
	for _, s := range []*scope{top, tg} {
		for _, e := range s.elems {
			if kindOf(e) == kCSVDataSet {
				sets = append(sets, e)
			}
		}
	}
	var deep func(es []*Element)
	deep = func(es []*Element) {
		for _, e := range es {
			if e.Enabled && structural(e) {
				for _, ch := range e.Children {
					if ch.Enabled && kindOf(ch) == kCSVDataSet {
						sets = append(sets, ch)
					}
				}
				deep(e.Children)
			}
		}
	}
	deep(g.Children)
	if len(sets) == 0 {
		return
	}
	e := sets[0]
	for _, o := range sets[1:] {
		c.notConverted(o, "a scenario reads one data file; only %s converts — merge the files into one with all columns", label(e))
	}
	file := strings.TrimSpace(e.Str("filename"))
	if file == "" {
		c.notConverted(e, "it names no file")
		return
	}
	names := splitNames(e.Str("variableNames"), ",")
	delim := e.Str("delimiter")
	if p := e.Prop("delimiter"); p != nil {
		delim = p.Value // "\t" and " " matter
	}
	ignoreFirst := e.Bool("ignoreFirstLine", false)
	head, readable := c.readHeaderLine(file)
	headNames := splitNames(head, ",")
	declare := func(why string) {
		c.notConverted(e, "%s", why)
		for _, n := range names {
			c.sc.use(varName(n), e)
			c.sc.why[varName(n)] = "a column of " + label(e) + ", which did not convert"
		}
	}
	switch {
	case delim != "" && delim != ",":
		declare(fmt.Sprintf("floodgate reads comma-separated files with a header line; %q uses delimiter %q — convert it, then add data: {file: ...}", file, delim))
		return
	case len(names) > 0 && !ignoreFirst:
		declare(fmt.Sprintf("floodgate takes the column names from the file's first line; add the line %q at the top of %s, then add data: {file: %s}", strings.Join(names, ","), file, file))
		return
	case len(names) > 0 && readable && !slices.Equal(names, headNames):
		declare(fmt.Sprintf("the first line of %s names the columns %q, the element %q; floodgate uses the file's — make them the same, then add data: {file: %s}", file, head, strings.Join(names, ","), file))
		return
	}
	if len(names) == 0 {
		names = headNames
	}
	if !readable {
		c.approximated(e, "%s could not be read here, so its columns are not checked; the plan reads it relative to its own directory", file)
	}
	onExhaust := "recycle"
	if !e.Bool("recycle", true) {
		onExhaust = "stop"
		if !e.Bool("stopThread", false) {
			c.approximated(e, "at the end of the file JMeter hands out <EOF> values; floodgate stops starting iterations")
		}
	}
	if m := e.Str("shareMode"); m != "" && m != "shareMode.all" {
		c.approximated(e, "sharing mode %q: floodgate hands rows out across all the scenario's VUs", strings.TrimPrefix(m, "shareMode."))
	}
	if !e.Bool("quotedData", true) && strings.Contains(head, `"`) {
		c.approximated(e, "floodgate reads quoted fields as CSV does (\"Allow quoted data\" was off)")
	}
	sc.dataSrc = Path(e)
	sc.data = []kv{
		{key: "file", value: c.text(c.relPath(file), envOnly, e), src: Path(e)},
		{key: "mode", value: "sequential", raw: true, src: Path(e)},
		{key: "on_exhaust", value: onExhaust, raw: true, src: Path(e)},
	}
	for _, n := range names {
		v := varName(n)
		if v != n {
			c.renamed(e, n, v)
		}
		c.sc.defined[v] = true
	}
}

// inScope lists the enabled elements in a thread group's scope (Test
// Plan, thread group, any controller in it) that match.
func (c *converter) inScope(g *Element, top, tg *scope, match func(*Element) bool) []*Element {
	var out []*Element
	for _, s := range []*scope{top, tg} {
		for _, e := range s.elems {
			if match(e) {
				out = append(out, e)
			}
		}
	}
	var deep func(es []*Element)
	deep = func(es []*Element) {
		for _, e := range es {
			if e.Enabled && structural(e) {
				for _, ch := range e.Children {
					if ch.Enabled && !structural(ch) && match(ch) {
						out = append(out, ch)
					}
				}
				deep(e.Children)
			}
		}
	}
	deep(g.Children)
	return out
}

// counters converts Counters to scenario variables counting with the
// VU's iterations: {{iteration start increment}}.
func (c *converter) counters(g *Element, top, tg *scope, sc *outScenario) {
	for _, e := range c.inScope(g, top, tg, func(e *Element) bool { return shortClass(e.TestClass) == "CounterConfig" }) {
		name := strings.TrimSpace(e.Str("CounterConfig.name"))
		if name == "" {
			continue
		}
		start := c.number(e.Str("CounterConfig.start"), 0, e)
		incr := c.number(e.Str("CounterConfig.incr"), 1, e)
		if start.env || incr.env || start.value != math.Trunc(start.value) || incr.value != math.Trunc(incr.value) {
			c.notConverted(e, "its start and increment must be whole numbers to convert")
			continue
		}
		v := varName(name)
		if v != name {
			c.renamed(e, name, v)
		}
		if !e.Bool("CounterConfig.per_user", false) {
			c.approximated(e, "counter %s counts per VU (each VU from %s), not across all threads", name, formatNum(start.value))
		}
		if end := strings.TrimSpace(e.Str("CounterConfig.end")); end != "" {
			c.approximated(e, "counter %s does not wrap at its maximum %s", name, end)
		}
		if f := strings.TrimSpace(e.Str("CounterConfig.format")); f != "" {
			c.approximated(e, "counter %s is not formatted with %q", name, f)
		}
		sc.vars = append(sc.vars, kv{key: v, value: fmt.Sprintf("{{iteration %s %s}}", formatNum(start.value), formatNum(incr.value)), src: Path(e)})
		c.sc.defined[v] = true
	}
}

// scopeHeaders merges the Header Managers at Test Plan and Thread Group
// level into the scenario's headers (inner ones override).
func (c *converter) scopeHeaders(top, tg *scope) []kv {
	var hs []kv
	for _, s := range []*scope{top, tg} {
		for _, e := range s.elems {
			if kindOf(e) == kHeaderManager {
				hs = mergeHeaders(hs, c.headerManager(e))
			}
		}
	}
	return hs
}

// headerManager converts a Header Manager's headers.
func (c *converter) headerManager(e *Element) []kv {
	coll := e.Prop("HeaderManager.headers")
	if coll == nil {
		return nil
	}
	var out []kv
	seen := map[string]bool{}
	for _, h := range coll.Props {
		name := strings.TrimSpace(h.Str("Header.name"))
		if name == "" {
			continue
		}
		if !scenario.ValidToken(name) {
			c.notConverted(e, "header name %q is not a valid HTTP header name", oneLine(name))
			continue
		}
		canon := textproto.CanonicalMIMEHeaderKey(name)
		if seen[canon] {
			c.approximated(e, "header %s is given twice; the first is kept", canon)
			continue
		}
		seen[canon] = true
		raw := ""
		if v := h.Prop("Header.value"); v != nil {
			raw = v.Value
		}
		val := c.text(raw, templated, e)
		if strings.ContainsAny(val, "\r\n") {
			c.notConverted(e, "header %s holds a line break", canon)
			continue
		}
		out = append(out, kv{key: canon, value: val, src: Path(e)})
	}
	return out
}

// mergeHeaders overrides base with over, by name.
func mergeHeaders(base, over []kv) []kv {
	out := slices.Clone(base)
	for _, h := range over {
		i := slices.IndexFunc(out, func(b kv) bool { return b.key == h.key })
		if i >= 0 {
			out[i] = h
		} else {
			out = append(out, h)
		}
	}
	return out
}

// envNames lists the ${ENV} texts among fields.
func envNames(fs ...numberField) []string {
	var out []string
	for _, f := range fs {
		if f.env {
			out = append(out, f.text)
		}
	}
	return out
}
