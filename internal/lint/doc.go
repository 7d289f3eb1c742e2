// Package lint checks a load plan before it runs: it predicts the load
// each scenario offers (peak request rate, peak concurrency, total
// requests, the plan's own length) and holds it against known limits —
// the emulator profile's, 300 requests per 60 s per token, for a plan
// that targets the Genesys Cloud API (TargetsGenesys), else only those
// given (WithLimits) — to say what will happen at the wall and whether
// the plan survives it. An emulator config's limits run time_scale times
// as long, as the emulator runs them.
//
// Plan returns a Report: one Prediction per scenario and Findings, each
// with a severity, a rule, where it is (file:line:col, or a JMeter
// element path through WithLocator), and a fix. The rules:
//
//	rate_limit            the offered load passes a rate limit: when the first 429
//	                      comes and how long the limit makes the run (warning)
//	retry_off             429s are expected and a step does not retry them (retry: off,
//	                      or on: without 429): requests will be lost (error)
//	honor_retry_after     429s are expected and Retry-After is ignored, or capped
//	                      by max_wait / max_elapsed below the window (warning)
//	non_idempotent_retry  non_idempotent: true on a POST or PATCH step: retried after
//	                      the server may have acted, so duplicates (warning)
//	concurrency_cap       more requests in flight than a cap (--max-in-flight) (warning)
//	max_vus               an open or batches executor needs more VUs than max_vus at the
//	                      assumed latency: iterations will be dropped (warning)
//	ctt_unit              a JMeter Constant Throughput Timer whose target looks like a
//	                      per-second figure: it is samples per MINUTE (warning)
//	unbounded             a JMeter Thread Group loops forever with no duration: it runs
//	                      for ${DURATION} (warning)
//
// Predictions assume a latency per request (200 ms unless WithLatency
// says otherwise) where the load depends on it: closed executors, and the
// concurrency an open one needs. They are estimates, said to be.
package lint
