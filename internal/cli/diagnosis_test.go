package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/floodgate-dev/floodgate/internal/diagnose"
)

// diagnosisIn reads the diagnosis a results dir's summary.json holds.
func diagnosisIn(t *testing.T, dir string) diagnose.Diagnosis {
	t.Helper()
	var d diagnose.Diagnosis
	if err := json.Unmarshal(readSummary(t, dir).Diagnosis, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// reportJSONDiagnosis runs `floodgate report PATH --format json` and
// returns the diagnosis it prints.
func reportJSONDiagnosis(t *testing.T, path string, extra ...string) diagnose.Diagnosis {
	t.Helper()
	te := newTestEnv(nil)
	if err := Main(context.Background(), &te.Env, append([]string{"report", path, "--format", "json"}, extra...)); err != nil {
		t.Fatalf("report %s: %v\n%s", path, err, te.errText())
	}
	var doc struct {
		Diagnosis diagnose.Diagnosis `json:"diagnosis"`
	}
	if err := json.Unmarshal([]byte(te.out.String()), &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Diagnosis
}

// TestDiagnosisSameInRunReportAndMerge: the storm's run, `report DIR`
// and `merge DIR` give one diagnosis — the cap of 2 open recording jobs
// — and a JMeter JTL's `report FILE.jtl` and `report` of the dir it
// wrote give one too.
func TestDiagnosisSameInRunReportAndMerge(t *testing.T) {
	t.Parallel()
	var storm example
	for _, ex := range examples {
		if ex.file == "bulk-export-storm.yaml" {
			storm = ex
		}
	}
	// The cap's size is read from the beat of accepted creates, which must
	// keep within ±20% of a job's lifetime: at 0.01 a job stays PENDING
	// 0.3 s, and a loaded, -race machine's scheduling jitter blurs that.
	// At 0.03 it is 0.9 s, with the ramp stretched to keep as many beats.
	storm.scale = 0.03
	err, dir, _ := runExample(t, storm, map[string]string{"SESSIONS": "150", "RAMP_UP": "4500ms"})
	if err != nil {
		t.Fatal(err)
	}
	run := diagnosisIn(t, dir)
	if len(run.Findings) != 1 || run.Findings[0].Kind != diagnose.JobCap || run.Findings[0].Onset.Count != 2 {
		t.Fatalf("run: %+v, want one cap of 2 open jobs", run)
	}
	if d := reportJSONDiagnosis(t, dir); !cmp.Equal(d, run) {
		t.Errorf("report DIR differs from the run:\n%s", cmp.Diff(run, d))
	}
	merged := filepath.Join(t.TempDir(), "merged")
	te := newTestEnv(nil)
	if err := Main(context.Background(), &te.Env, []string{"merge", dir, "-o", merged}); err != nil {
		t.Fatalf("merge: %v\n%s", err, te.errText())
	}
	if d := diagnosisIn(t, merged); !cmp.Equal(d, run) {
		t.Errorf("merge differs from the run:\n%s", cmp.Diff(run, d))
	}

	src := filepath.Join("..", "..", "examples", "walls", "jmeter-storm", "results.jtl")
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	jtlPath := filepath.Join(t.TempDir(), "storm.jtl")
	if err := os.WriteFile(jtlPath, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "from-jtl")
	fromJTL := reportJSONDiagnosis(t, jtlPath, "-o", out)
	if len(fromJTL.Findings) != 1 || fromJTL.Findings[0].Kind != diagnose.JobCap {
		t.Fatalf("report FILE.jtl: %+v, want one cap on open jobs", fromJTL)
	}
	if d := reportJSONDiagnosis(t, out); !cmp.Equal(d, fromJTL) {
		t.Errorf("report of the dir a JTL made differs from report FILE.jtl:\n%s", cmp.Diff(fromJTL, d))
	}
}
