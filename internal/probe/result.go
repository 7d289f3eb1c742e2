package probe

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/floodgate-dev/floodgate/internal/client"
)

// Shapes of a limit's window.
const (
	// ShapeFixed: the whole quota comes back at once when the window ends.
	ShapeFixed = "fixed window"
	// ShapeGradual: the quota comes back bit by bit (sliding window or
	// token bucket).
	ShapeGradual = "sliding window or token bucket"
)

// What a limit is kept per.
const (
	KeyToken       = "token"
	KeyClient      = "client"
	KeyCredentials = "credentials"
	KeyShared      = "shared"
	KeyUnknown     = "unknown"
)

// Result is what a probe found; it is written as JSON by `floodgate
// probe -o`. Durations are in seconds.
type Result struct {
	URL         string  `json:"url"`
	Method      string  `json:"method"`
	MaxRequests int     `json:"max_requests"`
	MaxTime     float64 `json:"max_time_s"`
	// Requests is how many requests were sent (token requests excepted);
	// never more than MaxRequests.
	Requests int     `json:"requests"`
	ElapsedS float64 `json:"elapsed_s"`
	// StoppedBy is "limit found", "max-requests", "max-time" or "error".
	StoppedBy string `json:"stopped_by"`
	// Limited is true when a 429 was seen.
	Limited bool `json:"limited"`
	// AcceptedBeforeLimit counts the requests accepted before the first
	// 429 (less than Count when the window had begun before the probe).
	AcceptedBeforeLimit int `json:"accepted_before_limit"`
	// Count is the requests allowed per window, from the headers or
	// counted in a fresh window; CountSource says which.
	Count       int    `json:"count,omitempty"`
	CountSource string `json:"count_source,omitempty"`
	Window      Window `json:"window"`
	// Shape is ShapeFixed or ShapeGradual ("" when unknown); Burst is a
	// gradual limit's burst.
	Shape string `json:"shape,omitempty"`
	Burst int    `json:"burst,omitempty"`
	// Key is KeyToken, KeyClient, KeyCredentials, KeyShared or
	// KeyUnknown, with the observation behind it.
	Key         string     `json:"key,omitempty"`
	KeyEvidence string     `json:"key_evidence,omitempty"`
	RetryAfter  RetryAfter `json:"retry_after"`
	// Declared is what the rate-limit headers of an accepted response
	// said, when they said anything.
	Declared *Declared `json:"declared,omitempty"`
	// Headers lists the rate-limit header names seen.
	Headers  []string       `json:"headers"`
	Statuses map[string]int `json:"statuses"`
	Findings []string       `json:"findings"`
}

// Window is a limit's window, in seconds.
type Window struct {
	// S is the window's length; 0 when unknown.
	S float64 `json:"s,omitempty"`
	// Source: "headers (…)" or "timing".
	Source string `json:"source,omitempty"`
	// TimingS is when the limit reopened after the first accepted
	// request, which confirms a window read from headers.
	TimingS float64 `json:"timing_s,omitempty"`
	// LowerS and UpperS bracket the window when timed, or bound it when
	// the budget ran out first.
	LowerS float64 `json:"lower_s,omitempty"`
	UpperS float64 `json:"upper_s,omitempty"`
}

// RetryAfter is how the server's Retry-After behaved.
type RetryAfter struct {
	Present bool      `json:"present"`
	ValuesS []float64 `json:"values_s,omitempty"`
	// CountsDown: later 429s asked for shorter waits (the time left in
	// the window); Constant: the same wait whatever the time.
	CountsDown bool `json:"counts_down"`
	Constant   bool `json:"constant"`
	// ErrorS is how much later than the window's end the last
	// Retry-After pointed (negative: too early); nil when unknown.
	ErrorS *float64 `json:"error_s,omitempty"`
}

// Declared is a response's rate-limit headers.
type Declared struct {
	Limit     int     `json:"limit,omitempty"`
	Remaining *int    `json:"remaining,omitempty"`
	ResetS    float64 `json:"reset_s,omitempty"`
	WindowS   float64 `json:"window_s,omitempty"`
}

func (r *Result) declared(rl client.RateLimit) {
	if !(rl.HasLimit || rl.HasRemaining || rl.HasReset || rl.HasWindow) {
		return
	}
	d := &Declared{Limit: rl.Limit, ResetS: rl.Reset.Seconds(), WindowS: rl.Window.Seconds()}
	if rl.HasRemaining {
		n := rl.Remaining
		d.Remaining = &n
	}
	r.Declared = d
}

// Rate is the limit's sustained rate per second (Count per window), 0
// when unknown.
func (r *Result) Rate() float64 {
	if r.Count > 0 && r.Window.S > 0 {
		return float64(r.Count) / r.Window.S
	}
	return 0
}

func secs(s float64) string {
	if s >= 10 {
		return strconv.FormatFloat(s, 'f', 0, 64) + " s"
	}
	return strconv.FormatFloat(s, 'f', 2, 64) + " s"
}

// findings writes the one-line conclusions.
func (r *Result) findings() {
	var f []string
	add := func(format string, args ...any) { f = append(f, fmt.Sprintf(format, args...)) }
	if !r.Limited {
		add("no 429 within %d requests and %s (stopped by %s)", r.Requests, secs(r.ElapsedS), r.StoppedBy)
		if d := r.Declared; d != nil && d.Limit > 0 {
			add("the headers declare a limit of %d per window (reset %s): more than this probe's budget reached", d.Limit, secs(d.ResetS))
		}
		r.Findings = f
		return
	}
	switch {
	case r.Count > 0 && r.Window.S > 0:
		add("limit: %d requests per %s (%.2f/s), %s; count from %s, window from %s", r.Count, secs(r.Window.S), r.Rate(), r.Shape, r.CountSource, r.Window.Source)
	case r.Count > 0:
		add("limit: %d requests per window (count from %s); window %s", r.Count, r.CountSource, bracket(r.Window))
	default:
		add("limited after %d requests; window %s", r.AcceptedBeforeLimit, bracket(r.Window))
	}
	if r.Window.TimingS > 0 {
		add("timing agrees: the limit reopened %s after the first accepted request", secs(r.Window.TimingS))
	}
	if r.Shape == ShapeGradual && r.Burst > 0 {
		add("the quota comes back gradually: a burst of %d, then only a few requests at a time", r.Burst)
	}
	if r.AcceptedBeforeLimit > 0 && r.Count > 0 && r.AcceptedBeforeLimit < r.Count {
		add("only %d were accepted before the first 429: the window had begun before the probe (other clients or an earlier run)", r.AcceptedBeforeLimit)
	}
	if r.Key != "" {
		add("kept per %s: %s", r.Key, r.KeyEvidence)
	}
	ra := r.RetryAfter
	switch {
	case !ra.Present:
		add("no Retry-After on 429s: wait for the headers' reset, or back off exponentially with jitter")
	default:
		how := "present"
		switch {
		case ra.CountsDown:
			how = "counts down to the window's end"
		case ra.Constant:
			how = "constant"
		}
		vals := make([]string, len(ra.ValuesS))
		for i, v := range ra.ValuesS {
			vals[i] = strings.TrimRight(strings.TrimRight(strconv.FormatFloat(v, 'f', 3, 64), "0"), ".")
		}
		line := fmt.Sprintf("Retry-After %s (%s s)", how, strings.Join(vals, ", "))
		if ra.ErrorS != nil {
			switch e := *ra.ErrorS; {
			case e < -0.05:
				line += fmt.Sprintf("; it pointed %s before the window's end: honouring it alone gets more 429s", secs(-e))
			case e > 0.5:
				line += fmt.Sprintf("; it pointed %s after the window's end: safe, slightly slow", secs(e))
			default:
				line += "; it points at the window's end: honour it (`honor_retry_after: true`)"
			}
		}
		add("%s", line)
	}
	if rate := r.Rate(); rate > 0 {
		add("plan for it: pace at ≤ %.2f/s per %s (`open: {rate: %s}`), or retry with honor_retry_after", rate, keyNoun(r.Key), rateSpec(rate))
	}
	r.Findings = f
}

func keyNoun(k string) string {
	switch k {
	case KeyToken, KeyClient:
		return k
	case KeyCredentials:
		return "credential set"
	}
	return "limit key"
}

func rateSpec(r float64) string {
	if r >= 1 {
		return strconv.FormatFloat(float64(int(r*10))/10, 'f', -1, 64) + "/s"
	}
	return strconv.FormatFloat(float64(int(r*600))/10, 'f', -1, 64) + "/m"
}

func bracket(w Window) string {
	switch {
	case w.S > 0:
		return secs(w.S) + " (" + w.Source + ")"
	case w.UpperS > 0:
		return "between " + secs(w.LowerS) + " and " + secs(w.UpperS)
	case w.LowerS > 0:
		return "at least " + secs(w.LowerS) + " (the budget ran out first)"
	}
	return "unknown"
}

// WriteText writes r for a terminal.
func WriteText(w io.Writer, r *Result) error {
	var b strings.Builder
	fmt.Fprintf(&b, "probe %s %s\n", r.Method, r.URL)
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "  · %s\n", f)
	}
	fmt.Fprintf(&b, "  used %d of %d requests in %s; statuses %s; headers %s\n", r.Requests, r.MaxRequests, secs(r.ElapsedS),
		statusText(r.Statuses), headerText(r.Headers))
	_, err := io.WriteString(w, b.String())
	return err
}

func statusText(m map[string]int) string {
	var parts []string
	for _, k := range []string{"200", "201", "202", "204", "429"} {
		if m[k] > 0 {
			parts = append(parts, k+" × "+strconv.Itoa(m[k]))
		}
	}
	for k, n := range m {
		switch k {
		case "200", "201", "202", "204", "429":
			continue
		}
		parts = append(parts, k+" × "+strconv.Itoa(n))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " · ")
}

func headerText(h []string) string {
	if len(h) == 0 {
		return "none"
	}
	return strings.Join(h, ", ")
}
