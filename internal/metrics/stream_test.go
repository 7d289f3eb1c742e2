package metrics

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A killed run leaves its streamed series and last checkpoint; ReadDir
// reads them back as partial results: the checkpoint's totals and
// histograms, every whole line of the series, and a note.
func TestReadDirOfAKilledRun(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	r := sampleRecorder(t0)
	dir := filepath.Join(t.TempDir(), "res")
	if err := PrepareDir(dir); err != nil {
		t.Fatal(err)
	}
	sw, err := CreateSeries(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		b := r.Cut(t0.Add(time.Duration(i)*time.Second), false)
		if err := sw.Append(&b); err != nil {
			t.Fatal(err)
		}
	}
	info := RunInfo{Plan: "p", Target: "http://127.0.0.1:1", Executors: map[string]string{"s": "closed", "t": "open"}}
	want := r.Results(info, t0.Add(3*time.Second))
	if err := WriteProgress(dir, want); err != nil {
		t.Fatal(err)
	}
	// The kill cut the file in the middle of the next line.
	f, err := os.OpenFile(filepath.Join(dir, SeriesFile), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(f, `{"t":3,"time":"2026-11-22T00:00:03Z","seco`)
	f.Close()

	got, err := ReadDir(dir)
	if err != nil {
		t.Fatalf("ReadDir of a killed run: %v", err)
	}
	s := got.Summary
	if !s.Partial || len(s.Notes) == 0 || !strings.Contains(s.Notes[len(s.Notes)-1], "partial results") || !strings.Contains(s.StopReason, "partial") {
		t.Errorf("partial %v, notes %q, stop reason %q: want it marked partial", s.Partial, s.Notes, s.StopReason)
	}
	if s.Requests != want.Summary.Requests || s.Requests == 0 || s.Lost != want.Summary.Lost {
		t.Errorf("requests %d lost %d, want %d and %d", s.Requests, s.Lost, want.Summary.Requests, want.Summary.Lost)
	}
	if len(got.Series) != 3 {
		t.Errorf("%d buckets, want the 3 whole lines", len(got.Series))
	}
	if len(got.Hists) != len(want.Hists) || got.Hists[0].FromDue.TotalCount() != want.Hists[0].FromDue.TotalCount() {
		t.Errorf("histograms do not match the checkpoint's")
	}
	for _, p := range []string{probeFile, ProgressFile + ".tmp"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err == nil {
			t.Errorf("%s left behind", p)
		}
	}
	// Finishing the results supersedes the checkpoint.
	if err := FinishDir(dir, want); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, ProgressFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("progress.json left after the whole results were written: %v", err)
	}
}

func TestReadDirWithoutResults(t *testing.T) {
	t.Parallel()
	_, err := ReadDir(t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "no summary.json and no progress.json") {
		t.Fatalf("ReadDir of an empty dir = %v", err)
	}
}

// mountTmpfs mounts a tmpfs of size bytes (read-only when ro) for the
// test, or skips it where mounting is not permitted (not root, no
// CAP_SYS_ADMIN, not Linux).
func mountTmpfs(t *testing.T, size int, ro bool) string {
	t.Helper()
	dir := t.TempDir()
	opts := fmt.Sprintf("size=%d", size)
	if ro {
		opts += ",ro"
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", opts, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v: %s); TestWriteFailuresInjected covers the same paths", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

func TestPrepareDirOnAReadOnlyDisk(t *testing.T) {
	t.Parallel()
	mnt := mountTmpfs(t, 1<<20, true)
	err := PrepareDir(filepath.Join(mnt, "res"))
	if !errors.Is(err, syscall.EROFS) || !strings.Contains(err.Error(), filepath.Join(mnt, "res")) {
		t.Fatalf("PrepareDir on a read-only disk = %v, want EROFS naming the dir", err)
	}
	if err := PrepareDir(mnt); !errors.Is(err, syscall.EROFS) || !strings.Contains(err.Error(), filepath.Join(mnt, probeFile)) {
		t.Fatalf("PrepareDir of an existing read-only dir = %v, want EROFS naming the probe file", err)
	}
}

// On a full disk every write fails with ENOSPC, names the file as the
// user knows it, and leaves no temporary file.
func TestWritesOnAFullDisk(t *testing.T) {
	t.Parallel()
	mnt := mountTmpfs(t, 256<<10, false)
	dir := filepath.Join(mnt, "res")
	if err := PrepareDir(dir); err != nil {
		t.Fatalf("PrepareDir with room: %v", err)
	}
	fill, err := os.Create(filepath.Join(mnt, "fill"))
	if err != nil {
		t.Fatal(err)
	}
	for err == nil {
		_, err = fill.Write(make([]byte, 4<<10))
	}
	fill.Close()
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("filling the disk: %v", err)
	}
	if err := PrepareDir(dir); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("PrepareDir on a full disk = %v, want ENOSPC", err)
	}
	t0 := time.Now()
	r := sampleRecorder(t0)
	res := r.Results(RunInfo{Plan: "p"}, t0.Add(time.Second))
	err = WriteDir(dir, res)
	if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), filepath.Join(dir, "")) || strings.Contains(err.Error(), ".tmp") {
		t.Errorf("WriteDir on a full disk = %v, want ENOSPC naming the file, not its temporary name", err)
	}
	sw, err := CreateSeries(dir)
	if err == nil {
		big := r.Cut(t0.Add(time.Second), true)
		for i := 0; i < 1000 && err == nil; i++ {
			err = sw.Append(&big)
		}
		if cerr := sw.Close(); !errors.Is(err, syscall.ENOSPC) || !errors.Is(cerr, syscall.ENOSPC) || !strings.Contains(err.Error(), SeriesFile) {
			t.Errorf("appending on a full disk = %v, close = %v; want ENOSPC naming %s", err, cerr, SeriesFile)
		}
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".tmp") || e.Name() == probeFile {
			t.Errorf("%s left behind on the full disk", e.Name())
		}
	}
}

// Where no tmpfs can be mounted, a path under a regular file fails each
// write the same way (ENOTDIR), and nothing is left behind.
func TestWriteFailuresInjected(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(file, "res")
	if err := PrepareDir(dir); !errors.Is(err, syscall.ENOTDIR) || !strings.Contains(err.Error(), dir) {
		t.Errorf("PrepareDir = %v, want ENOTDIR naming %s", err, dir)
	}
	if err := WriteFileAtomic(filepath.Join(dir, SummaryFile), []byte("{}")); !errors.Is(err, syscall.ENOTDIR) || strings.Contains(err.Error(), ".tmp") {
		t.Errorf("WriteFileAtomic = %v, want ENOTDIR naming the file", err)
	}
	// A rename that fails removes the temporary file: the target is a
	// non-empty directory.
	target := filepath.Join(base, "occupied")
	if err := os.MkdirAll(filepath.Join(target, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(target, []byte("data")); err == nil {
		t.Error("WriteFileAtomic over a non-empty directory succeeded")
	}
	if _, err := os.Stat(target + ".tmp"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary file left after a failed rename: %v", err)
	}
}

// A run killed in a dir an earlier run finished in leaves that run's
// summary.json beside its own checkpoint: the checkpoint is what it ran.
func TestReadDirOfAKilledRunOverAnEarlierOne(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	dir := filepath.Join(t.TempDir(), "res")
	old := sampleRecorder(t0).Results(RunInfo{Plan: "earlier"}, t0.Add(time.Second))
	if err := WriteDir(dir, old); err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-time.Hour)
	if err := os.Chtimes(filepath.Join(dir, SummaryFile), past, past); err != nil {
		t.Fatal(err)
	}
	if err := PrepareDir(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := CreateSeries(dir); err != nil {
		t.Fatal(err)
	}
	if err := WriteProgress(dir, sampleRecorder(t0).Results(RunInfo{Plan: "killed"}, t0.Add(time.Second))); err != nil {
		t.Fatal(err)
	}
	got, err := ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Summary.Plan != "killed" || !got.Summary.Partial {
		t.Errorf("read plan %q partial %v; want the killed run's checkpoint", got.Summary.Plan, got.Summary.Partial)
	}
	// Finished, the run's own summary is read again.
	if err := FinishDir(dir, old); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadDir(dir); err != nil || got.Summary.Partial || got.Summary.Plan != "earlier" {
		t.Errorf("after FinishDir: %v, %+v", err, got)
	}
}

// Merging a killed segment's partial results with a finished one's makes
// partial results, saying which part was cut short.
func TestMergeOfAPartialPart(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	whole := sampleRecorder(t0).Results(RunInfo{Plan: "p"}, t0.Add(time.Second))
	dir := filepath.Join(t.TempDir(), "killed")
	if err := PrepareDir(dir); err != nil {
		t.Fatal(err)
	}
	if err := WriteProgress(dir, sampleRecorder(t0).Results(RunInfo{Plan: "p"}, t0.Add(time.Second))); err != nil {
		t.Fatal(err)
	}
	killed, err := ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Merge(whole, killed)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Summary.Partial || len(m.Summary.Notes) != 1 || !strings.HasPrefix(m.Summary.Notes[0], "part 2: partial results") {
		t.Errorf("merged partial %v, notes %q; want partial, naming part 2", m.Summary.Partial, m.Summary.Notes)
	}
	if m, _ := Merge(whole, whole); m.Summary.Partial || len(m.Summary.Notes) != 0 {
		t.Errorf("two whole parts merged partial %v, notes %q", m.Summary.Partial, m.Summary.Notes)
	}
}
