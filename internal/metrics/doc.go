// Package metrics holds floodgate's measurements: the samples a run
// records, sharded HDR histograms merged on demand, per-second buckets of
// offered, started, completed and dropped iterations, and the results
// files (summary.json, timeseries.jsonl, histograms.json) they become.
//
// Two samples are recorded per request: each attempt (what the server
// saw) and each logical request (what the integration saw, retries and
// waits included). Latency is kept both from the request's due time
// (coordinated-omission corrected) and from its first send.
package metrics
