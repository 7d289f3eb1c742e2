package client

import (
	"math"
	"net/http"
	"strings"
	"time"
)

// maxDelay bounds every duration parsed from a header (about 292 years
// would overflow time.Duration; a century is plenty).
const maxDelay = 100 * 365 * 24 * time.Hour

// ParseRetryAfter parses a Retry-After value (RFC 9110 §10.2.3), either
// delta-seconds ("120") or an HTTP-date ("Wed, 21 Oct 2015 07:28:00 GMT",
// also the RFC 850 and asctime forms), relative to now. It is lenient
// where servers are sloppy: surrounding spaces, fractional seconds
// ("1.5") and negative deltas are accepted; negative results and dates
// in the past give 0. Values are capped at a century. ok is false when v
// is neither form. ParseRetryAfter does not allocate for delta-seconds.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = trimOWS(v)
	if v == "" {
		return 0, false
	}
	if d, ok := parseSeconds(v, time.Second); ok {
		return d, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d := t.Sub(now)
	if d < 0 {
		d = 0
	}
	return min(d, maxDelay), true
}

// RateLimit is what one response says about its rate limit. Each Has
// flag tells whether the matching field was present; a zero RateLimit
// means the response carried no rate-limit header. Durations are
// relative to the response's arrival.
type RateLimit struct {
	// Limit is the quota per window (inin-ratelimit-allowed,
	// X-RateLimit-Limit, RateLimit limit= or RateLimit-Policy q=).
	Limit int
	// Remaining is what is left of the quota in the current window.
	Remaining int
	// Reset is the time until the window resets.
	Reset time.Duration
	// Window is the policy's window (RateLimit-Policy w=).
	Window time.Duration
	// RetryAfter is the server's requested wait.
	RetryAfter time.Duration

	HasLimit, HasRemaining, HasReset, HasWindow, HasRetryAfter bool
}

// Any reports whether any field is present.
func (r *RateLimit) Any() bool {
	return r.HasLimit || r.HasRemaining || r.HasReset || r.HasWindow || r.HasRetryAfter
}

// complete reports whether the quota fields are all known, so that
// lower-priority header families need not be looked up.
func (r *RateLimit) complete() bool { return r.HasLimit && r.HasRemaining && r.HasReset }

// Header names read by ParseRateLimit, in canonical form so that
// http.Header.Get does not allocate to canonicalise them.
const (
	hdrFloodgateRetryAfterMs = "X-Floodgate-Retry-After-Ms"
	hdrFloodgateResetMs      = "X-Floodgate-Ratelimit-Reset-Ms"
	hdrRetryAfter            = "Retry-After"
	hdrRateLimit             = "Ratelimit"
	hdrRateLimitPolicy       = "Ratelimit-Policy"
	hdrRateLimitLimit        = "Ratelimit-Limit"
	hdrRateLimitRemaining    = "Ratelimit-Remaining"
	hdrRateLimitReset        = "Ratelimit-Reset"
	hdrIninCount             = "Inin-Ratelimit-Count"
	hdrIninAllowed           = "Inin-Ratelimit-Allowed"
	hdrIninReset             = "Inin-Ratelimit-Reset"
	hdrXLimit                = "X-Ratelimit-Limit"
	hdrXRemaining            = "X-Ratelimit-Remaining"
	hdrXReset                = "X-Ratelimit-Reset"
)

// RateLimitFields returns the header names ParseRateLimit reads, for a
// transport that notes which of them a response has (a response with
// none needs no lookups).
func RateLimitFields() []string {
	return []string{hdrFloodgateRetryAfterMs, hdrFloodgateResetMs, hdrRetryAfter,
		hdrRateLimit, hdrRateLimitPolicy, hdrRateLimitLimit, hdrRateLimitRemaining, hdrRateLimitReset,
		hdrIninCount, hdrIninAllowed, hdrIninReset, hdrXLimit, hdrXRemaining, hdrXReset}
}

// epochThreshold separates X-RateLimit-Reset given as Unix seconds
// (GitHub, Twitter) from delta seconds: no window lasts 30 years.
const epochThreshold = 1_000_000_000

// ParseRateLimit reads the rate-limit headers of a response through h
// (a case-insensitive lookup returning "" when absent), relative to now.
// Families are read in this order, each filling only fields still unset:
//
//  1. IETF RateLimit and RateLimit-Policy fields, both the draft-7
//     dictionary `limit=100, remaining=50, reset=30` with policy
//     `100;w=60`, and the newer structured lists `"day";r=50;t=30` with
//     policy `"day";q=100;w=60` (with several items, the one with the
//     least remaining, and the policy of the same name)
//  2. Genesys Cloud inin-ratelimit-allowed / -count / -reset (remaining
//     is allowed − count)
//  3. X-RateLimit-Limit / -Remaining / -Reset (a reset above 10^9 is a
//     Unix time, else delta seconds)
//  4. draft-6 RateLimit-Limit / -Remaining / -Reset
//
// RetryAfter comes from x-floodgate-retry-after-ms (milliseconds, sent by
// floodgate's emulator, exact under time scaling) in preference to
// Retry-After, and Reset from x-floodgate-ratelimit-reset-ms in
// preference to every family's whole seconds. Malformed values are ignored; negative values read as 0.
// ParseRateLimit does not allocate unless a Retry-After holds an
// HTTP-date.
func ParseRateLimit(h func(name string) string, now time.Time) RateLimit {
	var r RateLimit
	if h == nil {
		return r
	}
	if v := h(hdrFloodgateRetryAfterMs); v != "" {
		r.RetryAfter, r.HasRetryAfter = parseSeconds(trimOWS(v), time.Millisecond)
	}
	if !r.HasRetryAfter {
		if v := h(hdrRetryAfter); v != "" {
			r.RetryAfter, r.HasRetryAfter = ParseRetryAfter(v, now)
		}
	}
	if v := h(hdrFloodgateResetMs); v != "" {
		r.Reset, r.HasReset = parseSeconds(trimOWS(v), time.Millisecond)
	}

	if v := h(hdrRateLimit); v != "" {
		parseIETF(&r, v, h(hdrRateLimitPolicy))
	} else if v := h(hdrRateLimitPolicy); v != "" {
		parseIETF(&r, "", v)
	}

	if r.complete() {
		return r
	}

	if v := h(hdrIninAllowed); v != "" {
		if n, ok := parseInt(trimOWS(v)); ok && !r.HasLimit {
			r.Limit, r.HasLimit = n, true
		}
		if c, ok := parseInt(trimOWS(h(hdrIninCount))); ok && !r.HasRemaining {
			if n, ok := parseInt(trimOWS(v)); ok {
				r.Remaining, r.HasRemaining = max(n-c, 0), true
			}
		}
	}
	if v := h(hdrIninReset); v != "" && !r.HasReset {
		r.Reset, r.HasReset = parseSeconds(trimOWS(v), time.Second)
	}

	if r.complete() {
		return r
	}

	if v := h(hdrXLimit); v != "" && !r.HasLimit {
		r.Limit, r.HasLimit = parseInt(firstItem(v))
	}
	if v := h(hdrXRemaining); v != "" && !r.HasRemaining {
		r.Remaining, r.HasRemaining = parseInt(firstItem(v))
	}
	if v := h(hdrXReset); v != "" && !r.HasReset {
		r.Reset, r.HasReset = parseReset(firstItem(v), now)
	}

	if r.complete() {
		return r
	}

	if v := h(hdrRateLimitLimit); v != "" && !r.HasLimit {
		r.Limit, r.HasLimit = parseInt(firstItem(v))
	}
	if v := h(hdrRateLimitRemaining); v != "" && !r.HasRemaining {
		r.Remaining, r.HasRemaining = parseInt(firstItem(v))
	}
	if v := h(hdrRateLimitReset); v != "" && !r.HasReset {
		r.Reset, r.HasReset = parseSeconds(firstItem(v), time.Second)
	}
	return r
}

// parseIETF reads the RateLimit field rl and the RateLimit-Policy field
// pol (either may be empty) into r.
//
//	draft-7:   RateLimit: limit=100, remaining=50, reset=30
//	           RateLimit-Policy: 100;w=60, 1000;w=3600
//	draft-8+:  RateLimit: "default";r=50;t=30
//	           RateLimit-Policy: "default";q=100;w=60
func parseIETF(r *RateLimit, rl, pol string) {
	var name string // the chosen structured item's name, to pick its policy
	seen := false
	for member := range splitList(rl) {
		first, params := cut(member, ';')
		first = trimOWS(first)
		if k, v, ok := strings.Cut(first, "="); ok { // draft-7 dictionary member
			k, v = trimOWS(k), trimOWS(v)
			switch {
			case strings.EqualFold(k, "limit"):
				r.Limit, r.HasLimit = parseInt(v)
			case strings.EqualFold(k, "remaining"):
				r.Remaining, r.HasRemaining = parseInt(v)
			case strings.EqualFold(k, "reset"):
				r.Reset, r.HasReset = parseSeconds(v, time.Second)
			}
			continue
		}
		// Structured item: a name with parameters r (remaining) and t (reset).
		var rem int
		var reset time.Duration
		var hasR, hasT bool
		for p := range splitParams(params) {
			k, v, _ := strings.Cut(p, "=")
			switch trimOWS(k) {
			case "r":
				rem, hasR = parseInt(trimOWS(v))
			case "t":
				reset, hasT = parseSeconds(trimOWS(v), time.Second)
			}
		}
		if !hasR && !hasT {
			continue
		}
		if !seen || (hasR && (!r.HasRemaining || rem < r.Remaining)) {
			seen = true
			name = unquote(first)
			r.Remaining, r.HasRemaining = rem, hasR
			r.Reset, r.HasReset = reset, hasT
		}
	}

	// The policy: the member named like the chosen item, else the first.
	var q, w int
	var hasQ, hasW, found bool
	for member := range splitList(pol) {
		first, params := cut(member, ';')
		first = trimOWS(first)
		match := name != "" && unquote(first) == name
		if found && !match {
			continue
		}
		q, w, hasQ, hasW = 0, 0, false, false
		if n, ok := parseInt(first); ok { // draft-7: the quota is the item itself
			q, hasQ = n, true
		}
		for p := range splitParams(params) {
			k, v, _ := strings.Cut(p, "=")
			switch trimOWS(k) {
			case "q":
				q, hasQ = parseInt(trimOWS(v))
			case "w":
				w, hasW = parseInt(trimOWS(v))
			}
		}
		found = true
		if match {
			break
		}
	}
	if hasQ && !r.HasLimit {
		r.Limit, r.HasLimit = q, true
	}
	if hasW {
		r.Window, r.HasWindow = time.Duration(w)*time.Second, true
	}
}

// splitList yields the comma-separated members of a structured-field
// list, ignoring commas inside quoted strings.
func splitList(s string) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		start, quoted := 0, false
		for i := 0; i < len(s); i++ {
			switch s[i] {
			case '"':
				quoted = !quoted
			case '\\':
				if quoted {
					i++
				}
			case ',':
				if !quoted {
					if m := trimOWS(s[start:i]); m != "" && !yield(m) {
						return
					}
					start = i + 1
				}
			}
		}
		if start < len(s) {
			if m := trimOWS(s[start:]); m != "" {
				yield(m)
			}
		}
	}
}

// splitParams yields the ';'-separated parameters of one member (the
// text after its first ';'), ignoring ';' inside quoted strings.
func splitParams(s string) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		for s != "" {
			p, rest := cut(s, ';')
			if p = trimOWS(p); p != "" && !yield(p) {
				return
			}
			s = rest
		}
	}
}

// cut splits s at the first sep outside a quoted string.
func cut(s string, sep byte) (before, after string) {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			quoted = !quoted
		case '\\':
			if quoted {
				i++
			}
		case sep:
			if !quoted {
				return s[:i], s[i+1:]
			}
		}
	}
	return s, ""
}

// unquote strips one pair of surrounding double quotes (escapes are left
// as they are: names are only compared with each other).
func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

// firstItem returns the first comma-separated item of v without its
// parameters ("100, 100;w=60" → "100").
func firstItem(v string) string {
	v, _, _ = strings.Cut(v, ",")
	v, _, _ = strings.Cut(v, ";")
	return trimOWS(v)
}

// parseReset reads X-RateLimit-Reset: delta seconds, or Unix seconds
// when the value is implausibly large for a delta.
func parseReset(v string, now time.Time) (time.Duration, bool) {
	n, ok := parseInt(v)
	if !ok {
		return parseSeconds(v, time.Second)
	}
	if n >= epochThreshold {
		d := time.Unix(int64(n), 0).Sub(now)
		return min(max(d, 0), maxDelay), true
	}
	return time.Duration(n) * time.Second, true
}

// parseInt parses an optionally signed decimal integer; negative values
// read as 0 and values past 2^31 saturate. It does not allocate.
func parseInt(s string) (int, bool) {
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n < math.MaxInt32 {
			n = n*10 + int(c-'0')
		}
	}
	if neg {
		return 0, true
	}
	return min(n, math.MaxInt32), true
}

// parseSeconds parses an optionally signed decimal number of units
// ("1", "1.5", "-3") into a duration, clamped to [0, maxDelay]. It does
// not allocate.
func parseSeconds(s string, unit time.Duration) (time.Duration, bool) {
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" {
		return 0, false
	}
	var whole float64
	var frac, scale float64 = 0, 1
	digits, dot := 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.' && !dot:
			dot = true
		case c >= '0' && c <= '9':
			digits++
			if dot {
				if scale < 1e12 {
					scale *= 10
					frac = frac*10 + float64(c-'0')
				}
			} else if whole < 1e15 {
				whole = whole*10 + float64(c-'0')
			}
		default:
			return 0, false
		}
	}
	if digits == 0 {
		return 0, false
	}
	if neg {
		return 0, true
	}
	d := (whole + frac/scale) * float64(unit)
	if d >= float64(maxDelay) {
		return maxDelay, true
	}
	return time.Duration(d), true
}

// trimOWS trims HTTP optional whitespace (spaces and tabs).
func trimOWS[T string | []byte](s T) T {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}
