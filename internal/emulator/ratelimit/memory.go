package ratelimit

import (
	"context"
	"hash/maphash"
	"sync"
	"time"
)

// Decision is the outcome of one Allow call.
type Decision struct {
	// Allowed reports whether the request was admitted (and counted).
	Allowed bool
	// Count is the number of requests admitted in the current window,
	// this one included; it never exceeds Limit.
	Count int
	// Limit is the window's capacity.
	Limit int
	// Reset is the time from now until the window ends and the count
	// resets; always > 0.
	Reset time.Duration
}

// Remaining returns how many more requests the window admits.
func (d Decision) Remaining() int { return d.Limit - d.Count }

const (
	numShards  = 64
	sweepEvery = 4096 // ops per shard between sweeps of ended windows
)

// Memory is an in-process fixed-window limiter. Each key's decision is
// made under its shard's lock, so concurrent calls never over-admit. Ended
// windows are swept lazily. The zero value is not usable; use NewMemory.
// Memory is safe for concurrent use.
type Memory struct {
	seed   maphash.Seed
	shards [numShards]shard
}

type shard struct {
	mu  sync.Mutex
	m   map[string]window
	ops int
	_   [40]byte // keep shards on separate cache lines
}

type window struct {
	end   int64 // unix nanoseconds
	count int
}

// NewMemory returns an empty limiter.
func NewMemory() *Memory {
	m := &Memory{seed: maphash.MakeSeed()}
	for i := range m.shards {
		m.shards[i].m = make(map[string]window)
	}
	return m
}

// Allow counts one request for key at now against limit requests per
// window, if the current window has room. The error is always nil; it is
// there for backends that can fail.
func (m *Memory) Allow(_ context.Context, key string, limit int, win time.Duration, now time.Time) (Decision, error) {
	t := now.UnixNano()
	s := &m.shards[maphash.String(m.seed, key)%numShards]
	s.mu.Lock()
	w, ok := s.m[key]
	if !ok || t >= w.end {
		w = window{end: t + int64(win)}
	}
	d := Decision{Limit: limit, Reset: time.Duration(w.end - t)}
	if w.count < limit {
		w.count++
		d.Allowed = true
	}
	d.Count = w.count
	s.m[key] = w
	s.ops++
	if s.ops >= sweepEvery {
		s.ops = 0
		for k, v := range s.m {
			if t >= v.end {
				delete(s.m, k)
			}
		}
	}
	s.mu.Unlock()
	return d, nil
}

// Reset forgets every window.
func (m *Memory) Reset(context.Context) error {
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		clear(s.m)
		s.ops = 0
		s.mu.Unlock()
	}
	return nil
}

// Len returns the number of keys with a window (ended ones not yet swept
// included).
func (m *Memory) Len() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		n += len(s.m)
		s.mu.Unlock()
	}
	return n
}
