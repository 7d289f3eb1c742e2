package engine

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/floodgate-dev/floodgate/internal/metrics"
)

// paths returns the paths of the requests seen, in order, without the
// target.
func paths(tr *routeTransport) []string {
	var out []string
	for _, r := range tr.requests() {
		out = append(out, strings.TrimPrefix(r.URL, "http://api.test"))
	}
	return out
}

// TestRepeat: a count repeats its steps that many times per iteration; a
// while repeats until its condition fails, bounded by max. The repeat is
// a logical sample spanning its passes; its steps record each pass.
func TestRepeat(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := parsePlan(t, `
scenarios:
  s:
    executor: {closed: {vus: 1, iterations: 2}}
    steps:
      - request: {path: /start}
      - name: browse
        repeat:
          count: 3
          steps:
            - request: {path: "/item/{{iteration}}"}
            - think: 100ms
      - name: drain
        repeat:
          while: $index == 0 || more == true
          max: 10
          steps:
            - request: {path: /page}
              extract: {more: more}
      - name: capped
        repeat:
          while: "true"
          max: 2
          steps:
            - request: {path: /again}
`, nil)
		var mu sync.Mutex
		pages := 0
		tr := &routeTransport{route: func(r seenReq) (int, string, http.Header, time.Duration) {
			if strings.HasSuffix(r.URL, "/page") {
				mu.Lock()
				pages++
				n := pages
				mu.Unlock()
				// Three pages per drain: more, more, done.
				return 200, map[bool]string{true: `{"more":true}`, false: `{"more":false}`}[n%3 != 0], nil, 10 * time.Millisecond
			}
			return 200, "{}", nil, 10 * time.Millisecond
		}}
		e, s := runPlan(t, p, tr)
		if len(e.Failures()) != 0 {
			t.Fatalf("failures %v", e.Failures())
		}
		iter := []string{"/start", "/item/0", "/item/0", "/item/0", "/page", "/page", "/page", "/again", "/again"}
		want := append(append([]string{}, iter...), strings.Split(strings.ReplaceAll(strings.Join(iter, ","), "/item/0", "/item/1"), ",")...)
		if got := paths(tr); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("requests\n%v\nwant\n%v", got, want)
		}
		if st := stepStats(t, s, "browse"); st.Requests != 2 || st.Succeeded != 2 {
			t.Errorf("browse: %d requests, %d ok; want one sample per iteration", st.Requests, st.Succeeded)
		}
		if st := stepStats(t, s, "browse/GET /item/{{iteration}}"); st.Requests != 6 {
			t.Errorf("browse's request: %d samples, want 3 per iteration", st.Requests)
		}
		// A pass is a request (10 ms) and a think (100 ms): the repeat
		// spans three.
		if st := stepStats(t, s, "browse"); st.Latency.FromSend.P50 < 329 || st.Latency.FromSend.Max > 341 {
			t.Errorf("browse latency %v..%v ms, want 3 × 110 ms", st.Latency.FromSend.P50, st.Latency.FromSend.Max)
		}
		if st := stepStats(t, s, "drain/GET /page"); st.Requests != 6 {
			t.Errorf("drain: %d pages, want 3 per iteration", st.Requests)
		}
		if st := stepStats(t, s, "capped/GET /again"); st.Requests != 4 {
			t.Errorf("capped: %d requests, want max 2 per iteration", st.Requests)
		}
	})
}

// TestWhenAndOnce: a step with when runs only when its condition holds
// and records nothing otherwise; a once step runs in its VU's first
// iteration only.
func TestWhenAndOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := parsePlan(t, `
scenarios:
  s:
    executor: {closed: {vus: 2, iterations: 3}}
    data: {file: users.csv}
    steps:
      - name: login
        once: true
        request: {path: "/login/{{.user}}"}
        extract: {token: token}
      - name: me
        request: {path: /me, headers: {Authorization: "Bearer {{.token}}"}}
      - name: admin
        when: role == "admin"
        request: {path: /admin}
      - name: status-check
        when: $status == 200 && $iteration >= 1
        group:
          - request: {path: /later}
`, map[string]string{"users.csv": "user,role\nann,admin\nbob,user\n"})
		tr := &routeTransport{route: func(r seenReq) (int, string, http.Header, time.Duration) {
			if strings.Contains(r.URL, "/login/") {
				return 200, `{"token":"t-` + strings.TrimPrefix(r.URL, "http://api.test/login/") + `"}`, nil, 5 * time.Millisecond
			}
			return 200, "{}", nil, 5 * time.Millisecond
		}}
		e, s := runPlan(t, p, tr)
		if len(e.Failures()) != 0 {
			t.Fatalf("failures %v", e.Failures())
		}
		// What the once step extracted stays set in the VU's later
		// iterations: every /me carries its VU's token.
		for _, r := range tr.requests() {
			if strings.HasSuffix(r.URL, "/me") && r.Header["Authorization"] != "Bearer t-ann" && r.Header["Authorization"] != "Bearer t-bob" {
				t.Errorf("/me with %q", r.Header["Authorization"])
			}
		}
		if st := stepStats(t, s, "me"); st.Succeeded != 6 {
			t.Errorf("me: %d ok, want 6", st.Succeeded)
		}
		if st := stepStats(t, s, "login"); st.Requests != 2 {
			t.Errorf("login: %d, want once per VU (2)", st.Requests)
		}
		// The executor offers each iteration to the first step; when it
		// is skipped, the step that runs first is offered on its own.
		for _, name := range []string{"admin", "status-check"} {
			if st := stepStats(t, s, name); st.Offered != st.Started {
				t.Errorf("%s offered %d, started %d: want them equal", name, st.Offered, st.Started)
			}
		}
		// Rows alternate ann, bob over 6 iterations: 3 are admin.
		if st := stepStats(t, s, "admin"); st.Requests != 3 || st.Started != 3 {
			t.Errorf("admin: %d requests, %d started, want 3 (skipped steps record nothing)", st.Requests, st.Started)
		}
		if st := stepStats(t, s, "status-check"); st.Requests != 4 {
			t.Errorf("status-check: %d, want the 4 iterations after each VU's first", st.Requests)
		}
		for _, r := range tr.requests() {
			if strings.HasSuffix(r.URL, "/admin") && r.Header["X-User"] != "" {
				t.Errorf("unexpected header %v", r.Header)
			}
		}
	})
}

// TestWhenError: a when that can't be evaluated fails its iteration.
func TestWhenError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := parsePlan(t, `
scenarios:
  s:
    executor: {closed: {vus: 1, iterations: 2}}
    vars: {name: abc}
    steps:
      - request: {path: /a}
      - name: bad
        when: 'int(name) > 0'
        request: {path: /b}
      - request: {path: /c}
`, nil)
		tr := &routeTransport{route: func(r seenReq) (int, string, http.Header, time.Duration) { return 200, "{}", nil, time.Millisecond }}
		e, _ := runPlan(t, p, tr)
		if got := strings.Join(paths(tr), ","); got != "/a,/a" {
			t.Errorf("requests %s, want /a per iteration only", got)
		}
		if f := e.Failures(); len(f) != 1 || !strings.Contains(f[0].Error, "when:") || f[0].Count != 2 {
			t.Errorf("failures %+v", f)
		}
	})
}

// TestChoose: one of the steps runs per pick, in proportion to the
// weights; the choose is a sample spanning the chosen step.
func TestChoose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := parsePlan(t, `
scenarios:
  s:
    executor: {closed: {vus: 4, iterations: 200}}
    steps:
      - name: pick
        choose:
          - {name: browse, weight: 3, request: {path: /browse}}
          - {name: buy, request: {path: /buy}}
          - {name: never, weight: 0.0001, think: 1ms}
`, nil)
		tr := &routeTransport{route: func(r seenReq) (int, string, http.Header, time.Duration) { return 200, "{}", nil, time.Millisecond }}
		e, s := runPlan(t, p, tr)
		if len(e.Failures()) != 0 {
			t.Fatalf("failures %v", e.Failures())
		}
		browse, buy := stepStats(t, s, "pick/browse").Requests, stepStats(t, s, "pick/buy").Requests
		if st := stepStats(t, s, "pick"); st.Requests != 800 || browse+buy > 800 || browse+buy < 795 {
			t.Errorf("pick %d, browse %d, buy %d: want 800 picks, each one step", st.Requests, browse, buy)
		}
		// 3:1 over 800 picks: 600 ± 4 standard deviations (~12).
		if browse < 550 || browse > 650 {
			t.Errorf("browse %d of 800, want about 600 (weight 3 of 4)", browse)
		}
	})
}

// TestRequestOptions: query and form maps are encoded, a request's
// timeout bounds its attempt, expect body checks the JSON, and with
// cookies on a VU sends back what responses set, across iterations.
func TestRequestOptions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := parsePlan(t, `
scenarios:
  s:
    executor: {closed: {vus: 2, iterations: 2}}
    cookies: true
    vars: {q: "a&b c"}
    steps:
      - name: search
        request:
          path: /search?x=1
          query: {q: "{{.q}}", vu: "{{vu}}", "sort by": name}
          expect: {status: [200], body: 'len(items) == 2'}
      - name: login
        request:
          method: POST
          path: /login
          form: {user: "u{{vu}}", pass: "p&=w"}
      - name: slow
        request: {path: /slow, timeout: 50ms, headers: {Cookie: "theme=dark"}}
`, nil)
		tr := &routeTransport{route: func(r seenReq) (int, string, http.Header, time.Duration) {
			switch {
			case strings.Contains(r.URL, "/search"):
				return 200, `{"items":[1,2]}`, nil, time.Millisecond
			case strings.HasSuffix(r.URL, "/login"):
				return 200, "{}", http.Header{"Set-Cookie": {"sid=" + strings.TrimPrefix(strings.Split(r.Body, "&")[0], "user=") + "; Path=/"}}, time.Millisecond
			case strings.HasSuffix(r.URL, "/slow"):
				return 200, "{}", nil, 100 * time.Millisecond
			}
			return 404, "", nil, 0
		}}
		e, s := runPlan(t, p, tr)
		reqs := tr.requests()
		sawCookie := 0
		for _, r := range reqs {
			switch {
			case strings.Contains(r.URL, "/search"):
				if !strings.HasPrefix(r.URL, "http://api.test/search?x=1&q=a%26b+c&vu=") || !strings.HasSuffix(r.URL, "&sort+by=name") {
					t.Errorf("search URL %s", r.URL)
				}
			case strings.HasSuffix(r.URL, "/login"):
				if !strings.HasPrefix(r.Body, "user=u") || !strings.HasSuffix(r.Body, "&pass=p%26%3Dw") || r.Header["Content-Type"] != "application/x-www-form-urlencoded" {
					t.Errorf("login body %q headers %v", r.Body, r.Header)
				}
			}
			c := r.Header["Cookie"]
			if strings.HasSuffix(r.URL, "/slow") {
				// The plan's own Cookie header comes first, then the jar's.
				rest, ok := strings.CutPrefix(c, "theme=dark")
				if !ok {
					t.Errorf("/slow lost its own cookie: %q", r.Header["Cookie"])
				}
				c = strings.TrimPrefix(rest, "; ")
			}
			if c != "" {
				sawCookie++
				vu := strings.TrimPrefix(c, "sid=u")
				if !strings.HasPrefix(c, "sid=u") || (vu != "1" && vu != "2") {
					t.Errorf("cookie %q", c)
				}
			}
		}
		// Each VU: slow (1st iteration), then search, login, slow in the
		// 2nd carry its cookie.
		if sawCookie != 8 {
			t.Errorf("%d requests carried a cookie, want 8", sawCookie)
		}
		if st := stepStats(t, s, "slow"); st.Requests != 4 || st.Succeeded != 0 || st.Errors["timeout"] != 4 {
			t.Errorf("slow: %+v, want 4 timeouts", st)
		}
		if st := stepStats(t, s, "search"); st.Succeeded != 4 {
			t.Errorf("search: %d ok", st.Succeeded)
		}
		_ = e
		_ = metrics.OK
	})
}

// TestExpectBodyFails: a response whose body does not meet expect body
// fails the step, with the body as the example.
func TestExpectBodyFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := parsePlan(t, `
scenarios:
  s:
    executor: {closed: {vus: 1, iterations: 3}}
    steps:
      - name: get
        request: {path: /x, expect: {body: 'state == "READY"'}}
      - request: {path: /after}
  text:
    executor: {closed: {vus: 1, iterations: 2}}
    steps:
      - name: page
        request: {path: /page, expect: {body: '$text contains "PENDING" && not ($text matches "^<html")'}}
`, nil)
		tr := &routeTransport{route: func(r seenReq) (int, string, http.Header, time.Duration) {
			return 200, `{"state":"PENDING"}`, nil, time.Millisecond
		}}
		e, s := runPlan(t, p, tr)
		if st := stepStats(t, s, "get"); st.Requests != 3 || st.Succeeded != 0 {
			t.Errorf("get: %d requests %d ok, want 3 failed", st.Requests, st.Succeeded)
		}
		if f := e.Failures(); len(f) != 1 || !strings.Contains(f[0].Error, `expect body state == "READY" did not hold`) || !strings.Contains(f[0].Example, "PENDING") {
			t.Errorf("failures %+v", f)
		}
		if st := stepStats(t, s, "page"); st.Succeeded != 2 {
			t.Errorf("page: %d ok, want 2: $text is the body as text", st.Succeeded)
		}
		var xs []string
		for _, p := range paths(tr) {
			if p == "/x" || p == "/after" {
				xs = append(xs, p)
			}
		}
		if got := strings.Join(xs, ","); got != "/x,/x,/x" {
			t.Errorf("requests %s: a failed expect ends the iteration", got)
		}
	})
}

// TestPlannedCountsPasses: the progress estimate counts a repeat's steps
// once per pass and a choose's as their mean.
func TestPlannedCountsPasses(t *testing.T) {
	p := parsePlan(t, `
scenarios:
  s:
    executor: {closed: {vus: 2, iterations: 10}}
    steps:
      - request: {path: /a}
      - name: r
        repeat: {count: 3, steps: [{request: {path: /b}}]}
      - name: c
        choose: [{request: {path: /c}}, {group: [{request: {path: /d}}, {request: {path: /e}}]}]
`, nil)
	e, err := New(p, WithTransport(&routeTransport{}))
	if err != nil {
		t.Fatal(err)
	}
	// Per iteration: a, r + 3 b, c + (1 + 3)/2 = 8.
	if n, _ := e.Planned(); n != 2*10*8 {
		t.Errorf("planned %d requests, want 160", n)
	}
}

// TestRepeatEach: an each repeat runs once per element of the list, with
// as set to it; a value that is not a list is one element.
func TestRepeatEach(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := parsePlan(t, `
scenarios:
  s:
    executor: {closed: {vus: 1, iterations: 2}}
    steps:
      - name: list
        request: {path: /list}
        extract: {ids: "items.#.id", first: items.0.id}
      - name: each
        repeat:
          each: ids
          as: id
          max: 3
          steps:
            - request: {path: "/items/{{.id}}"}
      - name: one
        repeat: {each: first, as: x, steps: [{request: {path: "/one/{{.x}}"}}]}
`, nil)
		tr := &routeTransport{route: func(r seenReq) (int, string, http.Header, time.Duration) {
			return 200, `{"items":[{"id":"a"},{"id":7},{"id":true},{"id":"d"}]}`, nil, time.Millisecond
		}}
		e, s := runPlan(t, p, tr)
		if len(e.Failures()) != 0 {
			t.Fatalf("failures %v", e.Failures())
		}
		iter := "/list,/items/a,/items/7,/items/true,/one/a"
		if got := strings.Join(paths(tr), ","); got != iter+","+iter {
			t.Errorf("requests %s, want the first 3 ids (max) then the one value, per iteration", got)
		}
		if st := stepStats(t, s, "each"); st.Requests != 2 {
			t.Errorf("each: %d samples, want one per iteration", st.Requests)
		}
	})
}

// TestWhenRand: when: $rand < 0.25 runs a step about a quarter of the
// time (a JMeter Throughput Controller's percentage).
func TestWhenRand(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := parsePlan(t, `
scenarios:
  s:
    executor: {closed: {vus: 4, iterations: 200}}
    steps:
      - request: {path: /always}
      - name: quarter
        when: $rand < 0.25
        request: {path: /quarter}
`, nil)
		tr := &routeTransport{route: func(r seenReq) (int, string, http.Header, time.Duration) { return 200, "{}", nil, time.Millisecond }}
		_, s := runPlan(t, p, tr)
		// 800 draws at 1/4: 200 ± 4 standard deviations (~49).
		if n := stepStats(t, s, "quarter").Requests; n < 150 || n > 250 {
			t.Errorf("quarter ran %d times in 800 iterations, want about 200", n)
		}
	})
}
