package emulator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/floodgate-dev/floodgate/internal/client"
	"github.com/floodgate-dev/floodgate/internal/emulator/analytics"
	"github.com/floodgate-dev/floodgate/internal/emulator/auth"
	"github.com/floodgate-dev/floodgate/internal/emulator/catalog"
	"github.com/floodgate-dev/floodgate/internal/emulator/config"
	"github.com/floodgate-dev/floodgate/internal/emulator/conversations"
	"github.com/floodgate-dev/floodgate/internal/emulator/events"
	"github.com/floodgate-dev/floodgate/internal/emulator/faults"
	"github.com/floodgate-dev/floodgate/internal/emulator/notifications"
	"github.com/floodgate-dev/floodgate/internal/emulator/platform"
	"github.com/floodgate-dev/floodgate/internal/emulator/ratelimit"
	"github.com/floodgate-dev/floodgate/internal/emulator/recordings"
)

// Config is the emulator's configuration; see package config.
type Config = config.Config

// Well-known credentials of the built-in demo client.
const (
	DemoClientID     = config.DemoClientID
	DemoClientSecret = config.DemoClientSecret
	DemoOrgID        = config.DemoOrgID
)

// DefaultConfig returns the built-in genesys-cloud profile.
func DefaultConfig() Config { return config.Default() }

// LoadConfig reads and validates a YAML config file.
func LoadConfig(path string) (Config, error) { return config.Load(path) }

// Limiter makes fixed-window rate-limit decisions. Allow counts one
// request for key at now if the key's current window (of length window,
// holding at most limit requests) has room. Each decision must be atomic
// per key: concurrent calls never admit more than limit per window.
// ratelimit.Memory is the in-process implementation.
type Limiter interface {
	Allow(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (ratelimit.Decision, error)
	// Reset forgets every window.
	Reset(ctx context.Context) error
}

var _ Limiter = (*ratelimit.Memory)(nil)

// Option configures a Server beyond its Config.
type Option func(*options)

type options struct {
	now       func() time.Time
	logger    *slog.Logger
	limiter   Limiter
	slots     Slots
	slotLease time.Duration
	sleep     func(ctx context.Context, d time.Duration) error
	store     conversations.Store
	sink      recordings.Sink
}

// WithClock sets the clock every decision reads (default time.Now). Tests
// pass a fake clock.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithLimiter replaces the in-memory limiter (e.g. by a Redis one).
func WithLimiter(l Limiter) Option { return func(o *options) { o.limiter = l } }

// Slots hold concurrency-cap slots shared by several emulator processes
// (ratelimit.Redis). Acquire takes one of limit slots for key, held until
// release is called or lease passes, so a crashed holder frees its slots.
type Slots interface {
	Acquire(ctx context.Context, key string, limit int, lease time.Duration, holder string) (release func(), ok bool, err error)
}

var _ Slots = (*ratelimit.Redis)(nil)

// WithSlots makes concurrency caps count in-flight requests in s, shared
// with other replicas, instead of in this process. lease bounds how long a
// slot outlives a replica that dies holding it.
func WithSlots(s Slots, lease time.Duration) Option {
	return func(o *options) { o.slots, o.slotLease = s, lease }
}

// WithSleep replaces how injected latency is waited for (default: a timer
// that stops early when ctx is done). Tests pass a function that blocks on
// a channel to hold requests in flight.
func WithSleep(f func(ctx context.Context, d time.Duration) error) Option {
	return func(o *options) { o.sleep = f }
}

// WithConversationStore replaces the bounded in-memory conversation store.
func WithConversationStore(s conversations.Store) Option { return func(o *options) { o.store = s } }

// WithExportSink replaces where EXPORT recording jobs write (default: a
// recordings.Dir at the config's export_dir).
func WithExportSink(k recordings.Sink) Option { return func(o *options) { o.sink = k } }

// Server is the emulator: an http.Handler serving the platform's routes
// plus /metrics and the admin API under /_floodgate/. It is safe for
// concurrent use.
type Server struct {
	cfg   Config
	o     options
	log   *slog.Logger
	scale float64

	auth      *auth.Registry
	convs     *conversations.Service
	bus       *events.Bus
	recs      *recordings.Service
	analytics *analytics.Service
	notif     *notifications.Service
	catalog   *catalog.Service
	routes    []*route
	api       router // every /api/v2 route, hand-built first
	unknown   *route // answers what no route matches
	rng       *faults.RNG

	policy   atomic.Pointer[policy]
	liveMu   sync.Mutex // serializes live config replacement
	capMu    sync.Mutex
	capCount map[string]*atomic.Int64 // per-family in-flight, kept across policy swaps
	// catalogIdx maps a catalogued operation to its route's idx (unused
	// for operations a hand-built route serves).
	catalogIdx []int

	inflight atomic.Int64
	metrics  *metrics
	stats    counters
	started  atomic.Int64 // unix ns of start or last reset
	mux      *http.ServeMux
}

type route struct {
	platform.Route
	idx      int
	all      []auth.Permission // Permission and AllOf, parsed
	allNames []string
	any      []auth.Permission // AnyOf, parsed
	pattern  string
	// catalog marks a route of the generic catalogue layer; its handler
	// does not read path values.
	catalog bool
}

// New builds a server from cfg (defaults are applied to unset fields, then
// it is validated).
func New(cfg Config, opts ...Option) (*Server, error) {
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	o := options{now: time.Now, sleep: client.Sleep}
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	if o.limiter == nil {
		o.limiter = ratelimit.NewMemory()
	}
	if o.store == nil {
		o.store = conversations.NewMemory(cfg.Conversations.Max)
	}
	s := &Server{cfg: cfg, o: o, log: o.logger, scale: cfg.TimeScale, rng: faults.NewRNG(cfg.Seed),
		capCount: map[string]*atomic.Int64{}}
	s.started.Store(o.now().UnixNano())
	var err error
	s.auth, err = auth.New(cfg.Orgs, cfg.Tokens.Max, cfg.TimeScale)
	if err != nil {
		return nil, err
	}
	s.bus = events.New()
	activeFor := s.scaled(cfg.Conversations.ActiveFor.D())
	s.convs = conversations.New(o.store, conversations.Options{
		ActiveFor:          activeFor,
		MessageWindow:      s.scaled(cfg.Conversations.MessageWindow.D()),
		RecordingDuration:  cfg.Conversations.ActiveFor.D(),
		OpenMessagingQueue: cfg.Conversations.OpenMessagingQueue,
		Bus:                s.bus,
		Logger:             o.logger,
	})
	if o.sink == nil {
		o.sink = recordings.NewDir(cfg.ExportDir)
		s.o.sink = o.sink
	}
	rc := cfg.Recordings
	s.recs = recordings.New(recordings.Options{
		Store: o.store, Bus: s.bus, Sink: o.sink, Now: o.now, MaxLife: activeFor,
		MaxJobs: rc.MaxJobs, ActiveJobsPerOrg: rc.ActiveJobsPerOrg,
		ActiveAnswer: recordings.Answer{Status: rc.ActiveJobsAnswer.Status, Code: rc.ActiveJobsAnswer.Code, Message: rc.ActiveJobsAnswer.Message,
			RetryAfter: rc.ActiveJobsAnswer.RetryAfter},
		ReadyAfter: s.scaled(rc.ReadyAfter.D()), ExportTime: s.scaled(rc.ExportTime.D()), MatchLag: s.scaled(rc.MatchLag.D()),
		FailureProbability: rc.FailureProbability, Seed: cfg.Seed, Logger: o.logger,
	})
	ac := cfg.Analytics
	s.analytics = analytics.New(analytics.Options{
		Store: o.store, Now: o.now, MaxLife: activeFor,
		IngestionLag: s.scaled(ac.IngestionLag.D()), JobDataLag: s.scaled(ac.JobDataLag.D()),
		JobQueuedFor: s.scaled(ac.JobQueuedFor.D()), JobRunsFor: s.scaled(ac.JobRunsFor.D()),
		JobResultsTTL: s.scaled(ac.JobResultsTTL.D()), JobFailureProbability: ac.JobFailureProbability,
		Seed: cfg.Seed, MaxJobs: ac.MaxJobs,
	})
	nc := cfg.Notifications
	s.notif = notifications.New(notifications.Options{
		Bus: s.bus, Now: o.now, ChannelsPerClient: nc.ChannelsPerClient, TopicsPerChannel: nc.TopicsPerChannel,
		QueueSize: nc.QueueSize, Lifetime: s.scaled(nc.ChannelLifetime.D()), Heartbeat: s.scaled(nc.HeartbeatInterval.D()),
		Logger: o.logger,
	})
	s.catalog, err = catalog.New(catalog.Options{MaxEntities: cfg.Catalog.MaxEntities, Now: o.now})
	if err != nil {
		return nil, err
	}
	s.metrics = newMetrics(s)

	// Resources plug in here: each contributes routes that run through the
	// same pipeline (auth, limits, caps, faults, metrics).
	var all []platform.Route
	all = append(all, s.auth.Routes()...)
	all = append(all, s.convs.Routes()...)
	all = append(all, s.recs.Routes()...)
	all = append(all, s.analytics.Routes()...)
	all = append(all, s.notif.Routes()...)
	handBuilt := len(all)
	// Then every catalogued operation; a hand-built route of the same
	// method and template wins.
	for i, op := range s.catalog.Ops() {
		all = append(all, platform.Route{Method: op.Method, Path: op.Path, Family: catalog.Family(op.Path),
			Handle: func(w http.ResponseWriter, r *http.Request, c *platform.Call) {
				s.catalog.Serve(i, w, r, c, !s.policy.Load().routes[s.catalogIdx[i]].notFound)
			}})
	}
	all = append(all,
		platform.Route{Path: "/api/v2/", Family: "unknown", Handle: notFound},
		platform.Route{Path: "/", Family: "unknown", Public: true, Handle: notFound},
	)
	s.catalogIdx = make([]int, len(s.catalog.Ops()))
	s.mux = http.NewServeMux()
	for j, r := range all {
		rt := &route{Route: r, idx: len(s.routes), pattern: r.Pattern(), catalog: j >= handBuilt && j < len(all)-2}
		parse := func(p string) auth.Permission {
			pp, err := auth.ParsePermission(p)
			if err != nil {
				panic(fmt.Sprintf("emulator: route %s: %v", rt.pattern, err)) // programmer error
			}
			return pp
		}
		for _, p := range append([]string{r.Permission}, r.AllOf...) {
			if p != "" {
				rt.all, rt.allNames = append(rt.all, parse(p)), append(rt.allNames, p)
			}
		}
		for _, p := range r.AnyOf {
			rt.any = append(rt.any, parse(p))
		}
		switch {
		case r.Path == "/api/v2/":
			s.unknown = rt
			s.mux.HandleFunc(rt.pattern, s.serveAPI)
		case strings.HasPrefix(r.Path, "/api/v2/"):
			if !s.api.add(rt) {
				if !rt.catalog {
					panic("emulator: duplicate route " + rt.pattern) // programmer error
				}
				continue
			}
			if rt.catalog {
				s.catalogIdx[j-handBuilt] = rt.idx
			}
		default:
			s.mux.HandleFunc(rt.pattern, func(w http.ResponseWriter, r *http.Request) { s.serve(rt, w, r) })
		}
		s.routes = append(s.routes, rt)
	}
	s.mux.Handle("GET /metrics", s.metrics.handler())
	// The notification WebSocket is outside the API pipeline: the channel
	// id is its credential, and sockets live far longer than requests.
	s.mux.HandleFunc("GET /channels/{name}", s.notif.ServeWS)
	s.registerAdmin()

	pol, err := s.buildPolicy(cfg.Live)
	if err != nil {
		return nil, err
	}
	s.policy.Store(pol)
	return s, nil
}

// serveAPI routes an /api/v2 request: the hand-built route or catalogued
// operation its method and path match, else 404 not.found (after auth).
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	var buf [8]string
	l, vals := s.api.match(r.Method, r.URL.Path, buf[:0])
	if l == nil {
		s.serve(s.unknown, w, r)
		return
	}
	if !l.rt.catalog {
		for i, name := range l.params {
			r.SetPathValue(name, vals[i])
		}
	}
	s.serve(l.rt, w, r)
}

func notFound(w http.ResponseWriter, _ *http.Request, c *platform.Call) {
	platform.NotFound(w, c.ContextID)
}

// scaled multiplies a platform duration by the time scale.
func (s *Server) scaled(d time.Duration) time.Duration {
	v := time.Duration(float64(d) * s.scale)
	if d > 0 && v < time.Microsecond {
		v = time.Microsecond
	}
	return v
}

// MaxHeaderBytes bounds a request's line and headers (the emulator's own
// bound; the platform documents none). Above it the answer is 431 with the
// platform's ErrorBody. net/http itself cuts off at 1 MiB, with its plain
// text 431, so that a client cannot make the server buffer more.
const MaxHeaderBytes = 64 << 10

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if headerBytes(r) > MaxHeaderBytes {
		id := platform.NewID()
		h := w.Header()
		h[hdrIninCorrelation] = []string{id}
		h[hdrGenesysCorrelation] = []string{id}
		h["Connection"] = []string{"close"}
		platform.WriteError(w, id, http.StatusRequestHeaderFieldsTooLarge, platform.CodeHeaderTooLarge,
			platform.MsgHeaderTooLarge+strconv.Itoa(MaxHeaderBytes))
		return
	}
	s.mux.ServeHTTP(w, r)
}

// headerBytes is the size of r's request line and headers as sent over
// HTTP/1.1.
func headerBytes(r *http.Request) int {
	n := len(r.Method) + len(r.RequestURI) + len(r.Proto) + 4
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n + len(r.Host) + 8
}

// Config returns the configuration the server was built with (the live
// part as it was at start).
func (s *Server) Config() Config { return s.cfg }

// ExportDir returns the directory EXPORT jobs write to (created if it
// did not exist yet), or "" when WithExportSink replaced the directory.
func (s *Server) ExportDir() (string, error) {
	if d, ok := s.o.sink.(*recordings.Dir); ok {
		return d.Root()
	}
	return "", nil
}

// background advances recording jobs and sweeps expired notification
// channels every backgroundTick until ctx is done, so that job events are
// published even when nobody polls. Reads of a job advance it too.
func (s *Server) background(ctx context.Context) {
	t := time.NewTimer(s.backgroundTick())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := s.o.now()
		s.recs.Advance(ctx, now)
		s.notif.Sweep(now)
		t.Reset(s.backgroundTick())
	}
}

// Serve serves on ln until ctx is done, then shuts down gracefully:
// notification sockets get a v2.system.socket_closing frame and are
// closed, and in-flight requests get up to 5 s to finish. It returns nil
// after a shutdown caused by ctx.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    http.DefaultMaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	bctx, stopBackground := context.WithCancel(ctx)
	bdone := make(chan struct{})
	go func() { defer close(bdone); s.background(bctx) }()
	defer func() { stopBackground(); <-bdone }()
	select {
	case err := <-errc:
		return fmt.Errorf("emulator: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.notif.Shutdown(sctx); err != nil {
		s.log.Warn("notification sockets did not close in time", "err", err)
	}
	err := hs.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		s.log.Warn("shutdown timed out; closing remaining connections")
		err = hs.Close()
	}
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return fmt.Errorf("emulator: serve: %w", serr)
	}
	if err != nil {
		return fmt.Errorf("emulator: shutdown: %w", err)
	}
	return nil
}

// Start listens on addr (e.g. "127.0.0.1:0" for a random port) and serves
// in the background until ctx is done. It returns the base URL, such as
// "http://127.0.0.1:41234".
func (s *Server) Start(ctx context.Context, addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("emulator: %w", err)
	}
	go func() {
		if err := s.Serve(ctx, ln); err != nil {
			s.log.Error("emulator stopped", "err", err)
		}
	}()
	return "http://" + ln.Addr().String(), nil
}
