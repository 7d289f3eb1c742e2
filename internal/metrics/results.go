package metrics

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Results-dir file names.
const (
	SummaryFile    = "summary.json"
	SeriesFile     = "timeseries.jsonl"
	HistogramsFile = "histograms.json"
)

// Results is everything a run leaves in its results dir.
type Results struct {
	Summary *Summary
	Series  []Bucket
	// Hists holds each step's merged histograms, keyed like the summary's
	// scenarios and steps.
	Hists []StepHists
}

// StepHists are one step's histograms with its key.
type StepHists struct {
	Key StepKey
	Hists
}

type encodedHist struct {
	StepKey
	Kind string `json:"kind"`
	// HDR is the histogram in HdrHistogram's compressed V2 encoding,
	// base64: readable by every HdrHistogram implementation.
	HDR string `json:"hdr"`
}

// Results collects the recorder's state into a Results for a run that
// ended at end.
func (r *Recorder) Results(info RunInfo, end time.Time) *Results {
	hs := r.StepHists()
	out := &Results{Summary: r.Summarize(info, end), Series: r.Series()}
	for i, k := range r.steps {
		out.Hists = append(out.Hists, StepHists{Key: k, Hists: hs[i]})
	}
	return out
}

// WriteDir writes the results into dir, creating it. Each file is written
// to a temporary name and renamed, so a reader never sees half a file.
func WriteDir(dir string, res *Results) error { return writeDir(dir, res, true) }

// FinishDir is WriteDir for a run whose SeriesWriter streamed the whole
// time series into dir already: it leaves timeseries.jsonl as it is,
// which spares a disk near full a second copy of the largest file.
func FinishDir(dir string, res *Results) error { return writeDir(dir, res, false) }

func writeDir(dir string, res *Results, series bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("results dir: %w", err)
	}
	sum, err := json.MarshalIndent(res.Summary, "", "  ")
	if err != nil {
		return fmt.Errorf("encode summary: %w", err)
	}
	var ts bytes.Buffer
	enc := json.NewEncoder(&ts)
	for i := range res.Series {
		if err := enc.Encode(&res.Series[i]); err != nil {
			return fmt.Errorf("encode time series: %w", err)
		}
	}
	hs, err := encodeHists(res.Hists)
	if err != nil {
		return err
	}
	hj, err := json.MarshalIndent(hs, "", "  ")
	if err != nil {
		return fmt.Errorf("encode histograms: %w", err)
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{SeriesFile, ts.Bytes()}, {HistogramsFile, append(hj, '\n')}, {SummaryFile, append(sum, '\n')}} {
		if f.name == SeriesFile && !series {
			continue
		}
		if err := WriteFileAtomic(filepath.Join(dir, f.name), f.data); err != nil {
			return err
		}
	}
	// The whole results supersede the checkpoint.
	if err := os.Remove(filepath.Join(dir, ProgressFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", filepath.Join(dir, ProgressFile), err)
	}
	return nil
}

func encodeHists(hists []StepHists) ([]encodedHist, error) {
	var hs []encodedHist
	for _, sh := range hists {
		for _, kh := range []struct {
			kind string
			h    *hdr.Histogram
		}{{KindFromSend, sh.FromSend}, {KindFromDue, sh.FromDue}, {KindAttempt, sh.Attempt}} {
			b, err := kh.h.Encode(hdr.V2CompressedEncodingCookieBase)
			if err != nil {
				return nil, fmt.Errorf("encode histogram %s/%s %s: %w", sh.Key.Scenario, sh.Key.Step, kh.kind, err)
			}
			hs = append(hs, encodedHist{StepKey: sh.Key, Kind: kh.kind, HDR: string(b)})
		}
	}
	return hs, nil
}

// WriteFileAtomic writes data to path through a temporary file and a
// rename, so a reader sees the old file or the whole new one, never half.
// When it fails (a full disk, a read-only one) it removes the temporary
// file, and its error names path.
func WriteFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, pathless(err))
	}
	_, err = f.Write(data)
	// Close reports what a full disk delayed until the data was flushed
	// (NFS, some FUSE file systems).
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, pathless(err))
	}
	return nil
}

// pathless drops the path an *os.PathError repeats: messages name the
// file once, as the user knows it (not its temporary name).
func pathless(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// ReadDir reads a results dir written by WriteDir, or the checkpoint
// (progress.json) and streamed series of a run that did not end: then
// Summary.Partial is true and a note says what the results cover.
func ReadDir(dir string) (*Results, error) {
	res := &Results{}
	var hs []encodedHist
	b, err := os.ReadFile(filepath.Join(dir, SummaryFile))
	if err == nil && newer(filepath.Join(dir, ProgressFile), filepath.Join(dir, SummaryFile)) {
		// An earlier run's summary, and this run's checkpoint: the run
		// written over it was killed.
		err = os.ErrNotExist
	}
	switch {
	case errors.Is(err, os.ErrNotExist):
		if res.Summary, hs, err = readProgress(dir); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, fmt.Errorf("read results: %w", err)
	default:
		res.Summary = new(Summary)
		if err := json.Unmarshal(b, res.Summary); err != nil {
			return nil, fmt.Errorf("read %s: %w", filepath.Join(dir, SummaryFile), err)
		}
		if res.Summary.Schema != SummarySchema {
			return nil, fmt.Errorf("read %s: schema %q, want %q", filepath.Join(dir, SummaryFile), res.Summary.Schema, SummarySchema)
		}
	}
	if res.Series, err = readSeries(filepath.Join(dir, SeriesFile), res.Summary.Partial); err != nil {
		return nil, err
	}
	if !res.Summary.Partial {
		b, err = os.ReadFile(filepath.Join(dir, HistogramsFile))
		if err != nil {
			return nil, fmt.Errorf("read results: %w", err)
		}
		if err := json.Unmarshal(b, &hs); err != nil {
			return nil, fmt.Errorf("read %s: %w", HistogramsFile, err)
		}
	}
	idx := map[StepKey]int{}
	for _, e := range hs {
		h, err := hdr.Decode([]byte(e.HDR))
		if err != nil {
			return nil, fmt.Errorf("read %s: %s/%s %s: %w", HistogramsFile, e.Scenario, e.Step, e.Kind, err)
		}
		i, ok := idx[e.StepKey]
		if !ok {
			i = len(res.Hists)
			idx[e.StepKey] = i
			res.Hists = append(res.Hists, StepHists{Key: e.StepKey})
		}
		sh := &res.Hists[i]
		switch e.Kind {
		case KindFromSend:
			sh.FromSend = h
		case KindFromDue:
			sh.FromDue = h
		case KindAttempt:
			sh.Attempt = h
		default:
			return nil, fmt.Errorf("read %s: unknown histogram kind %q", HistogramsFile, e.Kind)
		}
	}
	for _, sh := range res.Hists {
		if sh.FromSend == nil || sh.FromDue == nil || sh.Attempt == nil {
			return nil, errors.New("read " + HistogramsFile + ": step " + sh.Key.Scenario + "/" + sh.Key.Step + " lacks a histogram kind")
		}
	}
	return res, nil
}

// readSeries reads timeseries.jsonl. A partial run's file may end in the
// middle of a line, where the kill cut it: that line is dropped.
func readSeries(path string, partial bool) ([]Bucket, error) {
	f, err := os.Open(path)
	if err != nil {
		if partial && errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("read results: %w", err)
	}
	defer f.Close()
	var out []Bucket
	r := bufio.NewReaderSize(f, 64<<10)
	for line := 1; ; line++ {
		b, err := r.ReadBytes('\n')
		if len(b) > 0 {
			var bk Bucket
			if jerr := json.Unmarshal(b, &bk); jerr != nil {
				if partial && err != nil { // the unterminated last line
					return out, nil
				}
				return nil, fmt.Errorf("read %s:%d: %w", path, line, jerr)
			}
			out = append(out, bk)
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
	}
}

// newer reports whether file a exists and was modified after b.
func newer(a, b string) bool {
	ai, err := os.Stat(a)
	if err != nil {
		return false
	}
	bi, err := os.Stat(b)
	return err == nil && ai.ModTime().After(bi.ModTime())
}
