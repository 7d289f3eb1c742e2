package engine

import (
	"cmp"
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/floodgate-dev/floodgate/internal/client"
	"github.com/floodgate-dev/floodgate/internal/metrics"
	"github.com/floodgate-dev/floodgate/internal/scenario"
)

// vu is one virtual user: it runs iterations one at a time and owns the
// request and response buffers, variables and notification channel it
// reuses across them.
type vu struct {
	e       *Engine
	sr      *scenarioRun
	shard   int
	reqs    []client.Request // one per requestRun slot
	bodies  [][]byte         // rendered bodies, by slot
	scratch []byte
	resp    client.Response
	out     client.Outcome
	att     metrics.Attempt
	log     metrics.Logical

	vars *scenario.Vars
	env  scenario.Env
	iter int
	ch   *notifyChannel
	// onceDone[serial] is set once the VU has run that once step; jar
	// holds its cookies when the scenario keeps them.
	onceDone []bool
	jar      *cookieJar
	// kept holds what once steps extracted: it stays set in the VU's
	// later iterations, as a JMeter thread's variables do.
	kept []keptVar
	pass int // the innermost repeat's pass, for $index

	// Per-iteration state.
	flight context.Context // the VU's in-flight context (outlives steps)
	due    time.Time
	now    time.Time // when the iteration began
	// stepStart is when the current step began.
	stepStart time.Time
	offered   bool // the executor's offer has been used by the first step
	thought   bool // a think step ran before the first recorded step
	last      struct {
		status int
		class  metrics.Class
	}

	// Per-request state for onAttempt, which is made once per VU so that
	// recording an attempt allocates nothing.
	curIdx    int
	curExpect []int
	firstSend time.Time
	onAttempt func(client.Attempt)
	// holdLast: a request step's last attempt waits in att for the
	// step's logical sample, and both are recorded at once (one lock for
	// the two); held says one waits.
	holdLast, held bool
}

func (e *Engine) newVU(sr *scenarioRun) *vu {
	v := &vu{e: e, sr: sr, shard: e.rec.Shard(), reqs: make([]client.Request, sr.nreqs), bodies: make([][]byte, sr.nreqs)}
	var init func(steps []*stepRun)
	init = func(steps []*stepRun) {
		for _, st := range steps {
			if rr := st.req; rr != nil {
				v.reqs[rr.slot] = client.Request{
					Method:     rr.method,
					URL:        rr.url,
					Header:     append([]client.HeaderField(nil), rr.header...),
					Body:       rr.body,
					Timeout:    cmp.Or(rr.timeout, e.plan.Defaults.Timeout),
					ShareConns: sr.sc.Executor.Closed == nil,
				}
			}
			init(st.children)
		}
	}
	init(sr.steps)
	n := sr.flow.vus.Add(1)
	seed := e.cfg.seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	v.env = scenario.Env{VU: int(n), Rand: rand.New(rand.NewPCG(seed, uint64(n)))}
	v.vars = scenario.NewVars(sr.sc.Scope)
	v.env.Vars = v.vars
	v.onAttempt = v.recordAttempt
	if sr.nonce > 0 {
		v.onceDone = make([]bool, sr.nonce)
	}
	if sr.sc.Cookies {
		v.jar = newCookieJar()
	}
	return v
}

// iterate runs the scenario's steps once. due is when the iteration was
// scheduled; the first step's latency counts from it. now is when it
// began (the caller has read the clock). A step that fails ends the
// iteration: later steps would act on a flow that already broke.
func (v *vu) iterate(ctx context.Context, due, now time.Time) {
	fl := v.sr.flow
	v.flight, v.due, v.now, v.offered, v.thought = ctx, due, now, false, false
	v.env.Iteration = v.iter
	v.iter++
	if fl.perIteration && !v.startIteration() {
		return
	}
	v.runSteps(ctx, v.sr.steps)
}

// startIteration binds the iteration's data and vars; false skips it.
//
//go:noinline
func (v *vu) startIteration() bool {
	fl := v.sr.flow
	v.vars.Reset()
	for _, k := range v.kept {
		v.vars.Set(k.slot, k.val)
	}
	if err := v.setUp(); err != nil {
		if errors.Is(err, scenario.ErrExhausted) {
			fl.stopStarting()
			return false
		}
		fl.fails.Add(v.e.rec.Steps()[v.sr.firstStep], "iteration set-up: "+err.Error(), "", time.Now())
		return false
	}
	return true
}

// setUp binds the iteration's data row and renders its vars.
func (v *vu) setUp() error {
	fl := v.sr.flow
	if fl.feeder != nil {
		row, err := fl.feeder.Next(v.env.Rand)
		if err != nil {
			return err
		}
		for i, slot := range fl.sc.Data.Slots {
			v.vars.Set(slot, scenario.StringValue(row[i]))
		}
	}
	for _, vr := range fl.sc.Vars {
		val, err := vr.Template.Value(&v.env)
		if err != nil {
			return err
		}
		v.vars.Set(vr.Slot, val)
	}
	return nil
}

// runSteps runs steps in order until one fails; it returns that failure.
func (v *vu) runSteps(ctx context.Context, steps []*stepRun) error {
	for _, st := range steps {
		if err := ctx.Err(); err != nil {
			return err
		}
		if st.gated {
			run, err := v.gate(st)
			if err != nil {
				return err
			}
			if !run {
				continue
			}
		}
		var err error
		switch st.kind {
		case kindThink:
			err = v.think(ctx, st)
		case kindRequest:
			err = v.request(ctx, st, v.begin(st))
		case kindPoll:
			err = v.poll(ctx, st, v.begin(st))
		case kindWait:
			err = v.waitEvent(ctx, st, v.begin(st))
		case kindGroup:
			err = v.group(ctx, st, v.begin(st))
		case kindRepeat:
			err = v.repeat(ctx, st, v.begin(st))
		case kindChoose:
			err = v.choose(ctx, st, v.begin(st))
		}
		if len(st.keep) > 0 {
			v.keep(st.keep)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// begin returns the due time of a recorded step, and counts it offered.
// The iteration's first recorded step was offered by the executor, and
// is due when the iteration was (unless a think came first); the others
// are due when they start.
func (v *vu) begin(st *stepRun) time.Time {
	if !v.offered {
		v.offered = true
		if st.idx != v.sr.firstStep {
			// The executor offered the first step, which a when or once
			// skipped: this one is offered on its own.
			v.e.rec.Offered(v.shard, st.idx, v.now)
		}
		if !v.thought {
			v.stepStart = v.now // the iteration's first step: the clock was just read
			return v.due
		}
		v.stepStart = time.Now()
		return v.stepStart
	}
	now := time.Now()
	v.stepStart = now
	v.e.rec.Offered(v.shard, st.idx, now)
	return now
}

// fail records why step st failed, unless the run is being stopped.
func (v *vu) fail(st *stepRun, err error) {
	if v.flight.Err() != nil {
		return
	}
	msg, example := err.Error(), ""
	var se *stepError
	if errors.As(err, &se) {
		msg, example = se.msg, se.example
	}
	v.sr.flow.fails.Add(st.key, msg, example, time.Now())
}

func (v *vu) recordAttempt(a client.Attempt) {
	if a.Number == 1 && v.firstSend.IsZero() {
		// When the request was sent: time before that (waiting for a
		// connection) is the generator's, and only latency from due
		// counts it.
		v.firstSend = a.Start
	}
	v.e.noteAttempt(a.Class, a.Start, a.Err)
	at := &v.att
	*at = metrics.Attempt{Step: v.curIdx, Start: a.Start, Latency: a.Latency, Status: a.Status, Class: a.Class,
		BytesIn: a.BytesIn, BytesOut: a.BytesOut, Retry: a.Number > 1}
	if a.Err == nil {
		at.Class = classify(v.curExpect, a.Status)
		if a.Status >= 400 {
			// The platform's error code tells a missing permission from a
			// cap answered 403, and a spent window from other 429s.
			at.Code = metrics.ParseErrCode(v.resp.Body)
			at.RetryAfter = a.RateLimit.HasRetryAfter
		}
	}
	if rl := &a.RateLimit; rl.HasRemaining {
		at.HasRateLimit, at.Remaining, at.Reset = true, rl.Remaining, rl.Reset
		if rl.HasLimit {
			at.Limit = rl.Limit
		}
	}
	if a.Final && v.holdLast {
		v.held = true
		return
	}
	v.e.rec.RecordAttempt(v.shard, at)
}

// prepare renders rr's templated parts into the VU's request for it.
// A request without templates is used as it is: nothing is rendered.
func (v *vu) prepare(rr *requestRun) (*client.Request, error) {
	req := &v.reqs[rr.slot]
	var err error
	if rr.urlT != nil {
		v.scratch = append(v.scratch[:0], rr.url...)
		if v.scratch, err = rr.urlT.Append(v.scratch, &v.env); err != nil {
			return nil, failf(metrics.Other, "", "path: %v", err)
		}
		req.URL = string(v.scratch)
	}
	for _, ht := range rr.headerT {
		v.scratch, err = ht.t.Append(v.scratch[:0], &v.env)
		if err != nil {
			return nil, failf(metrics.Other, "", "header %s: %v", rr.header[ht.i].Name, err)
		}
		for _, c := range v.scratch {
			if c == '\r' || c == '\n' || c == 0 {
				return nil, failf(metrics.Other, "", "header %s: the rendered value holds a line break", rr.header[ht.i].Name)
			}
		}
		req.Header[ht.i].Value = string(v.scratch)
	}
	if rr.bodyT != nil {
		// The transport does not keep the body past the attempt, so the
		// buffer is reused from one request to the next.
		if v.bodies[rr.slot], err = rr.bodyT.Append(v.bodies[rr.slot][:0], &v.env); err != nil {
			return nil, failf(metrics.Other, "", "body: %v", err)
		}
		req.Body = v.bodies[rr.slot]
	}
	return req, nil
}

// do sends one logical request as part of step st (its attempts are
// recorded under st) and leaves the response in v.resp.
//
// The outcome is the VU's own, valid until the next do: kept out of the
// callers' frames, which are on the VU's stack while it waits for the
// response (see client.DoInto).
//
// start is when the request began, when the caller knows (zero: Do reads
// the clock).
func (v *vu) do(ctx context.Context, st *stepRun, req *client.Request, expect []int, start time.Time) *client.Outcome {
	v.curIdx, v.curExpect = st.idx, expect
	v.out.Start = start
	if v.jar != nil {
		v.jar.attach(req, baseCookie(st, req, v.reqs))
	}
	v.e.client.DoInto(ctx, req, &v.resp, st.policy, v.sr.auth, v.onAttempt, &v.out)
	if v.jar != nil && v.out.Status != 0 {
		v.jar.store(req.URL, &v.resp)
	}
	v.last.status = v.out.Status
	if v.out.Attempts == 0 && v.out.Err != nil {
		v.e.unsent(v.sr, &v.out)
	}
	return &v.out
}

// outcomeErr turns an outcome into the step's failure, or nil.
func (v *vu) outcomeErr(out *client.Outcome, expect []int, what string) error {
	switch {
	case out.Err != nil:
		return &stepError{msg: what + out.Err.Error(), class: out.Class, lost: out.Lost}
	case !expected(expect, out.Status):
		return failf(metrics.Status, scenario.Snippet(v.resp.Body, 200), "%sstatus %d, want %s", what, out.Status, want(expect))
	}
	return nil
}

// logical starts the step's logical sample from an outcome.
func (v *vu) logical(st *stepRun, due time.Time, out *client.Outcome, expect []int) *metrics.Logical {
	end := out.Start.Add(out.Total)
	l := &v.log
	*l = metrics.Logical{Step: st.idx, Due: due, Start: v.firstSend, End: end, Status: out.Status, Class: out.Class,
		Attempts: out.Attempts, Lost: out.Lost,
		RetryAfterWait: out.RetryAfterWait, BackoffWait: out.BackoffWait, GateWait: out.GateWait}
	if l.Start.IsZero() { // nothing was sent (gate or auth failed, or ctx ended)
		l.Start = end
	}
	if out.Err == nil {
		l.Class = classify(expect, out.Status)
	} else if out.Lost || out.Status == 0 {
		l.Err = out.Err.Error()
	}
	if l.Class == metrics.OK && out.Status == 0 {
		l.Class = metrics.Other
	}
	return l
}

// finish records the step's logical sample with err's class (err nil:
// as it is) and its failure.
func (v *vu) finish(st *stepRun, l *metrics.Logical, err error) error {
	if err != nil {
		var se *stepError
		if errors.As(err, &se) {
			if se.class != metrics.OK {
				l.Class = se.class
			}
			l.Lost = l.Lost || se.lost
		}
		if l.Class == metrics.OK {
			l.Class = metrics.Other
		}
		if l.Lost && l.Err == "" {
			l.Err = err.Error()
		}
	}
	v.last.class = l.Class
	if v.held {
		v.held = false
		v.e.rec.RecordLast(v.shard, &v.att, l)
	} else {
		v.e.rec.RecordLogical(v.shard, l)
	}
	if err != nil {
		v.fail(st, err)
	}
	return err
}

// request runs a request step: send, check the status, extract. Its
// frame is on the VU's stack while the response is awaited, so the work
// before and after the send is in functions of their own.
func (v *vu) request(ctx context.Context, st *stepRun, due time.Time) error {
	v.e.rec.Begin(v.shard, st.idx, v.stepStart)
	v.firstSend = time.Time{}
	req, err := v.prepare(st.req)
	if err != nil {
		return v.unsent(st, due, err)
	}
	v.holdLast = true
	out := v.do(ctx, st, req, st.req.expect, v.stepStart)
	v.holdLast = false
	return v.requestDone(st, due, out)
}

// unsent records a request step whose request could not be built.
//
//go:noinline
func (v *vu) unsent(st *stepRun, due time.Time, err error) error {
	now := time.Now()
	return v.finish(st, &metrics.Logical{Step: st.idx, Due: due, Start: now, End: now, Class: metrics.Other}, err)
}

// requestDone checks a request step's outcome, extracts, and records it.
//
//go:noinline
func (v *vu) requestDone(st *stepRun, due time.Time, out *client.Outcome) error {
	l := v.logical(st, due, out, st.req.expect)
	err := v.outcomeErr(out, st.req.expect, "")
	if err == nil && st.step.Request.ExpectBody != nil {
		err = v.expectBody(st.step.Request.ExpectBody, out.Status)
	}
	if err == nil {
		err = v.extract(st, v.resp.Body, v.resp.Header)
	}
	return v.finish(st, l, err)
}

// extract sets the step's variables from a response or event.
func (v *vu) extract(st *stepRun, body []byte, header func(string) string) error {
	for _, x := range st.step.Extract {
		val, err := x.Extract(body, header)
		if err != nil {
			msg := err.Error()
			example := ""
			var xe *scenario.ExtractError
			if errors.As(err, &xe) {
				// The reason holds the body; keep it out of the message so
				// that equal failures count together.
				msg = "extract " + xe.Name + " (" + xe.Spec + "): not found"
				if _, isHeader := x.Header(); isHeader {
					msg = "extract " + xe.Name + " (" + xe.Spec + "): no such header"
				}
				example = xe.Reason
			}
			return failf(metrics.Other, example, "%s", msg)
		}
		v.vars.Set(x.Slot, val)
	}
	return nil
}

// condEnv returns the environment a condition sees for a document.
func (v *vu) condEnv(doc []byte, status int, conds ...*scenario.Condition) map[string]any {
	env := scenario.DocumentEnv(doc)
	if status != 0 {
		env["$status"] = status
	}
	for _, c := range conds {
		if c != nil && c.UsesVars() {
			env["$vars"] = v.vars.Map()
			break
		}
	}
	for _, c := range conds {
		if c != nil && c.UsesText() {
			env["$text"] = string(doc)
			break
		}
	}
	return env
}

// poll repeats the step's request every interval until its until
// condition holds. Its logical sample runs from the first poll's send to
// the response that met the condition; every poll is an attempt.
func (v *vu) poll(ctx context.Context, st *stepRun, due time.Time) error {
	p := st.step.Poll
	rec := v.e.rec
	start := time.Now()
	rec.Begin(v.shard, st.idx, start)
	v.firstSend = time.Time{}
	deadline := start.Add(p.Timeout)
	pctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	l := &metrics.Logical{Step: st.idx, Due: due, Start: start}
	var polls int
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	var err error
	for {
		// Poll n is due at start + n×every; a slow response shortens the
		// next wait rather than pushing the schedule back.
		if wait := time.Until(start.Add(time.Duration(polls) * p.Every)); wait > 0 {
			if timer == nil {
				timer = time.NewTimer(wait)
			} else {
				timer.Reset(wait)
			}
			select {
			case <-pctx.Done():
			case <-timer.C:
			}
		}
		if pctx.Err() != nil {
			err = v.pollTimeout(ctx, p.Timeout, polls)
			break
		}
		req, perr := v.prepare(st.req)
		if perr != nil {
			err = perr
			break
		}
		out := v.do(pctx, st, req, st.req.expect, time.Time{})
		polls++
		l.Status, l.Class, l.Attempts = out.Status, out.Class, polls
		l.RetryAfterWait += out.RetryAfterWait
		l.BackoffWait += out.BackoffWait
		l.GateWait += out.GateWait
		if out.Err != nil && pctx.Err() != nil && ctx.Err() == nil {
			err = v.pollTimeout(ctx, p.Timeout, polls)
			break
		}
		if err = v.outcomeErr(out, st.req.expect, "poll "+strconv.Itoa(polls)+": "); err != nil {
			if out.Lost {
				l.Lost, l.Err = true, out.Err.Error()
			}
			break
		}
		l.Class = metrics.OK
		env := v.condEnv(v.resp.Body, out.Status, p.Until, p.FailIf)
		if p.FailIf != nil {
			bad, cerr := p.FailIf.Eval(env)
			if cerr != nil {
				err = failf(metrics.Other, scenario.Snippet(v.resp.Body, 200), "fail_if: %v", cerr)
				break
			}
			if bad {
				err = failf(metrics.Other, scenario.Snippet(v.resp.Body, 200), "fail_if %s held after %d poll(s)", p.FailIf, polls)
				break
			}
		}
		ok, cerr := p.Until.Eval(env)
		if cerr != nil {
			err = failf(metrics.Other, scenario.Snippet(v.resp.Body, 200), "until: %v", cerr)
			break
		}
		if ok {
			err = v.extract(st, v.resp.Body, v.resp.Header)
			break
		}
	}
	l.End = time.Now()
	if !v.firstSend.IsZero() {
		l.Start = v.firstSend
	}
	if err != nil && polls > 0 && l.Class == metrics.OK {
		l.Class = metrics.Other
	}
	return v.finish(st, l, err)
}

// pollTimeout is the failure of a poll whose timeout passed (or, when
// ctx ended, the interruption).
func (v *vu) pollTimeout(ctx context.Context, timeout time.Duration, polls int) error {
	if ctx.Err() != nil {
		return &stepError{msg: "interrupted: " + ctx.Err().Error(), class: metrics.Timeout}
	}
	example := ""
	if polls > 0 {
		example = "last response " + strconv.Itoa(v.last.status) + ": " + scenario.Snippet(v.resp.Body, 200)
	}
	return &stepError{msg: "until did not hold within " + timeout.String(), example: example, class: metrics.Timeout}
}

// think pauses the iteration.
func (v *vu) think(ctx context.Context, st *stepRun) error {
	t := st.step.Think
	d := t.Min
	if t.Max > t.Min {
		d += time.Duration(v.env.Rand.Int64N(int64(t.Max-t.Min) + 1))
	}
	if !v.offered {
		v.thought = true
	}
	if d <= 0 {
		return nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// group runs a sub-sequence; its logical sample spans its steps.
func (v *vu) group(ctx context.Context, st *stepRun, due time.Time) error {
	return v.span(ctx, st, due, func() error { return v.runSteps(ctx, st.children) })
}

func classify(expect []int, status int) metrics.Class {
	if expected(expect, status) {
		return metrics.OK
	}
	return metrics.Status
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
