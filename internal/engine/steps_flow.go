package engine

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/floodgate-dev/floodgate/internal/client"
	"github.com/floodgate-dev/floodgate/internal/metrics"
	"github.com/floodgate-dev/floodgate/internal/scenario"
)

// stateEnv is what when and while conditions see: the scenario's
// variables by name (and as $vars), the last response's $status, the
// $iteration, the innermost repeat's pass, $index (from 0), and $rand, a
// uniform draw from [0, 1).
func (v *vu) stateEnv() map[string]any {
	env := v.vars.Map()
	vars := make(map[string]any, len(env))
	for k, x := range env {
		vars[k] = x
	}
	env["$vars"] = vars
	env["$status"] = v.last.status
	env["$iteration"] = v.env.Iteration
	env["$index"] = v.pass
	env["$rand"] = v.env.Rand.Float64()
	return env
}

// gate reports whether a step with when or once runs. A when that can't
// be evaluated fails the step, and with it the iteration.
func (v *vu) gate(st *stepRun) (bool, error) {
	if st.step.Once && v.onceDone[st.serial] {
		return false, nil
	}
	if c := st.step.When; c != nil {
		ok, err := c.Eval(v.stateEnv())
		if err != nil {
			err = failf(metrics.Other, "", "when: %v", err)
			v.fail(st, err)
			return false, err
		}
		if !ok {
			return false, nil
		}
	}
	if st.step.Once {
		v.onceDone[st.serial] = true
	}
	return true, nil
}

type keptVar struct {
	slot int
	val  scenario.Value
}

// keep records the values of slots (what a once step extracted) for the
// VU's later iterations.
func (v *vu) keep(slots []int) {
	for _, slot := range slots {
		val := v.vars.Get(slot)
		if !val.IsSet() {
			continue
		}
		i := slices.IndexFunc(v.kept, func(k keptVar) bool { return k.slot == slot })
		if i < 0 {
			v.kept = append(v.kept, keptVar{slot, val})
		} else {
			v.kept[i].val = val
		}
	}
}

// span records a step whose logical sample spans the steps it runs
// (group, repeat, choose): it fails when one of them does, which records
// its own failure.
func (v *vu) span(ctx context.Context, st *stepRun, due time.Time, run func() error) error {
	start := time.Now()
	v.e.rec.Begin(v.shard, st.idx, start)
	v.last.status, v.last.class = 0, metrics.OK
	err := run()
	l := &v.log
	*l = metrics.Logical{Step: st.idx, Due: due, Start: start, End: time.Now(), Status: v.last.status, Class: v.last.class}
	if err != nil && l.Class == metrics.OK {
		l.Class = metrics.Other
	}
	v.e.rec.RecordLogical(v.shard, l)
	return err
}

// repeat runs its steps count times, while its condition holds, or for
// each element of a list (up to max passes).
func (v *vu) repeat(ctx context.Context, st *stepRun, due time.Time) error {
	r := st.step.Repeat
	return v.span(ctx, st, due, func() error {
		outer := v.pass
		defer func() { v.pass = outer }()
		n := r.Count
		var elems []scenario.Value
		switch {
		case r.While != nil:
			n = r.Max
		case r.Each != "":
			elems = scenario.Elements(v.vars.Get(r.EachSlot))
			n = min(len(elems), r.Max)
		}
		for i := 0; i < n; i++ {
			v.pass = i
			if elems != nil {
				v.vars.Set(r.AsSlot, elems[i])
			}
			if r.While != nil {
				ok, err := r.While.Eval(v.stateEnv())
				if err != nil {
					return failf(metrics.Other, "", "while: %v", err)
				}
				if !ok {
					return nil
				}
			}
			if err := v.runSteps(ctx, st.children); err != nil {
				return err
			}
		}
		return nil
	})
}

// choose runs one of its steps, picked by weight.
func (v *vu) choose(ctx context.Context, st *stepRun, due time.Time) error {
	return v.span(ctx, st, due, func() error {
		w := st.cumWeights
		x := v.env.Rand.Float64() * w[len(w)-1]
		i := 0
		for i < len(w)-1 && x >= w[i] {
			i++
		}
		return v.runSteps(ctx, st.children[i:i+1])
	})
}

// expectBody checks a request step's expect body over the response.
func (v *vu) expectBody(c *scenario.Condition, status int) error {
	ok, err := c.Eval(v.condEnv(v.resp.Body, status, c))
	if err != nil {
		return failf(metrics.Other, scenario.Snippet(v.resp.Body, 200), "expect body: %v", err)
	}
	if !ok {
		return failf(metrics.Other, scenario.Snippet(v.resp.Body, 200), "expect body %s did not hold", c)
	}
	return nil
}

// cookieJar is a VU's cookies: net/http/cookiejar, fed from the
// responses' Set-Cookie headers and read into each request's Cookie
// header.
type cookieJar struct {
	jar  *cookiejar.Jar
	last string // the URL parsed last, and its parse
	u    *url.URL
}

func newCookieJar() *cookieJar {
	j, _ := cookiejar.New(nil) // never fails without options
	return &cookieJar{jar: j}
}

func (c *cookieJar) parse(raw string) *url.URL {
	if raw != c.last || c.u == nil {
		u, err := url.Parse(raw)
		if err != nil {
			return nil
		}
		c.last, c.u = raw, u
	}
	return c.u
}

// attach sets req's Cookie header to the plan's own Cookie header (base,
// "" for none) followed by the jar's cookies for its URL, or removes it
// when there are neither.
func (c *cookieJar) attach(req *client.Request, base string) {
	u := c.parse(req.URL)
	if u == nil {
		return
	}
	cs := c.jar.Cookies(u)
	hs := req.Header[:0]
	for _, h := range req.Header {
		if !strings.EqualFold(h.Name, "Cookie") {
			hs = append(hs, h)
		}
	}
	req.Header = hs
	if len(cs) == 0 && base == "" {
		return
	}
	b := []byte(base)
	for _, ck := range cs {
		if len(b) > 0 {
			b = append(b, "; "...)
		}
		b = append(b, ck.Name...)
		b = append(b, '=')
		b = append(b, ck.Value...)
	}
	req.Header = append(req.Header, client.HeaderField{Name: "Cookie", Value: string(b)})
}

// baseCookie is the plan's own Cookie header for the request of st that
// req is ("" for none, and for notification requests).
func baseCookie(st *stepRun, req *client.Request, reqs []client.Request) string {
	rr := st.req
	if rr == nil || req != &reqs[rr.slot] {
		return ""
	}
	for _, h := range rr.header {
		if strings.EqualFold(h.Name, "Cookie") {
			return h.Value
		}
	}
	return ""
}

// store keeps the cookies a response to rawURL sets.
func (c *cookieJar) store(rawURL string, resp *client.Response) {
	vals := resp.Values("Set-Cookie")
	if len(vals) == 0 {
		return
	}
	u := c.parse(rawURL)
	if u == nil {
		return
	}
	h := http.Header{"Set-Cookie": vals}
	c.jar.SetCookies(u, (&http.Response{Header: h}).Cookies())
}
