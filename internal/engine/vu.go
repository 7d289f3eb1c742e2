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

	// Per-request state for onAttempt, which is made once per VU so that
	// recording an attempt allocates nothing.
	cur       *stepRun
	firstSend time.Time
	onAttempt func(client.Attempt)
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
	v.onAttempt = v.recordAttempt
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

func (v *vu) recordAttempt(a client.Attempt) {
	now := time.Now()
	if a.Number == 1 {
		// The transport reports latency from when it actually sent; time
		// before that (waiting for a connection) is the generator's, and
		// only latency from due counts it.
		v.firstSend = now.Add(-a.Latency)
		if v.firstSend.Before(a.Start) || a.Latency <= 0 {
			v.firstSend = a.Start
		}
	}
	at := &v.att
	*at = metrics.Attempt{Step: v.cur.idx, Start: a.Start, Latency: a.Latency, Status: a.Status, Class: a.Class,
		BytesIn: a.BytesIn, BytesOut: a.BytesOut, Retry: a.Number > 1}
	if a.Err == nil {
		at.Class = classify(v.cur.expect, a.Status)
	}
	if rl := &a.RateLimit; rl.HasRemaining {
		at.HasRateLimit, at.Remaining, at.Reset = true, rl.Remaining, rl.Reset
	}
	v.e.rec.RecordAttempt(v.shard, at)
}

func (v *vu) step(ctx context.Context, i int, st *stepRun, due time.Time) {
	rec := v.e.rec
	rec.Begin(v.shard, st.idx, time.Now())
	v.cur, v.firstSend = st, time.Time{}
	out := v.e.client.Do(ctx, &v.reqs[i], &v.resp, st.policy, v.sr.auth, v.onAttempt)
	end := out.Start.Add(out.Total)
	l := &v.log
	*l = metrics.Logical{Step: st.idx, Due: due, Start: v.firstSend, End: end, Status: out.Status, Class: out.Class,
		Attempts: out.Attempts, Lost: out.Lost,
		RetryAfterWait: out.RetryAfterWait, BackoffWait: out.BackoffWait, GateWait: out.GateWait}
	if l.Start.IsZero() { // nothing was sent (gate or auth failed, or ctx ended)
		l.Start = end
	}
	if out.Err == nil {
		l.Class = classify(st.expect, out.Status)
	} else if out.Lost || out.Status == 0 {
		l.Err = out.Err.Error()
	}
	if l.Class == metrics.OK && out.Status == 0 {
		l.Class = metrics.Other
	}
	rec.RecordLogical(v.shard, l)
}

func classify(expect []int, status int) metrics.Class {
	if expected(expect, status) {
		return metrics.OK
	}
	return metrics.Status
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
