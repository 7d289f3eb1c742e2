package diagnose

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
)

// plainFailures are failures that are no wall of the service, said
// plainly: credentials the token endpoint refused, a target that does
// not answer, a TLS handshake that failed, requests cut off when the
// grace period ended. The failed attempts they explain are taken out of
// the run's counts ("no response"), so that no rule reads them as load.
func (a *analysis) plainFailures() []Finding {
	var fs []Finding
	for _, p := range []struct {
		class string
		kind  Kind
		sum   string
		why   string
		fix   string
	}{
		{"auth", Credentials, "the token endpoint refused the credentials",
			"failed because the token endpoint refused the client's credentials: nothing was sent to the API",
			"check the client id and secret (GC_CLIENT_ID / GC_CLIENT_SECRET), the token URL and the org's region; not a load problem"},
		{"connect", Unreachable, "target unreachable",
			"could not connect (refused, DNS, unreachable): nothing answered",
			"check that the target is up and the URL (host, port, scheme) is right; not a wall of the service"},
		{"tls", TLSFailure, "TLS handshake failed",
			"failed in the TLS handshake (certificate or protocol)",
			"check the certificate (name, chain, expiry) and the scheme; not a wall of the service"},
	} {
		// Attempts by class where the results have them: with retries on,
		// a refused connection is retried until the budget refuses, and
		// the request ends "budget", not "connect".
		perSec := func(s *second) int64 { return s.AttemptErrors[p.class] }
		of, unit := a.attempts, "attempts"
		n := a.attemptErrors(p.class)
		if n == 0 || p.class == "auth" {
			perSec = func(s *second) int64 { return s.Errors[p.class] }
			n, of, unit = float64(a.sum.Errors[p.class]), float64(a.sum.Requests), "requests"
		}
		if n == 0 && p.kind == Unreachable && a.sum.StopReason == "target unreachable" {
			// Results without attempt classes: the run's own verdict.
			perSec = func(s *second) int64 { return s.Errors["connect"] + s.Errors["budget"] }
			n = float64(a.sum.Errors["connect"] + a.sum.Errors["budget"])
		}
		if n == 0 {
			continue
		}
		at := -1
		for i := range a.secs {
			if k := perSec(&a.secs[i]); k > 0 {
				if at < 0 {
					at = i
				}
				c := &a.secs[i].codes
				(*c)[0] -= min((*c)[0], k)
			}
		}
		f := Finding{Kind: p.kind, Statuses: []string{"0"}, Confidence: 0.95}
		if at >= 0 {
			f.Onset = Onset{Time: a.secs[at].T, Rate: a.secs[at].rate()}
		}
		f.Summary = fmt.Sprintf("%s: %s of %s %s from t=%.1f s", p.sum, Count(int64(n)), Count(int64(of)), unit, f.Onset.Time)
		f.Evidence = []string{fmt.Sprintf("%s %s %s", Count(int64(n)), unit, p.why)}
		if b := a.sum.Errors["budget"]; b > 0 && unit == "attempts" {
			f.Evidence = append(f.Evidence, fmt.Sprintf("%s requests ended \"budget\": the retry budget refused to retry these failures, it did not cause them", Count(b)))
		}
		if p.kind == Unreachable && a.sum.StopReason == "target unreachable" {
			f.Evidence = append(f.Evidence, "the run stopped early: the target was unreachable")
		}
		if p.class != "auth" && a.total(gFailed) == 0 && a.sum.Succeeded == 0 {
			f.Evidence = append(f.Evidence, "no response at all")
		}
		f.Advice = p.fix
		fs = append(fs, f)
	}
	if a.sum.Errors["auth"] == 0 && a.sum.Attempts == 0 && a.sum.Requests > 0 && a.sum.Succeeded == 0 {
		// Every request failed and none was sent: the token endpoint
		// refused the credentials (results written before the run
		// classed that "auth" say no more than this).
		at := -1
		for i := range a.secs {
			if a.secs[i].Completed > 0 {
				at = i
				break
			}
		}
		f := Finding{Kind: Credentials, Confidence: 0.7}
		if at >= 0 {
			f.Onset = Onset{Time: a.secs[at].T}
		}
		f.Summary = fmt.Sprintf("nothing was sent: all %s requests failed before reaching the API", Count(a.sum.Requests))
		f.Evidence = []string{fmt.Sprintf("%s requests, 0 attempts: each failed before its request went out — most likely the token endpoint refused the credentials", Count(a.sum.Requests))}
		f.Advice = "check the client id and secret (GC_CLIENT_ID / GC_CLIENT_SECRET) and the token URL; the run's step failures name the error"
		fs = append(fs, f)
	}
	if f := a.cutOff(); f != nil {
		fs = append(fs, *f)
	}
	return fs
}

// cutOff: requests that failed without a response, or while they waited
// to retry, in the seconds when the grace period after a stop ran out
// (at the plan's end or after Ctrl-C) — cancelled by floodgate, not
// failed by the target. Results without the cut's time say only that
// the run was aborted: its last two seconds are read then.
func (a *analysis) cutOff() *Finding {
	if len(a.secs) == 0 {
		return nil
	}
	cut := a.sum.GraceCut
	from, limit := max(0, len(a.secs)-2), int64(math.MaxInt64)
	switch {
	case cut != nil:
		from, limit = len(a.secs)-1, cut.InFlight
		for i := range a.secs {
			if a.secs[i].T+a.secs[i].Seconds > cut.AtS {
				from = i
				break
			}
		}
	case !a.sum.Aborted:
		return nil
	}
	var n int64
	at := -1
	classes := map[string]bool{} // what the cut requests were counted as
	for i := from; i < len(a.secs) && i <= from+1 && n < limit; i++ {
		s := &a.secs[i]
		// Logical requests: one cut while it waited to retry has no
		// attempt of its own in flight.
		k := min(limit-n, s.Errors["other"]+s.Errors["timeout"])
		if cut == nil {
			k = min(s.codes[0], k)
		} else {
			// A request refused (429, say) and cut while it waited to
			// retry ends with that status: those beyond the refusals
			// answered in these seconds.
			st := max(0, s.Errors["status"]-refusedAttempts(s))
			k = min(limit-n, k+st)
			for c, v := range map[string]int64{"timeout": s.Errors["timeout"], "other": s.Errors["other"], "status": st} {
				if v > 0 && k > 0 {
					classes[c] = true
				}
			}
		}
		if k > 0 {
			n += k
			s.codes[0] -= min(s.codes[0], k)
			if at < 0 {
				at = i
			}
		}
	}
	if n == 0 {
		return nil
	}
	s := &a.secs[at]
	f := &Finding{Kind: CutOff, Statuses: []string{"0"}, Confidence: 0.9,
		Onset: Onset{Time: s.T, InFlight: float64(s.InFlightMax)}}
	f.Summary = fmt.Sprintf("%s requests cut off when the grace period ended (t=%.1f s)", Count(n), s.T)
	if cut != nil {
		f.Summary = fmt.Sprintf("%s requests cut off when the grace period ended (t=%.1f s)", Count(n), cut.AtS)
		why := "the plan's last requests were started"
		if a.sum.Interrupted {
			why = "the run was stopped (" + stopReason(a.sum.StopReason) + ")"
		}
		f.Evidence = []string{fmt.Sprintf("%s; the grace period ran out at t=%.1f s with %s requests in flight or waiting to retry: floodgate cancelled them, the target did not fail them (counted as %s)",
			why, cut.AtS, Count(cut.InFlight), strings.Join(slices.Sorted(maps.Keys(classes)), "/"))}
		f.Advice = "not a wall of the service: give the plan a longer `grace:` to let them finish"
		return f
	}
	f.Evidence = []string{fmt.Sprintf("the run was aborted (%s); %s requests in flight in its last seconds got no response", stopReason(a.sum.StopReason), Count(n))}
	f.Advice = "not a wall of the service: these requests were cancelled by floodgate; give the plan a longer `grace:` to let them finish, or stop with one Ctrl-C"
	return f
}

// refusedAttempts counts s's attempts answered with a failure status.
func refusedAttempts(s *second) int64 {
	var n int64
	for k, v := range s.Statuses {
		if len(k) == 3 && k[0] >= '4' {
			n += v
		}
	}
	return n
}

func stopReason(r string) string {
	if r == "" {
		return "Ctrl-C"
	}
	return r
}

func sortedKeys(m map[string]int64) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.SortFunc(ks, func(x, y string) int {
		if m[x] != m[y] {
			return int(m[y] - m[x])
		}
		if x < y {
			return -1
		}
		return 1
	})
	return ks
}

// attemptErrors counts the run's attempts that failed with class.
func (a *analysis) attemptErrors(class string) float64 {
	var n float64
	for i := range a.secs {
		n += float64(a.secs[i].AttemptErrors[class])
	}
	return n
}
