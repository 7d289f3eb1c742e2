package metrics

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
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
func WriteDir(dir string, res *Results) error {
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
	var hs []encodedHist
	for _, sh := range res.Hists {
		for _, kh := range []struct {
			kind string
			h    *hdr.Histogram
		}{{KindFromSend, sh.FromSend}, {KindFromDue, sh.FromDue}, {KindAttempt, sh.Attempt}} {
			b, err := kh.h.Encode(hdr.V2CompressedEncodingCookieBase)
			if err != nil {
				return fmt.Errorf("encode histogram %s/%s %s: %w", sh.Key.Scenario, sh.Key.Step, kh.kind, err)
			}
			hs = append(hs, encodedHist{StepKey: sh.Key, Kind: kh.kind, HDR: string(b)})
		}
	}
	hj, err := json.MarshalIndent(hs, "", "  ")
	if err != nil {
		return fmt.Errorf("encode histograms: %w", err)
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{SeriesFile, ts.Bytes()}, {HistogramsFile, append(hj, '\n')}, {SummaryFile, append(sum, '\n')}} {
		if err := WriteFileAtomic(filepath.Join(dir, f.name), f.data); err != nil {
			return err
		}
	}
	return nil
}

// WriteFileAtomic writes data to path through a temporary file and a
// rename, so a reader sees the old file or the whole new one, never half.
func WriteFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// ReadDir reads a results dir written by WriteDir.
func ReadDir(dir string) (*Results, error) {
	res := &Results{}
	b, err := os.ReadFile(filepath.Join(dir, SummaryFile))
	if err != nil {
		return nil, fmt.Errorf("read results: %w", err)
	}
	res.Summary = new(Summary)
	if err := json.Unmarshal(b, res.Summary); err != nil {
		return nil, fmt.Errorf("read %s: %w", filepath.Join(dir, SummaryFile), err)
	}
	if res.Summary.Schema != SummarySchema {
		return nil, fmt.Errorf("read %s: schema %q, want %q", filepath.Join(dir, SummaryFile), res.Summary.Schema, SummarySchema)
	}
	f, err := os.Open(filepath.Join(dir, SeriesFile))
	if err != nil {
		return nil, fmt.Errorf("read results: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for line := 1; sc.Scan(); line++ {
		var bk Bucket
		if err := json.Unmarshal(sc.Bytes(), &bk); err != nil {
			return nil, fmt.Errorf("read %s:%d: %w", f.Name(), line, err)
		}
		res.Series = append(res.Series, bk)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", f.Name(), err)
	}
	b, err = os.ReadFile(filepath.Join(dir, HistogramsFile))
	if err != nil {
		return nil, fmt.Errorf("read results: %w", err)
	}
	var hs []encodedHist
	if err := json.Unmarshal(b, &hs); err != nil {
		return nil, fmt.Errorf("read %s: %w", HistogramsFile, err)
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
