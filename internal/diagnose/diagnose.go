package diagnose

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/floodgate-dev/floodgate/internal/metrics"
	"github.com/floodgate-dev/floodgate/internal/numfmt"
)

// Kind names a kind of wall.
type Kind string

// The kinds of wall Analyze recognises.
const (
	// RateLimit: 429s because a count per window was spent; onset tracks
	// the request rate, not concurrency.
	RateLimit Kind = "rate_limit"
	// ConcurrencyCap: failures (429, 403, 503 …) only while more than N
	// requests are in flight, whatever the rate.
	ConcurrencyCap Kind = "concurrency_cap"
	// Authorization: 401/403 at any load, from the first requests.
	Authorization Kind = "authorization"
	// Saturation: latency climbs with load before errors (a knee), then
	// 5xx or timeouts.
	Saturation Kind = "saturation"
	// GeneratorBound: the load generator did not send what the plan
	// offered (dropped iterations, achieved < offered) while the server
	// was healthy.
	GeneratorBound Kind = "generator_bound"
	// JobCap: creates refused while N server-side jobs (or channels) are
	// open, whatever the request rate or concurrency: a cap on what
	// outlives a request (recording jobs: 2 per org in PENDING or
	// PROCESSING). Onset.Count is N, Onset.Lifetime how long a job holds
	// its slot.
	JobCap Kind = "job_cap"

	// Not walls of the service, said plainly.

	// Credentials: the token endpoint refused the client; nothing was sent.
	Credentials Kind = "credentials"
	// Unreachable: requests could not connect.
	Unreachable Kind = "unreachable"
	// TLSFailure: the TLS handshake failed.
	TLSFailure Kind = "tls"
	// CutOff: requests cancelled when the grace period after a stop ended.
	CutOff Kind = "cut_off"
)

// Title is the kind in words, e.g. "rate limit".
func (k Kind) Title() string {
	switch k {
	case RateLimit:
		return "rate limit"
	case ConcurrencyCap:
		return "concurrency cap"
	case Authorization:
		return "authorization"
	case Saturation:
		return "saturation"
	case GeneratorBound:
		return "generator-bound"
	case JobCap:
		return "cap on open jobs"
	case Credentials:
		return "credentials refused"
	case Unreachable:
		return "target unreachable"
	case TLSFailure:
		return "TLS failure"
	case CutOff:
		return "cut off at grace"
	}
	return string(k)
}

// Onset is where a wall begins. Zero fields are unknown or do not apply.
type Onset struct {
	// Time is when the wall was first hit, in seconds since the run's
	// start (the start of the one-second bucket it shows in).
	Time float64 `json:"time_s"`
	// Rate is the request rate (attempts per second) at which the wall
	// stands. For a rate limit it is the rate the limit lets through
	// (Count per Window); otherwise the rate sent when the wall was hit.
	Rate float64 `json:"rate"`
	// InFlight is the concurrency (logical requests in flight) at which
	// the wall stands: the cap for a concurrency cap, the knee for
	// saturation, the in-flight peak when it was hit otherwise.
	InFlight float64 `json:"inflight"`
	// Count is a rate limit's requests per window; 0 when unknown.
	Count int64 `json:"count,omitempty"`
	// Window is a rate limit's window in seconds; 0 when unknown.
	Window float64 `json:"window_s,omitempty"`
	// Lifetime is how long a job holds its slot under a cap on open
	// jobs, in seconds (Count is the cap).
	Lifetime float64 `json:"lifetime_s,omitempty"`
}

// Finding is one wall: its kind, where it begins, the numbers behind the
// verdict, how sure Analyze is, and what to do about it.
type Finding struct {
	Kind Kind `json:"kind"`
	// Statuses lists the HTTP statuses that make up the wall ("0": no
	// response), most frequent first; empty for a generator-bound run.
	Statuses []string `json:"statuses,omitempty"`
	// Scope names the scenario/step the wall is confined to, when it is.
	Scope string `json:"scope,omitempty"`
	Onset Onset  `json:"onset"`
	// Summary is one line: kind, where, when.
	Summary  string   `json:"summary"`
	Evidence []string `json:"evidence"`
	// Confidence is between 0 and 1.
	Confidence float64 `json:"confidence"`
	Advice     string  `json:"advice"`
}

// Diagnosis is every wall found in a run, in order of onset.
type Diagnosis struct {
	// Verdict is one line for the top of a report.
	Verdict  string    `json:"verdict"`
	Findings []Finding `json:"findings"`
}

// Thresholds of the rules. They are deliberately coarse: each rule
// looks for a shape (a plateau, a separation, a knee), not a fine fit.
const (
	// minAuthShare: a step whose final statuses are at least this share
	// of 401/403 has an authorization problem, whatever the load.
	minAuthShare = 0.9
	// minSeparation: the share of seconds consistent with "failures iff
	// in flight ≥ N" for a concurrency cap.
	minSeparation = 0.9
	// minKneeRise: latency at the top of the load over the baseline for
	// a knee to count as saturation (1.15 when errors follow it).
	minKneeRise      = 1.5
	minKneeRiseError = 1.15
	// maxHealthyFailure and maxHealthyRise: a server is healthy in a
	// second with fewer failures than this share and latency below this
	// multiple of the baseline.
	maxHealthyFailure = 0.02
	maxHealthyRise    = 1.5
	// minDropShare: dropped iterations (or started below offered) as a
	// share of offered that make a run generator-bound.
	minDropShare = 0.01
	// minBucket: shorter buckets (the last, partial second) are left out
	// of per-second rates.
	minBucket = 0.5
	// minWallFailures and minWallShare: a wall read from failures alone
	// needs at least this many and this share of the attempts (three
	// connection resets in a long run are not a wall).
	minWallFailures = 5
	minWallShare    = 0.005
	// minWallSeconds: a concurrency cap needs failures in this many
	// seconds.
	minWallSeconds = 2
)

// Analyze finds the walls in res. It never fails: a run without
// failures, or without a time series, gives a Diagnosis without
// findings. res is not modified.
func Analyze(res *metrics.Results) *Diagnosis {
	a := newAnalysis(res)
	// Plain failures and caps on open jobs first: each takes the
	// failures it explains out of the counts, so that the rules after it
	// see only the rest (a job cap's 429s are not a rate limit's).
	fs := a.plainFailures()
	fs = append(fs, a.jobCaps()...)
	claimed := map[string]bool{} // status groups already explained

	authFound := false
	if f := a.authorization(); f != nil {
		authFound = true
		fs = append(fs, *f)
		for _, s := range f.Statuses {
			claimed[s] = true
		}
	}
	if f := a.rateLimit(); f != nil {
		fs = append(fs, *f)
		claimed["429"] = true
	}
	for _, g := range []statusGroup{g429, g403, gServer} {
		if claimed[g.name] {
			continue
		}
		if g.name == "5xx" {
			if f := a.saturation(); f != nil {
				fs = append(fs, *f)
				claimed["5xx"] = true
				continue
			}
		}
		if f := a.concurrencyCap(g); f != nil {
			fs = append(fs, *f)
			claimed[g.name] = true
		}
	}
	if !claimed["403"] || authFound {
		// What authorization left unexplained (it takes its own out).
		if f := a.lateForbidden(); f != nil {
			fs = append(fs, *f)
		}
	}
	if at := a.first(g429); !claimed["429"] && at >= 0 && enough(a.total(g429), a.attempts) {
		if f := a.partialRefusals(g429, at); f != nil {
			fs = append(fs, *f)
		}
	}
	if !claimed["5xx"] {
		if f := a.serverErrors(); f != nil {
			fs = append(fs, *f)
		}
	}
	gen := a.generatorBound(len(fs) > 0)
	if gen != nil {
		fs = append(fs, *gen)
	}
	slices.SortStableFunc(fs, func(x, y Finding) int { return cmp.Compare(x.Onset.Time, y.Onset.Time) })
	if gen == nil && a.sum.Dropped > 0 && len(fs) > 0 {
		// Drops behind a wall are its consequence: VUs were busy waiting.
		f := &fs[0]
		f.Evidence = append(f.Evidence, fmt.Sprintf("%s iterations dropped (no VU free) while requests were held up by this wall",
			Count(a.sum.Dropped)))
	}
	return &Diagnosis{Verdict: verdict(a, fs), Findings: fs}
}

func verdict(a *analysis, fs []Finding) string {
	if len(fs) == 0 {
		if a.attempts == 0 {
			return "no wall: nothing was sent"
		}
		// The summary's count: a refusal the plan expects is no failure.
		failed := a.sum.Requests - a.sum.Succeeded
		v := fmt.Sprintf("no wall found: %s attempts, %s requests failed", Count(int64(a.attempts)), Count(failed))
		if exp := int64(a.failed) - failed; exp > 0 && a.sum.Retries == 0 {
			v += fmt.Sprintf(", %s refused as expected", Count(exp))
		}
		if failed > 0 {
			v += " (too few, or too scattered, to call a wall)"
		}
		return v + ", latency flat"
	}
	// A dead target, refused credentials or requests cut off are no
	// walls of the service: the verdict does not count them as walls.
	var walls, plain []string
	for _, f := range fs {
		if f.Kind.plain() {
			plain = append(plain, f.Summary)
		} else {
			walls = append(walls, f.Summary)
		}
	}
	var s string
	switch len(walls) {
	case 0:
		return "no wall of the service: " + strings.Join(plain, "; ")
	case 1:
		s = "one wall: " + walls[0]
	default:
		s = strconv.Itoa(len(walls)) + " walls: " + strings.Join(walls, "; ")
	}
	if len(plain) > 0 {
		s += "; also " + strings.Join(plain, "; ")
	}
	return s
}

// Count, Rate and Seconds are numfmt's, which lint and the reports share.
func Count(n int64) string     { return numfmt.Count(n) }
func Rate(r float64) string    { return numfmt.Rate(r) }
func Seconds(s float64) string { return numfmt.Seconds(s) }

func pct(x float64) string {
	switch {
	case x == 0:
		return "0%"
	case x < 0.01:
		return strconv.FormatFloat(x*100, 'f', 2, 64) + "%"
	case x < 0.1:
		return strconv.FormatFloat(x*100, 'f', 1, 64) + "%"
	}
	return strconv.FormatFloat(x*100, 'f', 0, 64) + "%"
}

func ms(x float64) string {
	if x < 10 {
		return strconv.FormatFloat(x, 'f', 1, 64) + " ms"
	}
	return strconv.FormatFloat(x, 'f', 0, 64) + " ms"
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
