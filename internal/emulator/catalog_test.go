package emulator

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/floodgate-dev/floodgate/internal/emulator/config"
)

func TestCatalogEntityLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig())
	tok := e.demoToken()

	rec := e.do("POST", "/api/v2/routing/queues", tok, `{"name":"Support","description":"first line"}`)
	if rec.Code != 200 {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	if rateHeaders(rec)[0] == "" {
		t.Error("create: no inin-ratelimit-* headers")
	}
	made := decodeMap(t, rec.Body.Bytes())
	id, _ := made["id"].(string)
	if !uuidRE.MatchString(id) || made["name"] != "Support" || made["selfUri"] != "/api/v2/routing/queues/"+id {
		t.Fatalf("create body %s", rec.Body)
	}
	if made["dateCreated"] != e.clock.Now().UTC().Format("2006-01-02T15:04:05.000Z") {
		t.Errorf("dateCreated = %v, want the clock's time", made["dateCreated"])
	}

	got := e.do("GET", "/api/v2/routing/queues/"+id, tok, "")
	if got.Code != 200 || got.Body.String() != rec.Body.String() {
		t.Fatalf("get: %d %s, want what was created %s", got.Code, got.Body, rec.Body)
	}

	up := e.do("PUT", "/api/v2/routing/queues/"+id, tok, `{"name":"Sales"}`)
	put := decodeMap(t, up.Body.Bytes())
	if up.Code != 200 || put["name"] != "Sales" || put["description"] != nil || put["id"] != id || put["dateCreated"] != made["dateCreated"] {
		t.Errorf("put replaces all but server-side fields: %d %s", up.Code, up.Body)
	}

	if rec := e.do("DELETE", "/api/v2/routing/queues/"+id, tok, ""); rec.Code != http.StatusNoContent {
		t.Errorf("delete: %d %s", rec.Code, rec.Body)
	}
	checkError(t, e.do("GET", "/api/v2/routing/queues/"+id, tok, ""), 404, "not.found")
	checkError(t, e.do("DELETE", "/api/v2/routing/queues/"+id, tok, ""), 404, "not.found")
	checkError(t, e.do("PUT", "/api/v2/routing/queues/"+id, tok, `{"name":"x"}`), 404, "not.found")
	// The queue has no PATCH: a known path with another method is 404.
	checkError(t, e.do("PATCH", "/api/v2/routing/queues/"+id, tok, `{"name":"x"}`), 404, "not.found")
}

func TestCatalogVersionBumps(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig())
	tok := e.demoToken()
	// Models.User declares a numeric version.
	rec := e.do("POST", "/api/v2/users", tok, `{"name":"Ada","email":"ada@example.com","divisionId":"home"}`)
	u := decodeMap(t, rec.Body.Bytes())
	if u["version"] != 1.0 {
		t.Fatalf("created version = %v; %s", u["version"], rec.Body)
	}
	for want := 2.0; want <= 4; want++ {
		rec = e.do("PATCH", "/api/v2/users/"+u["id"].(string), tok, fmt.Sprintf(`{"title":"v%v"}`, want))
		p := decodeMap(t, rec.Body.Bytes())
		if p["version"] != want {
			t.Fatalf("version after update = %v, want %v", p["version"], want)
		}
		// PATCH merges: the name stays, the title changes.
		if p["name"] != "Ada" || p["title"] != fmt.Sprintf("v%v", want) {
			t.Errorf("patch %v: name %v title %v", want, p["name"], p["title"])
		}
	}
}

func TestCatalogPutKeepsVersionCounting(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig())
	tok := e.demoToken()
	g := decodeMap(t, e.do("POST", "/api/v2/groups", tok, `{"name":"g","type":"official","visibility":"public","rulesVisible":false}`).Body.Bytes())
	id := g["id"].(string)
	for want := 2.0; want <= 3; want++ {
		rec := e.do("PUT", "/api/v2/groups/"+id, tok, `{"name":"h","version":1}`)
		if v := decodeMap(t, rec.Body.Bytes())["version"]; rec.Code != 200 || v != want {
			t.Fatalf("PUT: %d version %v, want %v; %s", rec.Code, v, want, rec.Body)
		}
	}
}

func TestCatalogListPaging(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig())
	tok := e.demoToken()
	var ids []string
	for i := range 7 {
		rec := e.do("POST", "/api/v2/routing/wrapupcodes", tok, fmt.Sprintf(`{"name":"code %d"}`, i))
		ids = append(ids, decodeMap(t, rec.Body.Bytes())["id"].(string))
	}
	for _, tc := range []struct {
		query                   string
		first, n, pages, number int
		next, prev              bool
	}{
		{"", 0, 7, 1, 1, false, false},
		{"?pageSize=3", 0, 3, 3, 1, true, false},
		{"?pageSize=3&pageNumber=2", 3, 3, 3, 2, true, true},
		{"?pageSize=3&pageNumber=3", 6, 1, 3, 3, false, true},
		{"?pageSize=3&pageNumber=9", 0, 0, 3, 9, false, true},
	} {
		rec := e.do("GET", "/api/v2/routing/wrapupcodes"+tc.query, tok, "")
		if rec.Code != 200 {
			t.Fatalf("%s: %d %s", tc.query, rec.Code, rec.Body)
		}
		b := decodeMap(t, rec.Body.Bytes())
		ents := b["entities"].([]any)
		if len(ents) != tc.n || b["total"] != 7.0 || b["pageCount"] != float64(tc.pages) || b["pageNumber"] != float64(tc.number) {
			t.Errorf("%s: %d entities, total %v, pageCount %v, pageNumber %v", tc.query, len(ents), b["total"], b["pageCount"], b["pageNumber"])
			continue
		}
		for i, x := range ents {
			if x.(map[string]any)["id"] != ids[tc.first+i] {
				t.Errorf("%s: entity %d out of creation order", tc.query, i)
			}
		}
		if _, ok := b["nextUri"]; ok != tc.next {
			t.Errorf("%s: nextUri present = %v", tc.query, ok)
		}
		if _, ok := b["previousUri"]; ok != tc.prev {
			t.Errorf("%s: previousUri present = %v", tc.query, ok)
		}
		if !strings.HasPrefix(b["firstUri"].(string), "/api/v2/routing/wrapupcodes?pageSize=") || !strings.Contains(b["lastUri"].(string), "&pageNumber=") {
			t.Errorf("%s: firstUri %v lastUri %v", tc.query, b["firstUri"], b["lastUri"])
		}
	}
	b := checkError(t, e.do("GET", "/api/v2/routing/wrapupcodes?pageSize=0", tok, ""), 400, "invalid.value")
	if d := details(b); len(d) != 1 || d[0][0] != "pageSize" {
		t.Errorf("details %v", d)
	}
}

// The default org starts with users, queues and presence definitions
// (catalog.seed), so an integration's list paging has pages to walk; a
// reset brings them back.
func TestCatalogDefaultSeedPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig())
	tok := e.demoToken()
	page := func(path string) map[string]any {
		rec := e.do("GET", path, tok, "")
		if rec.Code != 200 {
			t.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
		}
		return decodeMap(t, rec.Body.Bytes())
	}
	first, second := page("/api/v2/users?pageSize=10&pageNumber=1"), page("/api/v2/users?pageSize=10&pageNumber=2")
	if len(second["entities"].([]any)) != 10 || second["total"] != 25.0 || second["pageCount"] != 3.0 ||
		second["nextUri"] != "/api/v2/users?pageSize=10&pageNumber=3" || second["previousUri"] != "/api/v2/users?pageSize=10&pageNumber=1" {
		t.Errorf("users page 2: %d entities, total %v, pageCount %v, nextUri %v, previousUri %v",
			len(second["entities"].([]any)), second["total"], second["pageCount"], second["nextUri"], second["previousUri"])
	}
	seen := map[any]bool{}
	for _, p := range []map[string]any{first, second} {
		for _, u := range p["entities"].([]any) {
			seen[u.(map[string]any)["id"]] = true
		}
	}
	if len(seen) != 20 {
		t.Errorf("pages 1 and 2 hold %d distinct users, want 20", len(seen))
	}
	id := second["entities"].([]any)[0].(map[string]any)["id"].(string)
	if u := decodeMap(t, e.do("GET", "/api/v2/users/"+id, tok, "").Body.Bytes()); u["email"] != "user11@example.com" {
		t.Errorf("GET the 11th user: %v", u)
	}
	for path, want := range map[string]float64{"/api/v2/routing/queues": 10, "/api/v2/presencedefinitions": 10, "/api/v2/presence/definitions": 10} {
		if b := page(path); b["total"] != want {
			t.Errorf("%s: total %v, want %v", path, b["total"], want)
		}
	}
	e.do("DELETE", "/api/v2/users/"+id, tok, "")
	if b := page("/api/v2/users"); b["total"] != 24.0 {
		t.Errorf("after a DELETE: total %v", b["total"])
	}
	if rec := e.do("POST", "/_floodgate/reset", "", ""); rec.Code != 200 {
		t.Fatalf("reset: %d", rec.Code)
	}
	if b := page("/api/v2/users?pageSize=10&pageNumber=2"); !reflect.DeepEqual(b["entities"], second["entities"]) || b["total"] != 25.0 {
		t.Errorf("after reset: total %v, page 2 differs", b["total"])
	}
}

func TestCatalogSyntheticIsDeterministic(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig())
	tok := e.demoToken()
	a := e.do("GET", "/api/v2/users/u-1", tok, "")
	b := e.do("GET", "/api/v2/users/u-1", tok, "")
	if a.Code != 200 || a.Body.String() != b.Body.String() {
		t.Fatalf("two reads differ: %d %s / %s", a.Code, a.Body, b.Body)
	}
	u := decodeMap(t, a.Body.Bytes())
	if u["id"] != "u-1" || u["selfUri"] != "/api/v2/users/u-1" {
		t.Errorf("id/selfUri: %v %v", u["id"], u["selfUri"])
	}
	if u["dateLastLogin"] != "2026-01-01T00:00:00.000Z" {
		t.Errorf("dateLastLogin = %v, want ISO-8601", u["dateLastLogin"])
	}
	// Another emulator answers the same body.
	e2 := newEnv(t, testConfig())
	if c := e2.do("GET", "/api/v2/users/u-1", e2.demoToken(), ""); c.Body.String() != a.Body.String() {
		t.Errorf("another server answers differently:\n%s\n%s", c.Body, a.Body)
	}
	// Unknown entities are per config 404.
	cfg := testConfig()
	cfg.UnknownEntities = config.UnknownNotFound
	e3 := newEnv(t, cfg)
	checkError(t, e3.do("GET", "/api/v2/users/u-1", e3.demoToken(), ""), 404, "not.found")
}

func TestCatalogBodyTypeMismatch(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig())
	tok := e.demoToken()
	for _, tc := range []struct{ body, field string }{
		{`{"name":5}`, "name"},
		{`{"name":"q","skillEvaluationMethod":["BEST"]}`, "skillEvaluationMethod"},
		{`{"name":"q","mediaSettings":"fast"}`, "mediaSettings"},
		{`{"name":"q","memberGroups":[{"id":1}]}`, "memberGroups[0].id"},
		{`[1,2]`, "body"},
	} {
		b := checkError(t, e.do("POST", "/api/v2/routing/queues", tok, tc.body), 400, "bad.request")
		if d := details(b); len(d) != 1 || d[0][0] != tc.field {
			t.Errorf("%s: details %v, want field %s", tc.body, d, tc.field)
		}
		if !strings.Contains(b["message"].(string), tc.field) {
			t.Errorf("%s: message %q does not name %s", tc.body, b["message"], tc.field)
		}
	}
	checkError(t, e.do("POST", "/api/v2/routing/queues", tok, `{"name":`), 400, "bad.request")
	checkError(t, e.do("POST", "/api/v2/routing/queues", tok, `{"name":"x"}`, "Content-Type", "text/plain"), 415, "unsupported.media.type")
}

// A create missing a field the SDK's typings mark required is 400
// bad.request naming each one, as the platform answers; the fields a
// server sets are not asked of a create whose body is the entity model,
// and updates are not checked for missing fields.
func TestCatalogCreateRequiresFields(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig())
	tok := e.demoToken()
	for _, tc := range []struct {
		path, body string
		missing    []string // nil: created
	}{
		{"/api/v2/routing/queues", `{}`, []string{"name"}},
		{"/api/v2/routing/queues", `{"name":null,"description":"d"}`, []string{"name"}},
		{"/api/v2/routing/queues", `{"name":"Support"}`, nil},
		{"/api/v2/users", `{"name":"Ada"}`, []string{"email", "divisionId"}},
		{"/api/v2/users", `{"name":"Ada","email":"ada@example.com","divisionId":"d"}`, nil},
		{"/api/v2/groups", `{"name":"g","type":"official","visibility":"public"}`, []string{"rulesVisible"}},
		// TrustMemberCreate is a request model: its id is the caller's.
		{"/api/v2/orgauthorization/trustees/t-1/users", `{"roleIds":[]}`, []string{"id"}},
		// Note is the entity model, whose createdBy the server sets.
		{"/api/v2/externalcontacts/contacts/c-1/notes", `{}`, nil},
		// DataSchema: jsonSchema is the caller's, version the server's.
		{"/api/v2/externalcontacts/contacts/schemas", `{}`, []string{"jsonSchema"}},
		{"/api/v2/externalcontacts/contacts/schemas", `{"jsonSchema":{}}`, nil},
	} {
		rec := e.do("POST", tc.path, tok, tc.body)
		if tc.missing == nil {
			if rec.Code != 200 {
				t.Errorf("POST %s %s: %d %s, want 200", tc.path, tc.body, rec.Code, rec.Body)
			}
			continue
		}
		b := checkError(t, rec, 400, "bad.request")
		var want [][2]string
		for _, f := range tc.missing {
			want = append(want, [2]string{f, "field.required"})
		}
		if d := details(b); !reflect.DeepEqual(d, want) {
			t.Errorf("POST %s %s: details %v, want %v", tc.path, tc.body, d, want)
		}
		if msg := b["message"].(string); msg != tc.missing[0]+" is required." {
			t.Errorf("POST %s %s: message %q", tc.path, tc.body, msg)
		}
	}
	// An optional body (opts.body) left out is not checked.
	if rec := e.do("POST", "/api/v2/flows/milestones", tok, ""); rec.Code != 200 {
		t.Errorf("POST /flows/milestones without a body: %d %s", rec.Code, rec.Body)
	}
	if rec := e.do("POST", "/api/v2/flows/milestones", tok, `{}`); rec.Code != 400 {
		t.Errorf("POST /flows/milestones {}: %d %s, want 400", rec.Code, rec.Body)
	}
	// Updates merge into what exists: nothing is missing.
	id := decodeMap(t, e.do("POST", "/api/v2/routing/queues", tok, `{"name":"q"}`).Body.Bytes())["id"].(string)
	if rec := e.do("PUT", "/api/v2/routing/queues/"+id, tok, `{}`); rec.Code != 200 {
		t.Errorf("PUT {}: %d %s", rec.Code, rec.Body)
	}
}

func TestCatalogHandBuiltRoutesWin(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig())
	tok := e.demoToken()
	// The hand-built conversation route answers 404 for an unknown id; the
	// catalogue would have synthesised a body.
	checkError(t, e.do("GET", "/api/v2/conversations/"+"00000000-0000-4000-8000-000000000000", tok, ""), 404, "not.found")
	// A literal catalogued path beats the hand-built {conversationId}.
	rec := e.do("GET", "/api/v2/conversations/calls", tok, "")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"entities"`) {
		t.Errorf("GET /api/v2/conversations/calls: %d %s", rec.Code, rec.Body)
	}
	// Templates ServeMux finds conflicting both route.
	for _, p := range []string{"/api/v2/casemanagement/cases/c-1/stages", "/api/v2/casemanagement/cases/externalcontacts/x-1"} {
		if rec := e.do("GET", p, tok, ""); rec.Code != 200 {
			t.Errorf("GET %s: %d %s", p, rec.Code, rec.Body)
		}
	}
	checkError(t, e.do("GET", "/api/v2/users/u-1", "", ""), 401, "authentication.required")
}

func TestCatalogRouteRules(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.Routes = []config.RouteRule{
		{Route: "GET /api/v2/users/{userId}", Status: 503, Body: `{"message":"down","code":"service.unavailable","status":503}`},
		{Family: "users", UnknownEntities: config.UnknownNotFound},
		{Route: "GET /api/v2/routing/skills/{skillId}", UnknownEntities: config.UnknownNotFound},
		{Family: "routing", Status: 204},
		{Route: "GET /api/v2/routing/queues/{queueId}", UnknownEntities: config.UnknownSynthesize},
	}
	cfg.Faults = []config.Fault{{Family: "groups", Errors: []config.ErrorFault{{Status: 502, Code: "bad.gateway", Probability: 1}}}}
	e := newEnv(t, cfg)
	tok := e.demoToken()
	rec := e.do("GET", "/api/v2/users/u-1", tok, "")
	if rec.Code != 503 || !strings.Contains(rec.Body.String(), `"down"`) || rateHeaders(rec)[0] == "" {
		t.Errorf("canned route: %d %s", rec.Code, rec.Body)
	}
	checkError(t, e.do("GET", "/api/v2/users/u-1/queues/x", tok, ""), 404, "not.found")
	checkError(t, e.do("GET", "/api/v2/groups/g-1", tok, ""), 502, "bad.gateway")
	if rec := e.do("GET", "/api/v2/routing/queues/q-1", tok, ""); rec.Code != 204 {
		t.Errorf("canned family answer: %d", rec.Code)
	}
	pol := e.s.policy.Load()
	for _, rt := range e.s.routes {
		want := map[string]bool{"GET /api/v2/routing/skills/{skillId}": true, "GET /api/v2/routing/queues/{queueId}": false}
		if w, ok := want[rt.pattern]; ok && pol.routes[rt.idx].notFound != w {
			t.Errorf("%s: notFound = %v, want %v", rt.pattern, !w, w)
		}
	}
}

func TestCatalogStoreIsBounded(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.Catalog.MaxEntities = 3
	cfg.Catalog.Seed = map[string]int{} // the store holds only what the test creates
	e := newEnv(t, cfg)
	tok := e.demoToken()
	var ids []string
	for i := range 5 {
		rec := e.do("POST", "/api/v2/groups", tok, fmt.Sprintf(`{"name":"g%d","type":"official","visibility":"public","rulesVisible":false}`, i))
		ids = append(ids, decodeMap(t, rec.Body.Bytes())["id"].(string))
	}
	want := `
# HELP floodgate_emulator_catalog_entities Entities held by the catalogued routes' store (deleted ones included).
# TYPE floodgate_emulator_catalog_entities gauge
floodgate_emulator_catalog_entities 3
`
	if err := testutil.GatherAndCompare(e.s.metrics.reg, strings.NewReader(want), "floodgate_emulator_catalog_entities"); err != nil {
		t.Error(err)
	}
	b := decodeMap(t, e.do("GET", "/api/v2/groups", tok, "").Body.Bytes())
	if b["total"] != 3.0 || b["entities"].([]any)[0].(map[string]any)["id"] != ids[2] {
		t.Errorf("after eviction: total %v, first %v", b["total"], b["entities"].([]any)[0])
	}
}
