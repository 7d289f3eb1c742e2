package emulator

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestRouterServesEveryCatalogedOperation: a path made from each
// catalogued template (parameters filled with values no literal segment
// has) reaches that template's route with the values in order, or the
// hand-built route that replaced it.
func TestRouterServesEveryCatalogedOperation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig())
	norm := func(p string) string {
		segs := strings.Split(p, "/")
		for i, s := range segs {
			if strings.HasPrefix(s, "{") {
				segs[i] = "{}"
			}
		}
		return strings.Join(segs, "/")
	}
	for _, op := range e.s.catalog.Ops() {
		segs := strings.Split(op.Path, "/")
		var want []string
		for i, s := range segs {
			if strings.HasPrefix(s, "{") {
				segs[i] = fmt.Sprintf("v%d-x", len(want))
				want = append(want, segs[i])
			}
		}
		l, vals := e.s.api.match(op.Method, strings.Join(segs, "/"), nil)
		if l == nil {
			t.Errorf("%s %s: no route", op.Method, op.Path)
			continue
		}
		if l.rt.Method != op.Method || norm(l.rt.Path) != norm(op.Path) {
			t.Errorf("%s %s: routed to %s", op.Method, op.Path, l.rt.pattern)
		}
		if fmt.Sprint(vals) != fmt.Sprint(want) {
			t.Errorf("%s %s: values %v, want %v", op.Method, op.Path, vals, want)
		}
	}
	// HEAD falls back to GET; an unknown method or path matches nothing.
	if l, _ := e.s.api.match(http.MethodHead, "/api/v2/users/u-1", nil); l == nil || l.rt.Method != http.MethodGet {
		t.Errorf("HEAD /api/v2/users/u-1 did not reach the GET route")
	}
	for _, p := range []string{"/api/v2/nothing/here", "/api/v2/users/u-1/nothing", "/api/v2//users"} {
		if l, _ := e.s.api.match(http.MethodGet, p, nil); l != nil {
			t.Errorf("GET %s matched %s", p, l.rt.pattern)
		}
	}
}

func FuzzRouterMatch(f *testing.F) {
	s, err := New(testConfig())
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range []string{"/api/v2/users/x", "/api/v2/", "//", "/api/v2/a/b/c/d/e/f/g", "/api/v2/conversations/calls/x/participants/y"} {
		f.Add("GET", p)
	}
	f.Fuzz(func(t *testing.T, method, path string) {
		l, vals := s.api.match(method, path, nil)
		if l != nil && len(vals) != len(l.params) {
			t.Fatalf("%s %s: %d values for %d parameters", method, path, len(vals), len(l.params))
		}
	})
}
