package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/floodgate-dev/floodgate/internal/client"
	"github.com/floodgate-dev/floodgate/internal/clientcfg"
	"github.com/floodgate-dev/floodgate/internal/metrics"
	"github.com/floodgate-dev/floodgate/internal/plan"
	"github.com/floodgate-dev/floodgate/internal/scenario"
)

// flowRun is what a scenario's iterations share besides their steps:
// the variables each iteration sets up, the data feeder, the step
// failures, and the means to stop starting iterations when data runs out.
type flowRun struct {
	sc     *plan.Scenario
	feeder *scenario.Feeder
	// perIteration is set when iterations have variables to reset and
	// set up; without it an iteration touches no variable at all.
	perIteration bool
	vus          atomic.Int64 // VUs made so far, for {{vu}}
	fails        *metrics.Failures

	stopMu sync.Mutex
	stop   context.CancelFunc // stops starting iterations; set by Run
	// notify is the requests' base for notification channels.
	channelsURL string
	notifyHdr   []client.HeaderField
	wsClient    *http.Client
}

// stopStarting makes the scenario start no more iterations (its data ran
// out); in-flight ones finish within the plan's grace.
func (f *flowRun) stopStarting() {
	f.stopMu.Lock()
	defer f.stopMu.Unlock()
	if f.stop != nil {
		f.stop()
	}
}

// setStop installs the scenario's stop function for the run.
func (f *flowRun) setStop(stop context.CancelFunc) {
	f.stopMu.Lock()
	f.stop = stop
	f.stopMu.Unlock()
}

type kind uint8

const (
	kindRequest kind = iota
	kindPoll
	kindWait
	kindThink
	kindGroup
	kindRepeat
	kindChoose
)

// stepRun is a step ready to run: its recorder index, resolved retry
// policy and compiled request.
type stepRun struct {
	idx      int // recorder step index; -1 for think, which records nothing
	key      metrics.StepKey
	step     *plan.Step
	kind     kind
	req      *requestRun // request, poll; the trigger of wait_event
	policy   *client.Policy
	children []*stepRun // group, repeat, choose
	// gated: the step has a when or is once; serial numbers the
	// scenario's once steps, for the VU's record of those it ran.
	gated  bool
	serial int
	// cumWeights are a choose's cumulative weights, one per child.
	cumWeights []float64
	// keep lists the slots a once step (and its steps) extract, kept for
	// the VU's later iterations.
	keep []int
}

// requestRun is a request with everything static resolved once: URL,
// merged headers, encoded body. Templated parts are rendered per request
// into the VU's own client.Request (slot).
type requestRun struct {
	slot    int
	method  string
	url     string             // static URL; the prefix when urlT is set
	urlT    *scenario.Template // the path's template, or nil
	header  []client.HeaderField
	headerT []headerTemplate
	body    []byte
	bodyT   *scenario.Template
	expect  []int
	timeout time.Duration // 0: the plan's default
}

type headerTemplate struct {
	i int // index in header
	t *scenario.Template
}

// Failures returns why steps failed so far: scenario by scenario, each
// scenario's in the order they first happened. Safe to call while Run
// runs.
func (e *Engine) Failures() []metrics.StepFailure {
	var out []metrics.StepFailure
	for _, sr := range e.scens {
		out = append(out, sr.flow.fails.List()...)
	}
	return out
}

// recorded estimates the logical samples a whole iteration makes: a
// repeat's steps count once per pass (a while repeat's, once), a
// choose's as their mean, and steps with when or once as if they ran.
func (sr *scenarioRun) recorded() int {
	var walk func([]*stepRun) float64
	walk = func(steps []*stepRun) float64 {
		n := 0.0
		for _, st := range steps {
			if st.idx >= 0 {
				n++
			}
			inner := walk(st.children)
			switch st.kind {
			case kindRepeat:
				if c := st.step.Repeat.Count; c > 0 {
					inner *= float64(c)
				}
			case kindChoose:
				inner /= float64(len(st.children))
			}
			n += inner
		}
		return n
	}
	return int(math.Round(walk(sr.steps)))
}

// newFlow prepares a scenario's shared iteration state.
func (e *Engine) newFlow(p *plan.Plan, sc *plan.Scenario) (*flowRun, error) {
	f := &flowRun{sc: sc, fails: metrics.NewFailures()}
	if d := sc.Data; d != nil {
		f.feeder = scenario.NewFeeder(d.Rows, d.Mode, d.OnExhaust, e.cfg.segment.I, e.cfg.segment.N)
		if f.feeder.Len() == 0 {
			return nil, fmt.Errorf("scenario %q: data %s has no rows for segment %s", sc.Name, d.File, e.cfg.segment)
		}
	}
	f.perIteration = sc.Data != nil || len(sc.Vars) > 0 || (sc.Scope != nil && sc.Scope.Len() > 0)
	u, err := resolve(p.Target, "/api/v2/notifications/channels")
	if err != nil {
		return nil, err
	}
	f.channelsURL = u
	for k, v := range mergeHeaders(p, sc, nil) {
		f.notifyHdr = append(f.notifyHdr, client.HeaderField{Name: k, Value: v.value})
	}
	f.notifyHdr = append(f.notifyHdr, client.HeaderField{Name: "Content-Type", Value: "application/json"})
	if e.cfg.tlsConfig != nil {
		f.wsClient = &http.Client{Transport: &http.Transport{TLSClientConfig: e.cfg.tlsConfig}}
	}
	return f, nil
}

// buildSteps compiles steps and appends their recorder keys. levels are
// the retry levels above them (plan, scenario, groups).
func (e *Engine) buildSteps(p *plan.Plan, sr *scenarioRun, steps []*plan.Step, levels []*plan.Retry, keys *[]metrics.StepKey) ([]*stepRun, error) {
	var out []*stepRun
	for _, st := range steps {
		lv := append(append([]*plan.Retry(nil), levels...), st.Retry)
		pol := clientcfg.Retry(lv...)
		r := &stepRun{idx: -1, step: st, policy: &pol, gated: st.When != nil || st.Once}
		if st.Once {
			r.serial = sr.nonce
			sr.nonce++
			plan.WalkSteps([]*plan.Step{st}, func(s *plan.Step) {
				for _, x := range s.Extract {
					r.keep = append(r.keep, x.Slot)
				}
			})
		}
		if st.Think == nil {
			r.idx = len(*keys)
			r.key = metrics.StepKey{Scenario: sr.sc.Name, Step: st.Path}
			*keys = append(*keys, r.key)
			ep := ""
			if st.Request != nil {
				ep = st.Request.Method + " " + st.Request.Path
			}
			e.endpoints = append(e.endpoints, ep)
		}
		var err error
		switch {
		case st.Request != nil:
			r.kind = kindRequest
			r.req, err = sr.newRequestRun(p, st.Request)
		case st.Poll != nil:
			r.kind = kindPoll
			r.req, err = sr.newRequestRun(p, &st.Poll.Request)
		case st.WaitEvent != nil:
			r.kind = kindWait
			if st.WaitEvent.Trigger != nil {
				r.req, err = sr.newRequestRun(p, st.WaitEvent.Trigger)
			}
		case st.Think != nil:
			r.kind = kindThink
		case st.Group != nil:
			r.kind = kindGroup
			r.children, err = e.buildSteps(p, sr, st.Group.Steps, lv, keys)
		case st.Repeat != nil:
			r.kind = kindRepeat
			r.children, err = e.buildSteps(p, sr, st.Repeat.Steps, lv, keys)
		case st.Choose != nil:
			r.kind = kindChoose
			r.children, err = e.buildSteps(p, sr, st.Choose.Steps, lv, keys)
			total := 0.0
			for _, ch := range st.Choose.Steps {
				total += ch.Weight
				r.cumWeights = append(r.cumWeights, total)
			}
		default:
			err = errors.New("no kind")
		}
		if err != nil {
			return nil, fmt.Errorf("scenario %q step %q: %w", sr.sc.Name, st.Path, err)
		}
		out = append(out, r)
	}
	return out, nil
}

type headerValue struct {
	value string
	t     *scenario.Template
}

// mergeHeaders merges the plan's, the scenario's and the request's
// headers (later levels win, name by name), keeping each winner's
// template.
func mergeHeaders(p *plan.Plan, sc *plan.Scenario, r *plan.Request) map[string]headerValue {
	hs := map[string]headerValue{}
	add := func(h map[string]string, ts map[string]*scenario.Template) {
		for k, v := range h {
			hs[k] = headerValue{v, ts[k]}
		}
	}
	add(p.Defaults.Headers, p.Defaults.HeaderTemplates)
	add(sc.Headers, sc.HeaderTemplates)
	if r != nil {
		add(r.Headers, r.HeaderTemplates)
	}
	return hs
}

func (sr *scenarioRun) newRequestRun(p *plan.Plan, r *plan.Request) (*requestRun, error) {
	rr := &requestRun{slot: sr.nreqs, method: r.Method, body: r.Body, bodyT: r.BodyTemplate, expect: r.Expect, timeout: r.Timeout}
	sr.nreqs++
	if r.PathTemplate != nil {
		rr.urlT = r.PathTemplate
		if !strings.HasPrefix(r.Path, "http://") && !strings.HasPrefix(r.Path, "https://") {
			base, err := resolve(p.Target, "/")
			if err != nil {
				return nil, err
			}
			rr.url = strings.TrimSuffix(base, "/")
		}
	} else {
		u, err := resolve(p.Target, r.Path)
		if err != nil {
			return nil, err
		}
		rr.url = u
	}
	for k, v := range mergeHeaders(p, sr.sc, r) {
		if v.t != nil {
			rr.headerT = append(rr.headerT, headerTemplate{len(rr.header), v.t})
		}
		rr.header = append(rr.header, client.HeaderField{Name: k, Value: v.value})
	}
	return rr, nil
}

// stepError is why a step failed: a message that is the same for every
// failure of its kind (so failures count together), detail from this one,
// and the class its logical sample gets.
type stepError struct {
	msg     string
	example string
	class   metrics.Class
	lost    bool
}

func (e *stepError) Error() string {
	if e.example != "" {
		return e.msg + ": " + e.example
	}
	return e.msg
}

func failf(class metrics.Class, example, format string, args ...any) *stepError {
	return &stepError{msg: fmt.Sprintf(format, args...), example: example, class: class}
}

// want renders expected statuses for messages.
func want(expect []int) string {
	if len(expect) == 0 {
		return "2xx or 3xx"
	}
	s := make([]string, len(expect))
	for i, c := range expect {
		s[i] = strconv.Itoa(c)
	}
	return strings.Join(s, ", ")
}
