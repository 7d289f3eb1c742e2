package client

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"120", 120 * time.Second, true},
		{"0", 0, true},
		{" 7 ", 7 * time.Second, true},
		{"1.5", 1500 * time.Millisecond, true},
		{"-5", 0, true},
		{"99999999999999999999", maxDelay, true},
		{"Sun, 01 Mar 2026 12:00:30 GMT", 30 * time.Second, true}, // IMF-fixdate
		{"Sunday, 01-Mar-26 12:01:00 GMT", time.Minute, true},     // RFC 850
		{"Sun Mar  1 12:00:05 2026", 5 * time.Second, true},       // asctime
		{"Sun, 01 Mar 2026 11:00:00 GMT", 0, true},                // past
		{"", 0, false},
		{"soon", 0, false},
		{"12s", 0, false},
		{"1e3", 0, false},
		{".", 0, false},
		{"-", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseRetryAfter(tt.in, testNow)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func headerFunc(kv ...string) func(string) string {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h.Get
}

func TestParseRateLimit(t *testing.T) {
	t.Parallel()
	s := time.Second
	tests := []struct {
		name string
		h    []string
		want RateLimit
	}{
		{"none", nil, RateLimit{}},
		{"genesys inin", []string{"inin-ratelimit-count", "1", "inin-ratelimit-allowed", "180", "inin-ratelimit-reset", "61"},
			RateLimit{Limit: 180, Remaining: 179, Reset: 61 * s, HasLimit: true, HasRemaining: true, HasReset: true}},
		{"genesys over quota", []string{"inin-ratelimit-count", "200", "inin-ratelimit-allowed", "180"},
			RateLimit{Limit: 180, Remaining: 0, HasLimit: true, HasRemaining: true}},
		{"genesys 429", []string{"Retry-After", "42", "inin-ratelimit-count", "180", "inin-ratelimit-allowed", "180", "inin-ratelimit-reset", "42"},
			RateLimit{Limit: 180, Remaining: 0, Reset: 42 * s, RetryAfter: 42 * s, HasLimit: true, HasRemaining: true, HasReset: true, HasRetryAfter: true}},
		{"x-ratelimit delta", []string{"X-RateLimit-Limit", "100", "X-RateLimit-Remaining", "7", "X-RateLimit-Reset", "30"},
			RateLimit{Limit: 100, Remaining: 7, Reset: 30 * s, HasLimit: true, HasRemaining: true, HasReset: true}},
		{"x-ratelimit epoch", []string{"X-RateLimit-Limit", "5000", "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "1772366490"},
			RateLimit{Limit: 5000, Remaining: 0, Reset: 90 * s, HasLimit: true, HasRemaining: true, HasReset: true}},
		{"x-ratelimit with policy", []string{"X-RateLimit-Limit", "100, 100;w=60", "X-RateLimit-Remaining", " 99 "},
			RateLimit{Limit: 100, Remaining: 99, HasLimit: true, HasRemaining: true}},
		{"ietf draft-7", []string{"RateLimit", "limit=100, remaining=50, reset=5", "RateLimit-Policy", "100;w=60"},
			RateLimit{Limit: 100, Remaining: 50, Reset: 5 * s, Window: 60 * s, HasLimit: true, HasRemaining: true, HasReset: true, HasWindow: true}},
		{"ietf draft-7 several policies", []string{"RateLimit", "limit=10, remaining=0, reset=3", "RateLimit-Policy", "10;w=1, 1000;w=3600;comment=\"hour, ok\""},
			RateLimit{Limit: 10, Remaining: 0, Reset: 3 * s, Window: s, HasLimit: true, HasRemaining: true, HasReset: true, HasWindow: true}},
		{"ietf structured", []string{"RateLimit", `"default";r=50;t=30`, "RateLimit-Policy", `"default";q=100;w=60`},
			RateLimit{Limit: 100, Remaining: 50, Reset: 30 * s, Window: 60 * s, HasLimit: true, HasRemaining: true, HasReset: true, HasWindow: true}},
		{"ietf structured picks least remaining and its policy", []string{
			"RateLimit", `"burst";r=9;t=1, "day";r=2;t=3600`,
			"RateLimit-Policy", `"burst";q=10;w=1, "day";q=5000;w=86400`},
			RateLimit{Limit: 5000, Remaining: 2, Reset: 3600 * s, Window: 86400 * s, HasLimit: true, HasRemaining: true, HasReset: true, HasWindow: true}},
		{"ietf structured quoted comma", []string{"RateLimit", `"a,b";r=1;t=2`, "RateLimit-Policy", `"a,b";q=3;w=4`},
			RateLimit{Limit: 3, Remaining: 1, Reset: 2 * s, Window: 4 * s, HasLimit: true, HasRemaining: true, HasReset: true, HasWindow: true}},
		{"ietf policy only", []string{"RateLimit-Policy", `"p";q=10;w=5`},
			RateLimit{Limit: 10, Window: 5 * s, HasLimit: true, HasWindow: true}},
		{"draft-6 separate fields", []string{"RateLimit-Limit", "10", "RateLimit-Remaining", "4", "RateLimit-Reset", "8"},
			RateLimit{Limit: 10, Remaining: 4, Reset: 8 * s, HasLimit: true, HasRemaining: true, HasReset: true}},
		{"retry-after date", []string{"Retry-After", "Sun, 01 Mar 2026 12:00:10 GMT"},
			RateLimit{RetryAfter: 10 * s, HasRetryAfter: true}},
		{"floodgate ms preferred over Retry-After", []string{"Retry-After", "2", "x-floodgate-retry-after-ms", "1234"},
			RateLimit{RetryAfter: 1234 * time.Millisecond, HasRetryAfter: true}},
		{"bad floodgate ms falls back", []string{"Retry-After", "2", "x-floodgate-retry-after-ms", "soon"},
			RateLimit{RetryAfter: 2 * s, HasRetryAfter: true}},
		{"floodgate reset ms preferred over inin's seconds", []string{"inin-ratelimit-allowed", "300", "inin-ratelimit-count", "300",
			"inin-ratelimit-reset", "2", "x-floodgate-ratelimit-reset-ms", "1200"},
			RateLimit{Limit: 300, Remaining: 0, Reset: 1200 * time.Millisecond, HasLimit: true, HasRemaining: true, HasReset: true}},
		{"ietf wins over inin", []string{"RateLimit", "limit=10, remaining=1, reset=2", "inin-ratelimit-allowed", "180", "inin-ratelimit-count", "3", "inin-ratelimit-reset", "50"},
			RateLimit{Limit: 10, Remaining: 1, Reset: 2 * s, HasLimit: true, HasRemaining: true, HasReset: true}},
		{"garbage ignored", []string{"RateLimit", "limit=x, ;;, =, remaining", "X-RateLimit-Limit", "lots", "inin-ratelimit-reset", "-3"},
			RateLimit{Reset: 0, HasReset: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := ParseRateLimit(headerFunc(tt.h...), testNow)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseRateLimit mismatch (-want +got):\n%s", diff)
			}
			if got.Any() != (tt.want != RateLimit{}) {
				t.Errorf("Any() = %v", got.Any())
			}
		})
	}
	if got := ParseRateLimit(nil, testNow); got != (RateLimit{}) {
		t.Errorf("ParseRateLimit(nil) = %+v", got)
	}
}

func TestParseRateLimitAllocs(t *testing.T) {
	none := func(string) string { return "" }
	if n := testing.AllocsPerRun(100, func() { _ = ParseRateLimit(none, testNow) }); n != 0 {
		t.Errorf("no headers: %v allocs, want 0", n)
	}
	vals := map[string]string{
		"Inin-Ratelimit-Count": "5", "Inin-Ratelimit-Allowed": "180", "Inin-Ratelimit-Reset": "30",
		"Retry-After": "3", "Ratelimit": `"default";r=50;t=30`, "Ratelimit-Policy": `"default";q=100;w=60`,
		"X-Ratelimit-Limit": "100", "X-Ratelimit-Remaining": "7", "X-Ratelimit-Reset": "30",
	}
	some := func(k string) string { return vals[k] }
	if n := testing.AllocsPerRun(100, func() { _ = ParseRateLimit(some, testNow) }); n != 0 {
		t.Errorf("every family: %v allocs, want 0", n)
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"120", "0", "-1", "1.5", "Sun, 01 Mar 2026 12:00:30 GMT", "Sunday, 01-Mar-26 12:01:00 GMT",
		"Sun Mar  1 12:00:05 2026", "", " ", "99999999999999999999999", "1.", ".5", "+3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := ParseRetryAfter(s, testNow)
		if d < 0 || d > maxDelay {
			t.Fatalf("ParseRetryAfter(%q) = %v out of range", s, d)
		}
		if !ok && d != 0 {
			t.Fatalf("ParseRetryAfter(%q) = %v with ok=false", s, d)
		}
		// Small whole numbers of seconds are read exactly.
		if v := strings.Trim(s, " \t"); len(v) > 0 && len(v) < 9 && strings.Trim(v, "0123456789") == "" {
			if want := time.Duration(atoiTest(v)) * time.Second; d != want || !ok {
				t.Fatalf("ParseRetryAfter(%q) = %v, %v; want %v", s, d, ok, want)
			}
		}
	})
}

func atoiTest(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func FuzzParseRateLimit(f *testing.F) {
	f.Add(`"default";r=50;t=30`, `"default";q=100;w=60`, "5", "180", "30", "100", "7", "1772366490", "3", "1500")
	f.Add("limit=100, remaining=50, reset=5", "100;w=60", "", "", "", "", "", "", "Sun, 01 Mar 2026 12:00:30 GMT", "")
	f.Add(`"a;b";r=-1;t=x, "c";r=1`, `"c";q=;w=-2, 7`, "x", "-1", "1.5", "1, 2;w=3", "", "-9", "", "-3")
	f.Fuzz(func(t *testing.T, rl, pol, count, allowed, reset, xl, xr, xreset, ra, ms string) {
		h := map[string]string{
			"Ratelimit": rl, "Ratelimit-Policy": pol,
			"Inin-Ratelimit-Count": count, "Inin-Ratelimit-Allowed": allowed, "Inin-Ratelimit-Reset": reset,
			"X-Ratelimit-Limit": xl, "X-Ratelimit-Remaining": xr, "X-Ratelimit-Reset": xreset,
			"Ratelimit-Limit": xl, "Ratelimit-Remaining": xr, "Ratelimit-Reset": reset,
			"Retry-After": ra, "X-Floodgate-Retry-After-Ms": ms,
		}
		r := ParseRateLimit(func(k string) string { return h[k] }, testNow)
		if r.Limit < 0 || r.Remaining < 0 || r.Reset < 0 || r.Window < 0 || r.RetryAfter < 0 {
			t.Fatalf("negative field: %+v", r)
		}
		if r.Reset > maxDelay || r.RetryAfter > maxDelay {
			t.Fatalf("field over cap: %+v", r)
		}
		if (!r.HasLimit && r.Limit != 0) || (!r.HasRemaining && r.Remaining != 0) || (!r.HasReset && r.Reset != 0) ||
			(!r.HasWindow && r.Window != 0) || (!r.HasRetryAfter && r.RetryAfter != 0) {
			t.Fatalf("value without Has flag: %+v", r)
		}
	})
}

func BenchmarkParseRateLimit(b *testing.B) {
	vals := map[string]string{"Inin-Ratelimit-Count": "5", "Inin-Ratelimit-Allowed": "180", "Inin-Ratelimit-Reset": "30"}
	h := func(k string) string { return vals[k] }
	b.ReportAllocs()
	for b.Loop() {
		_ = ParseRateLimit(h, testNow)
	}
}
