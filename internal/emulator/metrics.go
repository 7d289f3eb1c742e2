package emulator

import (
	"bufio"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// metrics exports the server's counters in the Prometheus text exposition
// format (version 0.0.4). Each server has its own set, like a
// prometheus.Registry per server. It is written by hand because
// client_golang's dependencies are not in go.sum; the series names and
// labels are those a client_golang version would have.
//
//	floodgate_emulator_requests_total{family,method,status}  counter
//	floodgate_emulator_limited_total{family,kind}            counter (kind: rate, cap, size)
//	floodgate_emulator_in_flight{family}                     gauge
//	floodgate_emulator_conversations                         gauge
//	floodgate_emulator_conversations_evicted_total           counter
//	floodgate_emulator_tokens                                gauge
type metrics struct {
	s *Server

	mu       sync.RWMutex
	requests map[reqKey]*atomic.Int64
	limitedN map[limKey]*atomic.Int64
	inflight map[string]*atomic.Int64
}

type reqKey struct {
	family, method string
	status         int
}

type limKey struct{ family, kind string }

func newMetrics(s *Server) *metrics {
	return &metrics{s: s, requests: map[reqKey]*atomic.Int64{}, limitedN: map[limKey]*atomic.Int64{}, inflight: map[string]*atomic.Int64{}}
}

var knownMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}

// methodLabel bounds the method label's values.
func methodLabel(m string) string {
	for _, k := range knownMethods {
		if m == k {
			return k
		}
	}
	return "OTHER"
}

func counter[K comparable](mu *sync.RWMutex, m map[K]*atomic.Int64, k K) *atomic.Int64 {
	mu.RLock()
	c, ok := m[k]
	mu.RUnlock()
	if ok {
		return c
	}
	mu.Lock()
	defer mu.Unlock()
	if c, ok = m[k]; !ok {
		c = new(atomic.Int64)
		m[k] = c
	}
	return c
}

func (m *metrics) observe(family, method string, status int) {
	counter(&m.mu, m.requests, reqKey{family, methodLabel(method), status}).Add(1)
}

func (m *metrics) limited(family, kind string) {
	counter(&m.mu, m.limitedN, limKey{family, kind}).Add(1)
}

func (m *metrics) inflightGauge(family string) *atomic.Int64 {
	return counter(&m.mu, m.inflight, family)
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func (m *metrics) handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		bw := bufio.NewWriter(w)
		m.write(bw)
		_ = bw.Flush()
	})
}

func (m *metrics) write(w *bufio.Writer) {
	type line struct {
		labels string
		v      int64
	}
	family := func(name, typ, help string, lines []line) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
		slices.SortFunc(lines, func(a, b line) int { return strings.Compare(a.labels, b.labels) })
		for _, l := range lines {
			fmt.Fprintf(w, "%s%s %d\n", name, l.labels, l.v)
		}
	}
	q := labelEscaper.Replace
	m.mu.RLock()
	var req, lim, inf []line
	for k, c := range m.requests {
		req = append(req, line{fmt.Sprintf(`{family="%s",method="%s",status="%d"}`, q(k.family), k.method, k.status), c.Load()})
	}
	for k, c := range m.limitedN {
		lim = append(lim, line{fmt.Sprintf(`{family="%s",kind="%s"}`, q(k.family), k.kind), c.Load()})
	}
	for f, c := range m.inflight {
		inf = append(inf, line{fmt.Sprintf(`{family="%s"}`, q(f)), c.Load()})
	}
	m.mu.RUnlock()
	family("floodgate_emulator_requests_total", "counter", "Requests answered, by endpoint family, method and status.", req)
	family("floodgate_emulator_limited_total", "counter", "Requests refused by a rate limit (rate), a concurrency cap (cap) or the body size limit (size).", lim)
	family("floodgate_emulator_in_flight", "gauge", "Requests in flight past authentication and limits, by endpoint family.", inf)
	family("floodgate_emulator_conversations", "gauge", "Conversations stored.", []line{{"", int64(m.s.convs.Store().Len())}})
	family("floodgate_emulator_conversations_evicted_total", "counter", "Conversations evicted because the store was full.", []line{{"", m.s.convs.Evicted()}})
	family("floodgate_emulator_tokens", "gauge", "Access tokens held (expired ones included).", []line{{"", int64(m.s.auth.Len())}})
}
