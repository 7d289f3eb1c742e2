// Package client holds floodgate's HTTP client layer: transports, the
// retry policy, the shared backoff gate, the retry budget, rate-limit
// header parsing and authentication, behind one entry point, Client.Do.
//
// # Samples
//
// Client.Do sends one logical request and reports two kinds of sample:
// every attempt (status, latency, rate-limit headers, class) to its
// onAttempt callback as an Attempt, and the logical request (final
// status and class, attempts, total time including retries and waits,
// time waited by reason, and whether it was lost) as its Outcome.
// Goodput, lost requests and retry amplification come from the pair.
//
// # Retry policy
//
// A plan sets `retry` globally, per scenario and per step;
// clientcfg.Retry merges the levels over DefaultPolicy, a step's fields
// overriding a scenario's, which override the plan's. `retry: off` disables retries at its level
// (one attempt) until a later level sets fields again.
//
//	on                 statuses retried             429, 502, 503, 504
//	on_errors          transport error classes       connect, reset
//	honor_retry_after  wait what the server asks     true
//	max_wait           cap on one Retry-After wait   60s
//	backoff.base       first backoff delay           100ms
//	backoff.max        cap on a backoff delay        10s
//	backoff.multiplier growth per retry              2
//	backoff.jitter     full | equal | none           full
//	max_attempts       attempts, the first included  5
//	max_elapsed        cap on a logical request      2m
//	budget             ratio, window, min_retries    20%, 10s, 10
//	non_idempotent     retry POST/PATCH on all `on`  false
//	gate               shared backoff gate           true
//	limit_key          gate and budget key           the credentials
//
// DefaultPolicy documents why each default was chosen.
//
// Backoff: retry n has nominal delay d = min(max, base × multiplier^(n-1));
// full jitter waits uniform[0, d), equal jitter d/2 + uniform[0, d/2),
// none exactly d.
//
// Retry-After: with honor_retry_after, a Retry-After in delta-seconds or
// HTTP-date form (or the emulator's precise x-floodgate-retry-after-ms;
// or, on a 429 without any, the reset of an exhausted rate-limit window)
// replaces backoff. The wait is capped by max_wait. When the server asks
// for longer than max_elapsed leaves, the request is lost at once
// instead of waiting for a retry that could not happen.
//
// Idempotency: POST, PATCH and other non-idempotent methods (without an
// Idempotency-Key header) are retried only on 429 and 503, where the
// server refused the request before acting on it, and on connect
// errors, where it never left, unless non_idempotent is set.
//
// Giving up: a logical request is lost when its last attempt was
// retryable but max_attempts were used, the next wait would pass
// max_elapsed, the budget refused the retry (class budget), or the gate
// stayed closed past max_elapsed. Lost requests keep their last status
// and error (a *LostError naming the reason). A request that fails for a
// reason not retried, such as a 400, is a failure, not lost.
//
// # Retry budget
//
// Over any sliding window (10 buckets of window/10), retries may not
// exceed min_retries + ratio × first attempts. Beyond it, Do fails fast
// with class budget, so an outage cannot multiply the load. Budgets are
// per limit key and configuration. Retries of a 429 whose Retry-After is
// honoured are exempt: the server scheduled them, and the gate already
// holds every VU behind the key.
//
// # Shared backoff gate
//
// A 429 with Retry-After closes the gate of its limit key until the wait
// ends; every VU using that key waits there instead of sending into the
// wall. On reopening, one probe goes first; its response's remaining
// quota and reset meter how many more are admitted before the window
// resets, so the reopening is no thundering herd. Waiters are served in
// arrival order, so a fast VU cannot starve a slow one of the quota. The limit key is the
// step's limit_key, else the credentials' identity (a hash, never a
// secret), else "default". Gate waits are reported as Outcome.GateWait.
//
// # Authentication
//
// OAuth2 client credentials (golang.org/x/oauth2/clientcredentials):
// one token cache per credential set, shared through an AuthCache by
// every VU and scenario using it. Tokens are refreshed in the background
// min(10 % of their lifetime, 30 s) before expiry; concurrent callers
// without a usable token share one token request. A 401 invalidates the
// token and the request is replayed once with a fresh one; the replay is
// an attempt but not a retry. Static bearer tokens and Basic auth are
// supported too. Secrets never appear in errors, logs, summaries or
// results: token errors keep the server's error code, not its body, and
// authenticators format as "… secret redacted".
//
// # Transports
//
// A Transport sends one attempt. https:// targets use net/http
// (StdTransport); http:// targets use package h1's, a lean HTTP/1.1
// client. The engine picks one; the client knows only the interface,
// and a Response holds what was read, never a transport's own state.
//
// # Testing
//
// HandlerTransport and HandlerRoundTripper serve requests with an
// http.Handler in-process, so whole scenarios run inside a
// testing/synctest bubble in fake time. Every wait in the package is a
// timer selected against ctx.Done().
package client
