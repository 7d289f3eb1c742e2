package catalog

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/floodgate-dev/floodgate/internal/emulator/platform"
)

func TestCollections(t *testing.T) {
	t.Parallel()
	colls := mustDefault(t).Collections()
	for _, want := range []string{"users", "routing/queues", "presencedefinitions", "presence/definitions", "groups", "routing/skills"} {
		if !slices.Contains(colls, want) {
			t.Errorf("Collections lacks %s", want)
		}
	}
	for _, c := range colls {
		if strings.Contains(c, "{") || strings.HasPrefix(c, "/") {
			t.Errorf("collection %q: want a path after /api/v2 without parameters", c)
		}
	}
	// Not collections: a query (POST, no item GET), a document, an item.
	for _, no := range []string{"analytics/conversations/details/query", "users/me", "users/{userId}"} {
		if slices.Contains(colls, no) {
			t.Errorf("Collections has %s", no)
		}
	}
	if len(colls) < 50 {
		t.Errorf("only %d collections", len(colls))
	}
}

// listAll pages through org's collection with pageSize size.
func listAll(t *testing.T, s *Service, org, coll string, size int) (pages [][]map[string]any, total int) {
	t.Helper()
	i := slices.IndexFunc(s.Ops(), func(o Op) bool { return o.Method == "GET" && o.Path == CollectionPath(coll) })
	for n := 1; ; n++ {
		r := httptest.NewRequest("GET", fmt.Sprintf("%s?pageSize=%d&pageNumber=%d", CollectionPath(coll), size, n), nil)
		w := httptest.NewRecorder()
		s.Serve(i, w, r, &platform.Call{OrgID: org}, true)
		if w.Code != http.StatusOK {
			t.Fatalf("GET %s page %d: %d %s", coll, n, w.Code, w.Body)
		}
		var page struct {
			Entities []map[string]any
			Total    int
		}
		if err := json.Unmarshal(w.Body.Bytes(), &page); err != nil {
			t.Fatal(err)
		}
		if len(page.Entities) == 0 {
			return pages, page.Total
		}
		pages, total = append(pages, page.Entities), page.Total
	}
}

// Seeded entities are deterministic, per org, fit the collection's model,
// page like created ones, and come back after Reset.
func TestSeed(t *testing.T) {
	t.Parallel()
	cat := mustDefault(t)
	seeds := map[string]int{"users": 25, "routing/queues": 3, "/api/v2/presencedefinitions": 10, "groups": 2}
	orgs := []string{"org-a", "org-b"}
	a, err := New(Options{Catalog: cat, Seed: seeds, Orgs: orgs})
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(Options{Catalog: cat, Seed: seeds, Orgs: orgs})
	if err != nil {
		t.Fatal(err)
	}
	if got := a.Entities(); got != 2*(25+3+10+2) {
		t.Errorf("%d entities", got)
	}
	for coll, n := range seeds {
		pa, total := listAll(t, a, "org-a", coll, 10)
		pb, _ := listAll(t, b, "org-a", coll, 10)
		other, _ := listAll(t, a, "org-b", coll, 10)
		if total != n || len(pa) != (n+9)/10 {
			t.Errorf("%s: total %d in %d pages, want %d", coll, total, len(pa), n)
		}
		if !reflect.DeepEqual(pa, pb) {
			t.Errorf("%s: two services seed differently", coll)
		}
		ids, names := map[string]bool{}, map[string]bool{}
		list := cat.Ops[slices.IndexFunc(cat.Ops, func(o Op) bool { return o.Method == "GET" && o.Path == CollectionPath(coll) })]
		ret := listed(cat.Type(list.Returns))
		for _, page := range pa {
			for _, e := range page {
				id, _ := e["id"].(string)
				ids[id], names[fmt.Sprint(e["name"])] = true, true
				if m := Check(ret, any(e)); m != nil {
					t.Errorf("%s: %v does not fit %s: %v", coll, e, ret.Decl, m)
				}
			}
		}
		if len(ids) != n || len(names) != n {
			t.Errorf("%s: %d ids, %d names for %d entities", coll, len(ids), len(names), n)
		}
		if id := fmt.Sprint(other[0][0]["id"]); ids[id] {
			t.Errorf("%s: org-b shares id %s with org-a", coll, id)
		}
	}
	users, _ := listAll(t, a, "org-a", "users", 25)
	if u := users[0][1]; u["email"] != "user02@example.com" || u["state"] != "active" || u["name"] != "User 2" {
		t.Errorf("second user %v", u)
	}
	pres, _ := listAll(t, a, "org-a", "presencedefinitions", 25)
	if p := pres[0][0]; p["systemPresence"] != "Available" || !reflect.DeepEqual(p["languageLabels"], map[string]any{"en_US": "Available"}) {
		t.Errorf("first presence %v", p)
	}

	// A created entity lists after the seeded ones; Reset forgets it and
	// seeds again.
	create := slices.IndexFunc(a.Ops(), func(o Op) bool { return o.Method == "POST" && o.Path == "/api/v2/routing/queues" })
	w := httptest.NewRecorder()
	r := httptest.NewRequest("POST", "/api/v2/routing/queues", strings.NewReader(`{"name":"mine"}`))
	r.Header.Set("Content-Type", "application/json")
	a.Serve(create, w, r, &platform.Call{OrgID: "org-a"}, true)
	if w.Code != 200 {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	if qs, total := listAll(t, a, "org-a", "routing/queues", 10); total != 4 || qs[0][3]["name"] != "mine" {
		t.Errorf("after a create: total %d, last %v", total, qs[0][len(qs[0])-1]["name"])
	}
	a.Reset()
	fresh, _ := listAll(t, b, "org-a", "routing/queues", 10)
	if qs, total := listAll(t, a, "org-a", "routing/queues", 10); total != 3 || !reflect.DeepEqual(qs, fresh) {
		t.Errorf("after Reset: total %d, want the 3 seeded queues again", total)
	}

	// Only collections can be seeded.
	for _, bad := range []string{"userz", "analytics/conversations/details/query", "users/me"} {
		if _, err := New(Options{Catalog: cat, Seed: map[string]int{bad: 1}, Orgs: orgs}); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("seed %s: %v, want an error naming it", bad, err)
		}
	}
}
