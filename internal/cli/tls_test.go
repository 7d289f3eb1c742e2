package cli

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunSaysCertificatesWereNotChecked: a plan with
// tls.insecure_skip_verify reaches a server no root vouches for, warns
// before it starts, and its summary (printed and in summary.json) says
// the certificates were not verified.
func TestRunSaysCertificatesWereNotChecked(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(srv.Close)
	p := writePlan(t, "target: "+srv.URL+"\ntls: {insecure_skip_verify: true}\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 2}}\n    steps: [{request: {path: /}}]\n")
	out := t.TempDir()
	te := newTestEnv(nil)
	if err := Main(context.Background(), &te.Env, []string{"run", p, "--out", out}); err != nil {
		t.Fatalf("run: %v\n%s", err, te.errText())
	}
	if !strings.Contains(te.errText(), "warning: tls.insecure_skip_verify is on") {
		t.Errorf("no warning before the run:\n%s", te.errText())
	}
	if !strings.Contains(te.out.String(), "note: tls.insecure_skip_verify is on") {
		t.Errorf("the printed summary does not say so:\n%s", te.out.String())
	}
	raw, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Succeeded int64    `json:"succeeded"`
		Notes     []string `json:"notes"`
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	if s.Succeeded != 2 || len(s.Notes) != 1 || !strings.Contains(s.Notes[0], "not verified") {
		t.Errorf("summary.json: %d succeeded, notes %q; want 2 and the insecure note", s.Succeeded, s.Notes)
	}
}
