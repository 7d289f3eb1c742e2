// Package engine runs a plan: executors schedule iterations (closed: VUs
// with ramp-up; open: arrival rate or stages; batches), virtual users run
// each iteration's steps through the client, and every attempt and
// logical request is recorded in a metrics.Recorder.
//
// Open and batch executors schedule by due time and measure latency from
// it: an iteration due while every VU is busy is dropped and counted,
// never delayed silently (coordinated omission). Stopping is two-phase:
// Stop (or the end of a scenario's schedule) stops starting iterations;
// in-flight ones get the plan's grace period; a second Stop, or the end
// of grace, cancels them.
//
// Steps (steps.go, steps_event.go): request, poll, wait_event, think and
// group. Each VU renders templates into its own reusable requests (a
// request without templates is sent as built at start, untouched), keeps
// its iteration's variables by slot, and keeps one notification channel
// and WebSocket across iterations for wait_event. A step that fails ends
// its iteration; Failures reports why, counted by kind. A scenario whose
// data runs out (on_exhaust: stop) stops starting iterations on its own.
package engine
