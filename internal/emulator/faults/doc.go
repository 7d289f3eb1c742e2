// Package faults holds the emulator's fault models: latency distributions
// (fixed, uniform, log-normal), probabilistic error injection and a
// saturation model in which latency grows with the server's in-flight load
// above a knee, with an optional 503 hard limit. Randomness comes from one
// seeded source, so a run with the same seed and the same request order
// draws the same faults.
package faults
