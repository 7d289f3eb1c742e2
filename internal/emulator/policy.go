package emulator

import (
	"cmp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/floodgate-dev/floodgate/internal/emulator/config"
	"github.com/floodgate-dev/floodgate/internal/emulator/faults"
	"github.com/floodgate-dev/floodgate/internal/emulator/platform"
)

// policy is the compiled live configuration: everything a request needs,
// indexed by route, so the hot path does no matching or lookups by name.
// A policy is immutable; the admin API swaps in a new one atomically.
type policy struct {
	live   config.Live
	token  rate
	client *rate
	org    *rate
	routes []routePolicy // by route.idx
}

type rate struct {
	limit  int
	window time.Duration // scaled
}

type scope uint8

const (
	perToken scope = iota
	perClient
	perOrg
)

type familyLimit struct {
	prefix string // "f:NAME:" + the scope's key
	per    scope
	rate
}

type capPolicy struct {
	max        int64
	n          *atomic.Int64
	status     int
	code, msg  string
	retryAfter time.Duration // scaled; 0 = no Retry-After
}

type routePolicy struct {
	family   string
	limits   []familyLimit
	cap      *capPolicy
	fault    *faults.Injector
	inflight prometheus.Gauge // the family's in-flight gauge
	// notFound makes catalogued routes answer 404 for entities nobody
	// created instead of a synthetic body.
	notFound bool
	canned   *cannedAnswer
}

// cannedAnswer replaces a route's handler (config routes[].status/body).
type cannedAnswer struct {
	status int
	body   []byte // nil: no body
}

func (s *Server) rate(r *config.Rate) rate {
	return rate{limit: r.Requests, window: s.scaled(r.Window.D())}
}

// buildPolicy compiles a validated live config.
func (s *Server) buildPolicy(l config.Live) (*policy, error) {
	p := &policy{live: l, token: s.rate(l.Limits.Token), routes: make([]routePolicy, len(s.routes))}
	if l.Limits.Client != nil {
		r := s.rate(l.Limits.Client)
		p.client = &r
	}
	if l.Limits.Org != nil {
		r := s.rate(l.Limits.Org)
		p.org = &r
	}
	used := make([]bool, len(l.Families))
	for _, rt := range s.routes {
		rp := &p.routes[rt.idx]
		rp.family = rt.Family
	families:
		for i, f := range l.Families {
			for _, pat := range f.Paths {
				if config.MatchRoute(pat, rt.Method, rt.Path) {
					rp.family, used[i] = f.Name, true
					break families
				}
			}
		}
		rp.inflight = s.metrics.inflightGauge(rp.family)
		for _, fr := range l.Limits.Families {
			if fr.Family != rp.family {
				continue
			}
			per := map[string]scope{"token": perToken, "client": perClient, "org": perOrg}[fr.Per]
			rp.limits = append(rp.limits, familyLimit{prefix: "f:" + fr.Family + ":", per: per,
				rate: s.rate(&config.Rate{Requests: fr.Requests, Window: fr.Window})})
		}
		for _, c := range l.Caps {
			if c.Family != rp.family {
				continue
			}
			msg := c.Message
			if msg == "" {
				msg = platform.DefaultMessage(c.Code, c.Status)
			}
			rp.cap = &capPolicy{max: int64(c.MaxInFlight), n: s.capCounter(c.Family), status: c.Status,
				code: c.Code, msg: msg, retryAfter: s.scaled(c.RetryAfter.D())}
		}
		// A route rule beats a family rule; the first rule of a kind wins.
		var fam *config.Fault
		for i := range l.Faults {
			f := &l.Faults[i]
			if f.Route != "" && normPattern(f.Route) == rt.pattern {
				rp.fault = faults.New(*f, s.scale, s.rng)
				break
			}
			if fam == nil && f.Family != "" && f.Family == rp.family {
				fam = f
			}
		}
		if rp.fault == nil && fam != nil {
			rp.fault = faults.New(*fam, s.scale, s.rng)
		}
		// Route rules, like faults: for each setting, a route rule beats a
		// family rule and the first rule of each kind wins.
		unknown := l.UnknownEntities
		var cannedRule *config.RouteRule
		var routeUnknown, famUnknown string
		var routeCanned, famCanned *config.RouteRule
		for i := range l.Routes {
			rr := &l.Routes[i]
			switch {
			case rr.Route != "" && normPattern(rr.Route) == rt.pattern:
				routeUnknown = cmp.Or(routeUnknown, rr.UnknownEntities)
				if routeCanned == nil && rr.Status != 0 {
					routeCanned = rr
				}
			case rr.Family != "" && rr.Family == rp.family:
				famUnknown = cmp.Or(famUnknown, rr.UnknownEntities)
				if famCanned == nil && rr.Status != 0 {
					famCanned = rr
				}
			}
		}
		unknown = cmp.Or(routeUnknown, famUnknown, unknown)
		cannedRule = cmp.Or(routeCanned, famCanned)
		rp.notFound = unknown == config.UnknownNotFound
		if cannedRule != nil {
			rp.canned = &cannedAnswer{status: cannedRule.Status}
			if cannedRule.Body != "" {
				rp.canned.body = []byte(cannedRule.Body)
			}
		}
	}
	for i, u := range used {
		if !u {
			s.log.Warn("endpoint family matches no route", "family", l.Families[i].Name, "paths", l.Families[i].Paths)
		}
	}
	for _, rr := range l.Routes {
		if rr.Route == "" {
			continue
		}
		found := false
		for _, rt := range s.routes {
			found = found || normPattern(rr.Route) == rt.pattern
		}
		if !found {
			s.log.Warn("routes rule matches no route", "route", rr.Route)
		}
	}
	for _, f := range l.Faults {
		if f.Route == "" {
			continue
		}
		found := false
		for _, rt := range s.routes {
			found = found || normPattern(f.Route) == rt.pattern
		}
		if !found {
			s.log.Warn("fault route matches no route", "route", f.Route)
		}
	}
	return p, nil
}

func normPattern(p string) string {
	m, path, _ := config.ParsePathPattern(p)
	if m == "" {
		return path
	}
	return m + " " + strings.TrimSpace(path)
}

// capCounter returns the in-flight counter of a family, shared by every
// policy so that swapping the config does not forget requests in flight.
func (s *Server) capCounter(family string) *atomic.Int64 {
	s.capMu.Lock()
	defer s.capMu.Unlock()
	n, ok := s.capCount[family]
	if !ok {
		n = new(atomic.Int64)
		s.capCount[family] = n
	}
	return n
}
