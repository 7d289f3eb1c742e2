package engine

import (
	"context"
	"time"

	"github.com/floodgate-dev/floodgate/internal/client"
	"github.com/floodgate-dev/floodgate/internal/metrics"
)

// vu is one virtual user: it runs iterations one at a time and owns the
// request and response buffers it reuses across them.
type vu struct {
	e     *Engine
	sr    *scenarioRun
	shard int
	reqs  []client.Request
	resp  client.Response
	att   metrics.Attempt
	log   metrics.Logical
}

func (e *Engine) newVU(sr *scenarioRun) *vu {
	v := &vu{e: e, sr: sr, shard: e.rec.Shard(), reqs: make([]client.Request, len(sr.steps))}
	for i, st := range sr.steps {
		r := st.step.Request
		v.reqs[i] = client.Request{
			Method:  r.Method,
			URL:     st.url,
			Header:  append([]client.HeaderField(nil), st.header...),
			Body:    r.Body,
			Timeout: e.plan.Defaults.Timeout,
		}
	}
	return v
}

// iterate runs the scenario's steps once. due is when the iteration was
// scheduled; the first step's latency counts from it.
func (v *vu) iterate(ctx context.Context, due time.Time) {
	for i, st := range v.sr.steps {
		if ctx.Err() != nil {
			return
		}
		if i > 0 {
			due = time.Now()
			v.e.rec.Offered(v.shard, st.idx, due)
		}
		v.step(ctx, i, st, due)
	}
}

func (v *vu) step(ctx context.Context, i int, st *stepRun, due time.Time) {
	rec := v.e.rec
	rec.Begin(v.shard, st.idx, time.Now())
	req := &v.reqs[i]
	call := time.Now()
	err := v.e.transport.RoundTrip(ctx, req, &v.resp)
	end := time.Now()
	// The transport reports latency from when it actually sent; time
	// before that (waiting for a connection) is the generator's, and
	// only latency from due counts it.
	start := end.Add(-v.resp.Latency)
	if start.Before(call) || v.resp.Latency <= 0 {
		start = call
	}
	a := &v.att
	*a = metrics.Attempt{Step: st.idx, Start: start, Latency: v.resp.Latency, Status: v.resp.Status,
		BytesIn: v.resp.BytesIn, BytesOut: v.resp.BytesOut}
	if err != nil {
		a.Class = classOf(err)
	} else if !expected(st.expect, v.resp.Status) {
		a.Class = metrics.Status
	}
	rec.RecordAttempt(v.shard, a)
	l := &v.log
	*l = metrics.Logical{Step: st.idx, Due: due, Start: start, End: end, Status: a.Status, Class: a.Class, Attempts: 1}
	rec.RecordLogical(v.shard, l)
}

func classOf(err error) metrics.Class {
	if ce, ok := err.(*client.ClassError); ok {
		return ce.Class
	}
	return metrics.Other
}

// expected reports whether status counts as success: one of expect, or
// any 2xx/3xx when expect is empty.
func expected(expect []int, status int) bool {
	if len(expect) == 0 {
		return status >= 200 && status < 400
	}
	for _, s := range expect {
		if s == status {
			return true
		}
	}
	return false
}
