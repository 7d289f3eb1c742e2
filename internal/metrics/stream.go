package metrics

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ProgressFile is the checkpoint a run replaces every few seconds while
// it runs; WriteDir removes it once the whole results are written. A
// results dir that has it and no summary.json is a run that did not end
// (killed), and ReadDir reads it as partial results.
const ProgressFile = "progress.json"

// ProgressSchema versions progress.json.
const ProgressSchema = "floodgate.progress/v1"

// probeFile is written and removed by PrepareDir; probeBytes is its size,
// so that a disk with almost no space left fails before the run.
const (
	probeFile  = ".floodgate-probe"
	probeBytes = 64 << 10
)

// progressDoc is progress.json: the summary and histograms so far.
type progressDoc struct {
	Schema     string        `json:"schema"`
	Summary    *Summary      `json:"summary"`
	Histograms []encodedHist `json:"histograms"`
}

// PrepareDir creates dir and proves results can be written there by
// writing and removing a probe file, so that a read-only or full disk
// fails a run before its first request rather than after its last. The
// error names the path that failed.
func PrepareDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("results dir %s: %w", dir, err)
	}
	path := filepath.Join(dir, probeFile)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("results dir: write %s: %w", path, pathless(err))
	}
	_, err = f.Write(make([]byte, probeBytes))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if rerr := os.Remove(path); err == nil && rerr != nil {
		err = rerr
	}
	if err != nil {
		return fmt.Errorf("results dir: write %s: %w", path, pathless(err))
	}
	return nil
}

// SeriesWriter appends buckets to a results dir's timeseries.jsonl as a
// run cuts them, so that the series survives the run being killed. It is
// not safe for concurrent use.
type SeriesWriter struct {
	path string
	f    *os.File
	w    *bufio.Writer
	enc  *json.Encoder
	err  error
}

// CreateSeries creates (or truncates) dir's timeseries.jsonl.
func CreateSeries(dir string) (*SeriesWriter, error) {
	path := filepath.Join(dir, SeriesFile)
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", path, pathless(err))
	}
	w := bufio.NewWriter(f)
	return &SeriesWriter{path: path, f: f, w: w, enc: json.NewEncoder(w)}, nil
}

// Append writes b as one line and flushes it to the file. After a
// failure it writes nothing more and returns that failure again; the
// error names the file.
func (s *SeriesWriter) Append(b *Bucket) error {
	if s.err != nil {
		return s.err
	}
	if err := s.enc.Encode(b); err != nil {
		s.err = fmt.Errorf("write %s: %w", s.path, pathless(err))
		return s.err
	}
	if err := s.w.Flush(); err != nil {
		s.err = fmt.Errorf("write %s: %w", s.path, pathless(err))
	}
	return s.err
}

// Close closes the file; it returns the first failure of Append or Close.
func (s *SeriesWriter) Close() error {
	if err := s.f.Close(); err != nil && s.err == nil {
		s.err = fmt.Errorf("write %s: %w", s.path, pathless(err))
	}
	return s.err
}

// WriteProgress replaces dir's progress.json with the results so far
// (their summary and histograms; the series is streamed on its own), in
// one atomic rename.
func WriteProgress(dir string, res *Results) error {
	hs, err := encodeHists(res.Hists)
	if err != nil {
		return err
	}
	b, err := json.Marshal(progressDoc{Schema: ProgressSchema, Summary: res.Summary, Histograms: hs})
	if err != nil {
		return fmt.Errorf("encode progress: %w", err)
	}
	return WriteFileAtomic(filepath.Join(dir, ProgressFile), append(b, '\n'))
}

// readProgress reads the summary and histograms of a run that did not
// end from its last checkpoint, and marks the summary partial.
func readProgress(dir string) (*Summary, []encodedHist, error) {
	path := filepath.Join(dir, ProgressFile)
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil, fmt.Errorf("read results: %s has no %s and no %s: not a results dir, or its run was killed before its first checkpoint",
				dir, SummaryFile, ProgressFile)
		}
		return nil, nil, fmt.Errorf("read results: %w", err)
	}
	var doc progressDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	if doc.Schema != ProgressSchema || doc.Summary == nil {
		return nil, nil, fmt.Errorf("read %s: schema %q, want %q", path, doc.Schema, ProgressSchema)
	}
	s := doc.Summary
	s.Partial = true
	note := fmt.Sprintf("partial results: the run did not end (killed?); totals and percentiles cover its first %.0f s, up to its last checkpoint at %s",
		s.DurationS, s.EndTime.UTC().Format("15:04:05 UTC"))
	s.Notes = append(s.Notes, note)
	if s.StopReason == "" {
		s.StopReason = note
	}
	return s, doc.Histograms, nil
}
