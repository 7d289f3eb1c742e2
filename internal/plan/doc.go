// Package plan holds floodgate's load plan: its types, and the parser that
// turns a YAML plan file into a validated *Plan.
//
// Parse and Load return either a plan whose every documented invariant
// holds, with defaults filled in, or an error joining one *Error per
// problem, each with file:line:col, what is wrong and how to fix it.
// Every *Error matches ErrInvalid with errors.Is.
//
// # Schema
//
// Keys are snake_case; unknown keys, wrong types, duplicate keys and
// conflicting alternatives are errors.
//
//	name: bot-burst                  # default: the file's base name
//	target: http://127.0.0.1:8080    # required; absolute http(s) URL
//	defaults: {headers: {Accept: application/json}, timeout: 16s, response_header_bytes: 8192}
//	grace: 30s
//	tls: {ca_file: ca.pem}           # https: trust this PEM CA too; or {insecure_skip_verify: true}
//	abort_on_unreachable: {after: 50, within: 10s}   # the default; or false, true, a count
//	auth:                            # one of oauth2, bearer, basic
//	  oauth2: {token_url: /oauth/token, client_id: ${ID}, client_secret: ${SECRET}, scopes: [a]}
//	  # bearer: {token: ${TOKEN}}     basic: {username: u, password_file: pw.txt}
//	retry:                           # or: retry: off
//	  on: [429, 503, connect, reset, timeout, tls]
//	  honor_retry_after: true
//	  max_wait: 60s
//	  backoff: {base: 100ms, max: 10s, multiplier: 2, jitter: full}   # full, equal, none
//	  max_attempts: 5
//	  max_elapsed: 2m
//	  budget: 20%                    # or {ratio: 20%, window: 10s, min_retries: 10}
//	  non_idempotent: false
//	  gate: true
//	  limit_key: conversations
//	scenarios:                       # name -> scenario, run concurrently in file order
//	  bot_burst:
//	    executor:                    # one of:
//	      closed: {vus: 100, ramp_up: 10s, iterations: 50, duration: 5m}
//	      # open: {rate: 200/s, duration: 1m, max_vus: 500, granularity: 1ms}
//	      # open: {start_rate: 0/s, stages: [{target: 100/s, duration: 30s}], max_vus: 500}
//	      # batches: {size: 50, pause: 10s, total: 500, max_vus: 200}
//	    headers: {X-Scenario: burst}
//	    auth: {...}                  # overrides the plan's
//	    retry: {...}                 # overrides the plan's
//	    data: {file: users.csv, mode: sequential, on_exhaust: recycle}   # see below
//	    cookies: true                # a cookie jar per VU (default false)
//	    vars: {user: "bot-{{vu}}-{{iteration}}", since: '{{now "-1h"}}'}
//	    steps:
//	      - name: create             # default "METHOD path", made unique
//	        request:
//	          method: POST           # default GET
//	          path: /api/v2/conversations
//	          headers: {X-Foo: bar}
//	          query: {page: 2, q: "{{.term}}"}   # appended to path, encoded
//	          json: {text: hi}       # or body: "raw text", or form: {user: u}
//	          expect: [200, 202]     # or {status: [200], body: 'items != nil'}
//	          timeout: 5s            # one attempt's bound; default defaults.timeout
//	        extract: {job_id: id, where: "header:Location", nonce: 'regex:name="n" value="(\w+)"'}
//	        retry: {...}             # overrides the scenario's
//	      - poll:                    # a request's keys, plus:
//	          path: /api/v2/recording/jobs/{{.job_id}}
//	          every: 2s              # default 2s
//	          until: state == "READY"
//	          fail_if: state in ["FAILED", "CANCELLED"]
//	          timeout: 5m            # default 5m
//	      - wait_event:
//	          topic: v2.recording.jobs.{{.job_id}}
//	          trigger: {method: PUT, path: /api/v2/recording/jobs/{{.job_id}}, json: {state: PROCESSING}}
//	          until: eventBody.state == "FULFILLED"
//	          fail_if: eventBody.state == "FAILED"
//	          timeout: 5m            # default 5m; bounds the whole step
//	          channel: vu            # vu (default: one channel per VU, reused) or step
//	      - think: 2s                # or {min: 1s, max: 3s}
//	      - name: checkout
//	        group: [{request: {path: /a}}, {request: {path: /b}}]   # metrics: checkout, checkout/GET /a, ...
//	      - name: pages
//	        repeat: {count: 3, steps: [...]}   # or {while: 'more == true', max: 100, steps: [...]}
//	                                           # or {each: ids, as: id, steps: [...]} (a list variable)
//	      - name: pick
//	        choose: [{weight: 3, request: {path: /a}}, {request: {path: /b}}]
//	      - request: {path: /setup}
//	        once: true               # the VU's first iteration only
//	      - request: {path: /admin}
//	        when: role == "admin"    # any step; skipped when false
//	thresholds:
//	  - p99(latency) < 800ms
//	  - {threshold: "rate(status=5xx) < 1%", abort_on_fail: true, delay_abort_eval: 10s}
//
// Every run is bounded: closed needs iterations or duration, open needs
// rate with duration or stages, batches needs size, pause and total.
//
// # Steps
//
// A step is one of request, poll, wait_event, think, group, repeat or
// choose, and may have a name, a retry override, a when, once and
// (request, poll, wait_event) an extract; the steps of a choose take a
// weight (default 1). when and a repeat's while are conditions over the
// iteration's variables by name (and $vars), $status (the last
// response's), $iteration, $index (the innermost repeat's pass, from 0)
// and $rand (a uniform draw in [0, 1)); a step whose when does not hold
// is skipped and records nothing. A once step runs in its VU's first
// iteration only, and what it extracts (a login's token) stays set in
// the VU's later iterations. A repeat runs its steps count times;
// while its condition holds before a pass; or once per element of each,
// a variable holding a JSON list (extract: {ids: "items.#.id"}), with as
// set to the element — while and each at most max (default 1000) times.
// A choose runs one of its steps, picked by weight. A step that fails — an unexpected status, a lost request, an
// extraction that finds nothing, a condition that times out or a fail_if
// that holds — ends its iteration, and its reason is counted in the
// run's failures. Every step but think is a logical sample of its own:
// a request; a poll, from its first poll to the response that met
// until, its polls being its attempts; a wait_event, from the trigger's
// send (or the subscription) to the event, its channel, subscription
// and trigger requests being its attempts; a group, a repeat and a
// choose, spanning the steps they ran (their steps record each pass).
//
// Templates ({{.var}}, {{uuid}}, {{now "-1h"}}...), extraction paths and
// conditions are described in package scenario. A template may use the
// data columns, the vars before it, and what earlier steps extract;
// anything else is an error here, at its line and column. Headers under
// defaults may use functions only.
//
// data reads a CSV file (relative to the plan) whose header names the
// columns: mode sequential (rows in order, shared by the VUs; on_exhaust
// recycle by default, or stop), unique (each row once in the whole run,
// split across segments; stops when they run out) or random (never runs
// out). When a scenario's rows run out with stop, it starts no more
// iterations; the iteration that found them exhausted still counts as
// offered.
//
// # Thresholds
//
// thresholds lists checks on the run's metrics, evaluated when it ends;
// any that fails makes `floodgate run` exit with code 3 and is a failed
// test case in junit.xml. A threshold with abort_on_fail is also checked
// every second over the running totals (after delay_abort_eval) and
// stops the run when it fails. The grammar:
//
//	threshold = metric cmp value .
//	metric    = agg "(" latency [ selector ] ")"
//	          | ( "rate" | "count" ) "(" event { "," label } ")"
//	          | counter [ selector ] .
//	agg       = "p" number | "mean" | "max" | "min" .          p95, p99.9
//	latency   = "latency" | "latency.from_due" | "latency.from_send" | "latency.attempt" .
//	event     = ( "status" | "final_status" ) "=" status
//	          | "error" "=" class
//	          | "lost" | "failed" | "dropped" | "retries" .
//	status    = digit digit digit | digit "xx" .                429, 5xx
//	class     = "status" | "connect" | "timeout" | "tls" | "reset" | "other" | "budget" | "auth" .
//	selector  = "{" label { "," label } "}" .
//	label     = ( "scenario" | "step" ) "=" ( word | quoted ) .
//	counter   = "requests" | "succeeded" | "failed" | "lost" | "dropped" | "offered"
//	          | "started" | "attempts" | "retries" | "retry_amplification"
//	          | "goodput" | "achieved_rate" | "offered_rate" .
//	cmp       = "<" | "<=" | ">" | ">=" | "==" | "!=" .
//	value     = number [ unit ] .
//
// latency is latency.from_due. A latency's value is a duration (800ms,
// 2s; a bare number is milliseconds). rate(...) is a share: of attempts
// for status and retries, of offered iterations for dropped, of requests
// otherwise; its value is a percentage (1%) or a fraction (0.01).
// count(...) is the share's numerator. goodput, achieved_rate and
// offered_rate are per second (50/s, 3000/m; bare: per second); other
// counters are plain numbers. A step label names a step's metric path
// (a group's steps are group/step); without labels a threshold measures
// the whole run. A latency or rate with nothing to measure fails.
//
// # Values
//
// Durations are Go durations (10s, 1m30s, 250ms); only 0 may omit the
// unit. Rates are N/s, N/m, N/h or N/<duration> (10/100ms). Ratios are
// percentages (20%) or fractions (0.2).
//
// Scalar values (never keys) may use ${VAR} and ${VAR:-default}, expanded
// before the value is typed; the default applies when VAR is unset or
// empty, and $${ is a literal ${. Secrets (client_secret, token,
// password) must come from a ${VAR} or from the matching *_file key,
// read relative to the plan's directory; they become Secret values,
// which never print.
package plan
