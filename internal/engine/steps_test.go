package engine

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/floodgate-dev/floodgate/internal/client"
	"github.com/floodgate-dev/floodgate/internal/metrics"
	"github.com/floodgate-dev/floodgate/internal/plan"
)

// seenReq is a request as a routeTransport received it.
type seenReq struct {
	Method, URL, Body string
	Header            map[string]string
	bodyPtr           *byte // the body's backing array, to check it is not copied
	at                time.Time
}

// routeTransport answers in process with route's status, body and
// headers after took (fake time inside a synctest bubble), and records
// every request.
type routeTransport struct {
	route func(r seenReq) (status int, body string, hdr http.Header, took time.Duration)
	mu    sync.Mutex
	seen  []seenReq
}

func (t *routeTransport) RoundTrip(ctx context.Context, req *client.Request, resp *client.Response) error {
	sr := seenReq{Method: req.Method, URL: req.URL, Body: string(req.Body), Header: map[string]string{}, at: time.Now()}
	if len(req.Body) > 0 {
		sr.bodyPtr = &req.Body[0]
	}
	for _, h := range req.Header {
		sr.Header[h.Name] = h.Value
	}
	t.mu.Lock()
	t.seen = append(t.seen, sr)
	t.mu.Unlock()
	status, body, hdr, took := t.route(sr)
	if took > 0 {
		wait := took
		if req.Timeout > 0 && req.Timeout < took {
			wait = req.Timeout // as the real transports bound an attempt
		}
		tm := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			tm.Stop()
			return &client.ClassError{Class: metrics.Timeout, Err: ctx.Err()}
		case <-tm.C:
		}
		if wait < took {
			return &client.ClassError{Class: metrics.Timeout, Err: context.DeadlineExceeded}
		}
	}
	resp.Status, resp.Latency = status, took
	resp.Body = append(resp.Body[:0], body...)
	resp.BytesIn = int64(len(body))
	if hdr == nil {
		hdr = http.Header{}
	}
	resp.SetHeaderFunc(hdr.Get)
	return nil
}

func (t *routeTransport) requests() []seenReq {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]seenReq(nil), t.seen...)
}

// parsePlan parses a plan body under a standard head; files are written
// next to it first.
func parsePlan(t *testing.T, body string, files map[string]string) *plan.Plan {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, err := plan.Parse(filepath.Join(dir, "plan.yaml"), []byte("target: http://api.test\nretry: off\n"+body), nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func runPlan(t *testing.T, p *plan.Plan, tr client.Transport) (*Engine, *metrics.Summary) {
	t.Helper()
	e, err := New(p, WithTransport(tr), WithSeed(1))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	return e, e.Recorder().Summarize(metrics.RunInfo{Plan: p.Name}, e.Ended())
}

func stepStats(t *testing.T, s *metrics.Summary, name string) metrics.Stats {
	t.Helper()
	for _, sc := range s.Scenarios {
		for _, st := range sc.Steps {
			if st.Name == name {
				return st.Stats
			}
		}
	}
	t.Fatalf("no step %q in the summary", name)
	return metrics.Stats{}
}

func TestTemplatesDataAndExtraction(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := parsePlan(t, `
scenarios:
  s:
    executor: {closed: {vus: 2, iterations: 2}}
    data: {file: users.csv}
    vars: {tag: "{{.user}}-{{vu}}-{{iteration}}"}
    headers: {X-User: "{{.user}}"}
    steps:
      - name: create
        request:
          method: POST
          path: /users/{{.user}}/jobs
          json: {tag: "{{.tag}}", n: "{{vu}}", region: "{{.region}}", fixed: true}
        extract: {job_id: id, loc: "header:Location", count: count}
      - name: get
        request:
          path: "/jobs/{{.job_id}}?count={{.count}}"
          headers: {X-Loc: "{{.loc}}"}
`, map[string]string{"users.csv": "user,region\nann,eu\nbob,us\ncid,ap\n"})
		var mu sync.Mutex
		n := 0
		tr := &routeTransport{route: func(r seenReq) (int, string, http.Header, time.Duration) {
			if r.Method == "POST" {
				mu.Lock()
				n++
				id := n
				mu.Unlock()
				return 201, fmt.Sprintf(`{"id":"job-%d","count":%d}`, id, id*10), http.Header{"Location": {fmt.Sprintf("/jobs/job-%d", id)}}, 10 * time.Millisecond
			}
			return 200, "{}", nil, 10 * time.Millisecond
		}}
		e, s := runPlan(t, p, tr)
		if s.Requests != 8 || s.Succeeded != 8 || len(e.Failures()) != 0 {
			t.Fatalf("requests %d succeeded %d failures %v", s.Requests, s.Succeeded, e.Failures())
		}
		reqs := tr.requests()
		users := map[string]bool{}
		for i, r := range reqs {
			if r.Method != "POST" {
				continue
			}
			user := strings.TrimSuffix(strings.TrimPrefix(r.URL, "http://api.test/users/"), "/jobs")
			users[user] = true
			if r.Header["X-User"] != user || r.Header["Content-Type"] != "application/json" {
				t.Errorf("POST %s headers %v", r.URL, r.Header)
			}
			if !strings.Contains(r.Body, `"tag":"`+user+"-") || !strings.Contains(r.Body, `"fixed":true`) || !strings.Contains(r.Body, `"n":1`) && !strings.Contains(r.Body, `"n":2`) {
				t.Errorf("POST body %s", r.Body)
			}
			// The same VU's next request uses what this one extracted.
			for _, next := range reqs[i+1:] {
				if next.Method == "GET" && next.Header["X-User"] == user {
					if !strings.HasPrefix(next.URL, "http://api.test/jobs/job-") || next.Header["X-Loc"] != strings.TrimPrefix(next.URL, "http://api.test")[:len(next.Header["X-Loc"])] {
						t.Errorf("GET %s with X-Loc %q after POST %s", next.URL, next.Header["X-Loc"], r.URL)
					}
					break
				}
			}
		}
		if len(users) != 3 {
			t.Errorf("users %v: sequential data recycles over 4 iterations, want all 3 rows", users)
		}
		for _, r := range reqs {
			if r.Method == "GET" {
				var id, count int
				if _, err := fmt.Sscanf(r.URL, "http://api.test/jobs/job-%d?count=%d", &id, &count); err != nil || count != id*10 {
					t.Errorf("GET %s: the count extracted (a number) goes into the path as text", r.URL)
				}
			}
		}
	})
}

// TestStaticRequestIsNotRendered: without templates, every request sends
// the body encoded at load time, not a copy.
func TestStaticRequestIsNotRendered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := parsePlan(t, `
scenarios:
  s:
    executor: {closed: {vus: 1, iterations: 3}}
    vars: {x: "{{uuid}}"}
    steps:
      - request: {method: POST, path: /static, json: {a: 1}}
`, nil)
		tr := &routeTransport{route: func(seenReq) (int, string, http.Header, time.Duration) { return 200, "", nil, 0 }}
		runPlan(t, p, tr)
		want := &p.Scenarios[0].Steps[0].Request.Body[0]
		for _, r := range tr.requests() {
			if r.bodyPtr != want || r.URL != "http://api.test/static" || r.Body != `{"a":1}` {
				t.Errorf("request %s %q: body copied or re-rendered", r.URL, r.Body)
			}
		}
	})
}

func TestExtractionFailureEndsIteration(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := parsePlan(t, `
scenarios:
  s:
    executor: {closed: {vus: 1, iterations: 2}}
    steps:
      - name: create
        request: {method: POST, path: /jobs}
        extract: {job_id: jobId}
      - name: get
        request: {path: "/jobs/{{.job_id}}"}
`, nil)
		tr := &routeTransport{route: func(seenReq) (int, string, http.Header, time.Duration) {
			return 200, `{"id":"job-1","contextId":"c-1"}`, nil, time.Millisecond
		}}
		e, s := runPlan(t, p, tr)
		if c := stepStats(t, s, "create"); c.Requests != 2 || c.Succeeded != 0 || c.Errors["other"] != 2 {
			t.Errorf("create: %+v", c)
		}
		if g := stepStats(t, s, "get"); g.Requests != 0 || g.Offered != 0 {
			t.Errorf("get ran after a failed extraction: %+v", g)
		}
		fs := e.Failures()
		if len(fs) != 1 || fs[0].Count != 2 || fs[0].Step != "create" || fs[0].Error != "extract job_id (jobId): not found" ||
			!strings.Contains(fs[0].Example, `{"id":"job-1"`) {
			t.Errorf("failures %+v", fs)
		}
	})
}

func TestUnexpectedStatusEndsIteration(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := parsePlan(t, `
scenarios:
  s:
    executor: {closed: {vus: 1, iterations: 1}}
    steps:
      - {name: a, request: {path: /a, expect: [200]}}
      - {name: b, request: {path: /b}}
`, nil)
		tr := &routeTransport{route: func(seenReq) (int, string, http.Header, time.Duration) {
			return 400, `{"message":"bad"}`, nil, 0
		}}
		e, s := runPlan(t, p, tr)
		if stepStats(t, s, "b").Requests != 0 {
			t.Errorf("b ran after a failed a")
		}
		if fs := e.Failures(); len(fs) != 1 || fs[0].Error != "status 400, want 200" || fs[0].Example != `{"message":"bad"}` {
			t.Errorf("failures %+v", fs)
		}
	})
}

// jobServer answers GET /jobs/1 with the states in order, one per poll
// (the last repeats), each after 100ms.
func jobServer(states ...string) *routeTransport {
	var mu sync.Mutex
	i := 0
	return &routeTransport{route: func(r seenReq) (int, string, http.Header, time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		st := states[min(i, len(states)-1)]
		i++
		if st == "404" {
			return 404, `{"code":"not.found"}`, nil, 100 * time.Millisecond
		}
		return 200, fmt.Sprintf(`{"id":"1","state":%q,"total":%d}`, st, i), nil, 100 * time.Millisecond
	}}
}

const pollPlan = `
scenarios:
  s:
    executor: {closed: {vus: 1, iterations: 1}}
    steps:
      - name: ready
        poll:
          path: /jobs/1
          every: 2s
          until: state == "READY"
          fail_if: state in ["FAILED", "CANCELLED"]
          timeout: %s
        extract: {total: total}
      - name: after
        request: {path: "/after/{{.total}}"}
`

func TestPollUntil(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := jobServer("PENDING", "PENDING", "PENDING", "READY")
		e, s := runPlan(t, parsePlan(t, fmt.Sprintf(pollPlan, "1m"), nil), tr)
		r := stepStats(t, s, "ready")
		// Polls at 0, 2, 4 and 6 s; the last answers at 6.1 s.
		if r.Requests != 1 || r.Succeeded != 1 || r.Attempts != 4 || r.Latency.FromSend.Max < 6090 || r.Latency.FromSend.Max > 6110 {
			t.Errorf("poll: requests %d ok %d attempts %d latency %v ms, want 1/1/4 and 6100 (within HDR resolution)", r.Requests, r.Succeeded, r.Attempts, r.Latency.FromSend.Max)
		}
		reqs := tr.requests()
		for i := range 4 {
			if want := reqs[0].at.Add(time.Duration(i) * 2 * time.Second); !reqs[i].at.Equal(want) {
				t.Errorf("poll %d at %v, want every 2s from the first", i+1, reqs[i].at.Sub(reqs[0].at))
			}
		}
		if last := reqs[len(reqs)-1].URL; last != "http://api.test/after/4" {
			t.Errorf("next step's path %s: want the total extracted from the last poll", last)
		}
		if len(e.Failures()) != 0 {
			t.Errorf("failures %v", e.Failures())
		}
	})
}

func TestPollTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, s := runPlan(t, parsePlan(t, fmt.Sprintf(pollPlan, "5s"), nil), jobServer("PENDING"))
		r := stepStats(t, s, "ready")
		if r.Requests != 1 || r.Succeeded != 0 || r.Errors["timeout"] != 1 || r.Attempts != 3 {
			t.Errorf("poll: %+v, want one timed-out poll of 3 attempts (0, 2, 4 s)", r)
		}
		if d := e.Ended().Sub(e.Started()); d != 5*time.Second {
			t.Errorf("run took %v, want the poll's 5s timeout", d)
		}
		fs := e.Failures()
		if len(fs) != 1 || fs[0].Error != "until did not hold within 5s" || !strings.Contains(fs[0].Example, `last response 200: {"id":"1","state":"PENDING"`) {
			t.Errorf("failures %+v", fs)
		}
		if stepStats(t, s, "after").Requests != 0 {
			t.Errorf("the next step ran after a timed-out poll")
		}
	})
}

func TestPollTimeoutCutsASlowRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := &routeTransport{route: func(seenReq) (int, string, http.Header, time.Duration) {
			return 200, `{"state":"PENDING"}`, nil, time.Hour
		}}
		e, s := runPlan(t, parsePlan(t, fmt.Sprintf(pollPlan, "3s"), nil), tr)
		if d := e.Ended().Sub(e.Started()); d != 3*time.Second {
			t.Errorf("run took %v, want the poll's 3s timeout", d)
		}
		if r := stepStats(t, s, "ready"); r.Errors["timeout"] != 1 {
			t.Errorf("poll %+v", r)
		}
	})
}

func TestPollFailIf(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, s := runPlan(t, parsePlan(t, fmt.Sprintf(pollPlan, "1m"), nil), jobServer("PENDING", "FAILED"))
		if r := stepStats(t, s, "ready"); r.Succeeded != 0 || r.Attempts != 2 || r.Errors["other"] != 1 {
			t.Errorf("poll %+v", r)
		}
		fs := e.Failures()
		if len(fs) != 1 || fs[0].Error != `fail_if state in ["FAILED", "CANCELLED"] held after 2 poll(s)` || !strings.Contains(fs[0].Example, `"state":"FAILED"`) {
			t.Errorf("failures %+v", fs)
		}
	})
}

func TestPollUnexpectedStatus(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, s := runPlan(t, parsePlan(t, fmt.Sprintf(pollPlan, "1m"), nil), jobServer("PENDING", "404"))
		if r := stepStats(t, s, "ready"); r.Errors["status"] != 1 || r.FinalStatuses["404"] != 1 {
			t.Errorf("poll %+v", r)
		}
		if fs := e.Failures(); len(fs) != 1 || fs[0].Error != "poll 2: status 404, want 2xx or 3xx" {
			t.Errorf("failures %+v", fs)
		}
	})
}

func TestThinkAndGroup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := parsePlan(t, `
scenarios:
  s:
    executor: {closed: {vus: 1, iterations: 2}}
    steps:
      - think: 500ms
      - name: checkout
        group:
          - {name: cart, request: {path: /cart}}
          - think: {min: 1s, max: 1s}
          - {name: pay, request: {path: /pay}}
      - {name: done, request: {path: /done}}
`, nil)
		tr := &routeTransport{route: func(seenReq) (int, string, http.Header, time.Duration) { return 200, "", nil, 100 * time.Millisecond }}
		e, s := runPlan(t, p, tr)
		var keys []string
		for _, k := range e.Recorder().Steps() {
			keys = append(keys, k.Step)
		}
		if strings.Join(keys, ",") != "checkout,checkout/cart,checkout/pay,done" {
			t.Errorf("recorder steps %v: think records nothing, a group's steps are group/step", keys)
		}
		g := stepStats(t, s, "checkout")
		if g.Requests != 2 || g.Succeeded != 2 || g.Latency.FromSend.Max < 1199 || g.Latency.FromSend.Max > 1201 {
			t.Errorf("group %+v, want 2 samples of 1.2 s (cart, think 1s, pay)", g)
		}
		// The leading think is not counted in the first step's latency from due.
		if g.Latency.FromDue.Max > 1201 {
			t.Errorf("group latency from due %v ms includes the think before it", g.Latency.FromDue.Max)
		}
		if c := stepStats(t, s, "checkout/cart"); c.Offered != 2 || c.Requests != 2 {
			t.Errorf("cart %+v", c)
		}
		if d := e.Ended().Sub(e.Started()); d != 2*(500*time.Millisecond+1300*time.Millisecond) {
			t.Errorf("run took %v, want 2 × (0.5 + 0.1 + 1 + 0.1 + 0.1) s", d)
		}
	})
}

func TestGroupFailureEndsIteration(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := parsePlan(t, `
scenarios:
  s:
    executor: {closed: {vus: 1, iterations: 1}}
    steps:
      - name: g
        group:
          - {name: a, request: {path: /a}}
          - {name: b, request: {path: /b}}
      - {name: c, request: {path: /c}}
`, nil)
		tr := &routeTransport{route: func(r seenReq) (int, string, http.Header, time.Duration) {
			if strings.HasSuffix(r.URL, "/a") {
				return 503, "", nil, 0
			}
			return 200, "", nil, 0
		}}
		e, s := runPlan(t, p, tr)
		if g := stepStats(t, s, "g"); g.Succeeded != 0 || g.FinalStatuses["503"] != 1 {
			t.Errorf("group %+v", g)
		}
		if stepStats(t, s, "g/b").Requests+stepStats(t, s, "c").Requests != 0 {
			t.Errorf("steps ran after the group failed")
		}
		if fs := e.Failures(); len(fs) != 1 || fs[0].Step != "g/a" {
			t.Errorf("failures %+v: only the failing step records one", fs)
		}
	})
}

func TestUniqueDataStopsTheScenario(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := parsePlan(t, `
scenarios:
  s:
    executor: {closed: {vus: 2, iterations: 10}}
    data: {file: d.csv, mode: unique}
    steps:
      - request: {path: "/u/{{.u}}"}
  other:
    executor: {closed: {vus: 1, iterations: 4}}
    steps:
      - request: {path: /other}
`, map[string]string{"d.csv": "u\n1\n2\n3\n"})
		tr := &routeTransport{route: func(seenReq) (int, string, http.Header, time.Duration) { return 200, "", nil, time.Second }}
		e, s := runPlan(t, p, tr)
		seen := map[string]int{}
		for _, r := range tr.requests() {
			seen[r.URL]++
		}
		for _, u := range []string{"1", "2", "3"} {
			if seen["http://api.test/u/"+u] != 1 {
				t.Errorf("row %s used %d times, want once", u, seen["http://api.test/u/"+u])
			}
		}
		if seen["http://api.test/other"] != 4 {
			t.Errorf("the other scenario sent %d, want its 4: running out of data stops only its own scenario", seen["http://api.test/other"])
		}
		if e.Interrupted() {
			t.Errorf("running out of data is not an interruption")
		}
		if s.Scenarios[0].Requests != 3 {
			t.Errorf("requests %d", s.Scenarios[0].Requests)
		}
	})
}

func TestRandomDataIsSeeded(t *testing.T) {
	run := func() string {
		var got string
		synctest.Test(t, func(t *testing.T) {
			p := parsePlan(t, `
scenarios:
  s:
    executor: {closed: {vus: 1, iterations: 20}}
    data: {file: d.csv, mode: random}
    steps:
      - request: {path: "/u/{{.u}}/{{randInt 1 1000}}"}
`, map[string]string{"d.csv": "u\na\nb\nc\n"})
			tr := &routeTransport{route: func(seenReq) (int, string, http.Header, time.Duration) { return 200, "", nil, 0 }}
			runPlan(t, p, tr)
			for _, r := range tr.requests() {
				got += r.URL + " "
			}
		})
		return got
	}
	a, b := run(), run()
	if a != b {
		t.Errorf("the same seed gave other rows and numbers:\n%s\n%s", a, b)
	}
	for _, u := range []string{"/u/a/", "/u/b/", "/u/c/"} {
		if !strings.Contains(a, u) {
			t.Errorf("row %s never drawn in 20: %s", u, a)
		}
	}
}

// A status a step expects is an answer, whatever the retry policy: never
// retried, never lost (the bulk export storm expects 429 from the job cap).
func TestExpectedStatusIsNotRetriedOrLost(t *testing.T) {
	for _, retry := range []string{"", "retry: {on: [429, 503]}", "retry: {on: [429], max_attempts: 3}"} {
		t.Run(retry, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := parsePlan(t, fmt.Sprintf(`
scenarios:
  s:
    executor: {closed: {vus: 1, iterations: 4}}
    steps:
      - name: create
        request: {method: POST, path: /jobs, expect: [202, 429]}
        %s
`, retry), nil)
				n := 0
				tr := &routeTransport{route: func(seenReq) (int, string, http.Header, time.Duration) {
					n++
					if n%2 == 0 {
						return 429, `{"code":"too.many.requests"}`, http.Header{"Retry-After": {"1"}}, 0
					}
					return 202, `{"id":"j"}`, nil, 0
				}}
				e, s := runPlan(t, p, tr)
				st := stepStats(t, s, "create")
				if st.Requests != 4 || st.Attempts != 4 || st.Lost != 0 || st.Succeeded != 4 {
					t.Errorf("requests %d attempts %d lost %d succeeded %d, want 4 4 0 4", st.Requests, st.Attempts, st.Lost, st.Succeeded)
				}
				if fs := e.Failures(); len(fs) != 0 {
					t.Errorf("failures %+v", fs)
				}
			})
		})
	}
}
