// Package ratelimit holds the emulator's fixed-window rate limiter: the
// Decision it returns and Memory, the in-process backend. A Redis backend
// with the same Allow signature can replace Memory when replicas share
// limits.
//
// Windows are fixed and anchored at the first request a key sees: the
// window [t0, t0+window) admits limit requests; the first request at or
// after t0+window opens the next one. This is the reading of the platform's
// inin-ratelimit-reset header (seconds to the window's reset, 61 on a first
// call with a 60 s window).
package ratelimit
