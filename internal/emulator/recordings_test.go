package emulator

import (
	"encoding/json"
	"io/fs"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/floodgate-dev/floodgate/internal/emulator/config"
)

const exportJob = `{"action":"EXPORT","actionDate":"2026-06-01T00:00:00.000Z","integrationId":"s3-int-1",
	"conversationQuery":{"interval":"2026-05-01T00:00:00.000Z/2026-05-02T00:00:00.000Z"}}`

// withClients adds clients to cfg's org: "other" holds every permission,
// "jobber" may only add, view and edit jobs.
func withClients(cfg Config) Config {
	cfg.Orgs[0].Clients = append(cfg.Orgs[0].Clients,
		config.Client{ID: "other", Name: "other", Secret: "other-secret", Permissions: []string{"*:*:*"}, TokenLifetime: config.DefaultTokenLifetime},
		config.Client{ID: "jobber", Name: "jobber", Secret: "jobber-secret", Permissions: []string{"recording:job:*"}, TokenLifetime: config.DefaultTokenLifetime},
	)
	return cfg
}

// exportedFiles walks dir and returns recording files and metadata files
// by path relative to dir; it fails on leftover temporary files.
func exportedFiles(t *testing.T, dir string) (recs, metas []string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		switch {
		case strings.Contains(d.Name(), ".tmp-"):
			t.Errorf("temporary file left: %s", rel)
		case strings.HasSuffix(rel, "_metadata.json"):
			metas = append(metas, rel)
		default:
			recs = append(recs, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return recs, metas
}

func TestRecordingExportEndToEnd(t *testing.T) {
	t.Parallel()
	cfg := liveConfig(t)
	l := startLive(t, cfg)
	tok := l.demoToken()
	var ids []string
	for range 3 {
		ids = append(ids, l.createCall(tok, "q1"))
	}
	ids = append(ids, l.createMessage(tok, "q1", "+15550101"), l.createMessage(tok, "q1", "+15550102"))
	l.clock.Advance(time.Minute)

	job := l.json("POST", "/api/v2/recording/jobs", tok, exportJob, 202)
	id := job["id"].(string)
	if job["state"] != "PENDING" || job["selfUri"] != "/api/v2/recording/jobs/"+id ||
		job["failedRecordings"] != "/api/v2/recording/jobs/"+id+"/failedrecordings" {
		t.Fatalf("created job = %v", job)
	}
	if q := job["recordingJobsQuery"].(map[string]any); q["action"] != "EXPORT" || q["integrationId"] != "s3-int-1" {
		t.Errorf("recordingJobsQuery = %v", q)
	}
	path := "/api/v2/recording/jobs/" + id
	if st := l.json("GET", path, tok, "", 200)["state"]; st != "PENDING" {
		t.Fatalf("state %v before ready_after, want PENDING", st)
	}
	l.clock.Advance(30 * time.Second)
	job = l.json("GET", path, tok, "", 200)
	if job["state"] != "READY" || job["totalConversations"] != 5.0 || job["totalRecordings"] != 5.0 || job["percentProgress"] != 0.0 {
		t.Fatalf("after ready_after: %v", job)
	}
	job = l.json("PUT", path, tok, `{"state":"PROCESSING"}`, 202)
	if job["state"] != "PROCESSING" {
		t.Fatalf("PUT: %v", job)
	}
	l.clock.Advance(2 * time.Second) // 4 of 5 recordings due (500 ms each)
	job = l.json("GET", path, tok, "", 200)
	if job["state"] != "PROCESSING" || job["totalProcessedRecordings"] != 4.0 || job["percentProgress"] != 80.0 {
		t.Fatalf("midway: %v", job)
	}
	recs, _ := exportedFiles(t, cfg.ExportDir)
	if len(recs) != 4 {
		t.Errorf("midway: %d recordings on disk, the job counts 4", len(recs))
	}
	l.clock.Advance(time.Second)
	job = l.json("GET", path, tok, "", 200)
	if job["state"] != "FULFILLED" || job["totalProcessedRecordings"] != 5.0 || job["totalFailedRecordings"] != 0.0 || job["percentProgress"] != 100.0 {
		t.Fatalf("done: %v", job)
	}

	// The files on disk are exactly what the job counts, laid out like the
	// platform's S3 export.
	recs, metas := exportedFiles(t, cfg.ExportDir)
	if len(recs) != 5 || len(metas) != 5 {
		t.Fatalf("on disk: %d recordings, %d metadata files; want 5 and 5", len(recs), len(metas))
	}
	layout := regexp.MustCompile(`^` + DemoOrgID + `/year=2026/month=5/day=1/hour=12/conversation_id=([0-9a-f-]{36})/([0-9a-f-]{36})$`)
	var seen []string
	for _, r := range recs {
		m := layout.FindStringSubmatch(r)
		if m == nil {
			t.Errorf("recording path %s does not follow the S3 layout", r)
			continue
		}
		seen = append(seen, m[1])
		raw, err := os.ReadFile(filepath.Join(cfg.ExportDir, r+"_metadata.json"))
		if err != nil {
			t.Errorf("metadata of %s: %v", r, err)
			continue
		}
		var meta map[string]any
		if err := json.Unmarshal(raw, &meta); err != nil {
			t.Fatal(err)
		}
		if meta["conversationId"] != m[1] || meta["recordingId"] != m[2] || meta["jobId"] != id || meta["durationMs"] != 600000.0 {
			t.Errorf("metadata of %s = %v", r, meta)
		}
		audio, _ := os.ReadFile(filepath.Join(cfg.ExportDir, r))
		if len(audio) < 44 || string(audio[:4]) != "RIFF" || meta["contentLength"] != float64(len(audio)) {
			t.Errorf("recording %s is not the synthetic WAV (%d bytes)", r, len(audio))
		}
	}
	slices.Sort(seen)
	slices.Sort(ids)
	if !slices.Equal(seen, ids) {
		t.Errorf("exported conversations %v, want %v", seen, ids)
	}

	want := `
# HELP floodgate_emulator_recording_jobs Recording bulk jobs kept, by state.
# TYPE floodgate_emulator_recording_jobs gauge
floodgate_emulator_recording_jobs{state="CANCELLED"} 0
floodgate_emulator_recording_jobs{state="FAILED"} 0
floodgate_emulator_recording_jobs{state="FULFILLED"} 1
floodgate_emulator_recording_jobs{state="PENDING"} 0
floodgate_emulator_recording_jobs{state="PROCESSING"} 0
floodgate_emulator_recording_jobs{state="READY"} 0
# HELP floodgate_emulator_recordings_exported_total Recordings handled by recording jobs, by result (processed, failed, skipped).
# TYPE floodgate_emulator_recordings_exported_total counter
floodgate_emulator_recordings_exported_total{result="failed"} 0
floodgate_emulator_recordings_exported_total{result="processed"} 5
floodgate_emulator_recordings_exported_total{result="skipped"} 0
`
	if err := testutil.GatherAndCompare(l.s.metrics.reg, strings.NewReader(want),
		"floodgate_emulator_recording_jobs", "floodgate_emulator_recordings_exported_total"); err != nil {
		t.Error(err)
	}

	list := l.json("GET", "/api/v2/recording/jobs?state=FULFILLED", tok, "", 200)
	if list["total"] != 1.0 || list["entities"].([]any)[0].(map[string]any)["id"] != id {
		t.Errorf("list = %v", list)
	}
	if n := l.json("GET", "/api/v2/recording/jobs?state=PENDING", tok, "", 200)["total"]; n != 0.0 {
		t.Errorf("PENDING jobs = %v", n)
	}
}

// runFailures exports 10 calls with failure_probability 0.5 and returns
// which of them (in creation order) failed.
func runFailures(t *testing.T) []bool {
	cfg := liveConfig(t)
	cfg.Recordings.FailureProbability = 0.5
	l := startLive(t, cfg)
	tok := l.demoToken()
	var ids []string
	for range 10 {
		ids = append(ids, l.createCall(tok, "q1"))
	}
	id := l.json("POST", "/api/v2/recording/jobs", tok, exportJob, 202)["id"].(string)
	l.clock.Advance(30 * time.Second)
	l.json("PUT", "/api/v2/recording/jobs/"+id, tok, `{"state":"PROCESSING"}`, 202)
	l.clock.Advance(5 * time.Second)
	job := l.json("GET", "/api/v2/recording/jobs/"+id, tok, "", 200)
	processed, failed := job["totalProcessedRecordings"].(float64), job["totalFailedRecordings"].(float64)
	if job["state"] != "FULFILLED" || processed+failed != 10 || failed == 0 || processed == 0 {
		t.Fatalf("job = %v", job)
	}
	recs, metas := exportedFiles(t, cfg.ExportDir)
	if len(recs) != int(processed) || len(metas) != int(processed) {
		t.Errorf("%d recordings and %d metadata on disk, job counts %v processed", len(recs), len(metas), processed)
	}
	fr := l.json("GET", "/api/v2/recording/jobs/"+id+"/failedrecordings?pageSize=100", tok, "", 200)
	ents := fr["entities"].([]any)
	if fr["total"] != failed || len(ents) != int(failed) {
		t.Fatalf("failedrecordings = %v", fr)
	}
	out := make([]bool, len(ids))
	for _, e := range ents {
		conv := e.(map[string]any)["conversation"].(map[string]any)["id"].(string)
		out[slices.Index(ids, conv)] = true
		for _, r := range recs {
			if strings.Contains(r, conv) {
				t.Errorf("failed conversation %s was exported", conv)
			}
		}
	}
	return out
}

func TestRecordingFailuresAreListedAndSeeded(t *testing.T) {
	t.Parallel()
	a, b := runFailures(t), runFailures(t)
	if !slices.Equal(a, b) {
		t.Errorf("same seed, different failures: %v vs %v", a, b)
	}
}

func TestRecordingJobActiveCap(t *testing.T) {
	t.Parallel()
	l := startLive(t, withClients(liveConfig(t)))
	tok := l.demoToken()
	l.createCall(tok, "q1")
	j1 := l.json("POST", "/api/v2/recording/jobs", tok, exportJob, 202)["id"].(string)
	j2 := l.json("POST", "/api/v2/recording/jobs", tok, exportJob, 202)["id"].(string)
	// The third concurrent job: the documented answer.
	code, body := l.do("POST", "/api/v2/recording/jobs", tok, exportJob)
	b := decodeMap(t, body)
	if code != 429 || b["code"] != "too.many.requests" || !strings.Contains(b["message"].(string), "PENDING or PROCESSING") {
		t.Fatalf("third job: %d %s", code, body)
	}
	if l.s.Stats().RecordingJobs.Stored != 2 {
		t.Errorf("the refused job was stored")
	}
	// READY jobs do not count: once both are READY a third is accepted.
	l.clock.Advance(30 * time.Second)
	j3 := l.json("POST", "/api/v2/recording/jobs", tok, exportJob, 202)["id"].(string)
	l.json("PUT", "/api/v2/recording/jobs/"+j1, tok, `{"state":"PROCESSING"}`, 202)
	// j3 PENDING + j1 PROCESSING: executing j2 would make three.
	code, body = l.do("PUT", "/api/v2/recording/jobs/"+j2, tok, `{"state":"PROCESSING"}`)
	if code != 429 {
		t.Fatalf("executing a third active job: %d %s", code, body)
	}
	// Only the creator may execute a job; others may read it.
	other := l.token("other", "other-secret")
	l.json("GET", "/api/v2/recording/jobs/"+j2, other, "", 200)
	code, body = l.do("PUT", "/api/v2/recording/jobs/"+j2, other, `{"state":"PROCESSING"}`)
	if code != 403 || decodeMap(t, body)["code"] != "not.authorized" {
		t.Errorf("execute by another client: %d %s", code, body)
	}
	// A PENDING job cannot be executed.
	code, body = l.do("PUT", "/api/v2/recording/jobs/"+j3, tok, `{"state":"PROCESSING"}`)
	if code != 400 {
		t.Errorf("executing a PENDING job: %d %s", code, body)
	}
	// Cancelling frees a place.
	if code, body := l.do("DELETE", "/api/v2/recording/jobs/"+j3, tok, ""); code != 204 {
		t.Fatalf("DELETE: %d %s", code, body)
	}
	if st := l.json("GET", "/api/v2/recording/jobs/"+j3, tok, "", 200)["state"]; st != "CANCELLED" {
		t.Errorf("cancelled job state %v", st)
	}
	l.json("PUT", "/api/v2/recording/jobs/"+j2, tok, `{"state":"PROCESSING"}`, 202)
}

func TestRecordingJobStoreCap(t *testing.T) {
	t.Parallel()
	cfg := liveConfig(t)
	cfg.Recordings.MaxJobs = 2
	cfg.Recordings.ActiveJobsPerOrg = 5
	l := startLive(t, cfg)
	tok := l.demoToken()
	j1 := l.json("POST", "/api/v2/recording/jobs", tok, exportJob, 202)["id"].(string)
	l.json("POST", "/api/v2/recording/jobs", tok, exportJob, 202)
	code, body := l.do("POST", "/api/v2/recording/jobs", tok, exportJob)
	if b := decodeMap(t, body); code != 429 || !strings.Contains(b["message"].(string), "recordings.max_jobs") {
		t.Fatalf("over max_jobs: %d %s", code, body)
	}
	// A finished (here cancelled) job makes room: the oldest finished one
	// is forgotten.
	l.do("DELETE", "/api/v2/recording/jobs/"+j1, tok, "")
	l.json("POST", "/api/v2/recording/jobs", tok, exportJob, 202)
	l.json("GET", "/api/v2/recording/jobs/"+j1, tok, "", 404)
	if st := l.s.Stats(); st.RecordingJobs.Stored != 2 || st.RecordingJobs.Max != 2 {
		t.Errorf("stats = %+v", st.RecordingJobs)
	}
}

func TestRecordingJobValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withClients(testConfig()))
	tok := e.demoToken()
	for _, tc := range []struct {
		name, body string
		status     int
		code       string
		field      string
	}{
		{"no action", `{"actionDate":"2026-06-01T00:00:00Z","conversationQuery":{"interval":"2026-05-01T00:00:00Z/2026-05-02T00:00:00Z"}}`, 400, "bad.request", "action"},
		{"bad action", `{"action":"COPY","actionDate":"2026-06-01T00:00:00Z","conversationQuery":{"interval":"2026-05-01T00:00:00Z/2026-05-02T00:00:00Z"}}`, 400, "invalid.value", "action"},
		{"export without integration", `{"action":"EXPORT","actionDate":"2026-06-01T00:00:00Z","conversationQuery":{"interval":"2026-05-01T00:00:00Z/2026-05-02T00:00:00Z"}}`, 400, "bad.request", "integrationId"},
		{"no date or age", `{"action":"DELETE","conversationQuery":{"interval":"2026-05-01T00:00:00Z/2026-05-02T00:00:00Z"}}`, 400, "bad.request", "actionDate"},
		{"date and age", `{"action":"DELETE","actionDate":"2026-06-01T00:00:00Z","actionAge":3,"conversationQuery":{"interval":"2026-05-01T00:00:00Z/2026-05-02T00:00:00Z"}}`, 400, "invalid.value", "actionAge"},
		{"no query", `{"action":"DELETE","actionAge":3}`, 400, "bad.request", "conversationQuery"},
		{"no interval", `{"action":"DELETE","actionAge":3,"conversationQuery":{}}`, 400, "bad.request", "conversationQuery.interval"},
		{"bad interval", `{"action":"DELETE","actionAge":3,"conversationQuery":{"interval":"yesterday"}}`, 400, "invalid.value", "conversationQuery.interval"},
		{"older than 5 years", `{"action":"DELETE","actionAge":3,"conversationQuery":{"interval":"2020-05-01T00:00:00Z/2020-05-02T00:00:00Z"}}`, 400, "invalid.value", "conversationQuery.interval"},
		{"clearExport not DELETE", `{"action":"ARCHIVE","actionAge":3,"clearExport":true,"conversationQuery":{"interval":"2026-05-01T00:00:00Z/2026-05-02T00:00:00Z"}}`, 400, "invalid.value", "clearExport"},
		{"bad filter dimension", `{"action":"DELETE","actionAge":3,"conversationQuery":{"interval":"2026-05-01T00:00:00Z/2026-05-02T00:00:00Z","segmentFilters":[{"type":"and","predicates":[{"dimension":"colour","value":"x"}]}]}}`, 400, "invalid.value", "conversationQuery.segmentFilters[0].predicates[0].dimension"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := checkError(t, e.do("POST", "/api/v2/recording/jobs", tok, tc.body), tc.status, tc.code)
			if d := details(b); len(d) == 0 || d[0][0] != tc.field {
				t.Errorf("details = %v, want field %s first", d, tc.field)
			}
		})
	}
	// Sensitive data needs recording:recording:viewSensitiveData.
	jobber := e.token("jobber", "jobber-secret")
	b := checkError(t, e.do("POST", "/api/v2/recording/jobs", jobber, strings.Replace(exportJob, `"action"`, `"includeRecordingsWithSensitiveData":true,"action"`, 1)), 403, "missing.permissions")
	if !strings.Contains(b["message"].(string), "recording:recording:viewSensitiveData") {
		t.Errorf("message = %v", b["message"])
	}
	// Executing needs the retention permissions too: all missing ones are listed.
	id := decodeMap(t, e.do("POST", "/api/v2/recording/jobs", jobber, exportJob).Body.Bytes())["id"].(string)
	b = checkError(t, e.do("PUT", "/api/v2/recording/jobs/"+id, jobber, `{"state":"PROCESSING"}`), 403, "missing.permissions")
	if want := "recording:recording:editRetention, recording:screenRecording:editRetention, recording:snippetRecording:editRetention"; !strings.Contains(b["message"].(string), "["+want+"]") {
		t.Errorf("message = %v", b["message"])
	}
	checkError(t, e.do("PUT", "/api/v2/recording/jobs/"+id, tok, `{"state":"READY"}`), 400, "invalid.value")
	checkError(t, e.do("GET", "/api/v2/recording/jobs/nope", tok, ""), 404, "not.found")
	checkError(t, e.do("GET", "/api/v2/recording/jobs?pageSize=101", tok, ""), 400, "invalid.value")
	checkError(t, e.do("GET", "/api/v2/recording/jobs?state=DONE", tok, ""), 400, "invalid.value")
	checkError(t, e.do("GET", "/api/v2/recording/jobs", e.token("viewer", "viewer-secret"), ""), 403, "missing.permissions")
}

// TestRecordingDeleteThenExport: a DELETE job removes recordings, and a
// later EXPORT skips them.
func TestRecordingDeleteThenExport(t *testing.T) {
	t.Parallel()
	cfg := liveConfig(t)
	l := startLive(t, cfg)
	tok := l.demoToken()
	l.createCall(tok, "q1")
	l.createCall(tok, "q1")
	run := func(body string) map[string]any {
		id := l.json("POST", "/api/v2/recording/jobs", tok, body, 202)["id"].(string)
		l.clock.Advance(30 * time.Second)
		l.json("PUT", "/api/v2/recording/jobs/"+id, tok, `{"state":"PROCESSING"}`, 202)
		l.clock.Advance(time.Minute)
		return l.json("GET", "/api/v2/recording/jobs/"+id, tok, "", 200)
	}
	del := run(`{"action":"DELETE","actionAge":1,"conversationQuery":{"interval":"2026-05-01T00:00:00Z/2026-05-02T00:00:00Z"}}`)
	if del["state"] != "FULFILLED" || del["totalProcessedRecordings"] != 2.0 {
		t.Fatalf("DELETE job = %v", del)
	}
	exp := run(exportJob)
	if exp["state"] != "FULFILLED" || exp["totalSkippedRecordings"] != 2.0 || exp["percentProgress"] != 100.0 {
		t.Fatalf("EXPORT after DELETE = %v", exp)
	}
	if recs, _ := exportedFiles(t, cfg.ExportDir); len(recs) != 0 {
		t.Errorf("deleted recordings exported: %v", recs)
	}
}

// TestRecordingJobCapRetryAfter: with active_jobs_answer.retry_after the
// cap's answer says when the org's first active job stops counting
// (time-scaled); without it, no Retry-After.
func TestRecordingJobCapRetryAfter(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		scale float64
		on    bool
	}{{1, true}, {0.5, true}, {1, false}} {
		cfg := testConfig()
		cfg.TimeScale = tc.scale
		cfg.Recordings.ActiveJobsAnswer.RetryAfter = tc.on
		e := newEnv(t, cfg)
		tok := e.demoToken()
		scaled := func(d time.Duration) time.Duration { return time.Duration(float64(d) * tc.scale) }
		post := func() *httptest.ResponseRecorder { return e.do("POST", "/api/v2/recording/jobs", tok, exportJob) }
		j1 := decodeMap(t, post().Body.Bytes())["id"].(string)
		e.clock.Advance(scaled(10 * time.Second))
		post()
		want := func(rec *httptest.ResponseRecorder, wait time.Duration) {
			t.Helper()
			ra, ms := rec.Header().Get("Retry-After"), rec.Header().Get("X-Floodgate-Retry-After-Ms")
			if !tc.on {
				if ra != "" || ms != "" {
					t.Errorf("scale %v, off: Retry-After %q, ms %q", tc.scale, ra, ms)
				}
				return
			}
			wantS := strconv.FormatInt(int64((wait+time.Second-1)/time.Second), 10)
			if ra != wantS || ms != strconv.FormatInt(wait.Milliseconds(), 10) {
				t.Errorf("scale %v: Retry-After %q, ms %q; want %s s, %d ms", tc.scale, ra, ms, wantS, wait.Milliseconds())
			}
		}
		// j1 is READY 30 s (scaled) after its creation: 20 s from now.
		rec := post()
		checkError(t, rec, 429, "too.many.requests")
		want(rec, scaled(20*time.Second))
		// At 35 s j1 is READY, j2 PENDING until 40 s, and a third job
		// (PENDING until 65 s) fills the cap again.
		e.clock.Advance(scaled(25 * time.Second))
		if rec := post(); rec.Code != 202 {
			t.Fatalf("third job once j1 is READY: %d %s", rec.Code, rec.Body)
		}
		want(post(), scaled(5*time.Second))
		// Executing j1 would make three active: the same wait.
		want(e.do("PUT", "/api/v2/recording/jobs/"+j1, tok, `{"state":"PROCESSING"}`), scaled(5*time.Second))
	}
}
