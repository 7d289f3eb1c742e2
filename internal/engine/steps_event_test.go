package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/floodgate-dev/floodgate/internal/metrics"
	"github.com/floodgate-dev/floodgate/internal/plan"
)

// notifyServer speaks the platform's notification frames (reference §7):
// channels, subscriptions, a WebSocket per channel; PUT /jobs/{id}
// starts a job whose events follow on topic v2.jobs.{id}: a heartbeat,
// another topic's event, PROCESSING, then FULFILLED — or FAILED for ids
// starting with "fail", and nothing for ids starting with "silent".
type notifyServer struct {
	*httptest.Server
	mu       sync.Mutex
	channels int
	conns    map[string]*websocket.Conn
	topics   map[string]string // channel id -> topic
	jobs     int
}

func newNotifyServer(t *testing.T) *notifyServer {
	s := &notifyServer{conns: map[string]*websocket.Conn{}, topics: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v2/notifications/channels", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.channels++
		id := fmt.Sprintf("ch%d", s.channels)
		s.mu.Unlock()
		json.NewEncoder(w).Encode(map[string]string{"connectUri": "ws://" + r.Host + "/channels/streaming-0-" + id, "id": id, "expires": "2026-11-23T00:00:00Z"})
	})
	mux.HandleFunc("PUT /api/v2/notifications/channels/{id}/subscriptions", func(w http.ResponseWriter, r *http.Request) {
		var topics []struct{ ID string }
		json.NewDecoder(r.Body).Decode(&topics)
		state, reason := "Permitted", ""
		if strings.Contains(topics[0].ID, "forbidden") {
			state, reason = "Rejected", "MissingPermissions"
		}
		s.mu.Lock()
		s.topics[r.PathValue("id")] = topics[0].ID
		s.mu.Unlock()
		json.NewEncoder(w).Encode(map[string]any{"entities": []map[string]string{{"id": topics[0].ID, "state": state, "rejectionReason": reason}}})
	})
	mux.HandleFunc("GET /channels/{name}", func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		id := strings.TrimPrefix(r.PathValue("name"), "streaming-0-")
		s.mu.Lock()
		s.conns[id] = c
		s.mu.Unlock()
		c.Write(r.Context(), websocket.MessageText, []byte(`{"topicName":"channel.metadata","eventBody":{"message":"WebSocket Heartbeat"}}`))
		c.CloseRead(context.Background())
		<-r.Context().Done()
	})
	mux.HandleFunc("POST /jobs", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.jobs++
		n := s.jobs
		s.mu.Unlock()
		fmt.Fprintf(w, `{"id":"%s%d"}`, r.URL.Query().Get("kind"), n)
	})
	mux.HandleFunc("PUT /jobs/{id}", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		topic := "v2.jobs." + id
		// The client may have its handshake answer before this server
		// has stored the socket: give it a moment.
		var conn *websocket.Conn
		for deadline := time.Now().Add(2 * time.Second); conn == nil && time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			s.mu.Lock()
			for ch, tp := range s.topics {
				if tp == topic {
					conn = s.conns[ch]
				}
			}
			s.mu.Unlock()
		}
		w.WriteHeader(http.StatusAccepted)
		if conn == nil || strings.HasPrefix(id, "silent") {
			return
		}
		final := "FULFILLED"
		if strings.HasPrefix(id, "fail") {
			final = "FAILED"
		}
		go func() {
			time.Sleep(50 * time.Millisecond)
			for _, f := range []string{
				`{"topicName":"channel.metadata","eventBody":{"message":"WebSocket Heartbeat"}}`,
				`{"topicName":"v2.jobs.other","eventBody":{"state":"FULFILLED"}}`,
				fmt.Sprintf(`{"topicName":%q,"version":"2","eventBody":{"id":%q,"state":"PROCESSING"}}`, topic, id),
				fmt.Sprintf(`{"topicName":%q,"version":"2","eventBody":{"id":%q,"state":%q,"total":3}}`, topic, id, final),
			} {
				conn.Write(context.Background(), websocket.MessageText, []byte(f))
			}
		}()
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(func() {
		s.mu.Lock()
		for _, c := range s.conns {
			c.CloseNow()
		}
		s.mu.Unlock()
		s.Close()
	})
	return s
}

func (s *notifyServer) channelsMade() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.channels
}

func waitPlan(t *testing.T, target, kind, wait string, vus, iterations int) *plan.Plan {
	t.Helper()
	src := fmt.Sprintf(`target: %s
retry: off
scenarios:
  s:
    executor: {closed: {vus: %d, iterations: %d}}
    steps:
      - name: create
        request: {method: POST, path: "/jobs?kind=%s"}
        extract: {job_id: id}
      - name: done
        wait_event:
          topic: v2.jobs.{{.job_id}}
          trigger: {method: PUT, path: "/jobs/{{.job_id}}", expect: [202]}
          until: eventBody.state == "FULFILLED"
          fail_if: eventBody.state == "FAILED"
%s
        extract: {state: eventBody.state, total: eventBody.total}
      - name: check
        request: {path: "/check/{{.state}}/{{.total}}", expect: [404]}
`, target, vus, iterations, kind, wait)
	p, err := plan.Parse("", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func runReal(t *testing.T, p *plan.Plan) (*Engine, *metrics.Summary) {
	t.Helper()
	e, err := New(p, WithSeed(1))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.Run(ctx); err != nil {
		t.Fatal(err)
	}
	return e, e.Recorder().Summarize(metrics.RunInfo{Plan: p.Name}, e.Ended())
}

func TestWaitEvent(t *testing.T) {
	t.Parallel()
	srv := newNotifyServer(t)
	e, s := runReal(t, waitPlan(t, srv.URL, "", "          timeout: 10s", 2, 2))
	w := stepStats(t, s, "done")
	if w.Requests != 4 || w.Succeeded != 4 || len(e.Failures()) != 0 {
		t.Fatalf("wait_event %+v, failures %v", w, e.Failures())
	}
	// Each VU makes one channel and reuses it: its first wait makes the
	// channel, subscribes and triggers (3 attempts); later waits 2.
	if srv.channelsMade() != 2 || w.Attempts != 2*3+2*2 {
		t.Errorf("channels %d, attempts %d; want 2 and 10", srv.channelsMade(), w.Attempts)
	}
	if w.Latency.FromSend.P50 < 50 {
		t.Errorf("time to event p50 %v ms, want ≥ the server's 50 ms", w.Latency.FromSend.P50)
	}
	if c := stepStats(t, s, "check"); c.Requests != 4 || c.FinalStatuses["404"] != 4 {
		t.Errorf("check %+v", c)
	}
}

func TestWaitEventExtractsFromTheEvent(t *testing.T) {
	t.Parallel()
	srv := newNotifyServer(t)
	var mu sync.Mutex
	var paths []string
	inner := srv.Config.Handler
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/check/") {
			mu.Lock()
			paths = append(paths, r.URL.Path)
			mu.Unlock()
		}
		inner.ServeHTTP(w, r)
	})
	runReal(t, waitPlan(t, srv.URL, "", "          timeout: 10s", 1, 1))
	if len(paths) != 1 || paths[0] != "/check/FULFILLED/3" {
		t.Errorf("check paths %v, want /check/FULFILLED/3", paths)
	}
}

func TestWaitEventChannelPerStep(t *testing.T) {
	t.Parallel()
	srv := newNotifyServer(t)
	_, s := runReal(t, waitPlan(t, srv.URL, "", "          timeout: 10s\n          channel: step", 1, 3))
	if w := stepStats(t, s, "done"); w.Succeeded != 3 || srv.channelsMade() != 3 {
		t.Errorf("wait_event %+v with %d channels, want 3 waits on 3 channels", w, srv.channelsMade())
	}
}

func TestWaitEventTimeout(t *testing.T) {
	t.Parallel()
	srv := newNotifyServer(t)
	e, s := runReal(t, waitPlan(t, srv.URL, "silent", "          timeout: 300ms", 1, 1))
	w := stepStats(t, s, "done")
	if w.Succeeded != 0 || w.Errors["timeout"] != 1 {
		t.Errorf("wait_event %+v", w)
	}
	fs := e.Failures()
	if len(fs) != 1 || !strings.HasPrefix(fs[0].Error, "no matching event within 300ms (waiting for v2.jobs.silent") {
		t.Errorf("failures %+v", fs)
	}
	if d := e.Ended().Sub(e.Started()); d > 5*time.Second {
		t.Errorf("run took %v", d)
	}
	if stepStats(t, s, "check").Requests != 0 {
		t.Errorf("check ran after the wait timed out")
	}
}

func TestWaitEventFailIf(t *testing.T) {
	t.Parallel()
	srv := newNotifyServer(t)
	e, _ := runReal(t, waitPlan(t, srv.URL, "fail", "          timeout: 10s", 1, 1))
	fs := e.Failures()
	if len(fs) != 1 || fs[0].Error != `fail_if eventBody.state == "FAILED" held for an event` || !strings.Contains(fs[0].Example, `"state":"FAILED"`) {
		t.Errorf("failures %+v", fs)
	}
}

func TestWaitEventRejectedTopic(t *testing.T) {
	t.Parallel()
	srv := newNotifyServer(t)
	e, _ := runReal(t, waitPlan(t, srv.URL, "forbidden", "          timeout: 10s", 1, 1))
	fs := e.Failures()
	if len(fs) != 1 || fs[0].Error != "subscribe: topic rejected (MissingPermissions)" {
		t.Errorf("failures %+v", fs)
	}
}

func TestWaitEventConnectFailure(t *testing.T) {
	t.Parallel()
	srv := newNotifyServer(t)
	inner := srv.Config.Handler
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/channels/") {
			http.NotFound(w, r) // the channel is gone
			return
		}
		inner.ServeHTTP(w, r)
	})
	e, s := runReal(t, waitPlan(t, srv.URL, "", "          timeout: 10s", 1, 1))
	if w := stepStats(t, s, "done"); w.Errors["connect"] != 1 {
		t.Errorf("wait_event %+v", w)
	}
	if fs := e.Failures(); len(fs) != 1 || !strings.HasPrefix(fs[0].Error, "connect to the notification channel:") || strings.Contains(fs[0].Error, "ch1") {
		t.Errorf("failures %+v: want the connect error without the channel's id", fs)
	}
}
