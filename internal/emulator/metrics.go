package emulator

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/floodgate-dev/floodgate/internal/emulator/analytics"
	"github.com/floodgate-dev/floodgate/internal/emulator/recordings"
)

// metrics holds the server's Prometheus metrics in its own registry (one
// per server, so several servers in one process never collide):
//
//	floodgate_emulator_requests_total{family,method,status}          counter
//	floodgate_emulator_limited_total{family,kind}                    counter (kind: rate, cap, size)
//	floodgate_emulator_in_flight{family}                             gauge
//	floodgate_emulator_conversations                                 gauge
//	floodgate_emulator_conversations_evicted_total                   counter
//	floodgate_emulator_tokens                                        gauge
//	floodgate_emulator_recording_jobs{state}                         gauge
//	floodgate_emulator_recordings_exported_total{result}             counter (processed, failed, skipped)
//	floodgate_emulator_analytics_jobs{state}                         gauge
//	floodgate_emulator_notification_channels                         gauge
//	floodgate_emulator_notification_sockets                          gauge
//	floodgate_emulator_notification_connections_total                counter
//	floodgate_emulator_notification_channel_evictions_total          counter
//	floodgate_emulator_notification_events_total{result}             counter (delivered, dropped, unconnected)
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	limitedV *prometheus.CounterVec
	inflight *prometheus.GaugeVec

	// cache keeps the hot path (one counter per request) free of label
	// hashing and allocation.
	mu    sync.RWMutex
	cache map[reqKey]prometheus.Counter
}

type reqKey struct {
	family, method string
	status         int
}

func newMetrics(s *Server) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "floodgate_emulator_requests_total",
			Help: "Requests answered, by endpoint family, method and status."}, []string{"family", "method", "status"}),
		limitedV: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "floodgate_emulator_limited_total",
			Help: "Requests refused by a rate limit (rate), a concurrency cap (cap) or the body size limit (size)."}, []string{"family", "kind"}),
		inflight: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "floodgate_emulator_in_flight",
			Help: "Requests in flight past authentication and limits, by endpoint family."}, []string{"family"}),
		cache: map[reqKey]prometheus.Counter{},
	}
	m.reg.MustRegister(m.requests, m.limitedV, m.inflight,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "floodgate_emulator_conversations", Help: "Conversations stored."},
			func() float64 { return float64(s.convs.Store().Len()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "floodgate_emulator_conversations_evicted_total",
			Help: "Conversations evicted because the store was full."}, func() float64 { return float64(s.convs.Evicted()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "floodgate_emulator_tokens", Help: "Access tokens held (expired ones included)."},
			func() float64 { return float64(s.auth.Len()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "floodgate_emulator_catalog_entities",
			Help: "Entities held by the catalogued routes' store (deleted ones included)."},
			func() float64 { return float64(s.catalog.Entities()) }),
		&resourceCollector{s: s},
	)
	return m
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

func (m *metrics) observe(family, method string, status int) {
	k := reqKey{family, methodLabel(method), status}
	m.mu.RLock()
	c, ok := m.cache[k]
	m.mu.RUnlock()
	if !ok {
		m.mu.Lock()
		if c, ok = m.cache[k]; !ok {
			c = m.requests.WithLabelValues(k.family, k.method, strconv.Itoa(status))
			m.cache[k] = c
		}
		m.mu.Unlock()
	}
	c.Inc()
}

func (m *metrics) limited(family, kind string) {
	m.limitedV.WithLabelValues(family, kind).Inc()
}

func (m *metrics) inflightGauge(family string) prometheus.Gauge {
	return m.inflight.WithLabelValues(family)
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// resourceCollector reports the resources' state at scrape time.
type resourceCollector struct{ s *Server }

var (
	descRecordingJobs = prometheus.NewDesc("floodgate_emulator_recording_jobs",
		"Recording bulk jobs kept, by state.", []string{"state"}, nil)
	descExported = prometheus.NewDesc("floodgate_emulator_recordings_exported_total",
		"Recordings handled by recording jobs, by result (processed, failed, skipped).", []string{"result"}, nil)
	descAnalyticsJobs = prometheus.NewDesc("floodgate_emulator_analytics_jobs",
		"Analytics conversation details jobs kept, by state.", []string{"state"}, nil)
	descChannels = prometheus.NewDesc("floodgate_emulator_notification_channels",
		"Notification channels alive.", nil, nil)
	descSockets = prometheus.NewDesc("floodgate_emulator_notification_sockets",
		"Notification WebSockets connected.", nil, nil)
	descConnections = prometheus.NewDesc("floodgate_emulator_notification_connections_total",
		"Notification WebSocket connections accepted.", nil, nil)
	descEvictions = prometheus.NewDesc("floodgate_emulator_notification_channel_evictions_total",
		"Notification channels evicted by the per-client channel limit.", nil, nil)
	descEvents = prometheus.NewDesc("floodgate_emulator_notification_events_total",
		"Notification events by result: queued to a socket (delivered), dropped because the socket's queue was full, or published while the channel had no socket (unconnected).", []string{"result"}, nil)
)

func (c *resourceCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRecordingJobs, descExported, descAnalyticsJobs, descChannels, descSockets,
		descConnections, descEvictions, descEvents} {
		ch <- d
	}
}

func (c *resourceCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.s
	rj := s.recs.Count()
	for _, st := range recordings.States {
		ch <- prometheus.MustNewConstMetric(descRecordingJobs, prometheus.GaugeValue, float64(rj[st]), st)
	}
	p, f, k := s.recs.Exported()
	ch <- prometheus.MustNewConstMetric(descExported, prometheus.CounterValue, float64(p), "processed")
	ch <- prometheus.MustNewConstMetric(descExported, prometheus.CounterValue, float64(f), "failed")
	ch <- prometheus.MustNewConstMetric(descExported, prometheus.CounterValue, float64(k), "skipped")
	aj := s.analytics.Count(s.o.now())
	for _, st := range analytics.States {
		ch <- prometheus.MustNewConstMetric(descAnalyticsJobs, prometheus.GaugeValue, float64(aj[st]), st)
	}
	n := s.notif.Stats()
	ch <- prometheus.MustNewConstMetric(descChannels, prometheus.GaugeValue, float64(n.Channels))
	ch <- prometheus.MustNewConstMetric(descSockets, prometheus.GaugeValue, float64(n.Sockets))
	ch <- prometheus.MustNewConstMetric(descConnections, prometheus.CounterValue, float64(n.Connections))
	ch <- prometheus.MustNewConstMetric(descEvictions, prometheus.CounterValue, float64(n.Evictions))
	ch <- prometheus.MustNewConstMetric(descEvents, prometheus.CounterValue, float64(n.Delivered), "delivered")
	ch <- prometheus.MustNewConstMetric(descEvents, prometheus.CounterValue, float64(n.Dropped), "dropped")
	ch <- prometheus.MustNewConstMetric(descEvents, prometheus.CounterValue, float64(n.Unconnected), "unconnected")
}

// backgroundTick returns how often the server advances recording jobs and
// sweeps expired channels: one platform second, scaled, within [10ms, 1s].
func (s *Server) backgroundTick() time.Duration {
	return min(max(s.scaled(time.Second), 10*time.Millisecond), time.Second)
}
