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
//	defaults: {headers: {Accept: application/json}, timeout: 16s}
//	grace: 30s
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
//	      # open: {rate: 200/s, duration: 1m, max_vus: 500}
//	      # open: {start_rate: 0/s, stages: [{target: 100/s, duration: 30s}], max_vus: 500}
//	      # batches: {size: 50, pause: 10s, total: 500, max_vus: 200}
//	    headers: {X-Scenario: burst}
//	    auth: {...}                  # overrides the plan's
//	    retry: {...}                 # overrides the plan's
//	    steps:
//	      - name: create             # default "METHOD path", made unique
//	        request:
//	          method: POST           # default GET
//	          path: /api/v2/conversations
//	          headers: {X-Foo: bar}
//	          json: {text: hi}       # or body: "raw text"
//	          expect: [200, 202]
//	        retry: {...}             # overrides the scenario's
//
// Every run is bounded: closed needs iterations or duration, open needs
// rate with duration or stages, batches needs size, pause and total.
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
