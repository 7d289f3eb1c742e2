package metrics

import (
	"testing"
	"time"
)

// TestBucketSplitsOKFromKO: a second's failures and successes get their
// own latency percentiles, the whole stays their union, and attempts
// count by class.
func TestBucketSplitsOKFromKO(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	r := NewRecorder(t0, []StepKey{{"s", "a"}})
	rec := func(shard int, at time.Time, lat time.Duration, status int, class Class) {
		r.Begin(shard, 0, at)
		r.RecordLast(shard, &Attempt{Step: 0, Start: at, Latency: lat, Status: status, Class: class},
			&Logical{Step: 0, Due: at, Start: at, End: at.Add(lat), Status: status, Class: class, Attempts: 1})
	}
	for i := range 40 {
		at := t0.Add(time.Duration(i) * 10 * time.Millisecond)
		if i%4 == 0 {
			rec(i%len(r.shards), at, time.Millisecond, 403, Status) // fast refusals
		} else {
			rec(i%len(r.shards), at, 200*time.Millisecond, 200, OK)
		}
	}
	rec(0, t0.Add(500*time.Millisecond), 5*time.Millisecond, 0, Connect)
	b := r.Cut(t0.Add(time.Second), false)
	if b.OK == nil || b.KO == nil {
		t.Fatalf("bucket with failures has OK %v, KO %v; want both", b.OK, b.KO)
	}
	if b.OK.FromDue.Count != 30 || b.KO.FromDue.Count != 11 || b.FromDue.Count != 41 {
		t.Errorf("counts ok %d ko %d all %d; want 30, 11, 41", b.OK.FromDue.Count, b.KO.FromDue.Count, b.FromDue.Count)
	}
	if b.OK.FromDue.P50 < 190 || b.KO.FromDue.P50 > 2 {
		t.Errorf("p50 ok %.1f ms, ko %.1f ms; want ~200 and ~1", b.OK.FromDue.P50, b.KO.FromDue.P50)
	}
	if b.AttemptErrors["status"] != 10 || b.AttemptErrors["connect"] != 1 || b.AttemptErrors["ok"] != 0 {
		t.Errorf("attempt errors %v; want status 10, connect 1", b.AttemptErrors)
	}

	// A second without failures keeps no split: OK is the whole.
	rec(0, t0.Add(1200*time.Millisecond), 50*time.Millisecond, 200, OK)
	b2 := r.Cut(t0.Add(2*time.Second), false)
	if b2.OK != nil || b2.KO != nil {
		t.Errorf("clean second has OK %v, KO %v; want nil", b2.OK, b2.KO)
	}
	if ok, ko := b2.Split(); ok.FromDue.Count != 1 || ko.FromDue.Count != 0 {
		t.Errorf("Split of a clean second: ok %d, ko %d; want 1, 0", ok.FromDue.Count, ko.FromDue.Count)
	}

	// Drawn as one, the two keep the split and its counts.
	m := b
	m.OK, m.KO = new(BucketLatency), new(BucketLatency)
	*m.OK, *m.KO = *b.OK, *b.KO
	m.AddCounts(&b2)
	if m.OK.FromDue.Count != 31 || m.KO.FromDue.Count != 11 || m.FromDue.Count != 42 {
		t.Errorf("added: ok %d ko %d all %d; want 31, 11, 42", m.OK.FromDue.Count, m.KO.FromDue.Count, m.FromDue.Count)
	}
}
