package ratelimit

import (
	"context"
	"fmt"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// TestExactUnderConcurrency: 1,000 goroutines race for 300 slots of one
// key; exactly 300 win, and the counts they see are 1..300 once each.
func TestExactUnderConcurrency(t *testing.T) {
	t.Parallel()
	m := NewMemory()
	const goroutines, perG, limit = 1000, 3, 300
	var admitted atomic.Int64
	seen := make([]atomic.Int32, limit+1)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := range perG {
				// Every call is inside the same window.
				now := t0.Add(time.Duration(g*perG+i) * time.Microsecond)
				d, err := m.Allow(context.Background(), "t:token", limit, time.Minute, now)
				if err != nil {
					t.Error(err)
					return
				}
				if d.Count > limit || d.Limit != limit {
					t.Errorf("decision %+v", d)
				}
				if d.Allowed {
					admitted.Add(1)
					seen[d.Count].Add(1)
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	if got := admitted.Load(); got != limit {
		t.Fatalf("admitted %d, want exactly %d", got, limit)
	}
	for c := 1; c <= limit; c++ {
		if n := seen[c].Load(); n != 1 {
			t.Errorf("count %d seen %d times", c, n)
		}
	}
}

// TestConcurrentKeys: many keys at once, each exact.
func TestConcurrentKeys(t *testing.T) {
	t.Parallel()
	m := NewMemory()
	const keys, goroutines, limit = 50, 1000, 7
	var admitted [keys]atomic.Int64
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range keys {
				if d, _ := m.Allow(context.Background(), fmt.Sprint("k", k), limit, time.Second, t0); d.Allowed {
					admitted[k].Add(1)
				}
			}
		}()
		_ = g
	}
	wg.Wait()
	for k := range keys {
		if got := admitted[k].Load(); got != limit {
			t.Errorf("key %d admitted %d, want %d", k, got, limit)
		}
	}
}

func TestFixedWindow(t *testing.T) {
	t.Parallel()
	m := NewMemory()
	ctx := context.Background()
	allow := func(at time.Duration) Decision {
		d, _ := m.Allow(ctx, "k", 2, 10*time.Second, t0.Add(at))
		return d
	}
	for _, tc := range []struct {
		at   time.Duration
		want Decision
	}{
		{0, Decision{Allowed: true, Count: 1, Limit: 2, Reset: 10 * time.Second}},
		{3 * time.Second, Decision{Allowed: true, Count: 2, Limit: 2, Reset: 7 * time.Second}},
		{9 * time.Second, Decision{Allowed: false, Count: 2, Limit: 2, Reset: time.Second}},
		// The window is anchored at the first request: it ends at +10s,
		// not 10 s after the last one.
		{10 * time.Second, Decision{Allowed: true, Count: 1, Limit: 2, Reset: 10 * time.Second}},
		{19*time.Second + 500*time.Millisecond, Decision{Allowed: true, Count: 2, Limit: 2, Reset: 500 * time.Millisecond}},
	} {
		if got := allow(tc.at); got != tc.want {
			t.Errorf("at +%s: %+v, want %+v", tc.at, got, tc.want)
		}
	}
	if err := m.Reset(ctx); err != nil || m.Len() != 0 {
		t.Errorf("Reset: %v, %d keys left", err, m.Len())
	}
	if got := allow(19 * time.Second); !got.Allowed || got.Count != 1 {
		t.Errorf("after Reset: %+v", got)
	}
}

func TestSweepForgetsEndedWindows(t *testing.T) {
	t.Parallel()
	m := NewMemory()
	ctx := context.Background()
	for i := range 10 * sweepEvery {
		_, _ = m.Allow(ctx, fmt.Sprint(i), 1, time.Second, t0)
	}
	// Later traffic on one other key per shard, sweepEvery requests each,
	// makes every shard sweep. (Random keys left a shard with too few of
	// them to sweep in about one run of 50: the seed is per process.)
	live := make([]string, 0, numShards)
	for i, seen := 0, map[uint64]bool{}; len(live) < numShards; i++ {
		k := fmt.Sprint("live", i)
		if sh := maphash.String(m.seed, k) % numShards; !seen[sh] {
			seen[sh] = true
			live = append(live, k)
		}
	}
	later := t0.Add(time.Hour)
	for _, k := range live {
		for range sweepEvery {
			_, _ = m.Allow(ctx, k, 1<<30, time.Hour, later)
		}
	}
	if n := m.Len(); n > len(live) {
		t.Errorf("%d keys remain after sweeps, want at most the %d live ones", n, len(live))
	}
}

func BenchmarkAllow(b *testing.B) {
	m := NewMemory()
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			_, _ = m.Allow(ctx, "t:abcdefghijklmnopqrstuvwxyz", 1<<30, time.Minute, t0.Add(time.Duration(i)))
		}
	})
}

func ExampleMemory_Allow() {
	m := NewMemory()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 3 {
		d, _ := m.Allow(context.Background(), "token-1", 2, time.Minute, start.Add(time.Duration(i)*10*time.Second))
		fmt.Println(d.Allowed, d.Count, d.Limit, d.Reset)
	}
	// Output:
	// true 1 2 1m0s
	// true 2 2 50s
	// false 2 2 40s
}
