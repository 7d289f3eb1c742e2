package lint

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/floodgate-dev/floodgate/internal/client"
	"github.com/floodgate-dev/floodgate/internal/clientcfg"
	emuconfig "github.com/floodgate-dev/floodgate/internal/emulator/config"
	"github.com/floodgate-dev/floodgate/internal/numfmt"
	"github.com/floodgate-dev/floodgate/internal/plan"
)

// Severity ranks a finding. Errors mean the plan, as written, will not do
// what it is for against the limits (requests lost, a run that never
// ends); warnings, that it will meet a wall or behave unlike it reads.
type Severity int

// Severities, lowest first.
const (
	Info Severity = iota
	Warning
	Error
)

var severityNames = [...]string{"info", "warning", "error"}

func (s Severity) String() string {
	if s >= 0 && int(s) < len(severityNames) {
		return severityNames[s]
	}
	return "unknown"
}

// MarshalText writes the severity's name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Finding is one thing lint has to say about a plan.
type Finding struct {
	Severity Severity `json:"severity"`
	// Rule names the check (see the package documentation).
	Rule string `json:"rule"`
	// Where is file:line:col in a YAML plan, or a JMeter element path.
	Where   string `json:"where"`
	Message string `json:"message"`
	Fix     string `json:"fix,omitempty"`
}

// Limit is a rate limit: Count requests per Window for each Key — one
// of "token" (each access token), "client" (each OAuth client) or "org"
// (everything).
type Limit struct {
	Count  int           `json:"count"`
	Window time.Duration `json:"-"`
	Key    string        `json:"key"`
	// Source says where the limit comes from ("emulator default",
	// "--limit", a config file).
	Source string `json:"source,omitempty"`
}

// MarshalJSON writes the limit with its window in seconds.
func (l Limit) MarshalJSON() ([]byte, error) {
	type plain Limit
	return json.Marshal(struct {
		plain
		WindowS float64 `json:"window_s"`
	}{plain(l), l.Window.Seconds()})
}

// Limit keys.
const (
	KeyToken  = "token"
	KeyClient = "client"
	KeyOrg    = "org"
)

// PerSecond is the limit's sustained rate.
func (l Limit) PerSecond() float64 {
	if l.Window <= 0 {
		return 0
	}
	return float64(l.Count) / l.Window.Seconds()
}

func (l Limit) String() string {
	per := ""
	switch l.Window {
	case time.Second:
		per = "/s"
	case time.Minute:
		per = "/min"
	case time.Hour:
		per = "/h"
	default:
		w := l.Window.String()
		if strings.HasSuffix(w, "m0s") || strings.HasSuffix(w, "h0s") {
			w = strings.TrimSuffix(w, "0s")
		}
		per = " per " + w
	}
	return numfmt.Count(int64(l.Count)) + per + " per " + l.Key
}

// ErrBadLimit is wrapped by ParseLimit's errors.
var ErrBadLimit = errors.New("lint: bad limit")

// ParseLimit reads "300/60s", "300/m", "5/s" or "1000/h".
func ParseLimit(s string) (Limit, error) {
	num, per, ok := strings.Cut(strings.TrimSpace(s), "/")
	n, err := strconv.Atoi(strings.TrimSpace(num))
	if !ok || err != nil || n < 1 {
		return Limit{}, fmt.Errorf("%w %q: write requests/window, e.g. 300/60s or 300/m", ErrBadLimit, s)
	}
	var w time.Duration
	switch per = strings.TrimSpace(per); per {
	case "s":
		w = time.Second
	case "m", "min":
		w = time.Minute
	case "h":
		w = time.Hour
	default:
		w, err = time.ParseDuration(per)
		if err != nil || w <= 0 {
			return Limit{}, fmt.Errorf("%w %q: the window %q is not a duration; write 300/60s or 300/m", ErrBadLimit, s, per)
		}
	}
	return Limit{Count: n, Window: w, Key: KeyToken, Source: "--limit"}, nil
}

// DefaultLimits are the emulator profile's limits (config.Default):
// 300 requests per 60 s per token, and per client or org when set.
func DefaultLimits() []Limit { return ConfigLimits(emuconfig.Default(), "emulator default") }

// ConfigLimits returns the token, client and org limits of an emulator
// configuration.
func ConfigLimits(c emuconfig.Config, source string) []Limit {
	var out []Limit
	for _, l := range []struct {
		r   *emuconfig.Rate
		key string
	}{{c.Live.Limits.Token, KeyToken}, {c.Live.Limits.Client, KeyClient}, {c.Live.Limits.Org, KeyOrg}} {
		if l.r != nil && l.r.Requests > 0 && l.r.Window > 0 {
			// The emulator runs its windows time_scale times as long.
			w := l.r.Window.D()
			if c.TimeScale > 0 && c.TimeScale != 1 {
				w = time.Duration(float64(w) * c.TimeScale)
				source += fmt.Sprintf(", time_scale %g", c.TimeScale)
			}
			if w <= 0 {
				w = time.Nanosecond
			}
			out = append(out, Limit{Count: l.r.Requests, Window: w, Key: l.key, Source: source})
		}
	}
	return out
}

// ConfigMaxInFlight returns the smallest concurrency cap of an emulator
// configuration, 0 for none.
func ConfigMaxInFlight(c emuconfig.Config) int {
	m := 0
	for _, cp := range c.Live.Caps {
		if cp.MaxInFlight > 0 && (m == 0 || cp.MaxInFlight < m) {
			m = cp.MaxInFlight
		}
	}
	return m
}

// DefaultLatency is the latency per request predictions assume.
const DefaultLatency = 200 * time.Millisecond

type config struct {
	limits      []Limit
	maxInFlight int
	latency     time.Duration
	locate      func(plan.Pos) string
}

// Option configures Plan.
type Option func(*config)

// WithLimits checks against ls instead of DefaultLimits.
func WithLimits(ls ...Limit) Option { return func(c *config) { c.limits = ls } }

// WithMaxInFlight adds a concurrency cap: at most n requests in flight.
func WithMaxInFlight(n int) Option { return func(c *config) { c.maxInFlight = n } }

// WithLatency sets the latency per request predictions assume.
func WithLatency(d time.Duration) Option { return func(c *config) { c.latency = d } }

// WithLocator names places in the plan: for a plan converted from JMeter,
// the element a line came from. Default: file:line:col.
func WithLocator(f func(plan.Pos) string) Option { return func(c *config) { c.locate = f } }

// Prediction is one scenario's offered load, as its executor schedules it.
type Prediction struct {
	Scenario string `json:"scenario"`
	Where    string `json:"where"`
	// Executor describes the schedule: "closed: 100 VUs × 50 iterations".
	Executor string `json:"executor"`
	// PerIteration counts the requests one iteration sends; AtLeast is
	// set when polls or event waits may send more.
	PerIteration int  `json:"requests_per_iteration"`
	AtLeast      bool `json:"at_least"`
	// Requests is the total the plan sends; Estimated is set when it
	// depends on the assumed latency (a run bounded by time).
	Requests  int64 `json:"requests"`
	Estimated bool  `json:"estimated"`
	// PeakRate is requests per second at the peak; PeakConcurrency the
	// requests in flight then (VUs busy).
	PeakRate        float64 `json:"peak_rate"`
	PeakConcurrency int     `json:"peak_concurrency"`
	// Duration is how long the plan runs without any wall, at the
	// assumed latency.
	Duration time.Duration `json:"-"`
	// DurationS is Duration in seconds, for JSON.
	DurationS float64 `json:"duration_s"`
}

// Report is what lint found.
type Report struct {
	Latency     time.Duration `json:"-"`
	LatencyMS   float64       `json:"assumed_latency_ms"`
	Limits      []Limit       `json:"limits"`
	MaxInFlight int           `json:"max_in_flight,omitempty"`
	Predictions []Prediction  `json:"predictions"`
	Findings    []Finding     `json:"findings"`
}

// Count returns how many findings have severity s.
func (r *Report) Count(s Severity) int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity == s {
			n++
		}
	}
	return n
}

// Add appends findings, keeping errors first, then warnings, then infos,
// in the order they came.
func (r *Report) Add(fs ...Finding) {
	r.Findings = append(r.Findings, fs...)
	slices.SortStableFunc(r.Findings, func(a, b Finding) int { return int(b.Severity) - int(a.Severity) })
}

// load is a scenario's predicted load, with what the checks need.
type load struct {
	sc   *plan.Scenario
	pred Prediction
	vus  int // VUs that may hold a token each (per-VU credentials)
}

// Plan predicts p's load and checks it.
func Plan(p *plan.Plan, opts ...Option) *Report {
	cfg := config{latency: DefaultLatency}
	for _, o := range opts {
		o(&cfg)
	}
	genesys := TargetsGenesys(p)
	if cfg.limits == nil && genesys {
		cfg.limits = DefaultLimits()
	}
	if cfg.locate == nil {
		cfg.locate = func(pos plan.Pos) string {
			if pos.Line == 0 {
				return p.File
			}
			if p.File == "" {
				return pos.String()
			}
			return p.File + ":" + pos.String()
		}
	}
	r := &Report{Latency: cfg.latency, LatencyMS: float64(cfg.latency) / 1e6, Limits: cfg.limits, MaxInFlight: cfg.maxInFlight}
	var loads []*load
	for _, sc := range p.Scenarios {
		l := predict(sc, cfg)
		l.pred.Where = cfg.locate(sc.Pos)
		loads = append(loads, l)
		r.Predictions = append(r.Predictions, l.pred)
	}
	for _, lim := range cfg.limits {
		r.Add(checkLimit(p, loads, lim, cfg)...)
	}
	if len(cfg.limits) == 0 && !genesys {
		r.Add(Finding{Severity: Info, Rule: "rate_limit", Where: cfg.locate(plan.Pos{}),
			Message: "no rate limits checked: the plan does not target the Genesys Cloud API (no /api/v2/ paths, no Genesys host)",
			Fix:     "give the API's limits with --limit 300/60s, or an emulator config with --emulator-config"})
	}
	r.Add(checkNonIdempotent(p, cfg)...)
	for _, l := range loads {
		if cfg.maxInFlight > 0 && l.pred.PeakConcurrency > cfg.maxInFlight {
			r.Add(Finding{Severity: Warning, Rule: "concurrency_cap", Where: l.pred.Where,
				Message: fmt.Sprintf("scenario %s puts up to %d requests in flight against a cap of %d: expect refusals (429 or 403) above it",
					l.sc.Name, l.pred.PeakConcurrency, cfg.maxInFlight),
				Fix: fmt.Sprintf("keep at most %d in flight: vus (closed) or max_vus (open, batches) ≤ %d", cfg.maxInFlight, cfg.maxInFlight)})
		}
		r.Add(checkMaxVUs(l, cfg)...)
	}
	return r
}

// genesysHosts are the Genesys Cloud API's domains.
var genesysHosts = []string{"mypurecloud.com", "mypurecloud.ie", "mypurecloud.de", "mypurecloud.jp", "mypurecloud.com.au", "pure.cloud", "genesys.cloud"}

// TargetsGenesys reports whether p is a plan for the Genesys Cloud API
// (or the emulator, which serves it): its target is a Genesys host, or a
// request goes to an /api/v2/ path.
func TargetsGenesys(p *plan.Plan) bool {
	if u, err := url.Parse(p.Target); err == nil {
		h := strings.ToLower(u.Hostname())
		for _, g := range genesysHosts {
			if h == g || strings.HasSuffix(h, "."+g) {
				return true
			}
		}
	}
	found := false
	api := func(r *plan.Request) {
		if r == nil {
			return
		}
		path := r.Path
		if u, err := url.Parse(path); err == nil && u.IsAbs() {
			path = u.Path
		}
		found = found || strings.HasPrefix(path, "/api/v2/")
	}
	for _, sc := range p.Scenarios {
		plan.WalkSteps(sc.Steps, func(st *plan.Step) {
			api(st.Request)
			api(pollReq(st))
			api(triggerReq(st))
			found = found || st.WaitEvent != nil // platform notifications
		})
	}
	return found
}

// perIteration counts the requests of steps and their think time: a
// repeat's once per pass (a while repeat's at least once), a choose's by
// weight, and steps with when or once as if they ran.
func perIteration(steps []*plan.Step) (n int, atLeast bool, think time.Duration) {
	f, atLeast, th := perIterationF(steps)
	return int(math.Round(f)), atLeast, time.Duration(th)
}

func perIterationF(steps []*plan.Step) (n float64, atLeast bool, think float64) {
	for _, st := range steps {
		switch {
		case st.Request != nil:
			n++
		case st.Poll != nil:
			n++
			atLeast = true
		case st.WaitEvent != nil:
			n++ // the subscription
			if st.WaitEvent.Trigger != nil {
				n++
			}
			atLeast = true
		case st.Think != nil:
			think += float64(st.Think.Min+st.Think.Max) / 2
		case st.Group != nil:
			cn, cl, ct := perIterationF(st.Group.Steps)
			n, atLeast, think = n+cn, atLeast || cl, think+ct
		case st.Repeat != nil:
			cn, cl, ct := perIterationF(st.Repeat.Steps)
			k := float64(st.Repeat.Count)
			if st.Repeat.While != nil || st.Repeat.Each != "" {
				k, cl = 1, true
			}
			n, atLeast, think = n+k*cn, atLeast || cl, think+k*ct
		case st.Choose != nil:
			var total float64
			for _, ch := range st.Choose.Steps {
				total += ch.Weight
			}
			for _, ch := range st.Choose.Steps {
				cn, cl, ct := perIterationF([]*plan.Step{ch})
				w := ch.Weight / total
				n, atLeast, think = n+w*cn, atLeast || cl, think+w*ct
			}
		}
	}
	return n, atLeast, think
}

func predict(sc *plan.Scenario, cfg config) *load {
	n, atLeast, think := perIteration(sc.Steps)
	iter := time.Duration(n)*cfg.latency + think
	if iter <= 0 {
		iter = cfg.latency
	}
	l := &load{sc: sc}
	pr := &l.pred
	pr.Scenario, pr.PerIteration, pr.AtLeast = sc.Name, n, atLeast
	perIterRate := float64(n) / iter.Seconds() // requests/s of one busy VU
	switch e := sc.Executor; {
	case e.Closed != nil:
		c := e.Closed
		l.vus = c.VUs
		pr.Executor = fmt.Sprintf("closed: %d VUs", c.VUs)
		if c.RampUp > 0 {
			pr.Executor += ", ramp-up " + plan.FormatDuration(c.RampUp)
		}
		pr.PeakRate = float64(c.VUs) * perIterRate
		pr.PeakConcurrency = c.VUs
		var byIter, byTime time.Duration
		var total float64
		if c.Iterations > 0 {
			pr.Executor += fmt.Sprintf(" × %d iterations", c.Iterations)
			total = float64(c.VUs) * float64(c.Iterations) * float64(n)
			byIter = durationOf(c.RampUp.Seconds() + float64(c.Iterations)*iter.Seconds())
		}
		if c.Duration > 0 {
			pr.Executor += " for " + plan.FormatDuration(c.Duration)
			byTime = c.Duration
			// Each VU runs from its start to the end: the mean VU runs
			// Duration − RampUp/2.
			run := max(c.Duration-c.RampUp/2, 0)
			t := float64(c.VUs) * float64(n) * (run.Seconds() / iter.Seconds())
			if c.Iterations == 0 || t < total {
				total = math.Floor(t)
				pr.Estimated = true
			}
		}
		switch {
		case byIter > 0 && byTime > 0:
			pr.Duration = min(byIter, byTime)
		case byIter > 0:
			pr.Duration = byIter
		default:
			pr.Duration = byTime
		}
		pr.Requests = capCount(total)
	case e.Open != nil:
		o := e.Open
		l.vus = o.MaxVUs
		peak := o.Rate.PerSecond()
		var iters float64
		if len(o.Stages) == 0 {
			pr.Executor = fmt.Sprintf("open: %s for %s", o.Rate, plan.FormatDuration(o.Duration))
			iters = peak * o.Duration.Seconds()
		} else {
			pr.Executor = fmt.Sprintf("open: %d stages over %s", len(o.Stages), plan.FormatDuration(o.TotalDuration()))
			prev := o.StartRate.PerSecond()
			peak = prev
			for _, st := range o.Stages {
				t := st.Target.PerSecond()
				iters += (prev + t) / 2 * st.Duration.Seconds()
				peak = max(peak, t)
				prev = t
			}
		}
		pr.Executor += fmt.Sprintf(", max %d VUs", o.MaxVUs)
		pr.PeakRate = peak * float64(n)
		pr.Requests = capCount(math.Floor(iters) * float64(n))
		pr.PeakConcurrency = min(o.MaxVUs, int(math.Ceil(peak*iter.Seconds())))
		pr.Duration = o.TotalDuration()
	case e.Batches != nil:
		b := e.Batches
		l.vus = b.MaxVUs
		pr.Executor = fmt.Sprintf("batches: %d every %s, %d in all", b.Size, plan.FormatDuration(b.Pause), b.Total)
		busy := min(b.Size, b.MaxVUs)
		pr.PeakRate = float64(busy) * perIterRate
		pr.PeakConcurrency = busy
		pr.Requests = capCount(float64(b.Total) * float64(n))
		batches := (b.Total + b.Size - 1) / b.Size
		pr.Duration = durationOf(float64(batches-1)*b.Pause.Seconds() + iter.Seconds())
	}
	pr.DurationS = pr.Duration.Seconds()
	return l
}

// maxSeconds bounds predicted lengths: a run longer than a century is
// "too long" whatever its exact length, and the bound keeps the sums
// within a time.Duration.
const maxSeconds = 100 * 365 * 24 * 3600.0

// durationOf converts seconds to a Duration, capped at maxSeconds.
func durationOf(s float64) time.Duration {
	return time.Duration(min(s, maxSeconds) * float64(time.Second))
}

// capCount converts a predicted count to int64 without overflow.
func capCount(f float64) int64 {
	if f >= math.MaxInt64/2 {
		return math.MaxInt64 / 2
	}
	return int64(f)
}

// keyOf names the credentials a scenario's requests are counted under
// for a limit keyed by kind, and whether each VU has its own (a
// templated Authorization header, such as a token per CSV row).
func keyOf(p *plan.Plan, sc *plan.Scenario, kind string) (key string, perVU bool) {
	if kind == KeyOrg {
		return "org", false
	}
	a := p.Auth
	if sc.Auth != nil {
		a = sc.Auth
	}
	if a != nil {
		if a.OAuth2 != nil && kind == KeyClient {
			return "client " + a.OAuth2.ClientID, false
		}
		if au, err := client.NewAuth(clientcfg.Auth(a), p.Target, nil); err == nil && au != nil {
			return au.Key(), false
		}
	}
	if _, ok := sc.HeaderTemplates["Authorization"]; ok {
		return "per VU", true
	}
	if _, ok := p.Defaults.HeaderTemplates["Authorization"]; ok {
		return "per VU", true
	}
	if v, ok := sc.Headers["Authorization"]; ok {
		return "header " + shortDigest(v), false
	}
	if v, ok := p.Defaults.Headers["Authorization"]; ok {
		return "header " + shortDigest(v), false
	}
	// A step's own Authorization header (a converted JMeter plan keeps
	// Header Managers where they were).
	key, perVU = "", false
	plan.WalkSteps(sc.Steps, func(st *plan.Step) {
		if r := st.Request; r != nil && key == "" {
			if _, ok := r.HeaderTemplates["Authorization"]; ok {
				key, perVU = "per VU", true
			} else if v, ok := r.Headers["Authorization"]; ok {
				key = "header " + shortDigest(v)
			}
		}
	})
	if key != "" {
		return key, perVU
	}
	// Requests without credentials are not one client's: each scenario
	// is counted on its own.
	return "no credentials " + sc.Name, false
}

// shortDigest keeps a header value out of messages: only equality matters.
func shortDigest(s string) string {
	var h uint64 = 14695981039346656037
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return strconv.FormatUint(h, 36)
}

// checkLimit holds the scenarios sharing each key of lim against it.
func checkLimit(p *plan.Plan, loads []*load, lim Limit, cfg config) []Finding {
	type group struct {
		loads        []*load
		total, peak  float64
		length       time.Duration
		perVU        bool
		vus          int
		anyEstimated bool
	}
	var order []string
	groups := map[string]*group{}
	for _, l := range loads {
		k, perVU := keyOf(p, l.sc, lim.Key)
		g := groups[k]
		if g == nil {
			g = &group{perVU: perVU}
			groups[k] = g
			order = append(order, k)
		}
		g.loads = append(g.loads, l)
		g.total += float64(l.pred.Requests)
		g.peak += l.pred.PeakRate
		g.length = max(g.length, l.pred.Duration)
		g.vus += max(l.vus, 1)
		g.anyEstimated = g.anyEstimated || l.pred.Estimated
	}
	var out []Finding
	for _, k := range order {
		g := groups[k]
		total, peak := g.total, g.peak
		if g.perVU {
			// Each VU has its own token: one VU's share meets the limit.
			total /= float64(g.vus)
			peak /= float64(g.vus)
		}
		var names []string
		for _, l := range g.loads {
			names = append(names, l.sc.Name)
		}
		who := "scenario " + strings.Join(names, " + ")
		if len(names) > 1 {
			who = "scenarios " + strings.Join(names, " + ") + " (same credentials)"
			if lim.Key == KeyOrg {
				who = "scenarios " + strings.Join(names, " + ") + " (one org)"
			}
		}
		if g.perVU {
			who += ", per VU (its own token)"
		}
		where := g.loads[0].pred.Where
		rate := lim.PerSecond()
		if peak <= rate || total <= float64(lim.Count) {
			out = append(out, Finding{Severity: Info, Rule: "rate_limit", Where: where,
				Message: fmt.Sprintf("%s: %s requests at up to %s fit %s", who, approx(total, g.anyEstimated), numfmt.Rate(peak), lim)})
			continue
		}
		// The first 429: the window's count spent at the peak rate.
		first := float64(lim.Count) / peak
		minimum := total / rate
		msg := fmt.Sprintf("%s: %s requests at up to %s against %s: expect 429 after ~%s requests (%s in); minimum duration at the limit is %s",
			who, approx(total, g.anyEstimated), numfmt.Rate(peak), lim, numfmt.Count(int64(lim.Count)), numfmt.Seconds(first), numfmt.Seconds(minimum))
		out = append(out, Finding{Severity: Warning, Rule: "rate_limit", Where: where, Message: msg,
			Fix: fmt.Sprintf("pace below the limit (open: {rate: %s}), spread the load over more credentials, or keep retries with honor_retry_after so each 429 waits for the window", paceSpec(rate))})

		// Without retries, the plan runs at its own pace and loses what
		// each window can't take.
		lost := lostWithoutRetries(g.loads, lim, g.perVU, g.vus)
		seen := map[string]bool{}
		for _, l := range g.loads {
			for _, f := range checkRetries(p, l, who, lim, lost, total, cfg) {
				if k := f.Rule + "\x00" + f.Where; !seen[k] {
					seen[k] = true
					out = append(out, f)
				}
			}
		}
	}
	return out
}

// lostWithoutRetries estimates the requests a limit refuses when nothing
// is retried: each scenario sends its requests evenly over its length,
// from the start; in each fixed window the limit takes Count, and the
// rest is refused. With a token per VU, it is one VU's share.
func lostWithoutRetries(loads []*load, lim Limit, perVU bool, vus int) float64 {
	w := lim.Window.Seconds()
	var longest float64
	for _, l := range loads {
		longest = max(longest, l.pred.Duration.Seconds())
	}
	n := int(math.Ceil(longest / w))
	if n < 1 {
		n = 1
	}
	if n > 100_000 {
		n = 100_000 // a year of minute windows is plenty for an estimate
	}
	offered := make([]float64, n)
	for _, l := range loads {
		d := l.pred.Duration.Seconds()
		req := float64(l.pred.Requests)
		if d <= 0 {
			offered[0] += req
			continue
		}
		rate := req / d
		for k := range offered {
			from, to := float64(k)*w, min(float64(k+1)*w, d)
			if to > from {
				offered[k] += rate * (to - from)
			}
		}
	}
	var lost float64
	for _, o := range offered {
		if perVU {
			o /= float64(max(vus, 1))
		}
		lost += max(0, o-float64(lim.Count))
	}
	return lost
}

func approx(n float64, estimated bool) string {
	s := numfmt.Count(int64(n))
	if estimated {
		return "~" + s
	}
	return s
}

// paceSpec writes 90% of a rate as a plan rate.
func paceSpec(perSecond float64) string {
	r := perSecond * 0.9
	if r >= 1 {
		return strconv.FormatFloat(math.Floor(r*10)/10, 'f', -1, 64) + "/s"
	}
	return strconv.FormatFloat(math.Floor(r*600)/10, 'f', -1, 64) + "/m"
}

// retryLevels returns the retry levels that apply to each sending step.
func sendingSteps(sc *plan.Scenario, fn func(st *plan.Step, levels []*plan.Retry)) {
	var walk func(steps []*plan.Step, levels []*plan.Retry)
	walk = func(steps []*plan.Step, levels []*plan.Retry) {
		for _, st := range steps {
			lv := append(slices.Clone(levels), st.Retry)
			if st.Group != nil {
				walk(st.Group.Steps, lv)
				continue
			}
			if st.Think == nil {
				fn(st, lv)
			}
		}
	}
	walk(sc.Steps, []*plan.Retry{sc.Retry})
}

// checkRetries reports steps of a scenario expected to meet 429s that
// won't survive them.
func checkRetries(p *plan.Plan, l *load, who string, lim Limit, lost, total float64, cfg config) []Finding {
	var out []Finding
	seen := map[string]bool{}
	add := func(f Finding) {
		if k := f.Rule + f.Where; !seen[k] {
			seen[k] = true
			out = append(out, f)
		}
	}
	sendingSteps(l.sc, func(st *plan.Step, levels []*plan.Retry) {
		all := append([]*plan.Retry{p.Retry}, levels...)
		pol := clientcfg.Retry(all...)
		at := cfg.locate(retryPos(all, func(r *plan.Retry) bool { return r.Off || r.On != nil }, l.sc.Pos))
		switch {
		case pol.MaxAttempts <= 1:
			add(Finding{Severity: Error, Rule: "retry_off", Where: at,
				Message: fmt.Sprintf("retries are off, and %s will meet the %s limit: ~%s of %s requests will end in 429",
					who, lim, numfmt.Count(int64(math.Round(lost))), numfmt.Count(int64(total))),
				Fix: "remove retry: off (the default policy retries 429 honouring Retry-After, behind one gate per key), or pace below the limit"})
		case !slices.Contains(pol.On, 429):
			add(Finding{Severity: Error, Rule: "retry_off", Where: at,
				Message: fmt.Sprintf("step %s of scenario %s does not retry 429, which the %s limit will answer: up to ~%s of %s requests will end in 429",
					st.Path, l.sc.Name, lim, numfmt.Count(int64(math.Round(lost))), numfmt.Count(int64(total))),
				Fix: "add 429 to retry: {on: [...]}"})
		case !pol.HonorRetryAfter:
			add(Finding{Severity: Warning, Rule: "honor_retry_after", Where: cfg.locate(retryPos(all, func(r *plan.Retry) bool { return r.HonorRetryAfter != nil }, l.sc.Pos)),
				Message: fmt.Sprintf("honor_retry_after is off while the %s limit will answer 429: retries back off blindly (at most %s) inside a %s window, spending attempts and budget and losing requests",
					lim, pol.Max, numfmt.Seconds(lim.Window.Seconds())),
				Fix: "set honor_retry_after: true"})
		case pol.MaxWait > 0 && pol.MaxWait < lim.Window:
			add(Finding{Severity: Warning, Rule: "honor_retry_after", Where: cfg.locate(retryPos(all, func(r *plan.Retry) bool { return r.MaxWait > 0 }, l.sc.Pos)),
				Message: fmt.Sprintf("max_wait %s is shorter than the %s window: a Retry-After of up to that is cut short and the retry meets another 429", pol.MaxWait, numfmt.Seconds(lim.Window.Seconds())),
				Fix:     fmt.Sprintf("set max_wait: %s or more", lim.Window)})
		case pol.MaxElapsed > 0 && pol.MaxElapsed < lim.Window:
			add(Finding{Severity: Warning, Rule: "honor_retry_after", Where: cfg.locate(retryPos(all, func(r *plan.Retry) bool { return r.MaxElapsed > 0 }, l.sc.Pos)),
				Message: fmt.Sprintf("max_elapsed %s is shorter than the %s window: a request that meets a 429 early in a window is lost instead of waiting for the next", pol.MaxElapsed, numfmt.Seconds(lim.Window.Seconds())),
				Fix:     fmt.Sprintf("set max_elapsed: %s or more", 2*lim.Window)})
		}
	})
	return out
}

// retryPos is the position of the innermost level for which has holds,
// else def.
func retryPos(levels []*plan.Retry, has func(*plan.Retry) bool, def plan.Pos) plan.Pos {
	for i := len(levels) - 1; i >= 0; i-- {
		if r := levels[i]; r != nil && has(r) {
			return r.Pos
		}
	}
	return def
}

// checkNonIdempotent reports POST and PATCH steps retried with
// non_idempotent: true.
func checkNonIdempotent(p *plan.Plan, cfg config) []Finding {
	var out []Finding
	seen := map[plan.Pos]bool{}
	for _, sc := range p.Scenarios {
		sendingSteps(sc, func(st *plan.Step, levels []*plan.Retry) {
			all := append([]*plan.Retry{p.Retry}, levels...)
			pol := clientcfg.Retry(all...)
			var methods []string
			for _, r := range []*plan.Request{st.Request, pollReq(st), triggerReq(st)} {
				if r != nil && (r.Method == "POST" || r.Method == "PATCH") {
					methods = append(methods, r.Method)
				}
			}
			if !pol.NonIdempotent || pol.MaxAttempts <= 1 || len(methods) == 0 {
				return
			}
			pos := retryPos(all, func(r *plan.Retry) bool { return r.NonIdempotent != nil }, st.Pos)
			if seen[pos] && pos != st.Pos {
				return
			}
			seen[pos] = true
			out = append(out, Finding{Severity: Warning, Rule: "non_idempotent_retry", Where: cfg.locate(st.Pos),
				Message: fmt.Sprintf("step %s (%s) is retried with non_idempotent: true (set at %s): after a 5xx, timeout or reset the server may have acted, so a retry can do it twice (two conversations, two jobs)",
					st.Path, strings.Join(methods, ", "), cfg.locate(pos)),
				Fix: "remove non_idempotent: true (POST is still retried on 429, 503 and refused connections, where the server did nothing), or make the request idempotent"})
		})
	}
	return out
}

func pollReq(st *plan.Step) *plan.Request {
	if st.Poll != nil {
		return &st.Poll.Request
	}
	return nil
}

func triggerReq(st *plan.Step) *plan.Request {
	if st.WaitEvent != nil {
		return st.WaitEvent.Trigger
	}
	return nil
}

// checkMaxVUs reports open and batch executors that need more VUs than
// they may use at the assumed latency.
func checkMaxVUs(l *load, cfg config) []Finding {
	e := l.sc.Executor
	if e.Open == nil {
		return nil
	}
	n, _, think := perIteration(l.sc.Steps)
	iter := time.Duration(n)*cfg.latency + think
	peak := l.pred.PeakRate / float64(max(n, 1))
	need := int(math.Ceil(peak * iter.Seconds()))
	if need <= e.Open.MaxVUs {
		return nil
	}
	return []Finding{{Severity: Warning, Rule: "max_vus", Where: l.pred.Where,
		Message: fmt.Sprintf("scenario %s needs ~%d VUs at %s iterations/s of %s each (at %s per request), and max_vus is %d: iterations will be dropped",
			l.sc.Name, need, strconv.FormatFloat(peak, 'g', 4, 64), iter, cfg.latency, e.Open.MaxVUs),
		Fix: fmt.Sprintf("raise max_vus to %d or more", need)}}
}
