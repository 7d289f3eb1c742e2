package plan

import (
	"fmt"
	"time"

	"github.com/floodgate-dev/floodgate/internal/scenario"
)

// Pos is a position in a plan file: 1-based line and column.
type Pos struct {
	Line, Col int
}

func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

// Plan is a validated load plan. Every field has been checked by Parse;
// code that receives a *Plan may rely on the invariants documented here.
type Plan struct {
	// File is the path the plan was read from ("" when parsed from memory).
	File string
	// Name is the plan's name: the `name` key, else the file's base name
	// without extension. It names the default results directory.
	Name string
	// Target is the base URL every request path is resolved against
	// (scheme and host, optionally a base path). Always absolute.
	Target string
	// Defaults apply to every request unless a step overrides them.
	Defaults Defaults
	// TLS says how https servers are verified; nil means the system's
	// roots.
	TLS *TLS
	// Auth is the plan-wide authentication; nil means none.
	Auth *Auth
	// Retry is the plan-wide retry policy; nil means the built-in default
	// policy (see client.DefaultPolicy). Retry.Off disables retries.
	Retry *Retry
	// Grace is how long in-flight iterations may finish after the plan's
	// end or a first interrupt before they are cancelled. Default 30s.
	Grace time.Duration
	// Unreachable is when the run gives up on a target it cannot
	// connect to (abort_on_unreachable). Default DefaultUnreachable.
	Unreachable Unreachable
	// Scenarios run concurrently, in file order. At least one.
	Scenarios []*Scenario
	// Thresholds are checked at the end of the run (and, those with
	// AbortOnFail, every second while it runs); any failing one makes
	// the run fail with exit code 3.
	Thresholds []*Threshold
}

// Defaults are request settings shared by all steps.
type Defaults struct {
	// Headers are sent with every request; a step's headers override them
	// key by key (canonical header names).
	Headers map[string]string
	// HeaderTemplates holds the Headers values that contain {{...}}
	// (keyed alike); they may use functions but no variables.
	HeaderTemplates map[string]*scenario.Template
	// Timeout bounds one HTTP attempt (connect to last body byte).
	// Default 16s, the official SDKs' default.
	Timeout time.Duration
	// ResponseHeaderBytes bounds a response's header section (status
	// line, fields, interim responses and trailers), as net/http's
	// MaxResponseHeaderBytes does, for http and https targets alike; for
	// http it is also the size of the read buffer a request in flight
	// holds. A response with more fails with class other.
	// Default 8192 (nginx's own limit for request headers), 1024 to 1048576.
	ResponseHeaderBytes int
}

// Scenario is one named workload: an executor that schedules iterations
// and the steps each iteration runs.
type Scenario struct {
	Name     string
	Pos      Pos
	Executor Executor
	// Auth and Retry override the plan's when non-nil.
	Auth  *Auth
	Retry *Retry
	// Headers are merged over Defaults.Headers; HeaderTemplates holds
	// those whose values contain {{...}}.
	Headers         map[string]string
	HeaderTemplates map[string]*scenario.Template
	// Data, when non-nil, binds one row of a CSV file to variables named
	// after its columns at the start of every iteration.
	Data *Data
	// Vars are set in order at the start of every iteration, after Data.
	Vars []*Var
	// Scope names every variable the scenario's templates and
	// extractions use; templates and extractors refer to its slots.
	Scope *scenario.Scope
	// Steps run in order in every iteration. At least one, and at least
	// one step that sends requests (request, poll or wait_event).
	Steps []*Step
	// Cookies gives each VU a cookie jar: cookies responses set are sent
	// back on its later requests, across its iterations.
	Cookies bool
}

// Data is a CSV data file feeding a scenario (see scenario.Feeder).
type Data struct {
	Pos  Pos
	File string // as written, relative to the plan's directory
	// Mode is scenario.Sequential (default), Random or Unique.
	Mode string
	// OnExhaust is scenario.Recycle (default for Sequential) or Stop
	// (default, and the only choice, for Unique); "" for Random.
	OnExhaust string
	// Columns name the variables each row sets; Slots are their slots
	// in the scenario's Scope. Rows all have len(Columns) fields.
	Columns []string
	Slots   []int
	Rows    [][]string
}

// Var is a per-iteration variable: its template is rendered at the start
// of every iteration (a template that is one action keeps its type).
type Var struct {
	Name     string
	Pos      Pos
	Slot     int
	Template *scenario.Template
}

// Executor is exactly one of Closed, Open or Batches.
type Executor struct {
	Closed  *Closed
	Open    *Open
	Batches *Batches
}

// Kind names the executor kind: "closed", "open" or "batches".
func (e Executor) Kind() string {
	switch {
	case e.Closed != nil:
		return "closed"
	case e.Open != nil:
		return "open"
	case e.Batches != nil:
		return "batches"
	}
	return ""
}

// Closed is a closed workload (JMeter's Thread Group): VUs virtual users
// started evenly over RampUp, each running iterations back to back until
// it has run Iterations or Duration has passed since the scenario began.
// At least one of Iterations and Duration is set.
type Closed struct {
	VUs        int
	RampUp     time.Duration
	Iterations int           // per VU; 0 means bounded by Duration only
	Duration   time.Duration // 0 means bounded by Iterations only
}

// Open is an open workload: iterations arrive on a schedule whatever the
// server does. Either Rate with Duration, or Stages, is set.
type Open struct {
	Rate     Rate
	Duration time.Duration
	// StartRate is the rate the first stage ramps from. Zero by default.
	StartRate Rate
	// Stages ramp linearly from the previous stage's target (StartRate
	// for the first) to their own Target over their Duration.
	Stages []Stage
	// MaxVUs caps concurrent iterations; an iteration due when all are
	// busy is dropped and counted. Default 1000.
	MaxVUs int
	// Granularity is the least time between two wake-ups of the
	// schedule: it sends every arrival due by then, each up to this late
	// (latency from due counts it). 0 wakes for each arrival at its due
	// time. Default DefaultGranularity.
	Granularity time.Duration
}

// TotalDuration is the length of the open schedule.
func (o *Open) TotalDuration() time.Duration {
	if len(o.Stages) == 0 {
		return o.Duration
	}
	var d time.Duration
	for _, s := range o.Stages {
		d += s.Duration
	}
	return d
}

// Stage is one linear ramp of an open workload.
type Stage struct {
	Pos      Pos
	Target   Rate
	Duration time.Duration
}

// Rate is a number of iterations per time unit, as written ("200/s",
// "6000/m", "10/1s"). The zero Rate is 0/s.
type Rate struct {
	Count float64
	Per   time.Duration
}

// PerSecond returns the rate in iterations per second.
func (r Rate) PerSecond() float64 {
	if r.Per <= 0 {
		return 0
	}
	return r.Count / r.Per.Seconds()
}

func (r Rate) String() string {
	switch r.Per {
	case time.Second:
		return fmt.Sprintf("%g/s", r.Count)
	case time.Minute:
		return fmt.Sprintf("%g/m", r.Count)
	case time.Hour:
		return fmt.Sprintf("%g/h", r.Count)
	}
	return fmt.Sprintf("%g/%s", r.Count, r.Per)
}

// Batches releases Size iterations at once every Pause until Total
// iterations have been released ("groups of 50 every 10 s"). The first
// batch is due at the scenario's start.
type Batches struct {
	Size  int
	Pause time.Duration
	Total int
	// MaxVUs caps concurrent iterations as in Open. Default Size*4,
	// at most Total.
	MaxVUs int
}

// Step is one step of a scenario. Exactly one kind field (Request,
// Poll, WaitEvent, Think, Group, Repeat, Choose) is set.
type Step struct {
	// Name labels the step; default "<method> <path>" for a request or a
	// poll, the kind's name otherwise, made unique among its siblings.
	Name string
	// Path is the step's name in metrics: Name, prefixed by its groups'
	// names and "/" ("checkout/pay"). Unique within the scenario.
	Path      string
	Pos       Pos
	Request   *Request
	Poll      *Poll
	WaitEvent *WaitEvent
	Think     *Think
	Group     *Group
	Repeat    *Repeat
	Choose    *Choose
	// When, if non-nil, is checked when the step is reached: the step
	// runs only if it holds, else it is skipped and records nothing.
	When *scenario.Condition
	// Once runs the step only the first time its VU reaches it; what it
	// (and its steps) extract stays set in the VU's later iterations.
	Once bool
	// Weight is the step's share of a choose's picks: > 0, default 1, for
	// the steps of a choose; 0 elsewhere.
	Weight float64
	// Retry overrides the enclosing policy (scenario's, or group's) for
	// this step's requests, and a group's steps, when non-nil.
	Retry *Retry
	// Extract sets variables from the step's final response (request,
	// poll) or matching event (wait_event), in order.
	Extract []*scenario.Extractor
}

// Kind names the step's kind as written in the plan.
func (s *Step) Kind() string {
	switch {
	case s.Request != nil:
		return "request"
	case s.Poll != nil:
		return "poll"
	case s.WaitEvent != nil:
		return "wait_event"
	case s.Think != nil:
		return "think"
	case s.Group != nil:
		return "group"
	case s.Repeat != nil:
		return "repeat"
	case s.Choose != nil:
		return "choose"
	}
	return ""
}

// Children returns the steps a group, repeat or choose holds.
func (s *Step) Children() []*Step {
	switch {
	case s.Group != nil:
		return s.Group.Steps
	case s.Repeat != nil:
		return s.Repeat.Steps
	case s.Choose != nil:
		return s.Choose.Steps
	}
	return nil
}

// Sends reports whether the step itself sends requests (request, poll or
// wait_event).
func (s *Step) Sends() bool { return s.Request != nil || s.Poll != nil || s.WaitEvent != nil }

// Repeat runs its steps Count times, while While holds (checked before
// each pass), or once for each element of the variable Each (a JSON
// array; another value is one element, an unset one none) with As set to
// it; While and Each run at most Max passes. A pass that fails ends the
// repeat and the iteration.
type Repeat struct {
	Count int
	While *scenario.Condition
	// Each and As name the variables; EachSlot and AsSlot are their
	// slots in the scenario's Scope.
	Each, As         string
	EachSlot, AsSlot int
	// Max bounds the passes of a While or Each repeat; default
	// DefaultRepeatMax.
	Max   int
	Steps []*Step
}

// Choose runs one of its steps, picked at random by their Weights.
type Choose struct {
	Steps []*Step
}

// Poll repeats a request every Every until Until holds for its response,
// FailIf holds (the step fails), or Timeout passes since the first poll
// (the step fails).
type Poll struct {
	Request Request
	// Every is the interval between polls' starts. Default 2s, the
	// platform's tutorials' interval.
	Every time.Duration
	// Timeout bounds the whole poll, requests included. Default 5m.
	Timeout time.Duration
	Until   *scenario.Condition
	FailIf  *scenario.Condition // nil: never
}

// Channel choices for WaitEvent.
const (
	ChannelVU   = "vu"   // one notification channel per VU, reused by its waits
	ChannelStep = "step" // a new channel for every wait, closed after it
)

// WaitEvent subscribes a notification channel to Topic, sends Trigger
// (if any), and waits for an event on Topic for which Until holds.
type WaitEvent struct {
	// Topic is the topic subscribed to; TopicTemplate is non-nil when it
	// holds {{...}}.
	Topic         string
	TopicTemplate *scenario.Template
	// Until is nil to take the first event on the topic.
	Until  *scenario.Condition
	FailIf *scenario.Condition
	// Timeout bounds the whole step, channel set-up included. Default 5m.
	Timeout time.Duration
	// Trigger is a request sent once the subscription is in place (so
	// that its event can't be missed); nil for none.
	Trigger *Request
	// Channel is ChannelVU (default) or ChannelStep.
	Channel string
}

// Think pauses the iteration for Min, or for a uniform draw from
// [Min, Max] when Max > Min.
type Think struct {
	Min, Max time.Duration
}

// Group is a named sub-sequence of steps.
type Group struct {
	Steps []*Step
}

// Request is one HTTP request.
type Request struct {
	Method string // upper case; default GET
	// Path is resolved against the plan's Target; it may also be an
	// absolute URL.
	Path    string
	Headers map[string]string
	// Body is the raw request body; JSON bodies are encoded once at parse
	// time into Body with Content-Type application/json (unless set).
	Body []byte
	// Expect lists the statuses that count as success; default any 2xx
	// or 3xx.
	Expect []int
	// ExpectBody, when non-nil, must hold for the response's JSON body
	// (request steps only).
	ExpectBody *scenario.Condition
	// Timeout bounds one attempt; 0 means Defaults.Timeout.
	Timeout time.Duration
	// PathTemplate, HeaderTemplates (keyed like Headers) and BodyTemplate
	// are set where Path, a header value or the body holds {{...}}; the
	// engine renders those per request and uses the fields above as they
	// are everywhere else. A JSON body with templates has no Body.
	PathTemplate    *scenario.Template
	HeaderTemplates map[string]*scenario.Template
	BodyTemplate    *scenario.Template
}

// Auth is exactly one of OAuth2, Bearer or Basic. Secret values have been
// read from the environment or files; they must never be logged or
// written to results.
type Auth struct {
	OAuth2 *OAuth2
	Bearer *Bearer
	Basic  *Basic
}

// OAuth2 is the client-credentials grant.
type OAuth2 struct {
	TokenURL     string // absolute, or resolved against Target
	ClientID     string
	ClientSecret Secret
	Scopes       []string
}

// Bearer is a static bearer token.
type Bearer struct {
	Token Secret
}

// Basic is HTTP Basic authentication.
type Basic struct {
	Username string
	Password Secret
}

// Secret holds a credential. Its String and MarshalJSON methods never
// reveal the value, so it can't leak through formatting or encoding.
//
// The value sits behind a pointer because fmt skips String and GoString
// when it reports a bad verb (%s of a struct holding a *Auth prints
// "%!s(*plan.Auth=&{...})" by reflection); a pointer prints as an address.
type Secret struct{ value *string }

// NewSecret wraps a credential.
func NewSecret(v string) Secret { return Secret{&v} }

// Reveal returns the secret value ("" for the zero Secret); call it only
// where it is sent.
func (s Secret) Reveal() string {
	if s.value == nil {
		return ""
	}
	return *s.value
}

func (s Secret) String() string               { return "[redacted]" }
func (s Secret) GoString() string             { return "plan.Secret{[redacted]}" }
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"[redacted]"`), nil }
func (s Secret) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// Retry is a retry policy as written in the plan. Unset fields take the
// defaults of client.DefaultPolicy; package clientcfg merges levels
// (plan → scenario → step).
type Retry struct {
	Pos Pos
	// Off disables retries (`retry: off`).
	Off bool
	// On lists HTTP statuses and error classes ("connect", "reset",
	// "timeout", "tls") that are retried. nil means the default set.
	On              []int
	OnErrors        []string
	HonorRetryAfter *bool
	MaxWait         time.Duration // cap on one Retry-After wait
	Backoff         *Backoff
	MaxAttempts     int           // including the first; 0 = default
	MaxElapsed      time.Duration // 0 = default
	Budget          *Budget
	// NonIdempotent allows retrying POST/PATCH on every condition in On,
	// not only 429 and 503.
	NonIdempotent *bool
	// Gate, when false, disables the shared backoff gate.
	Gate *bool
	// LimitKey names the gate's rate-limit key; default the credentials.
	LimitKey string
}

// Backoff is exponential backoff with jitter.
type Backoff struct {
	Base       time.Duration
	Max        time.Duration
	Multiplier float64
	Jitter     string // "full", "equal" or "none"; "" = default (full)
}

// Budget caps retries to Ratio of first attempts over a sliding Window.
type Budget struct {
	Ratio  float64 // 0.2 for "20%"
	Window time.Duration
	// MinRetries is how many retries per window are always allowed, so a
	// quiet start is not starved. Default 10.
	MinRetries int
}
