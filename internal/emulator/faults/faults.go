package faults

import (
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/floodgate-dev/floodgate/internal/emulator/config"
	"github.com/floodgate-dev/floodgate/internal/emulator/platform"
)

// z99 is the standard normal's 0.99 quantile: p99 = median·e^(z99·σ).
const z99 = 2.3263478740408408

// RNG is a seeded random source safe for concurrent use.
type RNG struct {
	mu sync.Mutex
	r  *rand.Rand
}

// NewRNG returns a source seeded with seed.
func NewRNG(seed int64) *RNG {
	return &RNG{r: rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))}
}

// Float64 returns a uniform value in [0, 1).
func (g *RNG) Float64() float64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.r.Float64()
}

// NormFloat64 returns a standard normal value.
func (g *RNG) NormFloat64() float64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.r.NormFloat64()
}

// ErrorRule is an error to answer instead of serving the request.
type ErrorRule struct {
	Status        int
	Code, Message string
	cum           float64 // cumulative probability up to this rule
}

// Injector applies one config.Fault. It is safe for concurrent use.
type Injector struct {
	rng   *RNG
	scale float64
	// latency in platform milliseconds; nil when the fault has none.
	latency func() float64
	errs    []ErrorRule
	sat     *config.Saturation
}

// New builds the injector of a validated fault. scale multiplies every
// duration it returns.
func New(f config.Fault, scale float64, rng *RNG) *Injector {
	in := &Injector{rng: rng, scale: scale, sat: f.Saturation}
	if l := f.Latency; l != nil {
		ms := func(d config.Duration) float64 { return float64(d) / float64(time.Millisecond) }
		switch l.Dist {
		case "fixed":
			v := ms(l.Value)
			in.latency = func() float64 { return v }
		case "uniform":
			lo, hi := ms(l.Min), ms(l.Max)
			in.latency = func() float64 { return lo + rng.Float64()*(hi-lo) }
		case "lognormal":
			var mu, sigma float64
			if l.Mu != nil {
				mu, sigma = *l.Mu, *l.Sigma
			} else {
				mu = math.Log(ms(l.Median))
				sigma = math.Log(float64(l.P99)/float64(l.Median)) / z99
			}
			in.latency = func() float64 { return math.Exp(mu + sigma*rng.NormFloat64()) }
		}
	}
	cum := 0.0
	for _, e := range f.Errors {
		cum += e.Probability
		msg := e.Message
		if msg == "" {
			msg = platform.DefaultMessage(e.Code, e.Status)
		}
		in.errs = append(in.errs, ErrorRule{Status: e.Status, Code: e.Code, Message: msg, cum: cum})
	}
	return in
}

// Latency draws one latency from the fault's distribution (0 if none),
// scaled.
func (in *Injector) Latency() time.Duration {
	if in.latency == nil {
		return 0
	}
	return time.Duration(in.latency() * float64(time.Millisecond) * in.scale)
}

// Delay returns the time to hold a request that finds inflight requests
// in flight on the server (itself included): the drawn latency plus the
// saturation extra. saturated reports that inflight is above the hard
// limit, and the request must be answered 503 service.unavailable.
func (in *Injector) Delay(inflight int64) (d time.Duration, saturated bool) {
	d = in.Latency()
	if s := in.sat; s != nil {
		if s.HardLimit > 0 && inflight > int64(s.HardLimit) {
			return 0, true
		}
		if over := inflight - int64(s.Knee); over > 0 {
			d += time.Duration(float64(over) * float64(s.PerRequest) * in.scale)
		}
	}
	return d, false
}

// Error draws whether to inject an error, and which one.
func (in *Injector) Error() (ErrorRule, bool) {
	if len(in.errs) == 0 {
		return ErrorRule{}, false
	}
	u := in.rng.Float64()
	for _, e := range in.errs {
		if u < e.cum {
			return e, true
		}
	}
	return ErrorRule{}, false
}
