package engine

import (
	"context"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/floodgate-dev/floodgate/internal/metrics"
	"github.com/floodgate-dev/floodgate/internal/plan"
)

// The hot path's benchmarks; bench/README.md has the figures and how they
// compare with wrk and hey on loopback.
//
//	go test -run '^$' -bench . -benchtime 2s ./internal/engine/
//	go test -run '^$' -bench ScheduleSendRecord -cpuprofile cpu.out ./internal/engine/

// recordSample is what a VU records for one request that took one attempt.
func recordSample(rec *metrics.Recorder, shard int, at *metrics.Attempt, l *metrics.Logical) {
	rec.Begin(shard, 0, at.Start)
	rec.RecordLast(shard, at, l) // a request step's last attempt waits for its logical sample
}

// sample fills at and l, which the caller owns and reuses as a VU does,
// with the i-th request's samples.
func sample(i int, t0 time.Time, at *metrics.Attempt, l *metrics.Logical) {
	lat := time.Duration(200+i%5000) * time.Microsecond
	start := t0.Add(time.Duration(i%1000) * time.Microsecond)
	*at = metrics.Attempt{Step: 0, Start: start, Latency: lat, Status: 200, BytesIn: 120, BytesOut: 60}
	*l = metrics.Logical{Step: 0, Due: start, Start: start, End: start.Add(lat), Status: 200, Attempts: 1}
}

// BenchmarkRecordSample records one request's samples on a shard as a
// request step does: Begin, then its attempt and logical request together
// (RecordLast). It must not allocate.
func BenchmarkRecordSample(b *testing.B) {
	rec := metrics.NewRecorder(time.Now(), []metrics.StepKey{{Scenario: "s", Step: "get"}})
	shard := rec.Shard()
	at, l := new(metrics.Attempt), new(metrics.Logical)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		sample(i, rec.Start(), at, l)
		recordSample(rec, shard, at, l)
		i++
	}
}

// TestRecordSampleDoesNotAllocate holds BenchmarkRecordSample's 0 allocs/op.
func TestRecordSampleDoesNotAllocate(t *testing.T) {
	rec := metrics.NewRecorder(time.Now(), []metrics.StepKey{{Scenario: "s", Step: "get"}})
	shard := rec.Shard()
	at, l := new(metrics.Attempt), new(metrics.Logical)
	i := 0
	if n := testing.AllocsPerRun(1000, func() {
		sample(i, rec.Start(), at, l)
		recordSample(rec, shard, at, l)
		i++
	}); n != 0 {
		t.Errorf("recording one request allocates %v times, want 0", n)
	}
	// A retried request records its earlier attempts on their own.
	if n := testing.AllocsPerRun(1000, func() {
		sample(i, rec.Start(), at, l)
		rec.Begin(shard, 0, at.Start)
		rec.RecordAttempt(shard, at)
		rec.RecordLast(shard, at, l)
		i++
	}); n != 0 {
		t.Errorf("recording a retried request allocates %v times, want 0", n)
	}
}

// BenchmarkScheduleSendRecord runs an open-model plan of b.N arrivals at
// 50,000/s against an in-process transport (no network): scheduling,
// hand-over to VUs, Client.Do, and recording, end to end. Its wall time
// per request is the schedule's 20 µs whenever the engine keeps up, so
// the figure to read is cpu-ns/req (the process's user+system CPU time
// per request, every goroutine included); allocs/op are per request too.
// dropped/op must stay 0: a dropped arrival costs less than a request.
func BenchmarkScheduleSendRecord(b *testing.B) {
	const rate = 50000
	p := testPlan(plan.Executor{Open: &plan.Open{
		Rate:     plan.Rate{Count: rate, Per: time.Second},
		Duration: time.Duration(b.N) * time.Second / rate,
		MaxVUs:   100,
	}})
	p.Retry = &plan.Retry{Off: true}
	e, err := New(p, WithTransport(fixed(200, 0)))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	if err := e.Run(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	cpu := cpuTime() - cpu0
	s := e.Recorder().Summarize(metrics.RunInfo{}, e.Ended())
	if s.Requests+s.Dropped != int64(b.N) {
		b.Fatalf("requests %d + dropped %d, want %d arrivals", s.Requests, s.Dropped, b.N)
	}
	b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/req")
	b.ReportMetric(float64(s.Dropped)/float64(b.N), "dropped/op")
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	u, s := cpuTimes()
	return u + s
}

// cpuTimes returns the process's user and system CPU time so far.
func cpuTimes() (user, sys time.Duration) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0
	}
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}

// BenchmarkClosedLoopback sends b.N GETs from 50 closed-model VUs to the
// server at $FLOODGATE_BENCH_URL (skipped when unset), for profiling the
// real transport: ns/op is the inverse of the throughput.
//
//	FLOODGATE_BENCH_URL=http://127.0.0.1:18080 taskset -c 1 \
//	  go test -run '^$' -bench ClosedLoopback -benchtime 200000x -cpuprofile cpu.out ./internal/engine/
func BenchmarkClosedLoopback(b *testing.B) {
	url := os.Getenv("FLOODGATE_BENCH_URL")
	if url == "" {
		b.Skip("FLOODGATE_BENCH_URL not set")
	}
	const vus = 50
	p := testPlan(plan.Executor{Closed: &plan.Closed{VUs: vus, Iterations: (b.N + vus - 1) / vus}})
	p.Target = url
	p.Scenarios[0].Steps[0].Request.Path = "/"
	p.Retry = &plan.Retry{Off: true}
	e, err := New(p)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	user0, sys0 := cpuTimes()
	b.ResetTimer()
	if err := e.Run(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	user1, sys1 := cpuTimes()
	s := e.Recorder().Summarize(metrics.RunInfo{}, e.Ended())
	if s.Succeeded != s.Requests {
		b.Fatalf("%d of %d requests failed: %v", s.Requests-s.Succeeded, s.Requests, s.Errors)
	}
	// System time is mostly the kernel's loopback work, the server's
	// share included; user time is the generator's own.
	b.ReportMetric(float64(user1-user0+sys1-sys0)/float64(s.Requests), "cpu-ns/req")
	b.ReportMetric(float64(user1-user0)/float64(s.Requests), "user-ns/req")
	b.ReportMetric(float64(s.Requests)/e.Ended().Sub(e.Started()).Seconds(), "req/s")
}
