package plan_test

import (
	"errors"
	"fmt"

	"github.com/floodgate-dev/floodgate/internal/plan"
)

func ExampleParse() {
	src := []byte(`
target: http://127.0.0.1:8080/
auth:
  bearer:
    token: ${TOKEN}
scenarios:
  smoke:
    executor: {open: {rate: 10/s, duration: 30s}}
    steps:
      - request: {method: post, path: /api/v2/things, json: {name: widget, count: 2}}
      - request: {path: /api/v2/things}
`)
	getenv := func(k string) (string, bool) {
		if k == "TOKEN" {
			return "s3cret", true
		}
		return "", false
	}
	p, err := plan.Parse("smoke.yaml", src, getenv)
	if err != nil {
		fmt.Println(err)
		return
	}
	sc := p.Scenarios[0]
	fmt.Println(p.Name, p.Target, p.Grace, p.Defaults.Timeout)
	fmt.Println(sc.Name, sc.Executor.Kind(), sc.Executor.Open.Rate, sc.Executor.Open.MaxVUs)
	for _, st := range sc.Steps {
		fmt.Printf("%s: %q %v\n", st.Name, st.Request.Body, st.Request.Headers)
	}
	fmt.Println("token:", p.Auth.Bearer.Token)
	// Output:
	// smoke http://127.0.0.1:8080 30s 16s
	// smoke open 10/s 1000
	// POST /api/v2/things: "{\"name\":\"widget\",\"count\":2}" map[Content-Type:application/json]
	// GET /api/v2/things: "" map[]
	// token: [redacted]
}

func ExampleError() {
	src := []byte(`target: http://127.0.0.1:8080
scenarios:
  smoke:
    executor:
      closed: {vu: 10, duration: 1m}
    steps:
      - request: {path: /}
`)
	_, err := plan.Parse("smoke.yaml", src, nil)
	fmt.Println(err)
	var pe *plan.Error
	if errors.As(err, &pe) {
		fmt.Println("first problem at", pe.Pos, "invalid:", errors.Is(err, plan.ErrInvalid))
	}
	// Output:
	// smoke.yaml:5:7: closed executor needs vus, the number of virtual users; add vus: 10
	// smoke.yaml:5:16: unknown key "vu" in closed executor; did you mean "vus"? (allowed: vus, ramp_up, iterations, duration)
	// first problem at 5:7 invalid: true
}

func ExampleParseThreshold() {
	for _, s := range []string{"p95(latency{step=create_job}) < 2s", "rate(status=429) < 1%", "goodput > 3000/m", "lost = 0"} {
		th, err := plan.ParseThreshold(s)
		if err != nil {
			fmt.Printf("%s: %v\n", s, err)
			continue
		}
		fmt.Printf("%s: func %q metric %q match %q step %q: value %s %s\n",
			s, th.Func, th.Metric, th.Match, th.Step, th.Op, th.FormatValue(th.Limit))
	}
	// Output:
	// p95(latency{step=create_job}) < 2s: func "p" metric "latency.from_due" match "" step "create_job": value < 2000 ms
	// rate(status=429) < 1%: func "rate" metric "status" match "429" step "": value < 1%
	// goodput > 3000/m: func "" metric "goodput" match "" step "": value > 50/s
	// lost = 0: col 6: = assigns; compare with ==
}
