// Package scenario holds what makes a plan's steps read like the
// integration they test: per-iteration variables and the templates that
// use them, extraction of values from responses, conditions over JSON
// documents, and CSV data feeders. It is a library of compiled pieces:
// package plan compiles them at load time (so that mistakes are plan
// errors with file:line:col), and package engine runs them.
//
// # Variables
//
// A scenario's variables are set, in every iteration and in this order,
// from its data file's columns (one row per iteration), from its vars
// (templates rendered at the iteration's start) and from its steps'
// extract. Values are reset between iterations. A Scope gives each name
// a slot; a VU keeps its values in a Vars, a slice, so rendering never
// looks names up.
//
// # Templates
//
// Paths, header values, bodies (raw, and every string of a json body),
// wait_event topics and vars may hold actions between {{ and }}:
//
//	template = { text | action } .
//	action   = "{{" [ spaces ] ( variable | call | string ) [ spaces ] "}}" .
//	variable = "." name .                     e.g. {{.job_id}}
//	name     = ( letter | "_" ) { letter | digit | "_" } .
//	call     = function { spaces argument } .
//	argument = number | duration | string .
//	string   = Go string literal ("..." or `...`).   {{"{{"}} writes {{
//
// Functions:
//
//	uuid               a random (version 4) UUID
//	now [offset]       the current UTC time, ISO-8601 with milliseconds
//	                   (2026-11-22T10:00:00.000Z); offset is a Go duration,
//	                   quoted or not: {{now "-1h"}}, {{now 30m}}
//	unix [offset]      the current time in Unix seconds
//	randInt MIN MAX    a uniform random integer in [MIN, MAX]
//	randString N       N random letters and digits (1 ≤ N ≤ 4096)
//	vu                 the VU's number in its scenario, from 1
//	iteration          the VU's iteration number, from 0
//	iteration 1 5      start + step × iteration: 1, 6, 11... (a counter)
//
// The syntax is a subset of text/template's, so templates look familiar,
// but it is compiled to a list of literal and action segments: rendering
// appends to a byte slice without reflection or allocation. A variable
// that isn't set where a template uses it is a plan error at load time
// (with the line and column of the action); at run time, a render that
// still finds one unset fails its step with an *UnsetError.
//
// Values keep the JSON type they were extracted with. In a json body, a
// string that is exactly one action is written as that value's JSON
// (a string quoted, a number, boolean, null, object or array bare), so
// count: "{{.n}}" sends a number when n is one; any other string with
// actions is a JSON string, its inserted values escaped. Everywhere else
// values are inserted as text, unescaped (URL-escape path values
// yourself).
//
// # Extraction
//
// extract maps variable names to a JSON path into the response body, in
// gjson syntax (entities.0.id, entities.#.id, a leading "$." is
// dropped, "$" is the whole body), or to header:Name. A path or header
// that is missing fails the step with an *ExtractError wrapping
// ErrNotFound.
//
// # Conditions
//
// poll and wait_event take until and fail_if conditions, and a request's
// expect body one: expr-lang expressions (https://expr-lang.org) that
// must yield true or false, compiled once at load time. They see the
// document's top-level fields by name, plus:
//
//	$body    the whole decoded document (or its text when not JSON)
//	$text    the body as text, JSON or not ($text contains "Welcome")
//	$status  the response's HTTP status (responses only)
//	$vars    the iteration's variables by name
//
// A field the document lacks is nil, so state == "FULFILLED" is simply
// false until state appears. Examples: state == "FULFILLED";
// eventBody.state in ["FAILED", "CANCELLED"]; date(dataAvailabilityDate)
// > date($vars.started); any(entities, .id == $vars.job_id).
//
// # Data
//
// A data file is CSV with a header row naming the columns (each a
// variable name). Feeder hands rows to iterations: Sequential (rows in
// order, one cursor shared by the scenario's VUs; Recycle by default),
// Unique (each row to one iteration in the whole run, split across
// segments; Stop when they run out) or Random (a seeded draw per
// iteration; never runs out). When rows run out with Stop, the scenario
// starts no more iterations.
package scenario
