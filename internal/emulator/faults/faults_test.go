package faults

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/floodgate-dev/floodgate/internal/emulator/config"
)

func dur(d time.Duration) config.Duration { return config.Duration(d) }

func samples(in *Injector, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = float64(in.Latency()) / float64(time.Millisecond)
	}
	slices.Sort(out)
	return out
}

func quantile(sorted []float64, q float64) float64 { return sorted[int(q*float64(len(sorted)-1))] }

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol*want {
		t.Errorf("%s = %.2f, want %.2f ± %.0f%%", what, got, want, tol*100)
	}
}

func TestLatencyDistributions(t *testing.T) {
	t.Parallel()
	const n = 20000
	mu, sigma := math.Log(50), 0.5
	for _, tc := range []struct {
		name  string
		lat   config.Latency
		scale float64
		check func(t *testing.T, s []float64)
	}{
		{"fixed", config.Latency{Dist: "fixed", Value: dur(120 * time.Millisecond)}, 1, func(t *testing.T, s []float64) {
			if s[0] != 120 || s[n-1] != 120 {
				t.Errorf("range [%v, %v]", s[0], s[n-1])
			}
		}},
		{"fixed scaled", config.Latency{Dist: "fixed", Value: dur(2 * time.Second)}, 0.01, func(t *testing.T, s []float64) {
			if s[0] != 20 {
				t.Errorf("got %v ms, want 20", s[0])
			}
		}},
		{"uniform", config.Latency{Dist: "uniform", Min: dur(10 * time.Millisecond), Max: dur(50 * time.Millisecond)}, 1, func(t *testing.T, s []float64) {
			if s[0] < 10 || s[n-1] >= 50 {
				t.Errorf("range [%v, %v] outside [10, 50)", s[0], s[n-1])
			}
			near(t, "median", quantile(s, 0.5), 30, 0.03)
			near(t, "p10", quantile(s, 0.1), 14, 0.05)
			near(t, "p90", quantile(s, 0.9), 46, 0.03)
		}},
		{"lognormal median/p99", config.Latency{Dist: "lognormal", Median: dur(80 * time.Millisecond), P99: dur(400 * time.Millisecond)}, 1, func(t *testing.T, s []float64) {
			near(t, "median", quantile(s, 0.5), 80, 0.04)
			near(t, "p99", quantile(s, 0.99), 400, 0.10)
		}},
		{"lognormal mu/sigma", config.Latency{Dist: "lognormal", Mu: &mu, Sigma: &sigma}, 1, func(t *testing.T, s []float64) {
			near(t, "median", quantile(s, 0.5), 50, 0.04)
			near(t, "p99", quantile(s, 0.99), 50*math.Exp(z99*0.5), 0.08)
			// Mean of a log-normal: e^(mu + sigma²/2).
			sum := 0.0
			for _, v := range s {
				sum += v
			}
			near(t, "mean", sum/n, 50*math.Exp(0.125), 0.03)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := New(config.Fault{Family: "f", Latency: &tc.lat}, tc.scale, NewRNG(42))
			tc.check(t, samples(in, n))
		})
	}
}

func TestSeededRepeatable(t *testing.T) {
	t.Parallel()
	f := config.Fault{Family: "f", Latency: &config.Latency{Dist: "lognormal", Median: dur(80 * time.Millisecond), P99: dur(400 * time.Millisecond)}}
	a := samples(New(f, 1, NewRNG(7)), 100)
	b := samples(New(f, 1, NewRNG(7)), 100)
	c := samples(New(f, 1, NewRNG(8)), 100)
	if !slices.Equal(a, b) {
		t.Error("same seed, different draws")
	}
	if slices.Equal(a, c) {
		t.Error("different seeds, same draws")
	}
}

func TestErrorInjection(t *testing.T) {
	t.Parallel()
	in := New(config.Fault{Family: "f", Errors: []config.ErrorFault{
		{Status: 503, Code: "service.unavailable", Probability: 0.05},
		{Status: 500, Code: "internal.server.error", Probability: 0.15},
	}}, 1, NewRNG(1))
	const n = 40000
	counts := map[int]int{}
	for range n {
		if e, ok := in.Error(); ok {
			counts[e.Status]++
			if e.Message == "" {
				t.Fatal("empty default message")
			}
		}
	}
	// Binomial standard deviations: sqrt(n p (1-p)) ≈ 44 and 71; allow 4σ.
	if d := math.Abs(float64(counts[503]) - 0.05*n); d > 4*44 {
		t.Errorf("503s = %d, want ≈ %v", counts[503], 0.05*n)
	}
	if d := math.Abs(float64(counts[500]) - 0.15*n); d > 4*71 {
		t.Errorf("500s = %d, want ≈ %v", counts[500], 0.15*n)
	}
}

func TestSaturation(t *testing.T) {
	t.Parallel()
	in := New(config.Fault{Family: "f", Saturation: &config.Saturation{Knee: 10, PerRequest: dur(5 * time.Millisecond), HardLimit: 20}}, 0.5, NewRNG(1))
	for _, tc := range []struct {
		inflight int64
		want     time.Duration
		sat      bool
	}{
		{1, 0, false}, {10, 0, false}, {11, 2500 * time.Microsecond, false}, {20, 25 * time.Millisecond, false}, {21, 0, true},
	} {
		d, sat := in.Delay(tc.inflight)
		if d != tc.want || sat != tc.sat {
			t.Errorf("Delay(%d) = %s, %v; want %s, %v", tc.inflight, d, sat, tc.want, tc.sat)
		}
	}
}
