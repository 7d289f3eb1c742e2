package client

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/floodgate-dev/floodgate/internal/metrics"
)

func TestDefaultPolicy(t *testing.T) {
	t.Parallel()
	want := Policy{
		On:              []int{429, 502, 503, 504},
		OnClasses:       []metrics.Class{metrics.Connect, metrics.Reset},
		HonorRetryAfter: true,
		MaxWait:         time.Minute,
		Base:            100 * time.Millisecond,
		Max:             10 * time.Second,
		Multiplier:      2,
		Jitter:          JitterFull,
		MaxAttempts:     5,
		MaxElapsed:      2 * time.Minute,
		Budget:          &BudgetConfig{Ratio: 0.2, Window: 10 * time.Second, MinRetries: 10},
		Gate:            true,
	}
	if diff := cmp.Diff(want, DefaultPolicy()); diff != "" {
		t.Errorf("DefaultPolicy() mismatch (-want +got):\n%s", diff)
	}
	// Each call returns an independent value.
	a, b := DefaultPolicy(), DefaultPolicy()
	a.On[0], a.Budget.Ratio = 1, 1
	if b.On[0] != 429 || b.Budget.Ratio != 0.2 {
		t.Error("DefaultPolicy shares slices or pointers between calls")
	}
}

func TestParseJitter(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		want Jitter
		ok   bool
	}{{"", JitterFull, true}, {"full", JitterFull, true}, {"equal", JitterEqual, true}, {"none", JitterNone, true}, {"half", JitterFull, false}} {
		got, ok := ParseJitter(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseJitter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
		if ok && tt.in != "" && got.String() != tt.in {
			t.Errorf("%v.String() = %q", got, got.String())
		}
	}
}

func TestBackoffNominal(t *testing.T) {
	t.Parallel()
	p := Policy{Base: 100 * time.Millisecond, Max: time.Second, Multiplier: 2, Jitter: JitterNone}
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i, w := range want {
		if got := p.Backoff(i+1, 0.5); got != w*time.Millisecond {
			t.Errorf("Backoff(%d) = %v, want %v", i+1, got, w*time.Millisecond)
		}
	}
	// No overflow for huge n, no cap, odd inputs.
	huge := Policy{Base: time.Hour, Multiplier: 10, Jitter: JitterNone}
	if got := huge.Backoff(1000, 0); got <= 0 {
		t.Errorf("Backoff overflowed: %v", got)
	}
	odd := Policy{Base: -time.Second, Multiplier: math.NaN()}
	if got := odd.Backoff(-3, math.NaN()); got != 0 {
		t.Errorf("Backoff of nonsense = %v, want 0", got)
	}
}

// TestBackoffDistribution draws many delays with a fixed seed and checks
// each jitter mode's mean, minimum and maximum against its distribution.
func TestBackoffDistribution(t *testing.T) {
	t.Parallel()
	const n = 20000
	const d = 400 * time.Millisecond // retry 3: 100ms × 2²
	tests := []struct {
		jitter         Jitter
		mean, min, max time.Duration // expected mean; bounds [min, max]
	}{
		{JitterFull, d / 2, 0, d},
		{JitterEqual, 3 * d / 4, d / 2, d},
		{JitterNone, d, d, d},
	}
	for _, tt := range tests {
		t.Run(tt.jitter.String(), func(t *testing.T) {
			t.Parallel()
			p := Policy{Base: 100 * time.Millisecond, Max: 10 * time.Second, Multiplier: 2, Jitter: tt.jitter}
			r := rand.New(rand.NewPCG(1, 2))
			var sum float64
			lo, hi := time.Duration(math.MaxInt64), time.Duration(0)
			for range n {
				v := p.Backoff(3, r.Float64())
				sum += float64(v)
				lo, hi = min(lo, v), max(hi, v)
			}
			mean := time.Duration(sum / n)
			// The standard error of a uniform mean over n draws is
			// width/sqrt(12n) ≈ 0.2 % of d here; allow 2 %.
			if diff := math.Abs(float64(mean - tt.mean)); diff > 0.02*float64(d) {
				t.Errorf("mean %v, want %v ± 2%%", mean, tt.mean)
			}
			if lo < tt.min || hi > tt.max {
				t.Errorf("range [%v, %v], want within [%v, %v]", lo, hi, tt.min, tt.max)
			}
			if tt.jitter != JitterNone && (hi == tt.max || lo > tt.min+d/50 || hi < tt.max-d/50) {
				t.Errorf("range [%v, %v] does not cover [%v, %v)", lo, hi, tt.min, tt.max)
			}
		})
	}
}

func TestRetryable(t *testing.T) {
	t.Parallel()
	def := DefaultPolicy()
	permissive := DefaultPolicy()
	permissive.NonIdempotent = true
	permissive.OnClasses = append(permissive.OnClasses, metrics.Timeout)
	post := &Request{Method: "POST"}
	keyed := &Request{Method: "POST", Header: []HeaderField{{"idempotency-key", "k1"}}}
	get := &Request{Method: "GET"}
	tests := []struct {
		name   string
		p      *Policy
		req    *Request
		status int
		class  metrics.Class
		want   bool
	}{
		{"GET 502", &def, get, 502, metrics.Status, true},
		{"GET 500 not in On", &def, get, 500, metrics.Status, false},
		{"GET 400", &def, get, 400, metrics.Status, false},
		{"POST 429", &def, post, 429, metrics.Status, true},
		{"POST 503", &def, post, 503, metrics.Status, true},
		{"POST 502", &def, post, 502, metrics.Status, false},
		{"POST 504", &def, post, 504, metrics.Status, false},
		{"POST 502 non_idempotent", &permissive, post, 502, metrics.Status, true},
		{"POST 502 Idempotency-Key", &def, keyed, 502, metrics.Status, true},
		{"GET reset", &def, get, 0, metrics.Reset, true},
		{"POST reset", &def, post, 0, metrics.Reset, false},
		{"POST connect", &def, post, 0, metrics.Connect, true},
		{"GET timeout not in OnClasses", &def, get, 0, metrics.Timeout, false},
		{"POST timeout non_idempotent", &permissive, post, 0, metrics.Timeout, true},
		{"PATCH 503", &def, &Request{Method: "PATCH"}, 503, metrics.Status, true},
		{"PATCH 504", &def, &Request{Method: "PATCH"}, 504, metrics.Status, false},
		{"PUT 504", &def, &Request{Method: "PUT"}, 504, metrics.Status, true},
		{"DELETE reset", &def, &Request{Method: "DELETE"}, 0, metrics.Reset, true},
	}
	for _, tt := range tests {
		if got := tt.p.retryable(tt.req, tt.status, tt.class, tt.status == 0); got != tt.want {
			t.Errorf("%s: retryable = %v, want %v", tt.name, got, tt.want)
		}
	}
}
