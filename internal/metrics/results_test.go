package metrics

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func sampleRecorder(t0 time.Time) *Recorder {
	r := NewRecorder(t0, []StepKey{{"s", "a"}, {"s", "b"}, {"t", "c"}})
	for i := 0; i < 300; i++ {
		step := i % 3
		due := t0.Add(time.Duration(i) * 10 * time.Millisecond)
		shard := i % len(r.shards)
		r.Offered(shard, step, due)
		r.Begin(shard, step, due)
		status, class := 200, OK
		if i%7 == 0 {
			status, class = 429, Status
		}
		lat := time.Duration(1+i%50) * time.Millisecond
		r.RecordAttempt(shard, &Attempt{Step: step, Start: due, Latency: lat, Status: status, Class: class, BytesIn: 100, BytesOut: 50,
			HasRateLimit: true, Remaining: 300 - i, Reset: time.Second})
		r.RecordLogical(shard, &Logical{Step: step, Due: due, Start: due, End: due.Add(lat), Status: status, Class: class,
			Attempts: 1, Lost: status == 429, Err: "giving up"})
	}
	return r
}

func TestResultsRoundTrip(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	r := sampleRecorder(t0)
	r.Cut(t0.Add(time.Second), false)
	r.Cut(t0.Add(2*time.Second), false)
	r.Cut(t0.Add(3100*time.Millisecond), true)
	steal := 0.5
	res := r.Results(RunInfo{Plan: "p", Target: "http://127.0.0.1:1", Executors: map[string]string{"s": "closed", "t": "open"},
		Generator: &Generator{CPUs: 2, CPUS: 1.25, StealS: &steal}},
		t0.Add(3100*time.Millisecond))
	dir := filepath.Join(t.TempDir(), "out")
	if err := WriteDir(dir, res); err != nil {
		t.Fatal(err)
	}
	got, err := ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	// The summary and series compare as JSON: what a reader sees.
	js := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if diff := cmp.Diff(js(res.Summary), js(got.Summary)); diff != "" {
		t.Errorf("summary changed in the round trip (-wrote +read):\n%s", diff)
	}
	if diff := cmp.Diff(js(res.Series), js(got.Series)); diff != "" {
		t.Errorf("series changed in the round trip (-wrote +read):\n%s", diff)
	}
	if len(got.Hists) != 3 {
		t.Fatalf("histograms for %d steps, want 3", len(got.Hists))
	}
	for i, h := range got.Hists {
		w := res.Hists[i]
		if h.Key != w.Key || !h.FromSend.Equals(w.FromSend) || !h.FromDue.Equals(w.FromDue) || !h.Attempt.Equals(w.Attempt) {
			t.Errorf("histograms of %v changed in the round trip", w.Key)
		}
	}
	// The numbers themselves.
	s := got.Summary
	if s.Requests != 300 || s.Attempts != 300 || s.Statuses["429"] != 43 || s.Lost != 43 || s.Succeeded != 257 {
		t.Errorf("requests %d attempts %d 429s %d lost %d ok %d", s.Requests, s.Attempts, s.Statuses["429"], s.Lost, s.Succeeded)
	}
	if len(s.Scenarios) != 2 || s.Scenarios[0].Requests != 200 || len(s.Scenarios[0].Steps) != 2 || s.Scenarios[1].Executor != "open" {
		t.Errorf("scenarios %+v", s.Scenarios)
	}
	var total int64
	perStep := map[StepKey]int64{}
	for _, b := range got.Series {
		total += b.Completed
		var sum int64
		for _, sb := range b.Steps {
			sum += sb.Completed
			perStep[StepKey{sb.Scenario, sb.Step}] += sb.Completed
		}
		if sum != b.Completed {
			t.Errorf("bucket %v: steps completed %d, bucket %d", b.T, sum, b.Completed)
		}
	}
	for _, k := range []StepKey{{"s", "a"}, {"s", "b"}, {"t", "c"}} {
		if perStep[k] != 100 {
			t.Errorf("step %v: %d completed in the series, want 100", k, perStep[k])
		}
	}
	if total != 300 || len(got.Series) != 3 {
		t.Errorf("series: %d buckets with %d completed, want 3 buckets with 300", len(got.Series), total)
	}
}

// TestEventsLandInTheirOwnSecond: a sample counts in the second of its
// own timestamp even when it is recorded after that second was cut.
func TestEventsLandInTheirOwnSecond(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	r := NewRecorder(t0, []StepKey{{"s", "a"}})
	r.Offered(0, 0, t0.Add(999*time.Millisecond))
	r.Offered(0, 0, t0.Add(time.Second)) // exactly on the boundary: second 1
	r.Offered(0, 0, t0.Add(1500*time.Millisecond))
	b0 := r.Cut(t0.Add(time.Second), false)
	r.Offered(0, 0, t0.Add(500*time.Millisecond)) // late: second 0 is cut, so second 1
	b1 := r.Cut(t0.Add(2*time.Second), false)
	if b0.Offered != 1 || b1.Offered != 3 {
		t.Errorf("offered per second %d, %d; want 1, 3", b0.Offered, b1.Offered)
	}
}

func TestReadDirRejectsOtherSchemas(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	t0 := time.Now()
	res := sampleRecorder(t0).Results(RunInfo{}, t0.Add(time.Second))
	res.Summary.Schema = "floodgate.summary/v0"
	if err := WriteDir(dir, res); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadDir(dir); err == nil {
		t.Fatal("ReadDir accepted a summary of another schema")
	}
}

// TestMergeAddsGeneratorUsage: segments' CPU and steal add up; a part
// that did not measure them leaves the merged run without.
func TestMergeAddsGeneratorUsage(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	part := func(g *Generator) *Results {
		r := sampleRecorder(t0)
		r.Cut(t0.Add(time.Second), true)
		return r.Results(RunInfo{Plan: "p", Generator: g}, t0.Add(time.Second))
	}
	f := func(v float64) *float64 { return &v }
	m, err := Merge(part(&Generator{CPUs: 2, CPUS: 1.5, StealS: f(0.25)}), part(&Generator{CPUs: 4, CPUS: 2, StealS: f(0.5)}))
	if err != nil {
		t.Fatal(err)
	}
	g := m.Summary.Generator
	if g == nil || g.CPUs != 6 || g.CPUS != 3.5 || g.StealS == nil || *g.StealS != 0.75 {
		t.Fatalf("merged generator %+v, want 6 CPUs, 3.5 s CPU, 0.75 s steal", g)
	}
	if got := g.StealShare(0.25); got != 0.5 {
		t.Errorf("steal share %v, want 0.75 s / (6 CPUs × 0.25 s) = 0.5", got)
	}
	if m, _ = Merge(part(&Generator{CPUs: 2, CPUS: 1}), part(nil)); m.Summary.Generator != nil {
		t.Errorf("a part without usage: merged %+v, want none", m.Summary.Generator)
	}
	if m, _ = Merge(part(&Generator{CPUs: 2, CPUS: 1}), part(&Generator{CPUs: 1, CPUS: 1, StealS: f(1)})); m.Summary.Generator.StealS != nil {
		t.Errorf("a part without steal: merged steal %v, want none", *m.Summary.Generator.StealS)
	}
}

// TestStepSeriesFromDue: each second's per-step latency from due is that
// step's samples alone, whether the recorder has one step (whose second
// is the interval's own: RecordLogical keeps no copy) or several.
func TestStepSeriesFromDue(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	record := func(r *Recorder, step int, at, lat time.Duration) {
		due := t0.Add(at)
		r.RecordLogical(0, &Logical{Step: step, Due: due, Start: due, End: due.Add(lat), Status: 200})
	}
	one := NewRecorder(t0, []StepKey{{"s", "a"}})
	two := NewRecorder(t0, []StepKey{{"s", "a"}, {"s", "b"}})
	for i := range 100 {
		at := time.Duration(i) * 5 * time.Millisecond
		record(one, 0, at, time.Duration(1+i)*time.Millisecond)
		record(two, 0, at, time.Duration(1+i)*time.Millisecond)
		record(two, 1, at, time.Second) // b is slow: it must not show in a's
	}
	b := one.Cut(t0.Add(time.Second), true)
	if len(b.Steps) != 1 || b.Steps[0].FromDue.Count != 100 || b.Steps[0].FromDue != b.FromDue {
		t.Errorf("one step: step series %+v, want the interval's %+v", b.Steps, b.FromDue)
	}
	b = two.Cut(t0.Add(time.Second), true)
	if len(b.Steps) != 2 {
		t.Fatalf("two steps: %d in the bucket", len(b.Steps))
	}
	if a := b.Steps[0].FromDue; a.Count != 100 || a.Max > 101 || a.P50 < 49 || a.P50 > 52 {
		t.Errorf("two steps: a's from due %+v, want 100 samples of 1-100 ms", a)
	}
	if s := b.Steps[1].FromDue; s.Count != 100 || s.P50 < 990 {
		t.Errorf("two steps: b's from due %+v, want 100 samples of 1 s", s)
	}
}

// TestRecordLastIsAttemptThenLogical: RecordLast records what
// RecordAttempt then RecordLogical do: the same summary, series and
// lost list.
func TestRecordLastIsAttemptThenLogical(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	steps := []StepKey{{"s", "a"}, {"s", "b"}}
	apart, together := NewRecorder(t0, steps), NewRecorder(t0, steps)
	for i := range 200 {
		step, shard := i%2, i%len(apart.shards)
		due := t0.Add(time.Duration(i) * 7 * time.Millisecond)
		lat := time.Duration(1+i%40) * time.Millisecond
		status, class := 200, OK
		if i%9 == 0 {
			status, class = 503, Status
		}
		a := &Attempt{Step: step, Start: due, Latency: lat, Status: status, Class: class, BytesIn: 80, BytesOut: 40,
			HasRateLimit: i%3 == 0, Remaining: 500 - i, Reset: time.Second, Limit: 600}
		l := &Logical{Step: step, Due: due, Start: due, End: due.Add(lat), Status: status, Class: class,
			Attempts: 1, Lost: status == 503, Err: "giving up"}
		for _, r := range []*Recorder{apart, together} {
			r.Offered(shard, step, due)
			r.Begin(shard, step, due)
		}
		apart.RecordAttempt(shard, a)
		apart.RecordLogical(shard, l)
		together.RecordLast(shard, a, l)
	}
	js := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, at := range []time.Duration{time.Second, 2 * time.Second} {
		final := at == 2*time.Second
		if diff := cmp.Diff(js(apart.Cut(t0.Add(at), final)), js(together.Cut(t0.Add(at), final))); diff != "" {
			t.Errorf("second ending at %v (-apart +together):\n%s", at, diff)
		}
	}
	end := t0.Add(2 * time.Second)
	sa, st := apart.Results(RunInfo{Plan: "p"}, end), together.Results(RunInfo{Plan: "p"}, end)
	if diff := cmp.Diff(js(sa.Summary), js(st.Summary)); diff != "" {
		t.Errorf("summary (-apart +together):\n%s", diff)
	}
	if st.Summary.Lost != 23 || st.Summary.Attempts != 200 {
		t.Errorf("together: %d lost, %d attempts; want 23 and 200", st.Summary.Lost, st.Summary.Attempts)
	}
}

func TestParseErrCode(t *testing.T) {
	for body, want := range map[string]ErrCode{
		`{"message":"x","code":"missing.permissions","status":403,"messageParams":{}}`: CodeMissingPermissions,
		`{"code" : "not.authorized"}`:                           CodeNotAuthorized,
		`{"status":429,"code":"too.many.requests"}`:             CodeTooManyRequests,
		`{"code":"too.many.requests.retry.after","status":429}`: CodeTooManyRetryAfter,
		`{"code":"bad.request"}`:                                CodeOther,
		`{"message":"No authentication bearer token specified in authorization header.","code":"authentication.required","status":401}`: CodeAuthRequired,
		`{"code":"bad.credentials","status":401}`:         CodeBadCredentials,
		`{"code":"credentials.expired","status":401}`:     CodeCredentialsExpired,
		`{"code":"missing.any.permissions","status":403}`: CodeMissingAnyPermissions,
		`{"code":42}`:           NoCode,
		`<html>503</html>`:      NoCode,
		``:                      NoCode,
		`{"code":"unterminated`: NoCode,
	} {
		if got := ParseErrCode([]byte(body)); got != want {
			t.Errorf("ParseErrCode(%s) = %q, want %q", body, got, want)
		}
	}
}

// TestWallEvidence: codes, Retry-After counts, time on the wire and a
// step's acceptance times after its first refusal reach the summary and
// the series, survive a results dir, and a merge shifts each part's
// acceptance times to the merged start.
func TestWallEvidence(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	part := func(start time.Time) *Results {
		r := NewRecorder(start, []StepKey{{"s", "job"}})
		r.SetEndpoint(0, "POST /api/v2/recording/jobs")
		at := func(ms int, status int, code ErrCode, ra bool, shard int) {
			r.RecordAttempt(shard, &Attempt{Step: 0, Start: start.Add(time.Duration(ms) * time.Millisecond), Latency: 2 * time.Millisecond,
				Status: status, Code: code, RetryAfter: ra})
		}
		at(0, 202, NoCode, false, 0) // before any refusal: not kept
		at(10, 429, CodeTooManyRequests, false, 0)
		at(20, 429, CodeTooManyRetryAfter, true, 1)
		at(298, 202, NoCode, false, 0)
		at(300, 202, NoCode, false, 1) // shard 1's first refusal came before it
		r.Cut(start.Add(time.Second), true)
		return r.Results(RunInfo{Plan: "p"}, start.Add(time.Second))
	}
	res := part(t0)
	dir := t.TempDir()
	if err := WriteDir(dir, res); err != nil {
		t.Fatal(err)
	}
	back, err := ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	st := back.Summary.Scenarios[0].Steps[0]
	if !slices.Equal(st.AcceptTimesMs, []int64{298, 300}) || st.Endpoint != "POST /api/v2/recording/jobs" ||
		st.Codes["too.many.requests"] != 1 || st.Codes["too.many.requests.retry.after"] != 1 || st.WithRetryAfter != 1 {
		t.Errorf("step %+v", st)
	}
	b := back.Series[0]
	if b.WireMs != 10 || b.Codes["too.many.requests"] != 1 || b.WithRetryAfter != 1 || b.Steps[0].Codes["too.many.requests.retry.after"] != 1 {
		t.Errorf("bucket wire %v codes %v with RA %d, step codes %v", b.WireMs, b.Codes, b.WithRetryAfter, b.Steps[0].Codes)
	}
	m, err := Merge(res, part(t0.Add(500*time.Millisecond)))
	if err != nil {
		t.Fatal(err)
	}
	ms := m.Summary.Scenarios[0].Steps[0]
	if !slices.Equal(ms.AcceptTimesMs, []int64{298, 300, 798, 800}) || ms.Codes["too.many.requests"] != 2 || ms.WithRetryAfter != 2 || ms.Endpoint == "" {
		t.Errorf("merged step %+v", ms)
	}
}

// TestControlStepDrops: a control step's own samples stay out of the
// totals, but the iterations dropped on it (a scenario's first step) are
// offered and dropped there, by the recorder and by a merge alike.
func TestControlStepDrops(t *testing.T) {
	t0 := time.Unix(1000, 0)
	r := NewRecorder(t0, []StepKey{{"s", "g"}, {"s", "g/req"}})
	r.SetControl(0, "group")
	at := t0.Add(100 * time.Millisecond)
	r.Offered(0, 0, at) // run
	r.Begin(0, 0, at)
	r.Offered(0, 1, at)
	r.Begin(0, 1, at)
	r.RecordLast(0, &Attempt{Step: 1, Start: at, Latency: time.Millisecond, Status: 200}, &Logical{Step: 1, Due: at, Start: at, End: at.Add(time.Millisecond), Status: 200, Attempts: 1})
	r.RecordLogical(0, &Logical{Step: 0, Due: at, Start: at, End: at.Add(time.Millisecond), Status: 200})
	r.Offered(0, 0, at) // dropped
	r.Dropped(0, 0, at)
	r.DroppedN(0, 0, at, 2)
	if n := r.InFlight(); n != 0 {
		t.Errorf("%d in flight after every request ended", n)
	}
	b := r.Cut(t0.Add(time.Second), true)
	if b.Offered != 4 || b.Dropped != 3 || b.Started != 1 || b.Completed != 1 || b.InFlightMax != 1 {
		t.Errorf("second: offered %d, dropped %d, started %d, completed %d, in flight %d; want 4, 3, 1, 1, 1", b.Offered, b.Dropped, b.Started, b.Completed, b.InFlightMax)
	}
	// check wants k copies of the counts above.
	check := func(what string, s *Summary, k int64) {
		t.Helper()
		st := s.Stats
		if st.Offered != 4*k || st.Dropped != 3*k || st.Started != k || st.Requests != k || st.Attempts != k || st.RetryAmplification != 1 {
			t.Errorf("%s: offered %d, dropped %d, started %d, requests %d, attempts %d, amplification %v; want %d, %d, %d, %d, %d, 1",
				what, st.Offered, st.Dropped, st.Started, st.Requests, st.Attempts, st.RetryAmplification, 4*k, 3*k, k, k, k)
		}
		if g := s.Scenarios[0].Steps[0]; g.Control != "group" || g.Offered != 4*k || g.Requests != k {
			t.Errorf("%s: group step %q, offered %d, requests %d; want group, %d, %d", what, g.Control, g.Offered, g.Requests, 4*k, k)
		}
	}
	res := r.Results(RunInfo{}, t0.Add(time.Second))
	check("recorded", res.Summary, 1)
	m, err := Merge(res, res)
	if err != nil {
		t.Fatal(err)
	}
	check("merged", m.Summary, 2)
}

// TestGraceCut: a grace period that runs out with requests in flight is
// kept (first time, largest count) in the summary and in a merge (the
// earliest time, the counts added); one with nothing in flight is none.
func TestGraceCut(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	part := func(inflight int, at ...time.Duration) *Results {
		r := NewRecorder(t0, []StepKey{{Scenario: "s", Step: "a"}})
		for range inflight {
			r.Begin(0, 0, t0)
		}
		for _, d := range at {
			r.NoteGraceCut(t0.Add(d))
		}
		r.Cut(t0.Add(4*time.Second), true)
		return r.Results(RunInfo{Plan: "p"}, t0.Add(4*time.Second))
	}
	if c := part(0, 3*time.Second).Summary.GraceCut; c != nil {
		t.Errorf("nothing in flight: cut %+v, want none", c)
	}
	a := part(7, 3*time.Second, 3500*time.Millisecond)
	if c := a.Summary.GraceCut; c == nil || c.AtS != 3 || c.InFlight != 7 {
		t.Fatalf("cut %+v, want 7 at 3 s", c)
	}
	m, err := Merge(a, part(5, 2*time.Second), part(0))
	if err != nil {
		t.Fatal(err)
	}
	if c := m.Summary.GraceCut; c == nil || c.AtS != 2 || c.InFlight != 12 {
		t.Errorf("merged cut %+v, want 12 at 2 s", c)
	}
}
