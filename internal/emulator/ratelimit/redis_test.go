package ratelimit

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// testRedis connects to the Redis named by FLOODGATE_REDIS_ADDR, which the
// test script starts. Without it the test skips on a laptop and fails in
// CI, where a skip would hide that Redis is not being tested.
func testRedis(t testing.TB) *Redis {
	t.Helper()
	addr := os.Getenv("FLOODGATE_REDIS_ADDR")
	if addr == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("FLOODGATE_REDIS_ADDR is not set: scripts/test.sh starts redis-server and sets it")
		}
		t.Skip("no Redis: run via scripts/test.sh, or set FLOODGATE_REDIS_ADDR=127.0.0.1:PORT")
	}
	c := redis.NewClient(&redis.Options{Addr: addr, PoolSize: 64})
	t.Cleanup(func() { c.Close() })
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("redis at %s: %v", addr, err)
	}
	prefix := fmt.Sprintf("fgtest-%s-%d", t.Name(), time.Now().UnixNano())
	r := NewRedis(c, prefix)
	t.Cleanup(func() { r.Reset(context.Background()) })
	return r
}

// TestRedisExactUnderConcurrency: 1,000 goroutines, 3 calls each, against
// a limit of 300 in a window longer than the test: exactly 300 admitted,
// each count 1..300 seen once.
func TestRedisExactUnderConcurrency(t *testing.T) {
	r := testRedis(t)
	var admitted atomic.Int64
	seen := make([]atomic.Int32, 301)
	var wg sync.WaitGroup
	for g := 0; g < 1000; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 3; i++ {
				d, err := r.Allow(context.Background(), "tok", 300, time.Minute, time.Time{})
				if err != nil {
					t.Error(err)
					return
				}
				if d.Allowed {
					admitted.Add(1)
					seen[d.Count].Add(1)
				} else if d.Count != 300 || d.Reset <= 0 || d.Reset > time.Minute {
					t.Errorf("refusal %+v: want count 300 and a reset within the window", d)
				}
			}
		}()
	}
	wg.Wait()
	if admitted.Load() != 300 {
		t.Fatalf("admitted %d, want exactly 300", admitted.Load())
	}
	for c := 1; c <= 300; c++ {
		if seen[c].Load() != 1 {
			t.Fatalf("count %d seen %d times, want once", c, seen[c].Load())
		}
	}
}

func TestRedisWindowResets(t *testing.T) {
	r := testRedis(t)
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		if d, _ := r.Allow(ctx, "k", 5, 200*time.Millisecond, time.Time{}); !d.Allowed {
			t.Fatalf("request %d refused within the limit", i+1)
		}
	}
	d, _ := r.Allow(ctx, "k", 5, 200*time.Millisecond, time.Time{})
	if d.Allowed || d.Reset > 200*time.Millisecond {
		t.Fatalf("6th request: %+v, want refused with reset ≤ 200ms", d)
	}
	// Wait out the window Redis told us about (Redis's clock decides).
	time.Sleep(d.Reset + 20*time.Millisecond)
	if d, _ := r.Allow(ctx, "k", 5, 200*time.Millisecond, time.Time{}); !d.Allowed || d.Count != 1 {
		t.Fatalf("after the reset: %+v, want a new window with count 1", d)
	}
}

func TestRedisConcurrencyCap(t *testing.T) {
	r := testRedis(t)
	ctx := context.Background()
	var releases []func()
	for i := 0; i < 3; i++ {
		rel, ok, err := r.Acquire(ctx, "jobs", 3, time.Minute, fmt.Sprint("h", i))
		if err != nil || !ok {
			t.Fatalf("slot %d: ok %v err %v", i, ok, err)
		}
		releases = append(releases, rel)
	}
	if _, ok, _ := r.Acquire(ctx, "jobs", 3, time.Minute, "h3"); ok {
		t.Fatal("a 4th slot was granted under a cap of 3")
	}
	releases[0]()
	if _, ok, _ := r.Acquire(ctx, "jobs", 3, time.Minute, "h4"); !ok {
		t.Fatal("a released slot was not granted again")
	}
	// A holder that never releases loses its slot when its lease ends.
	if _, ok, _ := r.Acquire(ctx, "short", 1, 50*time.Millisecond, "dies"); !ok {
		t.Fatal("first slot refused")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, ok, _ := r.Acquire(ctx, "short", 1, time.Minute, "next"); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("an expired lease was never freed")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func BenchmarkRedisAllow(b *testing.B) {
	r := testRedis(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			if _, err := r.Allow(ctx, fmt.Sprint("tok", i%64), 1<<30, time.Minute, time.Time{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
}
