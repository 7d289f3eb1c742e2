package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/floodgate-dev/floodgate/internal/emulator/config"
	"github.com/floodgate-dev/floodgate/internal/emulator/recordings"
)

// counters are the admin API's running totals; POST /_floodgate/reset
// zeroes them (the /metrics counters never go down). Totals the services
// keep for /metrics are shown less their value at the last reset.
type counters struct {
	requests, rateLimited, capped, tooLarge, unauthorized, forbidden, saturated, faults atomic.Int64
	evictedAtReset, jobsCappedAtReset                                                   atomic.Int64
}

// Stats is the body of GET /_floodgate/stats.
type Stats struct {
	UptimeSeconds float64 `json:"uptime_seconds"`
	TimeScale     float64 `json:"time_scale"`
	Requests      int64   `json:"requests"`
	RateLimited   int64   `json:"rate_limited"`
	// Capped counts refusals by a concurrency cap: in-flight caps and the
	// recording jobs' active-jobs cap (also in RecordingJobs.Capped).
	Capped        int64 `json:"capped"`
	TooLarge      int64 `json:"too_large"`
	Unauthorized  int64 `json:"unauthorized"`
	Forbidden     int64 `json:"forbidden"`
	Saturated     int64 `json:"saturated"`
	FaultErrors   int64 `json:"fault_errors"`
	InFlight      int64 `json:"in_flight"`
	Tokens        int   `json:"tokens"`
	Conversations struct {
		Stored  int   `json:"stored"`
		Max     int   `json:"max"`
		Evicted int64 `json:"evicted"`
	} `json:"conversations"`
	RecordingJobs struct {
		Stored int   `json:"stored"`
		Max    int   `json:"max"`
		Capped int64 `json:"capped"`
	} `json:"recording_jobs"`
	AnalyticsJobs struct {
		Stored int `json:"stored"`
		Max    int `json:"max"`
	} `json:"analytics_jobs"`
	Notifications struct {
		Channels      int64 `json:"channels"`
		Sockets       int64 `json:"sockets"`
		EventsDropped int64 `json:"events_dropped"`
	} `json:"notifications"`
	ExportDir string `json:"export_dir,omitempty"`
}

// Stats returns the server's running totals.
func (s *Server) Stats() Stats {
	st := Stats{
		UptimeSeconds: s.o.now().Sub(time.Unix(0, s.started.Load())).Seconds(), TimeScale: s.scale,
		Requests: s.stats.requests.Load(), RateLimited: s.stats.rateLimited.Load(), Capped: s.stats.capped.Load(),
		TooLarge: s.stats.tooLarge.Load(), Unauthorized: s.stats.unauthorized.Load(), Forbidden: s.stats.forbidden.Load(),
		Saturated: s.stats.saturated.Load(), FaultErrors: s.stats.faults.Load(), InFlight: s.inflight.Load(),
		Tokens: s.auth.Len(),
	}
	st.Conversations.Stored = s.convs.Store().Len()
	st.Conversations.Max = s.cfg.Conversations.Max
	st.Conversations.Evicted = s.convs.Evicted() - s.stats.evictedAtReset.Load()
	st.RecordingJobs.Stored, st.RecordingJobs.Max = s.recs.Len(), s.cfg.Recordings.MaxJobs
	st.RecordingJobs.Capped = s.recs.Capped() - s.stats.jobsCappedAtReset.Load()
	st.Capped += st.RecordingJobs.Capped
	st.AnalyticsJobs.Stored, st.AnalyticsJobs.Max = s.analytics.Len(), s.cfg.Analytics.MaxJobs
	n := s.notif.Stats()
	st.Notifications.Channels, st.Notifications.Sockets, st.Notifications.EventsDropped = n.Channels, n.Sockets, n.Dropped
	if d, ok := s.o.sink.(*recordings.Dir); ok {
		st.ExportDir = d.Path()
	}
	return st
}

// Live returns the live configuration in force.
func (s *Server) Live() config.Live { return s.policy.Load().live }

// SetLive validates l (after defaults) and puts it in force atomically.
// Requests already past the limits keep the policy they started with.
func (s *Server) SetLive(l config.Live) error {
	l.ApplyDefaults()
	if err := l.Validate(); err != nil {
		return err
	}
	s.liveMu.Lock()
	defer s.liveMu.Unlock()
	p, err := s.buildPolicy(l)
	if err != nil {
		return err
	}
	s.policy.Store(p)
	s.log.Info("live config replaced", "families", len(l.Families), "caps", len(l.Caps), "faults", len(l.Faults))
	return nil
}

// Reset forgets rate-limit windows, stored conversations, recording and
// analytics jobs, and the admin totals. Tokens and notification channels
// stay valid so running clients carry on; exported files stay on disk.
func (s *Server) Reset(ctx context.Context) error {
	if err := s.o.limiter.Reset(ctx); err != nil {
		return err
	}
	s.convs.Reset()
	s.recs.Reset()
	s.analytics.Reset()
	s.catalog.Reset()
	for _, c := range []*atomic.Int64{&s.stats.requests, &s.stats.rateLimited, &s.stats.capped, &s.stats.tooLarge,
		&s.stats.unauthorized, &s.stats.forbidden, &s.stats.saturated, &s.stats.faults} {
		c.Store(0)
	}
	s.stats.evictedAtReset.Store(s.convs.Evicted())
	s.stats.jobsCappedAtReset.Store(s.recs.Capped())
	s.started.Store(s.o.now().UnixNano())
	s.log.Info("state reset")
	return nil
}

const adminBodyMax = 1 << 20

// registerAdmin adds the admin API. It has no authentication: the
// emulator is meant to listen on localhost.
//
//	GET  /_floodgate/stats   running totals (Stats)
//	POST /_floodgate/reset   Reset
//	GET  /_floodgate/config  the live config (families, limits, caps, faults) as JSON
//	PUT  /_floodgate/config  replace it; 400 {"errors":[...]} when invalid
func (s *Server) registerAdmin() {
	s.mux.HandleFunc("GET /_floodgate/stats", func(w http.ResponseWriter, _ *http.Request) {
		writeAdminJSON(w, http.StatusOK, s.Stats())
	})
	s.mux.HandleFunc("POST /_floodgate/reset", func(w http.ResponseWriter, r *http.Request) {
		if err := s.Reset(r.Context()); err != nil {
			writeAdminJSON(w, http.StatusInternalServerError, map[string]any{"errors": []string{err.Error()}})
			return
		}
		writeAdminJSON(w, http.StatusOK, s.Stats())
	})
	s.mux.HandleFunc("GET /_floodgate/config", func(w http.ResponseWriter, _ *http.Request) {
		writeAdminJSON(w, http.StatusOK, s.Live())
	})
	s.mux.HandleFunc("PUT /_floodgate/config", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, adminBodyMax))
		if err != nil {
			writeAdminJSON(w, http.StatusRequestEntityTooLarge, map[string]any{"errors": []string{err.Error()}})
			return
		}
		var l config.Live
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			writeAdminJSON(w, http.StatusBadRequest, map[string]any{"errors": []string{"config: " + err.Error()}})
			return
		}
		if err := s.SetLive(l); err != nil {
			writeAdminJSON(w, http.StatusBadRequest, map[string]any{"errors": errorList(err)})
			return
		}
		writeAdminJSON(w, http.StatusOK, s.Live())
	})
}

func errorList(err error) []string {
	var j interface{ Unwrap() []error }
	if errors.As(err, &j) {
		var out []string
		for _, e := range j.Unwrap() {
			out = append(out, e.Error())
		}
		return out
	}
	return []string{err.Error()}
}

func writeAdminJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
