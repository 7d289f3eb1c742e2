// Package diagnose finds the walls in a run's results — the points where a
// class of failure begins — and says what kind each is (rate limit,
// concurrency cap, authorization, server saturation, or the load generator
// itself), where it starts, the numbers behind the verdict, and what to do.
//
// Analyze is a pure function of metrics.Results: the same results dir
// always gives the same diagnosis, so `floodgate report` can re-create it.
package diagnose
