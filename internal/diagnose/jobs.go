package diagnose

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/floodgate-dev/floodgate/internal/metrics"
)

// maxJobCap is the largest cap on open jobs jobCap names on a step that
// creates jobs or channels (by its endpoint or name): platform caps on
// open resources are small (2 recording jobs per org, 20 channels per
// client). Elsewhere a beat of more than maxUnnamedJobCap acceptances
// per period is a count per window whose headers the results lack (a
// JTL), not a cap on open jobs.
const (
	maxJobCap        = 20
	maxUnnamedJobCap = 10
	// minUnnamedSteady: the share of a beat's gaps within ±20% of their
	// median a step not named for jobs needs.
	minUnnamedSteady = 0.9
)

// minJobLife and minJobLifeS: a cap on open jobs holds each slot for
// longer than this many HTTP latencies (median) of the create, and than
// this many seconds: else the beat is the client's own pace inside a
// window's burst, or a cap on requests in flight.
const (
	minJobLife  = 5.0
	minJobLifeS = 0.1
)

// stepBucket returns the share of second i of scenario/step, or nil.
func (a *analysis) stepBucket(i int, scen, step string) *metrics.StepBucket {
	for j := range a.secs[i].Steps {
		sb := &a.secs[i].Steps[j]
		if sb.Scenario == scen && sb.Step == step {
			return sb
		}
	}
	return nil
}

func accepted(statuses map[string]int64) int64 {
	var n int64
	for k, v := range statuses {
		if len(k) == 3 && k[0] == '2' {
			n += v
		}
	}
	return n
}

// jobCaps finds, step by step, refusals of creates while a fixed number
// of server-side jobs were open: the step's own acceptances come in a
// beat (N per job lifetime L, L far longer than the request), resume
// as jobs finish, and carry no Retry-After. The refusals it explains are
// taken out of the run's counts, so the rules after it see the rest.
func (a *analysis) jobCaps() []Finding {
	var fs []Finding
	for _, sc := range a.sum.Scenarios {
		for i := range sc.Steps {
			if f := a.jobCap(sc.Name, &sc.Steps[i]); f != nil {
				fs = append(fs, *f)
			}
		}
	}
	return fs
}

func (a *analysis) jobCap(scen string, st *metrics.StepSummary) *Finding {
	n403, n429 := st.Statuses["403"], st.Statuses["429"]
	refused := n403 + n429
	ok := accepted(st.Statuses)
	if !enough(float64(refused), float64(st.Attempts)) || ok == 0 {
		return nil
	}
	// A spent window answers with Retry-After (too.many.requests.retry.after);
	// a missing permission names itself.
	if 2*st.WithRetryAfter >= n429 && n429 > 0 && n403 == 0 ||
		2*st.Codes["too.many.requests.retry.after"] >= refused || 2*st.Codes["missing.permissions"] >= refused {
		return nil
	}
	first, resumed := -1, 0
	for i := range a.secs {
		sb := a.stepBucket(i, scen, st.Name)
		if sb == nil {
			continue
		}
		if first < 0 && sb.Statuses["403"]+sb.Statuses["429"] > 0 {
			first = i
		}
		if first >= 0 && accepted(sb.Statuses) > 0 {
			resumed++
		}
	}
	if first < 0 {
		return nil
	}
	// Once a window's refusals (with Retry-After) reach the step, its
	// acceptances keep that wall's beat too: read the cap before them.
	ts := st.AcceptTimesMs
	for i := range a.secs {
		if sb := a.stepBucket(i, scen, st.Name); sb != nil && sb.WithRetryAfter > 0 && i > first {
			cut := int64(a.secs[i].T * 1000)
			n, _ := slices.BinarySearch(ts, cut)
			ts = ts[:n]
			break
		}
	}
	k, life, steady, beat := rhythm(ts)
	lat := math.Max(st.Latency.Attempt.P50, 1)
	if !beat || k > maxJobCap || life*1000 < minJobLife*lat || life < minJobLifeS || !creates(st.Endpoint) {
		return nil
	}
	if !jobLike(st) {
		// A step neither sent to nor named for jobs or channels: a
		// header-less count per window keeps the same beat. Only a
		// small cap, a very steady beat and other steps accepted while
		// this one was refused (a window would refuse them too) say
		// jobs.
		if k > maxUnnamedJobCap || steady < minUnnamedSteady || !a.othersAcceptedWhileRefused(scen, st.Name) {
			return nil
		}
	}
	// A slot's cycle is the job's lifetime plus the wait for the next
	// create once it frees: about one gap between the step's attempts
	// while it was refused.
	cycle := life
	if att, secs := a.stepAttemptsWhileRefused(scen, st.Name); att > 0 && secs > 0 {
		if gap := secs / att; gap < 0.5*life {
			life -= gap
		}
	}
	status := "429"
	if n403 > n429 {
		status = "403"
	}
	// Little's law over the accepted creates that were timed.
	span := float64(ts[len(ts)-1]-ts[0]) / 1000
	rate := 0.0
	if span > 0 {
		rate = float64(len(ts)-1) / span
	}
	s := &a.secs[first]
	key := scen + "/" + st.Name
	f := &Finding{
		Kind: JobCap, Statuses: []string{status}, Scope: key,
		Onset:      Onset{Time: s.T, Rate: rate, Count: int64(k), Lifetime: life},
		Confidence: 0.85,
	}
	code := dominantCode(st.Codes)
	what := resourceOf(st.Endpoint)
	f.Summary = fmt.Sprintf("cap of %d open %s on %s (%s) from t=%.1f s; each open ≈ %s", k, what, key, statusCode(status, code), s.T, Seconds(life))
	raNote := "without Retry-After"
	if st.WithRetryAfter > 0 {
		raNote = fmt.Sprintf("%s with Retry-After", Count(st.WithRetryAfter))
	}
	f.Evidence = append(f.Evidence,
		fmt.Sprintf("%s × %s of %s attempts on %s refused (%s), %s; %s accepted",
			status, Count(refused), Count(st.Attempts), key, codesText(st.Codes), raNote, Count(ok)),
		fmt.Sprintf("accepted creates came %d at a time, one beat every %s (in %s of cases the %s acceptance after any came %s later): at most %d open at once, each for ≈ %s (the beat less the wait for the next create)",
			k, Seconds(cycle), pct(steady), ordinal(k), Seconds(cycle), k, Seconds(life)),
		fmt.Sprintf("Little's law: %s accepted × %s per slot ≈ %.1f jobs open, the cap", Rate(rate), Seconds(cycle), rate*cycle),
		fmt.Sprintf("acceptance resumed in %d seconds after the first refusal, as jobs finished: the same credentials succeed on the same step — not a missing permission", resumed),
		fmt.Sprintf("a create takes %s on the wire, a job stays open %s: the cap is on open jobs, not on requests in flight", ms(lat), Seconds(life)))
	if st.Requests-st.Succeeded < st.FinalStatuses[status] {
		f.Evidence = append(f.Evidence, fmt.Sprintf("the plan expects %s on this step: the summary counts these refusals as ok (refused as expected)", status))
	}
	if status == "403" {
		f.Evidence = append(f.Evidence, "the 403s are the cap's answer: a permission missing would refuse every create, from the first")
	}
	if doc := platformDoc(what, k); doc != "" {
		f.Evidence = append(f.Evidence, doc)
	}
	f.Advice = fmt.Sprintf("at most %d %s at a time: create them from `closed: {vus: %d}`, each VU waiting for its own to finish (a `poll` step until READY or FULFILLED, or `wait_event`) before it creates the next — one every %s per VU, %s in all; larger batches only move the refusals",
		k, what, k, Seconds(life), Rate(float64(k)/life))
	if st.Requests > 0 {
		f.Advice += fmt.Sprintf("; %s creates need ≥ %s", Count(st.Requests), Seconds(math.Ceil(float64(st.Requests)/float64(k))*life))
	}
	// What the cap explains is out of the counts the other rules read.
	for i := range a.secs {
		if sb := a.stepBucket(i, scen, st.Name); sb != nil {
			c := &a.secs[i].codes
			if status == "403" {
				(*c)[403] -= min((*c)[403], sb.Statuses["403"])
			} else {
				(*c)[429] -= min((*c)[429], max(0, sb.Statuses["429"]-sb.WithRetryAfter))
			}
		}
	}
	a.claimed[key] = true
	return f
}

// stepAttemptsWhileRefused counts scen/step's attempts over the full
// seconds in which it was refused, and those seconds.
func (a *analysis) stepAttemptsWhileRefused(scen, step string) (att, secs float64) {
	for i := range a.secs {
		if sb := a.stepBucket(i, scen, step); sb != nil && a.secs[i].full() && sb.Statuses["403"]+sb.Statuses["429"] > 0 {
			att += float64(sb.Attempts)
			secs += a.secs[i].Seconds
		}
	}
	return att, secs
}

func dominantCode(m map[string]int64) string {
	best, n := "", int64(0)
	for k, v := range m {
		if v > n || v == n && k < best {
			best, n = k, v
		}
	}
	return best
}

func statusCode(status, code string) string {
	if code == "" {
		return status
	}
	return status + " " + code
}

// codesText renders "too.many.requests × 466" for the codes seen, or
// says none was read.
func codesText(m map[string]int64) string {
	if len(m) == 0 {
		return "no error code read"
	}
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s × %s", k, Count(m[k])))
	}
	return "body code " + strings.Join(parts, ", ")
}

// enough says whether n failures of total attempts are evidence enough
// for a wall: a few, and a noticeable share.
func enough(n, total float64) bool {
	return n >= minWallFailures && n >= minWallShare*total
}

// resourceOf names what a create endpoint opens.
func resourceOf(endpoint string) string {
	switch {
	case strings.Contains(endpoint, "/recording/jobs"):
		return "recording jobs"
	case strings.Contains(endpoint, "/analytics/") && strings.Contains(endpoint, "/jobs"):
		return "analytics jobs"
	case strings.Contains(endpoint, "/notifications/channels"):
		return "notification channels"
	}
	return "jobs"
}

// platformDoc is what the platform documents about a cap of k open
// what, "" when nothing: its figure where the cap seen is that figure,
// else what was seen with the figure as context only (a target may be
// configured otherwise).
func platformDoc(what string, k int) string {
	var n int
	var per, frees string
	switch what {
	case "recording jobs":
		n, per, frees = 2, "per org in PENDING or PROCESSING", "a job leaves them when READY (or, executed, when finished)"
	case "analytics jobs":
		return "the platform caps the analytics jobs running at once; a job frees its slot when FULFILLED"
	case "notification channels":
		n, per = 20, "per user and app"
	default:
		return ""
	}
	doc := fmt.Sprintf("the platform allows %d %s %s", n, what, per)
	if k != n {
		doc = fmt.Sprintf("this target allows %d open %s at once (for context, the platform documents %d %s)", k, what, n, per)
	}
	if frees != "" {
		doc += "; " + frees
	}
	return doc
}

// ordinal writes 1 as "next", 2 as "2nd", 3 as "3rd", 4 as "4th".
func ordinal(k int) string {
	switch {
	case k == 1:
		return "next"
	case k%10 == 2 && k%100 != 12:
		return fmt.Sprintf("%dnd", k)
	case k%10 == 3 && k%100 != 13:
		return fmt.Sprintf("%drd", k)
	case k%10 == 1 && k%100 != 11:
		return fmt.Sprintf("%dst", k)
	}
	return fmt.Sprintf("%dth", k)
}

// creates reports whether endpoint ("POST /api/v2/…") may open something
// that outlives the request: a POST, or an endpoint the results do not
// name (a JTL).
func creates(endpoint string) bool {
	method, _, ok := strings.Cut(endpoint, " ")
	return !ok || method == "POST" || method == "PUT"
}

// jobLike reports whether st creates jobs or channels, by its endpoint
// or its name.
func jobLike(st *metrics.StepSummary) bool {
	if resourceOf(st.Endpoint) != "jobs" {
		return true
	}
	name := strings.ToLower(st.Name + " " + st.Endpoint)
	for _, w := range []string{"job", "channel", "export"} {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

// othersAcceptedWhileRefused reports whether, in the seconds scen/step
// was refused, other steps had requests accepted and none refused.
func (a *analysis) othersAcceptedWhileRefused(scen, step string) bool {
	seen := false
	for i := range a.secs {
		sb := a.stepBucket(i, scen, step)
		if sb == nil || sb.Statuses["403"]+sb.Statuses["429"] == 0 {
			continue
		}
		for _, o := range a.secs[i].Steps {
			if o.Scenario == scen && o.Step == step {
				continue
			}
			if o.Statuses["403"]+o.Statuses["429"] > 0 {
				return false
			}
			seen = seen || accepted(o.Statuses) > 0
		}
	}
	return seen
}
