package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/floodgate-dev/floodgate/internal/metrics"
)

func copyJTL(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "jtl", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestReportJTL: a JMeter results file gets a results dir, the HTML
// report and the diagnosis, as a run would.
func TestReportJTL(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"ratelimited.csv.jtl", "burst.xml.jtl"} {
		path := copyJTL(t, name)
		te := newTestEnv(nil)
		if err := Main(context.Background(), &te.Env, []string{"report", path}); err != nil {
			t.Fatal(name, err, te.errText())
		}
		dir := strings.TrimSuffix(path, ".jtl") + "-floodgate"
		res, err := metrics.ReadDir(dir)
		if err != nil {
			t.Fatal(name, err)
		}
		if len(res.Summary.Notes) == 0 || !strings.Contains(res.Summary.Notes[1], "in-flight requests are reconstructed") {
			t.Errorf("%s: notes %q", name, res.Summary.Notes)
		}
		var d struct {
			Findings []struct {
				Kind string `json:"kind"`
			} `json:"findings"`
		}
		if err := json.Unmarshal(res.Summary.Diagnosis, &d); err != nil || len(d.Findings) != 1 || d.Findings[0].Kind != "rate_limit" {
			t.Errorf("%s: diagnosis %s (%v)", name, res.Summary.Diagnosis, err)
		}
		html, err := os.ReadFile(filepath.Join(dir, "report.html"))
		if err != nil || !strings.Contains(string(html), `data-kind="rate_limit"`) {
			t.Errorf("%s: report.html (%v)", name, err)
		}
		for _, want := range []string{"note: in-flight requests are reconstructed", "diagnosis: one wall: rate limit", "results: " + dir} {
			if !strings.Contains(te.out.String(), want) {
				t.Errorf("%s: stdout lacks %q:\n%s", name, want, te.out.String())
			}
		}
		// The results dir re-renders like any other.
		te = newTestEnv(nil)
		if err := Main(context.Background(), &te.Env, []string{"report", dir, "--format", "text"}); err != nil || !strings.Contains(te.out.String(), "rate limit") {
			t.Errorf("%s: report DIR: %v\n%s", name, err, te.out.String())
		}
	}

	path := copyJTL(t, "burst.xml.jtl")
	out := filepath.Join(t.TempDir(), "res")
	te := newTestEnv(nil)
	if err := Main(context.Background(), &te.Env, []string{"report", path, "-o", out, "--format", "json"}); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Plan      string   `json:"plan"`
		Notes     []string `json:"notes"`
		Diagnosis struct {
			Findings []struct {
				Kind string `json:"kind"`
			} `json:"findings"`
		} `json:"diagnosis"`
	}
	if err := json.Unmarshal([]byte(te.out.String()), &doc); err != nil || doc.Plan != "burst.xml" || len(doc.Diagnosis.Findings) != 1 || len(doc.Notes) == 0 {
		t.Errorf("%v %+v", err, doc)
	}
	if _, err := os.Stat(filepath.Join(out, "summary.json")); err != nil {
		t.Error(err)
	}

	bad := filepath.Join(t.TempDir(), "bad.jtl")
	os.WriteFile(bad, []byte("not,a,jtl\n1,2,3\n"), 0o644)
	te = newTestEnv(nil)
	if err := Main(context.Background(), &te.Env, []string{"report", bad}); ExitCode(err) != ExitUsage || !strings.Contains(err.Error(), "header") {
		t.Errorf("exit %d: %v", ExitCode(err), err)
	}
}
