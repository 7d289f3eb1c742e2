package catalog

import (
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

func mustDefault(t *testing.T) *Catalog {
	t.Helper()
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestEmbeddedCatalogue(t *testing.T) {
	t.Parallel()
	c := mustDefault(t)
	if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(c.SDK) {
		t.Errorf("SDK version %q", c.SDK)
	}
	seen := map[string]bool{}
	groups := map[string]bool{}
	for _, op := range c.Ops {
		k := op.Method + " " + op.Path
		if seen[k] {
			t.Errorf("duplicate operation %s", k)
		}
		seen[k] = true
		groups[op.Group] = true
		if !strings.HasPrefix(op.Path, "/api/v2/") {
			t.Errorf("%s: path outside /api/v2", k)
		}
		if op.Returns != "" && c.Type(op.Returns) == nil || op.Body != "" && c.Type(op.Body) == nil {
			t.Errorf("%s: unresolved type %q / %q", k, op.Returns, op.Body)
		}
	}
	// Spot checks of operations every integration uses.
	for _, k := range []string{"GET /api/v2/users/{userId}", "GET /api/v2/routing/queues", "POST /api/v2/analytics/queues/observations/query", "PATCH /api/v2/users/{userId}/presences/{sourceId}"} {
		if !seen[k] {
			t.Errorf("catalogue lacks %s", k)
		}
	}
	if len(groups) < 50 {
		t.Errorf("only %d API groups", len(groups))
	}
}

func TestOpRoundTrip(t *testing.T) {
	t.Parallel()
	for _, op := range []Op{
		{Group: "Users", Name: "getUser", Method: "GET", Path: "/api/v2/users/{userId}", Returns: "Models.User", Query: []string{"expand"}},
		{Group: "X", Name: "postX", Method: "POST", Path: "/api/v2/x", Body: "Models.X", BodyOptional: true},
	} {
		b, err := json.Marshal(op)
		if err != nil {
			t.Fatal(err)
		}
		var back Op
		if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, op) {
			t.Errorf("round trip %s: %+v, %v", b, back, err)
		}
	}
}

func TestSynthesizeFitsItsModel(t *testing.T) {
	t.Parallel()
	c := mustDefault(t)
	iso := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
	for _, name := range []string{"User", "Queue", "Group", "RecordingJob", "AnalyticsConversation", "WorkPlan", "Flow", "ExternalContact"} {
		m := c.Model(name)
		if m == nil {
			t.Fatalf("no model %s", name)
		}
		typ := c.Type("Models." + name)
		a, b := Synthesize(typ, "seed"), Synthesize(typ, "seed")
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: two syntheses differ", name)
		}
		// Round-tripped through JSON, it type-checks against its model and
		// holds every required field.
		raw, _ := json.Marshal(a)
		var v any
		_ = json.Unmarshal(raw, &v)
		if mm := Check(typ, v); mm != nil {
			t.Errorf("%s: %v", name, mm)
		}
		obj := v.(map[string]any)
		for _, f := range m.Fields {
			if _, ok := obj[f.Name]; f.Required && !ok {
				t.Errorf("%s: required %s missing", name, f.Name)
			}
			if s, ok := obj[f.Name].(string); ok && (strings.HasPrefix(f.Name, "date") || strings.HasSuffix(f.Name, "Date")) && !iso.MatchString(s) {
				t.Errorf("%s.%s = %q, want ISO-8601", name, f.Name, s)
			}
		}
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	c := mustDefault(t)
	queue := c.Type("Models.QueueRequest")
	for _, tc := range []struct {
		body, field string
	}{
		{`{"name":"q"}`, ""},
		{`{"name":null}`, ""},
		{`{"unknownField":[1,{"a":2}]}`, ""},
		{`{"name":1}`, "name"},
		{`{"name":true}`, "name"},
		{`{"name":"q","memberGroups":{}}`, "memberGroups"},
		{`{"name":"q","memberGroups":[{"id":"g"},{"id":2}]}`, "memberGroups[1].id"},
		{`{"name":"q","mediaSettings":{"call":{"alertingTimeoutSeconds":"10"}}}`, "mediaSettings.call.alertingTimeoutSeconds"},
		{`{"name":"q","autoAnswerOnly":"yes"}`, "autoAnswerOnly"},
		{`"q"`, "body"},
		{`[]`, "body"},
	} {
		var v any
		if err := json.Unmarshal([]byte(tc.body), &v); err != nil {
			t.Fatal(err)
		}
		m := Check(queue, v)
		got := ""
		if m != nil {
			got = m.Field
			if !strings.Contains(m.Error(), tc.field) {
				t.Errorf("%s: message %q does not name the field", tc.body, m.Error())
			}
		}
		if got != tc.field {
			t.Errorf("%s: mismatch at %q, want %q", tc.body, got, tc.field)
		}
	}
}

func TestFamily(t *testing.T) {
	t.Parallel()
	for path, want := range map[string]string{
		"/api/v2/users/{userId}":                      "users",
		"/api/v2/recording/jobs":                      "recordings",
		"/api/v2/analytics/queues/observations/query": "analytics",
		"/api/v2/":     "unknown",
		"/oauth/token": "unknown",
	} {
		if got := Family(path); got != want {
			t.Errorf("Family(%s) = %s, want %s", path, got, want)
		}
	}
}

func TestStoreBoundsAndTombstones(t *testing.T) {
	t.Parallel()
	s := NewStore(3)
	put := func(path string) {
		if _, err := s.update("o", path, parent(path), func(map[string]any, state) (map[string]any, error) {
			return map[string]any{"id": lastSegment(path)}, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	put("/c/a")
	put("/c/b")
	if st := s.remove("o", "/c/a", "/c"); st != present {
		t.Errorf("remove a: %v", st)
	}
	if _, st := s.get("o", "/c/a"); st != deleted {
		t.Errorf("a after delete: %v, want deleted", st)
	}
	if _, st := s.get("other-org", "/c/b"); st != absent {
		t.Errorf("another org sees b: %v", st)
	}
	put("/c/c")
	put("/c/d") // 4 entries with a's tombstone: a goes
	if s.Len() != 3 {
		t.Errorf("len %d, want 3", s.Len())
	}
	if _, st := s.get("o", "/c/a"); st != absent {
		t.Errorf("a's tombstone: %v, want evicted", st)
	}
	bodies, total := s.list("o", "/c", 0, 10)
	var ids []string
	for _, b := range bodies {
		ids = append(ids, b["id"].(string))
	}
	if total != 3 || !reflect.DeepEqual(ids, []string{"b", "c", "d"}) {
		t.Errorf("list: %v of %d", ids, total)
	}
	put("/c/e")
	if _, st := s.get("o", "/c/b"); st != absent {
		t.Errorf("oldest entity not evicted")
	}
	if bodies, total = s.list("o", "/c", 1, 1); total != 3 || len(bodies) != 1 || bodies[0]["id"] != "d" {
		t.Errorf("list offset: %v of %d", bodies, total)
	}
}
