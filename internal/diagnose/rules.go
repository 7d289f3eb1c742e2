package diagnose

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/floodgate-dev/floodgate/internal/metrics"
)

// authorization: a step whose requests end 401/403 (almost) always, or
// 401/403 from the first second at every load level.
func (a *analysis) authorization() *Finding {
	first := a.first(gAuth)
	if first < 0 {
		return nil
	}
	var scopes, evidence []string
	partial := false // a step refused sometimes and accepted other times
	for _, sc := range a.sum.Scenarios {
		for _, st := range sc.Steps {
			key := sc.Name + "/" + st.Name
			if a.claimed[key] {
				continue
			}
			if a.acceptedAfterRefusal(sc.Name, st.Name) {
				// Some requests of the same step, with the same
				// credentials, passed after others were refused: not a
				// permission the credentials lack.
				partial = true
				continue
			}
			n := st.FinalStatuses["401"] + st.FinalStatuses["403"]
			if st.Requests > 0 && float64(n) >= minAuthShare*float64(st.Requests) {
				scopes = append(scopes, sc.Name+"/"+st.Name)
				evidence = append(evidence, fmt.Sprintf("%s/%s: %s of %s requests ended %s, at every load", sc.Name, st.Name,
					Count(n), Count(st.Requests), authCodes(st.FinalStatuses)))
			}
		}
	}
	conf := 0.95
	if len(scopes) == 0 {
		// Run level: 401/403 from the first second with traffic and in
		// about the same share at low and high concurrency, which a cap
		// would not give.
		if first != a.firstTraffic() || partial {
			return nil
		}
		lo, hi, ok := a.shareByLoad(gAuth)
		if !ok || lo < 0.5*hi || a.share(gAuth, first) < 0.05 {
			return nil
		}
		conf = 0.6
		evidence = append(evidence, fmt.Sprintf("%s answered at the lowest load as at the highest (%s vs %s of attempts)",
			strings.Join(a.statuses(gAuth), "/"), pct(lo), pct(hi)))
	}
	s := &a.secs[first]
	f := &Finding{
		Kind: Authorization, Statuses: a.statuses(gAuth), Scope: strings.Join(scopes, ", "),
		Onset:      Onset{Time: s.T, Rate: s.rate(), InFlight: float64(s.InFlightMax)},
		Confidence: conf,
	}
	codes := strings.Join(f.Statuses, "/")
	f.Summary = fmt.Sprintf("authorization: %s from the first requests at any load", codes)
	if f.Scope != "" {
		f.Summary += " (" + f.Scope + ")"
	}
	f.Evidence = append(evidence,
		fmt.Sprintf("%s from t=%.1f s, the first second with traffic, at %s sent and %d in flight",
			a.statusCounts(gAuth), s.T, Rate(s.rate()), s.InFlightMax))
	if c := a.sum.Codes; len(c) > 0 {
		f.Evidence = append(f.Evidence, codesText(c))
	}
	if len(f.Statuses) > 0 && f.Statuses[0] == "401" {
		f.Advice = "not a load problem: " + unauthorizedAdvice(a.codesIn(gAuth), true) + "; retrying won't help"
	} else {
		f.Advice = "not a load problem: grant the OAuth client the permission the 403 body names (`missing.permissions`), or use credentials that have it; retrying won't help"
	}
	// What it explains is out of the counts the other rules read: one
	// refusal, one finding.
	for i := range a.secs {
		c := a.secs[i].codes
		if len(scopes) == 0 {
			c[401], c[403] = 0, 0
			continue
		}
		for _, key := range scopes {
			scen, step, _ := strings.Cut(key, "/")
			if sb := a.stepBucket(i, scen, step); sb != nil {
				c[401] -= min(c[401], sb.Statuses["401"])
				c[403] -= min(c[403], sb.Statuses["403"])
			}
		}
	}
	return f
}

// codesIn counts the platform error codes seen in seconds with failures
// of g.
func (a *analysis) codesIn(g statusGroup) map[string]int64 {
	m := map[string]int64{}
	for i := range a.secs {
		if a.secs[i].n(g) > 0 {
			for k, n := range a.secs[i].Codes {
				m[k] += n
			}
		}
	}
	return m
}

// unauthorizedAdvice says what to check for 401s by the code the
// platform answered them with; fromStart when they came from the first
// requests (no token that expired).
func unauthorizedAdvice(codes map[string]int64, fromStart bool) string {
	switch dominantCode(codes) {
	case "authentication.required":
		return "the requests went without a bearer token (`authentication.required`): give the plan `auth:` or check that the token variable its Authorization header uses is set before the step (a variable extracted later starts empty)"
	case "bad.credentials":
		return "the API does not know the bearer token sent (`bad.credentials`): it was revoked, or issued by another org or region — check the token URL and the org's region"
	case "credentials.expired":
		return "the bearer token expired (`credentials.expired`): check the token lifetime and that the client refreshes (floodgate refreshes before expiry and once on a 401)"
	}
	if fromStart {
		return "the API refuses the credentials themselves — check the client id/secret, the token URL and the token's audience"
	}
	return "401s mid-run mean tokens expired or were revoked: check the token lifetime and that the client refreshes (floodgate refreshes before expiry and once on a 401)"
}

// acceptedAfterRefusal reports whether scen/step had a 2xx in or after
// the first second in which it got a 401/403.
func (a *analysis) acceptedAfterRefusal(scen, step string) bool {
	refused := false
	for i := range a.secs {
		sb := a.stepBucket(i, scen, step)
		if sb == nil {
			continue
		}
		refused = refused || sb.Statuses["401"]+sb.Statuses["403"] > 0
		if refused && accepted(sb.Statuses) > 0 {
			return true
		}
	}
	return false
}

func authCodes(m map[string]int64) string {
	switch {
	case m["401"] > 0 && m["403"] > 0:
		return "401/403"
	case m["401"] > 0:
		return "401"
	}
	return "403"
}

// share is the fraction of second i's attempts in g.
func (a *analysis) share(g statusGroup, i int) float64 {
	s := &a.secs[i]
	if s.Attempts == 0 {
		return 0
	}
	return s.n(g) / float64(s.Attempts)
}

// shareByLoad is the share of attempts in g over the lower and the upper
// half of the full seconds, ranked by in-flight peak.
func (a *analysis) shareByLoad(g statusGroup) (lo, hi float64, ok bool) {
	var idx []int
	for i := range a.secs {
		if a.secs[i].Attempts > 0 && a.secs[i].full() {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return 0, 0, false
	}
	sortBy(idx, func(i int) float64 { return float64(a.secs[i].InFlightMax) })
	half := func(is []int) float64 {
		var n, of float64
		for _, i := range is {
			n += a.secs[i].n(g)
			of += float64(a.secs[i].Attempts)
		}
		if of == 0 {
			return 0
		}
		return n / of
	}
	m := (len(idx) + 1) / 2
	return half(idx[:m]), half(idx[len(idx)-m:]), true
}

// rateLimit: 429s from a spent count per window. Rate-limit headers
// showing remaining 0 where 429s are make it near certain; without
// headers, 429s that don't separate by concurrency count as a rate limit.
func (a *analysis) rateLimit() *Finding {
	n429 := a.total(g429)
	if n429 == 0 {
		return nil
	}
	var hdrAny, hdrZero bool
	var waits, raWait, gateWait float64
	for i := range a.secs {
		s := &a.secs[i]
		waits += s.waits()
		raWait += s.RetryAfterWaitMs
		gateWait += s.GateWaitMs
		if s.n(g429) > 0 && s.RateLimit != nil {
			hdrAny = true
			if s.RateLimit.Remaining == 0 {
				hdrZero = true
			}
		}
	}
	if hdrAny && !hdrZero {
		return nil // quota left when refused: not a spent count
	}
	conf := 0.95
	if !hdrZero {
		if raWait == 0 && !enough(n429, a.attempts) {
			return nil // a stray 429 or two: no wall to name
		}
		sp := a.separate(g429, onWire, true)
		if sp.score >= minSeparation && sp.cleanBelow >= 1 && sp.failing >= minWallSeconds && sp.failMin >= 2 {
			return nil // a concurrency cap explains it better
		}
		conf = 0.55
		if raWait > 0 {
			conf = 0.7
		}
	}
	onset := a.first(g429)
	binding := func(s *second) bool {
		return s.n(g429) > 0 || s.waits() > 0 || (s.RateLimit != nil && s.RateLimit.Remaining == 0)
	}
	lo, hi := a.firstTraffic(), -1
	for i := range a.secs {
		if binding(&a.secs[i]) {
			hi = i
		}
	}
	accepted := func(s *second) float64 { return float64(s.Attempts) - s.n(g429) }

	var window float64
	for i := range a.secs {
		if rl := a.secs[i].RateLimit; rl != nil && rl.ResetS > window {
			window = rl.ResetS
		}
	}
	var count, rate float64
	var spans int
	stated := 0 // the capacity the headers stated, if any
	for i := range a.secs {
		if rl := a.secs[i].RateLimit; rl != nil && rl.Limit > stated {
			stated = rl.Limit
		}
	}
	// Without headers, the window and its count from the rhythm of
	// acceptances: a window's count passes in a burst at its opening.
	var beat *burstBeat
	if window == 0 {
		beat = a.acceptanceBeat()
	}
	if stated > 0 && window > 0 {
		// The server said how many a window holds: no need to count.
		count, rate = float64(stated), float64(stated)/window
	} else if beat != nil {
		window, count = beat.period, beat.count
		rate = count / window
	} else if p, c, ok := a.acceptedPeriod(lo, hi); window == 0 && ok {
		// No headers and no acceptance times: the period of the
		// per-second acceptances (300, 0, 0, 300 …).
		window, count, rate = float64(p), c, c/float64(p)
		spans = -1
	} else if window >= 1 {
		// The count per window: accepted attempts over spans of one
		// window in which the limit bound, median over the spans.
		w := int(math.Round(window))
		var sums []float64
		for i := lo; i+w <= len(a.secs); i++ {
			bound := false
			var sum float64
			for j := i; j < i+w; j++ {
				bound = bound || binding(&a.secs[j])
				sum += accepted(&a.secs[j])
			}
			if bound && i <= hi {
				sums = append(sums, sum)
			}
		}
		if len(sums) == 0 { // the run was shorter than one window
			for j := lo; j < len(a.secs); j++ {
				count += accepted(&a.secs[j])
			}
			spans = 1
		} else {
			count, spans = median(sums), len(sums)
		}
		rate = count / window
	} else {
		var rs []float64
		for i := range a.secs {
			if s := &a.secs[i]; binding(s) && s.full() {
				rs = append(rs, accepted(s)/s.Seconds)
			}
		}
		rate = median(rs)
	}
	s := &a.secs[onset]
	f := &Finding{
		Kind: RateLimit, Statuses: []string{"429"},
		Onset:      Onset{Time: s.T, Rate: rate, InFlight: float64(s.InFlightMax), Count: int64(math.Round(count)), Window: window},
		Confidence: conf,
	}
	limit := limitText(f.Onset)
	f.Summary = fmt.Sprintf("rate limit at %s from t=%.1f s", limit, s.T)
	f.Evidence = append(f.Evidence, fmt.Sprintf("%s, from t=%.1f s at %s sent and %d in flight",
		a.statusCounts(g429), s.T, Rate(s.rate()), s.InFlightMax))
	if hdrZero {
		f.Evidence = append(f.Evidence, fmt.Sprintf("rate-limit headers: remaining 0 when refused; reset up to %s", Seconds(window)))
	} else {
		f.Evidence = append(f.Evidence, "no rate-limit headers; the 429s do not follow concurrency")
	}
	if beat != nil {
		f.Evidence = append(f.Evidence, fmt.Sprintf("the rhythm of acceptances: bursts of %s every %s, each within %s of its window's opening (%s of acceptances keep the beat): %s",
			Count(f.Onset.Count), Seconds(window), Seconds(beat.width), pct(beat.steady), Rate(rate)))
		if w := math.Max(beat.width, 1); window >= 2*w {
			f.Evidence = append(f.Evidence, fmt.Sprintf("read in one-second buckets the window looks like %s, then nothing: %.0f× the real limit",
				Rate(beat.count/w), window/w))
		}
	} else if stated > 0 && window > 0 {
		f.Evidence = append(f.Evidence, fmt.Sprintf("the headers state %s per %s window: %s",
			Count(f.Onset.Count), Seconds(window), Rate(rate)))
	} else if spans < 0 {
		f.Evidence = append(f.Evidence, fmt.Sprintf("acceptances per second repeat every %s, %s per period: %s (one-second buckets alone would read the burst as the rate)",
			Seconds(window), Count(f.Onset.Count), Rate(rate)))
	} else if window >= 1 {
		f.Evidence = append(f.Evidence, fmt.Sprintf("accepted %s per %s window while limited (median of %d spans): %s",
			Count(f.Onset.Count), Seconds(window), spans, Rate(rate)))
	} else if rate > 0 {
		f.Evidence = append(f.Evidence, fmt.Sprintf("accepted %s while limited (median per second)", Rate(rate)))
	}
	if waits > 0 {
		f.Evidence = append(f.Evidence, fmt.Sprintf("requests waited %s for Retry-After and %s at the gate",
			Seconds(raWait/1000), Seconds(gateWait/1000)))
	}
	scope := "per credential set"
	if shared := a.sharedBy(onset, hi); len(shared) > 1 && f.Onset.Count > 0 {
		names := strings.Join(shared[:len(shared)-1], ", ") + " and " + shared[len(shared)-1]
		scope = "shared by " + names
		f.Evidence = append(f.Evidence, fmt.Sprintf("scenarios %s were refused in the same seconds and split each window's count between them: one limit shared by them — with credentials of their own each, it is kept per client or per org, not per token", names))
	}

	// The requests the limit met: those of the steps no cap on open
	// jobs explained (a job cap's refusals are its own, lost or not).
	own := a.unclaimedStats()
	n := own.Requests
	if n == 0 {
		n = int64(a.attempts)
	}
	// The minimum time: with a count per window, the last of the
	// ⌈n/count⌉ windows opens that many windows less one after the first
	// request; otherwise n at the limit's rate.
	var need string
	var minimum float64
	switch {
	case f.Onset.Count > 0 && window > 0:
		wins := (n + f.Onset.Count - 1) / f.Onset.Count
		minimum = float64(wins-1) * window
		need = fmt.Sprintf("%s requests need %s windows: ≥ %s", Count(n), Count(wins), Seconds(minimum))
	case rate > 0:
		minimum = float64(n) / rate
		need = fmt.Sprintf("%s requests need ≥ %s", Count(n), Seconds(minimum))
	}
	honoured := raWait > 0
	lost := min(own.Lost, own.FinalStatuses["429"])
	if lost > 0 && honoured {
		// Lock-step: clients that honour the same Retry-After wake at the
		// same instant, the window's opening; those a little late find it
		// spent and wait a whole window again, until retries run out.
		f.Evidence = append(f.Evidence, fmt.Sprintf("%s requests were lost although every 429 was honoured (%.1f attempts each on average): they woke in lock-step at each window's opening, and those a moment late found the window spent again",
			Count(lost), float64(own.Attempts)/math.Max(1, float64(own.Requests))))
	}
	survived := lost == 0 && own.FinalStatuses["429"] == 0 && own.Retries > 0
	// What the plan already does: advice names only what it lacks.
	retrying := fmt.Sprintf("the plan's retries already honour Retry-After (requests waited %s for it)", Seconds(raWait/1000))
	switch {
	case survived && minimum > 0:
		f.Advice = fmt.Sprintf("the limit is %s %s: %s; retries honoured it and nothing was lost (the run took %s, %.2f× that minimum)",
			limit, scope, need, Seconds(a.sum.DurationS), a.sum.DurationS/minimum)
	case survived:
		f.Advice = fmt.Sprintf("the limit is %s %s: %s; retries honoured it and nothing was lost", limit, scope, need)
	case lost > 0 && honoured && gateWait > 0 && rate > 0:
		// Jitter and the gate were on: the volume outlasted the retries.
		f.Advice = fmt.Sprintf("the limit is %s %s: %s; %s and queued at the gate, and %s requests still ran out of retries — send fewer (pace at ≤ %s, `open: {rate: %s}`) or let them wait longer (`retry: {max_attempts: …, max_elapsed: …}`)",
			limit, scope, need, retrying, Count(lost), Rate(rate), rateSpec(rate))
	case lost > 0 && honoured && rate > 0:
		f.Advice = fmt.Sprintf("the limit is %s %s: %s; honouring Retry-After is not enough when every client wakes at once — add jitter on top of it, or hold all clients behind one gate per limit key (floodgate's default retry policy does both), or pace at ≤ %s (`open: {rate: %s}`)",
			limit, scope, need, Rate(rate), rateSpec(rate))
	case honoured && rate > 0 && scope != "per credential set":
		f.Advice = fmt.Sprintf("the limit is %s %s: %s; %s; with credentials of their own, more tokens or clients of the same org will not raise it — to finish sooner pace them together at ≤ %s in all (e.g. `open: {rate: %s}` split between the scenarios)",
			limit, scope, need, retrying, Rate(rate), rateSpec(rate))
	case honoured && rate > 0:
		f.Advice = fmt.Sprintf("the limit is %s %s: %s; %s — to spend less time waiting, pace at ≤ %s (`open: {rate: %s}`); `floodgate probe` tells whether more tokens or clients would help",
			limit, scope, need, retrying, Rate(rate), rateSpec(rate))
	case rate > 0 && scope != "per credential set":
		f.Advice = fmt.Sprintf("the limit is %s %s: %s; with credentials of their own, more tokens or clients of the same org will not raise it — pace them together at ≤ %s in all (e.g. `open: {rate: %s}` split between the scenarios) and add retry with honor_retry_after",
			limit, scope, need, Rate(rate), rateSpec(rate))
	case rate > 0:
		f.Advice = fmt.Sprintf("the limit is %s %s: %s; add retry with honor_retry_after (`retry: {on: [429], honor_retry_after: true}`) or pace at ≤ %s (`open: {rate: %s}`); `floodgate probe` tells whether more tokens or clients would help",
			limit, scope, need, Rate(rate), rateSpec(rate))
	case honoured:
		f.Advice = retrying + ": pace below the limit to spend less time waiting"
	default:
		f.Advice = "add retry with honor_retry_after (`retry: {on: [429], honor_retry_after: true}`) and pace below the limit"
	}
	return f
}

// sharedBy lists the scenarios that got 429s in the same seconds
// (secs[from..to]) and each took a fair share of the acceptances — none
// more than 80% — in those seconds: one limit shared by them.
func (a *analysis) sharedBy(from, to int) []string {
	if from < 0 || to < from || len(a.sum.Scenarios) < 2 {
		return nil
	}
	refused := map[string]int{}
	acc := map[string]float64{}
	var total float64
	bound := 0
	for i := from; i <= to; i++ {
		if a.secs[i].n(g429) == 0 {
			continue
		}
		bound++
		for _, sb := range a.secs[i].Steps {
			if sb.Statuses["429"] > 0 {
				refused[sb.Scenario]++
			}
			n := float64(accepted(sb.Statuses))
			acc[sb.Scenario] += n
			total += n
		}
	}
	var out []string
	for _, sc := range a.sum.Scenarios {
		if bound > 0 && float64(refused[sc.Name]) >= 0.5*float64(bound) && acc[sc.Name] <= 0.8*total {
			out = append(out, sc.Name)
		}
	}
	if len(out) < 2 {
		return nil
	}
	return out
}

// acceptedPeriod finds the period of the accepted attempts per full
// second over secs[lo..hi] (see periodOf).
func (a *analysis) acceptedPeriod(lo, hi int) (int, float64, bool) {
	if lo < 0 || hi < lo {
		return 0, 0, false
	}
	var xs []float64
	for i := lo; i <= hi; i++ {
		if s := &a.secs[i]; s.full() {
			xs = append(xs, float64(s.Attempts)-s.n(g429))
		}
	}
	return periodOf(xs)
}

// limitText renders a rate limit as "300/min", "300 per 3 s" or "100/s".
func limitText(o Onset) string {
	if o.Count > 0 && o.Window > 0 {
		switch o.Window {
		case 1:
			return Count(o.Count) + "/s"
		case 60:
			return Count(o.Count) + "/min"
		case 3600:
			return Count(o.Count) + "/h"
		}
		return Count(o.Count) + " per " + Seconds(o.Window) + " (" + Rate(o.Rate) + ")"
	}
	if o.Rate <= 0 {
		return "a rate the results do not show"
	}
	return Rate(o.Rate)
}

// rateSpec writes r as a plan rate: "100/s", or "300/m" below 1/s.
func rateSpec(r float64) string {
	if r >= 1 {
		return strconv.FormatFloat(math.Floor(r*10)/10, 'f', -1, 64) + "/s"
	}
	return strconv.FormatFloat(math.Floor(r*60*10)/10, 'f', -1, 64) + "/m"
}

// concurrencyCap: failures of g in every second whose in-flight peak
// reached N and in none below it.
func (a *analysis) concurrencyCap(g statusGroup) *Finding {
	if !enough(a.total(g), a.attempts) {
		return nil
	}
	sp := a.separate(g, onWire, true)
	// A cap below two on the wire is no cap: one request at a time passes.
	if sp.score < minSeparation || sp.cleanBelow < 1 || sp.failing < minWallSeconds || sp.failMin < 2 {
		return nil
	}
	// The cap: below the smallest in-flight peak that failed; with an
	// open workload the in-flight mean plateaus at it while failing.
	capN := float64(sp.failMin - 1)
	if sp.maxMean > 0 && sp.maxMean < capN {
		capN = sp.maxMean
	}
	capN = math.Max(capN, float64(sp.cleanMaxBelow(a, g)))
	capN = math.Round(capN)

	onset := a.first(g)
	s := &a.secs[onset]
	f := &Finding{
		Kind: ConcurrencyCap, Statuses: a.statuses(g),
		Onset:      Onset{Time: s.T, Rate: s.rate(), InFlight: capN},
		Confidence: 0.8,
	}
	codes := strings.Join(f.Statuses, "/")
	f.Summary = fmt.Sprintf("concurrency cap at %s in flight (%s) from t=%.1f s", Count(int64(capN)), codes, s.T)
	f.Evidence = append(f.Evidence, fmt.Sprintf("%s, only in seconds with ≥ %d on the wire (%d s); none in %d s with ≤ %d on the wire",
		a.statusCounts(g), sp.failMin, sp.failing, sp.cleanBelow, sp.cleanMaxBelow(a, g)))
	if c := a.codesOf(g); c != "" {
		f.Evidence = append(f.Evidence, c)
	}
	lo, hi := a.failingRates(g)
	if sp.maxMean > 0 {
		f.Evidence = append(f.Evidence, fmt.Sprintf("while failing, in flight held at ≈ %.1f (mean) as the rate went from %s to %s", sp.maxMean, Rate(lo), Rate(hi)))
	}
	rs := a.separate(g, (*second).rate, false)
	if rs.score < minSeparation {
		f.Confidence += 0.1
		f.Evidence = append(f.Evidence, "no request rate separates failing from clean seconds: not a count per window")
	}
	if g.name == "429" {
		if a.quotaLeft(g) {
			f.Confidence += 0.05
			f.Evidence = append(f.Evidence, "rate-limit headers showed quota left when refused: not the rate limit")
		} else if rs.score >= minSeparation {
			f.Confidence -= 0.2
			f.Evidence = append(f.Evidence, "rate and concurrency rose together and no rate-limit headers tell them apart: it may be a rate limit")
		}
	}
	if a.baseline > 0 {
		f.Evidence = append(f.Evidence, fmt.Sprintf("latency stayed near %s below the cap (no knee): not saturation", ms(a.baseline)))
	}
	f.Confidence = math.Min(f.Confidence, 0.95)
	n := Count(int64(capN))
	f.Advice = fmt.Sprintf("keep in-flight ≤ %s: use `closed: {vus: %s}`, `open: {…, max_vus: %s}` or `batches: {size: %s, pause: …}` with each batch done before the next",
		n, n, n, n)
	if g.name == "403" {
		f.Advice += "; these 403s are load, not permissions — the same requests succeed below the cap"
	}
	return f
}

// codesOf renders the platform error codes seen in seconds with
// failures of g, or "" when none was read.
func (a *analysis) codesOf(g statusGroup) string {
	m := map[string]int64{}
	for i := range a.secs {
		if a.secs[i].n(g) > 0 {
			for k, n := range a.secs[i].Codes {
				m[k] += n
			}
		}
	}
	if len(m) == 0 {
		return ""
	}
	return codesText(m)
}

// cleanMaxBelow is the largest in-flight peak of a clean second below
// the failing minimum.
func (sp separation) cleanMaxBelow(a *analysis, g statusGroup) int64 {
	var m int64
	for i := range a.secs {
		s := &a.secs[i]
		if v := int64(onWire(s)); s.Attempts >= 3 && s.full() && s.n(g) == 0 && v < sp.failMin && v > m {
			m = v
		}
	}
	return m
}

// failingRates is the lowest and highest send rate of full seconds with
// failures in g.
func (a *analysis) failingRates(g statusGroup) (lo, hi float64) {
	lo = math.Inf(1)
	for i := range a.secs {
		s := &a.secs[i]
		if s.n(g) > 0 && s.full() {
			lo, hi = math.Min(lo, s.rate()), math.Max(hi, s.rate())
		}
	}
	if math.IsInf(lo, 1) {
		lo = 0
	}
	return lo, hi
}

// quotaLeft reports whether every second with failures in g that had
// rate-limit headers showed quota left.
func (a *analysis) quotaLeft(g statusGroup) bool {
	seen := false
	for i := range a.secs {
		s := &a.secs[i]
		if s.n(g) > 0 && s.RateLimit != nil {
			if s.RateLimit.Remaining == 0 {
				return false
			}
			seen = true
		}
	}
	return seen
}

// saturation: mean latency flat up to a knee in concurrency, rising
// beyond it, before any 5xx or timeouts.
func (a *analysis) saturation() *Finding {
	var xs, ys, rs []float64
	for i := range a.secs {
		s := &a.secs[i]
		// Whole seconds only: the last, partial one is the drain, where
		// in flight falls while the slowest requests complete.
		if s.Seconds < 0.95 || s.FromSend.Count < 5 || s.Retries > 0 || s.waits() > 0 {
			continue
		}
		if s.n(gFailed) > 0.05*float64(s.Attempts) {
			continue
		}
		xs, ys, rs = append(xs, s.InFlightMean), append(ys, s.FromSend.Mean), append(rs, s.rate())
	}
	k, ok := fitKnee(xs, ys)
	// Saturation needs concurrency and a rise worth the name: a knee at
	// one or two requests in flight, or a few milliseconds, is noise.
	if !ok || k.knee < 2 || k.xmax < 4 || k.slope*(k.xmax-k.knee) < 5 {
		return nil
	}
	// A knee needs seconds beyond it, and a server that answered
	// without refusing: latency that rises while a rate limit refuses
	// much of the load, or without a server error while it (or a cap on
	// open jobs) refuses at all, is the generator (or its host) busy with
	// the refusals and their lock-step wake-ups, not the service slowing
	// down.
	beyond := 0
	for _, x := range xs {
		if x > k.knee {
			beyond++
		}
	}
	if beyond < 3 || a.all429 > 0.2*a.attempts || enough(a.all429, a.attempts) && a.first(gServer) < 0 {
		return nil
	}
	errAt := a.first(gServer)
	top := k.base + k.slope*(k.xmax-k.knee)
	rise := top / k.base
	need := minKneeRise
	if errAt >= 0 {
		need = minKneeRiseError
	}
	if rise < need {
		return nil
	}
	if errAt >= 0 && a.secs[errAt].InFlightMean < k.knee {
		return nil // errors before the knee: not load-driven
	}
	t := 0.0
	for i := range a.secs {
		if a.secs[i].InFlightMean >= k.knee {
			t = a.secs[i].T
			break
		}
	}
	f := &Finding{
		Kind: Saturation, Statuses: a.statuses(gServer),
		Onset:      Onset{Time: t, Rate: interpolate(xs, rs, k.knee), InFlight: math.Round(k.knee)},
		Confidence: 0.6,
	}
	knee := Count(int64(math.Round(k.knee)))
	f.Summary = fmt.Sprintf("saturation: latency knee at ≈ %s in flight (%s) from t=%.1f s", knee, Rate(f.Onset.Rate), t)
	f.Evidence = append(f.Evidence, fmt.Sprintf("mean latency %s up to ≈ %s in flight, then +%.2f ms per request in flight: %s at %.0f",
		ms(k.base), knee, k.slope, ms(top), k.xmax))
	if errAt >= 0 {
		f.Confidence = 0.85
		e := &a.secs[errAt]
		f.Evidence = append(f.Evidence, fmt.Sprintf("%s from t=%.1f s at %.0f in flight (mean), after latency had risen %.1f×",
			a.statusCounts(gServer), e.T, e.InFlightMean, rise))
	} else {
		f.Evidence = append(f.Evidence, fmt.Sprintf("latency rose %.1f× with no errors yet", rise))
	}
	if a.total(g429) == 0 {
		f.Evidence = append(f.Evidence, "no 429s: the wall is load on the server, not a count")
	}
	f.Advice = fmt.Sprintf("the service slows beyond ≈ %s requests in flight (≈ %s): keep in-flight ≤ %s (`closed: {vus: %s}` or `open: {…, max_vus: %s}`) or scale the service; retries of 503s add load — keep the retry budget on",
		knee, Rate(f.Onset.Rate), knee, knee, knee)
	a.caveatSteal(f)
	return f
}

// caveatSteal tempers a finding about the server when the hypervisor
// took a notable share of the generator's CPU while it worked: latency
// from send then includes time the generator itself was descheduled
// (its responses unread), and a server on the same host may have been
// robbed too. The bench saw such runs diagnosed as saturation.
func (a *analysis) caveatSteal(f *Finding) {
	g := a.sum.Generator
	if !g.Robbed(a.sum.DurationS) {
		return
	}
	f.Confidence *= 0.6
	f.Evidence = append(f.Evidence, fmt.Sprintf("but the hypervisor took %s of the generator's CPU time (steal: %.1f s): part of the latency may be the generator's host",
		pct(g.StealShare(a.sum.DurationS)), *g.StealS))
	f.Advice += "; confirm it from a generator whose cores are its own (a dedicated VM or node) before sizing the service by it"
}

// serverErrors: 5xx or no response that neither a knee nor a cap
// explains. Reported as saturation with low confidence.
func (a *analysis) serverErrors() *Finding {
	at := a.first(gServer)
	if at < 0 || !enough(a.total(gServer), a.attempts) {
		return nil
	}
	s := &a.secs[at]
	f := &Finding{
		Kind: Saturation, Statuses: a.statuses(gServer),
		Onset:      Onset{Time: s.T, Rate: s.rate(), InFlight: float64(s.InFlightMax)},
		Confidence: 0.35,
	}
	codes := strings.Join(f.Statuses, "/")
	f.Summary = fmt.Sprintf("server errors (%s) from t=%.1f s without a latency knee", strings.ReplaceAll(codes, "0", "no response"), s.T)
	lo, hi, _ := a.shareByLoad(gServer)
	f.Evidence = []string{
		fmt.Sprintf("%s, from t=%.1f s at %s and %d in flight", a.statusCounts(gServer), s.T, Rate(s.rate()), s.InFlightMax),
		fmt.Sprintf("share at low vs high load: %s vs %s; latency did not climb before them", pct(lo), pct(hi)),
	}
	f.Advice = "errors that don't follow load point at injected faults or a failing dependency: look at the server's logs for these seconds; retry 502/503/504 with backoff and a budget"
	return f
}

// lateForbidden: 401/403 that begin mid-run and follow neither load nor
// a cap — expired or revoked tokens, or a resource-level permission.
func (a *analysis) lateForbidden() *Finding {
	at := a.first(gAuth)
	if at < 0 || !enough(a.total(gAuth), a.attempts) {
		return nil
	}
	s := &a.secs[at]
	if a.first(g401) < 0 || a.total(g403) > a.total(g401) {
		// A 401 is never a cap: the credentials were refused.
		if f := a.partialRefusals(g403, at); f != nil {
			return f
		}
	}
	f := &Finding{
		Kind: Authorization, Statuses: a.statuses(gAuth),
		Onset:      Onset{Time: s.T, Rate: s.rate(), InFlight: float64(s.InFlightMax)},
		Confidence: 0.5,
	}
	codes := strings.Join(f.Statuses, "/")
	fromStart := at == a.firstTraffic()
	if fromStart {
		f.Summary = fmt.Sprintf("authorization: %s on some requests from the first, others accepted", codes)
	} else {
		f.Summary = fmt.Sprintf("authorization: %s from t=%.1f s, not following load", codes, s.T)
	}
	f.Evidence = []string{fmt.Sprintf("%s, from t=%.1f s at %s and %d in flight", a.statusCounts(gAuth), s.T, Rate(s.rate()), s.InFlightMax)}
	if c := a.codesOf(gAuth); c != "" {
		f.Evidence = append(f.Evidence, c)
	}
	if steps := a.partlyAccepted(gAuth); len(steps) > 0 {
		f.Evidence = append(f.Evidence, fmt.Sprintf("%s also had requests accepted after the first refusal: these requests went with other credentials, or none", strings.Join(steps, ", ")))
	}
	if f.Statuses[0] == "401" {
		f.Advice = unauthorizedAdvice(a.codesIn(gAuth), fromStart)
	} else {
		f.Advice = "403s that follow neither load nor the start of the run point at permissions on particular resources (division, queue): check the 403 bodies"
	}
	return f
}

// partialRefusals: refusals (401/403, or 429 without Retry-After) on
// steps that also accepted requests after them, with the same
// credentials, which neither a window, a cap on requests in flight nor a
// beat of acceptances explains. Not a missing permission: a cap on
// something that outlives the request (open jobs, a quota), whose size
// the results do not show — the generator's own jitter can blur the beat.
func (a *analysis) partialRefusals(g statusGroup, at int) *Finding {
	var steps []string
	for _, sc := range a.sum.Scenarios {
		for _, st := range sc.Steps {
			n := st.Statuses["403"]
			if g.name == "429" {
				n = st.Statuses["429"] - st.WithRetryAfter
			}
			if n <= 0 || a.claimed[sc.Name+"/"+st.Name] {
				continue
			}
			if !a.acceptedAfter(sc.Name, st.Name, g) {
				return nil // a step refused for good: it may be a permission
			}
			if !creates(st.Endpoint) {
				return nil // a read leaves nothing open to cap
			}
			steps = append(steps, sc.Name+"/"+st.Name)
		}
	}
	if len(steps) == 0 {
		return nil
	}
	s := &a.secs[at]
	f := &Finding{Kind: JobCap, Statuses: a.statuses(g), Scope: strings.Join(steps, ", "),
		Onset: Onset{Time: s.T, Rate: s.rate()}, Confidence: 0.4}
	f.Summary = fmt.Sprintf("refusals (%s) on %s from t=%.1f s while other requests of the same step pass: a cap, not a missing permission",
		strings.Join(f.Statuses, "/"), f.Scope, s.T)
	f.Evidence = []string{fmt.Sprintf("%s; the same step, with the same credentials, was accepted after it was refused", a.statusCounts(g))}
	if c := a.codesOf(g); c != "" {
		f.Evidence = append(f.Evidence, c)
	}
	f.Evidence = append(f.Evidence, "no Retry-After, no spent window, and the refusals do not follow requests in flight; the acceptances keep no steady beat, so the cap's size is not in these results")
	f.Advice = "not a permission to grant: the step hits a cap on something its requests leave open (jobs, channels, a quota) — keep fewer open at once (`closed: {vus: N}` with each VU waiting for its own to finish) and read the refusal's message"
	return f
}

// acceptedAfter reports whether scen/step had a 2xx in or after the
// first second in which it got a refusal of g.
func (a *analysis) acceptedAfter(scen, step string, g statusGroup) bool {
	refused := false
	for i := range a.secs {
		sb := a.stepBucket(i, scen, step)
		if sb == nil {
			continue
		}
		for k, n := range sb.Statuses {
			if c, err := strconv.Atoi(k); err == nil && g.match(c) && n > 0 {
				refused = true
			}
		}
		if refused && accepted(sb.Statuses) > 0 {
			return true
		}
	}
	return false
}

// generatorBound: iterations dropped (or started late) while the server
// was healthy in those seconds.
func (a *analysis) generatorBound(serverTrouble bool) *Finding {
	sum := a.sum
	var dropIdx []int
	for i := range a.secs {
		if a.secs[i].Dropped > 0 {
			dropIdx = append(dropIdx, i)
		}
	}
	lagging := false
	if sum.Latency.FromDue.Count > 0 {
		d, s := sum.Latency.FromDue.P50, sum.Latency.FromSend.P50
		lagging = d-s > math.Max(10, 0.5*s)
	}
	dropShare := 0.0
	if sum.Offered > 0 {
		dropShare = float64(sum.Dropped) / float64(sum.Offered)
	}
	if (len(dropIdx) == 0 || dropShare < minDropShare) && !lagging {
		return nil
	}
	// Healthy while dropping: few failures, latency near the baseline.
	var fails, att, latSum, latN float64
	for _, i := range dropIdx {
		s := &a.secs[i]
		fails += s.n(gFailed)
		att += float64(s.Attempts)
		if s.FromSend.Count > 0 {
			latSum += s.FromSend.Mean * float64(s.FromSend.Count)
			latN += float64(s.FromSend.Count)
		}
	}
	failShare := 0.0
	if att > 0 {
		failShare = fails / att
	}
	lat := 0.0
	if latN > 0 {
		lat = latSum / latN
	}
	if failShare > maxHealthyFailure || (a.baseline > 0 && lat > maxHealthyRise*a.baseline) {
		return nil
	}
	if len(dropIdx) == 0 && serverTrouble {
		return nil
	}
	f := &Finding{Kind: GeneratorBound, Confidence: 0.8}
	if len(dropIdx) > 0 {
		s := &a.secs[dropIdx[0]]
		var peak int64
		for _, i := range dropIdx {
			peak = max(peak, a.secs[i].InFlightMax)
		}
		offered := float64(s.Offered) / s.Seconds
		achieved := float64(s.Started) / s.Seconds
		// The wall is what the generator managed, not what was asked.
		f.Onset = Onset{Time: s.T, Rate: achieved, InFlight: float64(peak)}
		f.Summary = fmt.Sprintf("generator-bound: iterations dropped from t=%.1f s at %s achieved (%s offered)", s.T, Rate(achieved), Rate(offered))
		f.Evidence = append(f.Evidence,
			fmt.Sprintf("%s of %s iterations dropped (%s): no VU was free; in flight peaked at %d", Count(sum.Dropped), Count(sum.Offered), pct(dropShare), peak),
			fmt.Sprintf("server healthy meanwhile: %s of attempts failed, mean latency %s (baseline %s)", pct(failShare), ms(lat), ms(a.baseline)))
		if sum.OfferedRate > 0 {
			f.Evidence = append(f.Evidence, fmt.Sprintf("achieved %s of %s offered", Rate(sum.AchievedRate), Rate(sum.OfferedRate)))
		}
		need := int64(math.Ceil(offered * math.Max(lat, a.baseline) / 1000 * 1.5))
		f.Advice = fmt.Sprintf("the generator, not the server, is the wall: raise max_vus to ≥ %s (rate × latency × 1.5), or spread the load over processes with `floodgate run --segment i/n`", Count(max(need, peak+1)))
	} else {
		f.Confidence = 0.5
		i := a.firstTraffic()
		if i < 0 {
			return nil
		}
		s := &a.secs[i]
		f.Onset = Onset{Time: s.T, Rate: s.rate(), InFlight: float64(s.InFlightMax)}
		f.Summary = "generator-bound: requests started late"
		f.Evidence = append(f.Evidence, fmt.Sprintf("median latency from due %s vs from send %s: requests waited in the generator before they were sent",
			ms(sum.Latency.FromDue.P50), ms(sum.Latency.FromSend.P50)))
		f.Advice = "the generator could not send on time: give it more CPU (fewer other processes), or split the load with `--segment i/n`"
	}
	if g := sum.Generator; g.StealShare(sum.DurationS) >= metrics.NotableSteal {
		f.Evidence = append(f.Evidence, fmt.Sprintf("the hypervisor took %s of the generator's CPU time (steal: %.1f s)",
			pct(g.StealShare(sum.DurationS)), *g.StealS))
		f.Advice += "; this machine's host was short of CPU too: run the generator where its cores are its own (a dedicated VM or node)"
	}
	return f
}

// partlyAccepted lists the scenario/steps refused in g that had
// requests accepted after their first refusal.
func (a *analysis) partlyAccepted(g statusGroup) []string {
	var out []string
	for _, sc := range a.sum.Scenarios {
		for _, st := range sc.Steps {
			if a.acceptedAfter(sc.Name, st.Name, g) {
				out = append(out, sc.Name+"/"+st.Name)
			}
		}
	}
	return out
}

// unclaimedStats adds up the steps no cap on open jobs explained; the
// run's own figures when the results name no steps.
func (a *analysis) unclaimedStats() metrics.Stats {
	var t metrics.Stats
	steps := 0
	for _, sc := range a.sum.Scenarios {
		for _, st := range sc.Steps {
			steps++
			if a.claimed[sc.Name+"/"+st.Name] {
				continue
			}
			t.Requests += st.Requests
			t.Attempts += st.Attempts
			t.Retries += st.Retries
			t.Lost += st.Lost
			for k, v := range st.FinalStatuses {
				if t.FinalStatuses == nil {
					t.FinalStatuses = map[string]int64{}
				}
				t.FinalStatuses[k] += v
			}
		}
	}
	if steps == 0 {
		return a.sum.Stats
	}
	return t
}
