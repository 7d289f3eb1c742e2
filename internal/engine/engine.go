package engine

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/floodgate-dev/floodgate/internal/client"
	"github.com/floodgate-dev/floodgate/internal/clientcfg"
	"github.com/floodgate-dev/floodgate/internal/h1"
	"github.com/floodgate-dev/floodgate/internal/metrics"
	"github.com/floodgate-dev/floodgate/internal/plan"
)

// Engine runs one plan once. Create it with New, call Run once; Stop may
// be called from any goroutine.
type Engine struct {
	plan      *plan.Plan
	cfg       config
	transport client.Transport
	client    *client.Client
	rec       *metrics.Recorder
	scens     []*scenarioRun
	// endpoints are the recorder steps' "METHOD /path" ("" but for
	// request steps), for the diagnosis to name what a cap is on.
	endpoints []string
	// controls are the recorder steps' control kinds ("" but for group,
	// repeat and choose), which the run's totals leave out.
	controls []string

	stopStart context.CancelFunc // set by Run
	abort     context.CancelFunc
	maxConc   int
	stops     atomic.Int32
	ready     chan struct{} // closed once Run has set up its contexts

	interrupted atomic.Bool
	aborted     atomic.Bool
	unreachable atomic.Bool
	halts       halts // what stopped the run or a scenario early
	started     time.Time
	ended       time.Time
}

type config struct {
	transport client.Transport
	tokenRT   http.RoundTripper
	seed      uint64
	tick      func(metrics.Bucket)
	sample    time.Duration
	tlsConfig *tls.Config
	segment   Segment
	startAt   time.Time
	observer  metrics.Observer
}

// Option configures an Engine.
type Option func(*config)

// WithTransport replaces the HTTP transport (tests use an in-process one).
func WithTransport(t client.Transport) Option { return func(c *config) { c.transport = t } }

// WithTokenTransport sets how OAuth2 tokens are fetched (default
// net/http's default transport).
func WithTokenTransport(rt http.RoundTripper) Option { return func(c *config) { c.tokenRT = rt } }

// WithSeed fixes the seed of backoff jitter (default random).
func WithSeed(seed uint64) Option { return func(c *config) { c.seed = seed } }

// WithSegment makes the engine run only its share of every scenario; see
// Segment.
func WithSegment(s Segment) Option { return func(c *config) { c.segment = s } }

// WithStartAt sets the run's time zero (default: when Run is called), so
// that segments in other processes share one schedule. Run waits for it
// when it is in the future.
func WithStartAt(t time.Time) Option { return func(c *config) { c.startAt = t } }

// WithObserver shows every sample to o as it is recorded (live metrics).
func WithObserver(o metrics.Observer) Option { return func(c *config) { c.observer = o } }

// WithTick calls f with each one-second bucket as it is cut, from the
// reporter goroutine (progress displays use it). f must return quickly.
func WithTick(f func(metrics.Bucket)) Option { return func(c *config) { c.tick = f } }

// WithTLSConfig sets the TLS configuration for https targets.
func WithTLSConfig(t *tls.Config) Option { return func(c *config) { c.tlsConfig = t } }

type scenarioRun struct {
	sc        *plan.Scenario
	firstStep int // index of the scenario's first step in the recorder
	steps     []*stepRun
	maxVUs    int
	auth      client.Authenticator
	flow      *flowRun    // variables, data, failures (steps.go)
	nreqs     int         // requests among its steps: each VU's request slots
	nonce     int         // its once steps: each VU's record of those it ran
	warm      []*vu       // VUs made before the clock started (Engine.warm)
	refused   atomic.Bool // the token endpoint refused its credentials
}

// New prepares an engine for p. start is only used for the recorder's time
// zero if Run is not called.
func New(p *plan.Plan, opts ...Option) (*Engine, error) {
	cfg := config{sample: 20 * time.Millisecond}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.tlsConfig == nil && p.TLS != nil {
		cfg.tlsConfig = tlsConfig(p.TLS)
	}
	e := &Engine{plan: p, cfg: cfg, ready: make(chan struct{})}
	var keys []metrics.StepKey
	maxConns := 0
	auths := client.NewAuthCache(cfg.tokenRT)
	for _, sc := range p.Scenarios {
		sr := &scenarioRun{sc: sc, firstStep: len(keys), maxVUs: max(cfg.segment.share(maxVUs(sc)), 1)}
		maxConns += sr.maxVUs
		a := p.Auth
		if sc.Auth != nil {
			a = sc.Auth
		}
		auth, err := auths.Auth(clientcfg.Auth(a), p.Target)
		if err != nil {
			return nil, fmt.Errorf("scenario %q: auth: %w", sc.Name, err)
		}
		sr.auth = auth
		if sr.flow, err = e.newFlow(p, sc); err != nil {
			return nil, err
		}
		if sr.steps, err = e.buildSteps(p, sr, sc.Steps, []*plan.Retry{p.Retry, sc.Retry}, &keys); err != nil {
			return nil, err
		}
		e.scens = append(e.scens, sr)
	}
	e.maxConc = maxConns
	e.transport = cfg.transport
	if e.transport == nil {
		if strings.HasPrefix(p.Target, "https:") {
			e.transport = client.NewStdTransport(maxConns, cfg.tlsConfig, p.Defaults.ResponseHeaderBytes)
		} else {
			e.transport = h1.New(maxConns, p.Defaults.ResponseHeaderBytes)
		}
	}
	var copts []client.Option
	if cfg.seed != 0 {
		copts = append(copts, client.WithSeed(cfg.seed))
	}
	e.client = client.New(e.transport, copts...)
	e.rec = metrics.NewRecorder(time.Now(), keys)
	for i, ep := range e.endpoints {
		if ep != "" {
			e.rec.SetEndpoint(i, ep)
		}
	}
	for i, kind := range e.controls {
		if kind != "" {
			e.rec.SetControl(i, kind)
		}
	}
	if cfg.observer != nil {
		e.rec.SetObserver(cfg.observer)
	}
	return e, nil
}

// ArrivalsInGoPoller reports whether the plan has open or batch
// scenarios whose responses wait in Go's network poller: an https target
// (net/http), or an http one where the shared poller is not available
// (not Linux). Go looks at the network only when a P has nothing else
// to run, or every 10 ms, and a generator behind its schedule always
// has something to run; a second P, idle at times, looks sooner.
func (e *Engine) ArrivalsInGoPoller() bool {
	arrivals := false
	for _, sr := range e.scens {
		arrivals = arrivals || sr.sc.Executor.Open != nil || sr.sc.Executor.Batches != nil
	}
	if !arrivals {
		return false
	}
	pl, ok := e.transport.(arrivalPoller)
	return !ok || !pl.PollsArrivals()
}

// arrivalPoller is a transport that may wait for open and batch
// arrivals' responses on a poller of its own (package h1's on Linux).
type arrivalPoller interface{ PollsArrivals() bool }

// tlsConfig is the plan's tls setting as net/http takes it: its CA
// file trusted on top of the system's roots, or no checks at all.
func tlsConfig(t *plan.TLS) *tls.Config {
	c := &tls.Config{InsecureSkipVerify: t.InsecureSkipVerify}
	if len(t.CAPEM) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil { // no system roots (some containers): the file's alone
			pool = x509.NewCertPool()
		}
		pool.AppendCertsFromPEM(t.CAPEM) // checked when the plan was parsed
		c.RootCAs = pool
	}
	return c
}

func maxVUs(sc *plan.Scenario) int {
	switch ex := sc.Executor; {
	case ex.Closed != nil:
		return ex.Closed.VUs
	case ex.Open != nil:
		return ex.Open.MaxVUs
	case ex.Batches != nil:
		return ex.Batches.MaxVUs
	}
	return 1
}

// resolve joins a step path onto the target, keeping the target's base path.
func resolve(target, path string) (string, error) {
	if strings.HasPrefix(path, "http://") || strings.HasPrefix(path, "https://") {
		return path, nil
	}
	base, err := url.Parse(target)
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	return strings.TrimSuffix(base.String(), "/") + path, nil
}

// warmVUs is how many VUs an arrival scenario starts with: its peak
// rate's arrivals in 10 ms (at least 4, at most max_vus), or a batch.
func warmVUs(sr *scenarioRun) int {
	var n float64
	switch ex := sr.sc.Executor; {
	case ex.Open != nil:
		peak := max(ex.Open.Rate.PerSecond(), ex.Open.StartRate.PerSecond())
		for _, st := range ex.Open.Stages {
			peak = max(peak, st.Target.PerSecond())
		}
		n = math.Ceil(peak * 0.01)
	case ex.Batches != nil:
		n = float64(ex.Batches.Size)
	default:
		return 0
	}
	return min(max(int(n), 4), sr.maxVUs)
}

// warm readies the arrival scenarios before the clock starts: their
// first VUs, and as many connections to the target. Started at full
// rate from nothing, a scenario would dial for nearly every arrival of
// its first milliseconds, and on a busy generator core that start can
// turn into a backlog of thousands (bench/HISTORY.md, 20,000/s).
func (e *Engine) warm(ctx context.Context) {
	type warmer interface {
		Warm(ctx context.Context, url string, n int) error
	}
	conns := 0
	for _, sr := range e.scens {
		n := warmVUs(sr)
		for range n {
			sr.warm = append(sr.warm, e.newVU(sr))
		}
		conns += n
	}
	if w, ok := e.transport.(warmer); ok && conns > 0 && !strings.HasPrefix(e.plan.Target, "https:") {
		// A failed dial is left for the first requests to meet and report.
		// A target that drops SYNs would hold the dials for the kernel's
		// connect timeout (minutes): bound them like an attempt.
		if t := e.plan.Defaults.Timeout; t > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, t)
			defer cancel()
		}
		_ = w.Warm(ctx, e.plan.Target, conns)
	}
}

// MaxConcurrency is the most VUs the plan may run at once (closed VUs
// and open and batch max_vus, over every scenario).
func (e *Engine) MaxConcurrency() int { return e.maxConc }

// Recorder returns the engine's recorder.
func (e *Engine) Recorder() *metrics.Recorder { return e.rec }

// Stop asks the run to stop: the first call stops starting iterations and
// lets in-flight ones finish within the grace period; the second cancels
// them. Safe to call from any goroutine, before or during Run.
func (e *Engine) Stop() {
	n := e.stops.Add(1)
	<-e.ready
	e.interrupted.Store(true)
	if n == 1 {
		e.stopStart()
		return
	}
	// Aborted says requests were cut off: only if some were in flight.
	if e.rec.InFlight() > 0 {
		e.aborted.Store(true)
	}
	e.abort()
}

// Interrupted reports whether Stop was called; Aborted whether in-flight
// work was cancelled (second Stop or grace expired after Stop).
func (e *Engine) Interrupted() bool { return e.interrupted.Load() }
func (e *Engine) Aborted() bool     { return e.aborted.Load() }

// Started and Ended bound the run.
func (e *Engine) Started() time.Time { return e.started }
func (e *Engine) Ended() time.Time   { return e.ended }

// Run executes the plan and returns when every scenario has finished (or
// ctx is cancelled, which aborts in-flight requests at once). The results
// are in Recorder; the final partial bucket is cut before Run returns.
func (e *Engine) Run(ctx context.Context) error {
	runCtx, abort := context.WithCancel(ctx)
	defer abort()
	startCtx, stopStart := context.WithCancel(runCtx)
	defer stopStart()
	e.abort, e.stopStart = abort, stopStart
	close(e.ready)
	e.warm(startCtx) // a Stop ends the warming too
	e.started = time.Now()
	if t := e.cfg.startAt; !t.IsZero() {
		// A Stop while waiting for the shared start ends the wait: the
		// run is over before it began.
		if err := sleepUntil(startCtx, t); err != nil {
			e.ended = time.Now()
			e.rec.SetStart(e.started)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return nil
		}
		e.started = t
	}
	e.rec.SetStart(e.started)

	repDone := make(chan struct{})
	repStop := make(chan struct{})
	go e.report(repStop, repDone)

	// Grace after a Stop: cancel in-flight work when it runs out.
	go func() {
		select {
		case <-startCtx.Done():
		case <-runCtx.Done():
			return
		}
		if runCtx.Err() != nil {
			return
		}
		t := time.NewTimer(e.plan.Grace)
		defer t.Stop()
		select {
		case <-t.C:
			// Aborted says in-flight work was cut off: only if some was.
			if e.interrupted.Load() && e.rec.InFlight() > 0 {
				e.aborted.Store(true)
			}
			e.rec.NoteGraceCut(time.Now())
			abort()
		case <-runCtx.Done():
		}
	}()

	var wg sync.WaitGroup
	errs := make([]error, len(e.scens))
	for i, sr := range e.scens {
		wg.Add(1)
		// Each scenario can stop starting iterations on its own, when
		// its data runs out (see flowRun.stopStarting).
		scStart, scStop := context.WithCancel(startCtx)
		sr.flow.setStop(scStop)
		go func() {
			defer wg.Done()
			defer scStop()
			errs[i] = e.runScenario(scStart, runCtx, sr)
		}()
	}
	wg.Wait()
	e.ended = time.Now()
	close(repStop)
	<-repDone
	if ctx.Err() != nil && !e.interrupted.Load() {
		e.interrupted.Store(true)
		e.aborted.Store(true)
	}
	e.neverAnswered()
	return errors.Join(append(errs, e.halts.err())...)
}

// report cuts a bucket every second, aligned to the run's start, and
// samples in-flight concurrency in between.
func (e *Engine) report(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	sample := time.NewTicker(e.cfg.sample)
	defer sample.Stop()
	next := e.started.Add(time.Second)
	cut := time.NewTimer(time.Until(next))
	defer cut.Stop()
	for {
		select {
		case <-stop:
			// The last, partial second (none if the run ended on a
			// second's boundary and nothing is left open).
			if e.ended.After(next.Add(-time.Second)) {
				b := e.rec.Cut(e.ended, true)
				if e.cfg.tick != nil {
					e.cfg.tick(b)
				}
			}
			return
		case <-sample.C:
			e.rec.SampleInFlight()
		case <-cut.C:
			b := e.rec.Cut(next, false)
			if e.cfg.tick != nil {
				e.cfg.tick(b)
			}
			next = next.Add(time.Second)
			cut.Reset(time.Until(next))
		}
	}
}

// Planned estimates the run's size for progress displays: the logical
// requests it will send (-1 when a scenario is bounded only by time) and
// its scheduled length (-1 when a scenario is bounded only by count).
func (e *Engine) Planned() (requests int64, length time.Duration) {
	for _, sr := range e.scens {
		steps := int64(sr.recorded()) // logical samples per iteration
		n, d := int64(-1), time.Duration(-1)
		switch ex := sr.sc.Executor; {
		case ex.Closed != nil:
			if ex.Closed.Iterations > 0 {
				n = int64(e.cfg.segment.share(ex.Closed.VUs)) * int64(ex.Closed.Iterations) * steps
			}
			if ex.Closed.Duration > 0 {
				d = ex.Closed.Duration
			}
		case ex.Open != nil:
			n = int64(e.cfg.segment.share(int(newOpenSchedule(ex.Open).total()))) * steps
			d = ex.Open.TotalDuration()
		case ex.Batches != nil:
			b := ex.Batches
			n = int64(e.cfg.segment.share(b.Total)) * steps
			d = time.Duration((b.Total+b.Size-1)/b.Size-1) * b.Pause
		}
		if n < 0 || requests < 0 {
			requests = -1
		} else {
			requests += n
		}
		if d < 0 || length < 0 {
			length = -1
		} else {
			length = max(length, d)
		}
	}
	return requests, length
}

// InFlight returns the number of logical requests in flight now.
func (e *Engine) InFlight() int64 { return e.rec.InFlight() }

// PeakRate is the highest arrival rate, per second, that the plan's open
// scenarios ask of this process together (this segment's share).
func (e *Engine) PeakRate() float64 {
	var sum float64
	for _, sr := range e.scens {
		if o := sr.sc.Executor.Open; o != nil {
			peak := max(o.Rate.PerSecond(), o.StartRate.PerSecond())
			for _, st := range o.Stages {
				peak = max(peak, st.Target.PerSecond())
			}
			sum += peak
		}
	}
	if n := e.cfg.segment.N; n > 1 {
		sum /= float64(n)
	}
	return sum
}

// ClosedVUs is how many VUs the plan's closed scenarios start in this
// process: each holds a connection for the whole run.
func (e *Engine) ClosedVUs() int {
	n := 0
	for _, sr := range e.scens {
		if sr.sc.Executor.Closed != nil {
			n += sr.maxVUs
		}
	}
	return n
}
