package emulator

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

const todayInterval = `"interval":"2026-05-01T00:00:00.000Z/2026-05-02T00:00:00.000Z"`

func totalHits(t *testing.T, l *live, tok, body string) (float64, []any) {
	t.Helper()
	b := l.json("POST", "/api/v2/analytics/conversations/details/query", tok, body, 200)
	convs, _ := b["conversations"].([]any)
	return b["totalHits"].(float64), convs
}

func TestAnalyticsQueryIngestionLag(t *testing.T) {
	t.Parallel()
	l := startLive(t, liveConfig(t))
	tok := l.demoToken()
	call := l.createCall(tok, "q1")
	q := `{` + todayInterval + `}`
	if n, _ := totalHits(t, l, tok, q); n != 0 {
		t.Fatalf("visible at once: totalHits %v", n)
	}
	l.clock.Advance(4 * time.Second)
	if n, _ := totalHits(t, l, tok, q); n != 0 {
		t.Fatalf("visible before the 5 s lag: totalHits %v", n)
	}
	l.clock.Advance(time.Second)
	n, convs := totalHits(t, l, tok, q)
	if n != 1 || len(convs) != 1 {
		t.Fatalf("after the lag: totalHits %v, %d conversations", n, len(convs))
	}
	c := convs[0].(map[string]any)
	if c["conversationId"] != call || c["conversationStart"] != "2026-05-01T12:00:00.000Z" || c["originatingDirection"] != "outbound" {
		t.Errorf("conversation = %v", c)
	}
	if _, ended := c["conversationEnd"]; ended {
		t.Errorf("a connected conversation has conversationEnd: %v", c)
	}
	parts := c["participants"].([]any)
	agent := parts[1].(map[string]any)
	seg := agent["sessions"].([]any)[0].(map[string]any)["segments"].([]any)[0].(map[string]any)
	if len(parts) != 2 || agent["purpose"] != "acd" || seg["queueId"] != "q1" || seg["segmentType"] != "interact" {
		t.Errorf("participants = %v", parts)
	}

	// Filters: conversationId, mediaType, direction.
	l.createMessage(tok, "q2", "+15550111")
	l.clock.Advance(10 * time.Second)
	for _, tc := range []struct {
		filters string
		want    float64
	}{
		{``, 2},
		{`,"conversationFilters":[{"type":"and","predicates":[{"dimension":"conversationId","value":"` + call + `"}]}]`, 1},
		{`,"segmentFilters":[{"type":"and","predicates":[{"dimension":"mediaType","value":"voice"}]}]`, 1},
		{`,"segmentFilters":[{"type":"or","predicates":[{"dimension":"mediaType","value":"voice"},{"dimension":"mediaType","value":"message"}]}]`, 2},
		{`,"segmentFilters":[{"type":"and","predicates":[{"dimension":"direction","value":"inbound"}]}]`, 0},
		{`,"segmentFilters":[{"type":"and","predicates":[{"dimension":"queueId","value":"q2"}]}]`, 1},
		{`,"segmentFilters":[{"type":"and","clauses":[{"type":"or","predicates":[{"dimension":"messageType","value":"sms"}]}]}]`, 1},
	} {
		if n, _ := totalHits(t, l, tok, `{`+todayInterval+tc.filters+`}`); n != tc.want {
			t.Errorf("filters %s: totalHits %v, want %v", tc.filters, n, tc.want)
		}
	}
	// Paging: pageSize ≤ 200, pages of 1.
	n, convs = totalHits(t, l, tok, `{`+todayInterval+`,"paging":{"pageSize":1,"pageNumber":2}}`)
	if n != 2 || len(convs) != 1 || convs[0].(map[string]any)["conversationId"] == call {
		t.Errorf("page 2 of 1: %v %v", n, convs)
	}
	for _, body := range []string{
		`{"paging":{"pageSize":10}}`,
		`{` + todayInterval + `,"paging":{"pageSize":201}}`,
		`{"interval":"2026-05-02T00:00:00Z/2026-05-01T00:00:00Z"}`,
	} {
		if code, b := l.do("POST", "/api/v2/analytics/conversations/details/query", tok, body); code != 400 {
			t.Errorf("%s: %d %s, want 400", body, code, b)
		}
	}
	// A conversation of another day is not in today's interval.
	if n, _ := totalHits(t, l, tok, `{"interval":"2026-05-02T00:00:00.000Z/2026-05-03T00:00:00.000Z"}`); n != 0 {
		t.Errorf("tomorrow: %v", n)
	}
}

func TestAnalyticsJobPagesAllResultsOnce(t *testing.T) {
	t.Parallel()
	l := startLive(t, liveConfig(t))
	tok := l.demoToken()
	var ids []string
	for i := range 7 {
		ids = append(ids, l.createCall(tok, "q1"))
		l.clock.Advance(time.Duration(i+1) * time.Second)
	}
	// Jobs see data older than job_data_lag (1 h).
	l.clock.Advance(time.Hour)
	young := l.createCall(tok, "q1")
	avail := l.json("GET", "/api/v2/analytics/conversations/details/jobs/availability", tok, "", 200)
	if avail["dataAvailabilityDate"] != "2026-05-01T12:00:28.000Z" {
		t.Errorf("availability = %v", avail)
	}

	jobID := l.json("POST", "/api/v2/analytics/conversations/details/jobs", tok, `{`+todayInterval+`}`, 202)["jobId"].(string)
	path := "/api/v2/analytics/conversations/details/jobs/" + jobID
	st := l.json("GET", path, tok, "", 200)
	if st["state"] != "QUEUED" || st["submissionDate"] != "2026-05-01T13:00:28.000Z" {
		t.Fatalf("status = %v", st)
	}
	if code, _ := l.do("GET", path+"/results", tok, ""); code != 400 {
		t.Errorf("results before FULFILLED: %d", code)
	}
	l.clock.Advance(time.Second)
	if st := l.json("GET", path, tok, "", 200)["state"]; st != "PENDING" {
		t.Fatalf("state %v, want PENDING", st)
	}
	l.clock.Advance(5 * time.Second)
	st = l.json("GET", path, tok, "", 200)
	if st["state"] != "FULFILLED" || st["completionDate"] != "2026-05-01T13:00:34.000Z" {
		t.Fatalf("status = %v", st)
	}

	var got []string
	cursor, pages := "", 0
	for {
		q := "?pageSize=3"
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		page := l.json("GET", path+"/results"+q, tok, "", 200)
		pages++
		if page["dataAvailabilityDate"] != "2026-05-01T12:00:28.000Z" {
			t.Errorf("page %d dataAvailabilityDate = %v", pages, page["dataAvailabilityDate"])
		}
		for _, c := range page["conversations"].([]any) {
			got = append(got, c.(map[string]any)["conversationId"].(string))
		}
		next, ok := page["cursor"].(string)
		if !ok {
			break
		}
		cursor = next
		if pages > 10 {
			t.Fatal("cursor never ends")
		}
	}
	if pages != 3 || !slices.Equal(got, ids) {
		t.Errorf("%d pages with %v, want 3 pages with %v (and not %s)", pages, got, ids, young)
	}
	if code, _ := l.do("GET", path+"/results?cursor=bm9wZTox", tok, ""); code != 400 {
		t.Errorf("foreign cursor: %d", code)
	}
	// A client without analytics permissions is refused.
	other := l.token("viewer", "viewer-secret")
	if code, _ := l.do("GET", path, other, ""); code != 403 {
		t.Errorf("viewer without analytics permission: %d", code)
	}
	// Results expire; DELETE forgets a finished job.
	l.clock.Advance(24 * time.Hour)
	tok = l.demoToken() // the first one expired with the day
	if st := l.json("GET", path, tok, "", 200)["state"]; st != "EXPIRED" {
		t.Errorf("after the TTL: %v", st)
	}
	if code, _ := l.do("DELETE", path, tok, ""); code != 204 {
		t.Errorf("DELETE: %d", code)
	}
	l.json("GET", path, tok, "", 404)
}

func TestAnalyticsJobStoreCapAndCancel(t *testing.T) {
	t.Parallel()
	cfg := liveConfig(t)
	cfg.Analytics.MaxJobs = 1
	l := startLive(t, cfg)
	tok := l.demoToken()
	id := l.json("POST", "/api/v2/analytics/conversations/details/jobs", tok, `{`+todayInterval+`}`, 202)["jobId"].(string)
	code, body := l.do("POST", "/api/v2/analytics/conversations/details/jobs", tok, `{`+todayInterval+`}`)
	if b := decodeMap(t, body); code != 429 || !strings.Contains(b["message"].(string), "analytics.max_jobs") {
		t.Fatalf("over max_jobs: %d %s", code, body)
	}
	l.do("DELETE", "/api/v2/analytics/conversations/details/jobs/"+id, tok, "")
	if st := l.json("GET", "/api/v2/analytics/conversations/details/jobs/"+id, tok, "", 200)["state"]; st != "CANCELLED" {
		t.Errorf("cancelled: %v", st)
	}
	l.json("POST", "/api/v2/analytics/conversations/details/jobs", tok, `{`+todayInterval+`}`, 202)
	l.json("GET", "/api/v2/analytics/conversations/details/jobs/"+id, tok, "", 404)
}
