// Package livemetrics exports a running load test's metrics in the
// Prometheus format (`floodgate run --metrics-addr`), so a run spread over
// many processes can be watched on one dashboard while it goes.
//
// Metrics, following Prometheus naming conventions (base units, _total
// for counters):
//
//	floodgate_requests_total{scenario,step,status}      logical requests completed, by final status ("0": no response)
//	floodgate_attempts_total{scenario,step,status}      HTTP attempts, by status: 429s are status="429"
//	floodgate_request_duration_seconds{scenario,step}   logical request latency from due time (histogram)
//	floodgate_attempt_duration_seconds{scenario,step}   attempt latency, send to last byte (histogram)
//	floodgate_inflight_requests                         logical requests in flight
//	floodgate_dropped_iterations_total{scenario}        iterations due with no free VU
//	floodgate_lost_requests_total{scenario,step}        logical requests that ran out of retries or budget
//	floodgate_retries_total{scenario,step}              attempts after a request's first
//	floodgate_wait_seconds_total{reason}                time requests waited: gate, retry_after, backoff
package livemetrics

import (
	"net/http"
	"strconv"
	"sync"

	"github.com/floodgate-dev/floodgate/internal/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Exporter turns recorded samples into Prometheus metrics. It implements
// metrics.Observer and is safe for concurrent use.
type Exporter struct {
	reg   *prometheus.Registry
	steps []metrics.StepKey

	requests, attempts *prometheus.CounterVec
	reqDur, attDur     []prometheus.Observer
	dropped            []prometheus.Counter
	lost, retries      []prometheus.Counter
	waitGate, waitRA   prometheus.Counter
	waitBackoff        prometheus.Counter

	mu       sync.RWMutex
	reqByKey map[key]prometheus.Counter
	attByKey map[key]prometheus.Counter
}

type key struct{ step, status int }

var _ metrics.Observer = (*Exporter)(nil)

// Latency buckets in seconds: 1 ms to 2 min, covering fast APIs and
// Retry-After waits alike.
var buckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}

// New returns an exporter for the run's steps; inflight reports the
// current in-flight count (the recorder's InFlight).
func New(steps []metrics.StepKey, inflight func() int64) *Exporter {
	e := &Exporter{reg: prometheus.NewRegistry(), steps: steps, reqByKey: map[key]prometheus.Counter{}, attByKey: map[key]prometheus.Counter{}}
	f := promauto{e.reg}
	e.requests = f.counterVec("floodgate_requests_total", "Logical requests completed, by final status (0: no response).", "scenario", "step", "status")
	e.attempts = f.counterVec("floodgate_attempts_total", "HTTP attempts sent, by status (0: no response).", "scenario", "step", "status")
	reqDur := f.histVec("floodgate_request_duration_seconds", "Logical request latency from its due time (coordinated-omission corrected).")
	attDur := f.histVec("floodgate_attempt_duration_seconds", "HTTP attempt latency, send to last byte.")
	dropped := f.counterVec("floodgate_dropped_iterations_total", "Iterations due while no VU was free.", "scenario")
	lost := f.counterVec("floodgate_lost_requests_total", "Logical requests that ran out of retries, time or budget.", "scenario", "step")
	retries := f.counterVec("floodgate_retries_total", "Attempts after a logical request's first.", "scenario", "step")
	wait := f.counterVec("floodgate_wait_seconds_total", "Time requests spent waiting before attempts, by reason.", "reason")
	e.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "floodgate_inflight_requests", Help: "Logical requests in flight."},
		func() float64 { return float64(inflight()) }))
	for _, s := range steps {
		e.reqDur = append(e.reqDur, reqDur.WithLabelValues(s.Scenario, s.Step))
		e.attDur = append(e.attDur, attDur.WithLabelValues(s.Scenario, s.Step))
		e.dropped = append(e.dropped, dropped.WithLabelValues(s.Scenario))
		e.lost = append(e.lost, lost.WithLabelValues(s.Scenario, s.Step))
		e.retries = append(e.retries, retries.WithLabelValues(s.Scenario, s.Step))
	}
	e.waitGate, e.waitRA, e.waitBackoff = wait.WithLabelValues("gate"), wait.WithLabelValues("retry_after"), wait.WithLabelValues("backoff")
	return e
}

type promauto struct{ reg *prometheus.Registry }

func (f promauto) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	f.reg.MustRegister(v)
	return v
}

func (f promauto) histVec(name, help string) *prometheus.HistogramVec {
	v := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, []string{"scenario", "step"})
	f.reg.MustRegister(v)
	return v
}

// Registry returns the exporter's own registry.
func (e *Exporter) Registry() *prometheus.Registry { return e.reg }

// Handler serves the metrics.
func (e *Exporter) Handler() http.Handler {
	return promhttp.HandlerFor(e.reg, promhttp.HandlerOpts{})
}

// counter returns the cached child of vec for (step, status).
func (e *Exporter) counter(m map[key]prometheus.Counter, vec *prometheus.CounterVec, step, status int) prometheus.Counter {
	k := key{step, status}
	e.mu.RLock()
	c := m[k]
	e.mu.RUnlock()
	if c != nil {
		return c
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if c = m[k]; c == nil {
		s := e.steps[step]
		c = vec.WithLabelValues(s.Scenario, s.Step, strconv.Itoa(status))
		m[k] = c
	}
	return c
}

// ObserveAttempt implements metrics.Observer.
func (e *Exporter) ObserveAttempt(a *metrics.Attempt) {
	e.counter(e.attByKey, e.attempts, a.Step, a.Status).Inc()
	e.attDur[a.Step].Observe(a.Latency.Seconds())
	if a.Retry {
		e.retries[a.Step].Inc()
	}
}

// ObserveLogical implements metrics.Observer.
func (e *Exporter) ObserveLogical(l *metrics.Logical) {
	e.counter(e.reqByKey, e.requests, l.Step, l.Status).Inc()
	e.reqDur[l.Step].Observe(l.End.Sub(l.Due).Seconds())
	if l.Lost {
		e.lost[l.Step].Inc()
	}
	if l.GateWait > 0 {
		e.waitGate.Add(l.GateWait.Seconds())
	}
	if l.RetryAfterWait > 0 {
		e.waitRA.Add(l.RetryAfterWait.Seconds())
	}
	if l.BackoffWait > 0 {
		e.waitBackoff.Add(l.BackoffWait.Seconds())
	}
}

// ObserveDropped implements metrics.Observer.
func (e *Exporter) ObserveDropped(step int) { e.dropped[step].Inc() }

// ObserveDroppedN implements metrics.DroppedObserver.
func (e *Exporter) ObserveDroppedN(step int, n int64) { e.dropped[step].Add(float64(n)) }
