package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// copyRun copies the report package's committed results dir into a
// temporary dir, optionally editing summary.json.
func copyRun(t *testing.T, edit func(map[string]any)) string {
	t.Helper()
	src := filepath.Join("..", "report", "testdata", "run")
	dst := t.TempDir()
	for _, name := range []string{"summary.json", "timeseries.jsonl", "histograms.json"} {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		if name == "summary.json" && edit != nil {
			var doc map[string]any
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatal(err)
			}
			edit(doc)
			if b, err = json.Marshal(doc); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(dst, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func TestReportWritesHTMLIntoTheResultsDir(t *testing.T) {
	t.Parallel()
	dir := copyRun(t, nil)
	te := newTestEnv(nil)
	if err := Main(context.Background(), &te.Env, []string{"report", dir}); err != nil {
		t.Fatal(err, te.errText())
	}
	b, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `data-kind="rate_limit"`) || !strings.Contains(te.out.String(), "report.html") {
		t.Errorf("report.html lacks the diagnosis, or stdout %q does not name it", te.out.String())
	}
}

func TestReportFormats(t *testing.T) {
	t.Parallel()
	dir := copyRun(t, nil)
	noThresholds := copyRun(t, func(doc map[string]any) { delete(doc, "thresholds") })
	for _, c := range []struct {
		dir    string
		args   []string
		checks []string
	}{
		{dir, []string{"--format", "text"}, []string{"bot_burst (open)", "thresholds: 1 of 2 passed", "diagnosis: one wall: rate limit at 300 per 3.0 s"}},
		{dir, []string{"--format", "json"}, []string{`"schema": "floodgate.summary/v1"`, `"diagnosis": {`, `"kind": "rate_limit"`}},
		{dir, []string{"--format", "junit"}, []string{`<testcase name="p99 &lt; 800ms"`, `type="threshold"`}},
		{noThresholds, []string{"--format", "junit"}, []string{`name="no rate limit wall"`, `type="rate_limit"`, `name="no saturation wall"`}},
	} {
		te := newTestEnv(nil)
		if err := Main(context.Background(), &te.Env, append([]string{"report", c.dir}, c.args...)); err != nil {
			t.Fatal(c.args, err, te.errText())
		}
		for _, want := range c.checks {
			if !strings.Contains(te.out.String(), want) {
				t.Errorf("report %v: output lacks %q:\n%s", c.args, want, te.out.String())
			}
		}
	}
	// json is summary.json plus the diagnosis, and parses.
	te := newTestEnv(nil)
	out := filepath.Join(t.TempDir(), "r.json")
	if err := Main(context.Background(), &te.Env, []string{"report", dir, "--format", "json", "-o", out}); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Plan      string `json:"plan"`
		Diagnosis struct {
			Findings []struct {
				Kind  string `json:"kind"`
				Onset struct {
					Count int `json:"count"`
				} `json:"onset"`
			} `json:"findings"`
		} `json:"diagnosis"`
	}
	b, _ := os.ReadFile(out)
	if err := json.Unmarshal(b, &doc); err != nil || doc.Plan != "bot-burst" || len(doc.Diagnosis.Findings) != 1 || doc.Diagnosis.Findings[0].Onset.Count != 300 {
		t.Errorf("json %+v, err %v", doc, err)
	}
}

func TestReportUsageErrors(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"report"}, {"report", t.TempDir()}, {"report", copyRun(t, nil), "--format", "pdf"}} {
		te := newTestEnv(nil)
		if err := Main(context.Background(), &te.Env, args); ExitCode(err) != ExitUsage {
			t.Errorf("%v: exit %d (%v), want %d", args, ExitCode(err), err, ExitUsage)
		}
	}
}
