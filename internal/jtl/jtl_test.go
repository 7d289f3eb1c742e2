package jtl

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/floodgate-dev/floodgate/internal/diagnose"
	"github.com/floodgate-dev/floodgate/internal/metrics"
)

const csvHead = "timeStamp,elapsed,label,responseCode,responseMessage,threadName,dataType,success,failureMessage,bytes,sentBytes,grpThreads,allThreads,URL,Latency,IdleTime,Connect\n"

func TestReadCSV(t *testing.T) {
	t.Parallel()
	in := csvHead +
		`1732270000000,120,GET /a,200,OK,Bot users 1-1,text,true,,100,50,2,2,http://h:8080/a,110,0,3` + "\n" +
		`1732270000010,"30",GET /a,429,"Too Many Requests, slow down",Bot users 1-2,text,false,,10,50,2,2,http://h:8080/a,30,0,0` + "\n" +
		`1732270000500,21000,GET /b,Non HTTP response code: java.net.SocketTimeoutException,Read timed out,Bot users 1-2,text,false,,0,0,2,2,,0,0,0` + "\n" +
		`1732270000600,240,txn,200,"Number of samples in transaction : 2, number of failing samples : 0",Bot users 1-1,,true,,0,0,2,2,,0,0,0` + "\n"
	f, err := Read(strings.NewReader("\ufeff" + in))
	if err != nil {
		t.Fatal(err)
	}
	if f.Format != "csv" || len(f.Samples) != 3 || f.Parents != 1 {
		t.Fatalf("%+v", f)
	}
	s := f.Samples[1]
	if s.Status != 429 || s.Success || s.Message != "Too Many Requests, slow down" || s.Elapsed != 30*time.Millisecond || s.AllThreads != 2 {
		t.Errorf("%+v", s)
	}
	if s := f.Samples[2]; s.Status != 0 || classify(&s) != metrics.Timeout {
		t.Errorf("%+v: class %v", s, classify(&s))
	}

	// Another delimiter, formatted timestamps, fewer columns (JMeter 2.13).
	in = "timeStamp;elapsed;label;responseCode;success;threadName\n2026/11/22 10:00:00.250;12;x;200;true;TG 1-1\n"
	f, err = Read(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Samples[0].Start; !got.Equal(time.Date(2026, 11, 22, 10, 0, 0, 250e6, time.UTC)) || f.Samples[0].AllThreads != -1 {
		t.Errorf("%v %+v", got, f.Samples[0])
	}
}

func TestReadErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		want error
	}{
		{"", ErrEmpty},
		{"   \n", ErrEmpty},
		{"1732270000000,12,x,200\n", ErrFormat},
		{csvHead, ErrEmpty},
		{"<html/>", ErrFormat},
		{"<testResults version=\"1.2\"></testResults>", ErrEmpty},
	} {
		if _, err := Read(strings.NewReader(c.in)); !errors.Is(err, c.want) {
			t.Errorf("%q: %v, want %v", c.in, err, c.want)
		}
	}
	for _, in := range []string{
		csvHead + "yesterday,12,x,200,OK,t,text,true,,1,1,1,1,,0,0,0\n",
		csvHead + "1732270000000,-5,x,200,OK,t,text,true,,1,1,1,1,,0,0,0\n",
		`<testResults><httpSample ts="1" t="2"`,
		`<testResults><httpSample ts="x" t="2"/></testResults>`,
	} {
		if _, err := Read(strings.NewReader(in)); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

// TestInFlightReconstructed: in-flight is rebuilt from [start, end).
func TestInFlightReconstructed(t *testing.T) {
	t.Parallel()
	in := csvHead +
		"1732270000000,500,a,200,OK,T 1-1,text,true,,1,1,3,3,,0,0,0\n" +
		"1732270000100,500,a,200,OK,T 1-2,text,true,,1,1,3,3,,0,0,0\n" +
		"1732270000200,500,a,200,OK,T 1-3,text,true,,1,1,3,3,,0,0,0\n" +
		"1732270001500,100,a,200,OK,T 1-1,text,true,,1,1,3,3,,0,0,0\n" +
		"1732270001600,100,a,200,OK,T 1-1,text,true,,1,1,3,3,,0,0,0\n"
	f, err := Read(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Results(f, metrics.RunInfo{Plan: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Series) != 2 || res.Series[0].InFlightMax != 3 || res.Series[1].InFlightMax != 1 {
		t.Fatalf("series %+v", res.Series)
	}
	// Three samples of 0.5 s in the first second: a mean of 1.5 in flight.
	if m := res.Series[0].InFlightMean; m < 1.45 || m > 1.55 {
		t.Errorf("mean in flight %.3f, want 1.5", m)
	}
	s := res.Summary
	if s.Requests != 5 || s.Attempts != 5 || s.Succeeded != 5 || s.Scenarios[0].Name != "T" || s.Scenarios[0].Executor != "jmeter" ||
		s.DurationS != 1.7 || len(s.Notes) < 2 || !strings.Contains(s.Notes[1], "in-flight requests are reconstructed") ||
		!strings.Contains(strings.Join(s.Notes, "\n"), "active threads (allThreads) peaked at 3") {
		t.Errorf("summary %+v", s)
	}
}

// TestHandWrittenXML: an XML JTL with saved response headers names the
// rate limit and reads its count and window from them; a transaction's
// parent sample and a redirect's sub-results are not counted twice.
func TestHandWrittenXML(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("testdata", "burst.xml.jtl"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := Read(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if f.Format != "xml" || len(f.Samples) != 27 || f.Parents != 1 || f.SubResults != 2 {
		t.Fatalf("format %s, %d samples, %d parents, %d sub-results", f.Format, len(f.Samples), f.Parents, f.SubResults)
	}
	res, err := Results(f, metrics.RunInfo{Plan: "burst"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary.Target != "http://127.0.0.1:8080" || res.Summary.Statuses["429"] != 7 {
		t.Errorf("target %q statuses %v", res.Summary.Target, res.Summary.Statuses)
	}
	d := diagnose.Analyze(res)
	if len(d.Findings) != 1 || d.Findings[0].Kind != diagnose.RateLimit || d.Findings[0].Onset.Count != 10 || d.Findings[0].Onset.Window != 2 ||
		d.Findings[0].Confidence < 0.9 {
		t.Fatalf("diagnosis %+v", d)
	}
}

func TestWriteCSVRoundTrip(t *testing.T) {
	t.Parallel()
	t0 := time.UnixMilli(1732270000000).UTC()
	in := []Sample{
		{Start: t0, Elapsed: 12 * time.Millisecond, Label: "a, with comma", Status: 200, Message: "OK", Thread: "G 1-1", Success: true, Bytes: 9, SentBytes: 3, GrpThreads: 1, AllThreads: 1},
		{Start: t0.Add(time.Second), Elapsed: 3 * time.Millisecond, Label: `b "quoted"`, Code: "Non HTTP response code: java.net.ConnectException", Thread: "G 1-1", Failure: "refused", GrpThreads: 1, AllThreads: 1},
	}
	var b bytes.Buffer
	if err := WriteCSV(&b, in); err != nil {
		t.Fatal(err)
	}
	f, err := Read(&b)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Samples) != 2 {
		t.Fatal(f.Samples)
	}
	for i, s := range f.Samples {
		w := in[i]
		if !s.Start.Equal(w.Start) || s.Elapsed != w.Elapsed || s.Label != w.Label || s.Status != w.Status || s.Success != w.Success || s.Thread != w.Thread || s.Bytes != w.Bytes {
			t.Errorf("%d: %+v, want %+v", i, s, w)
		}
	}
	if c := classify(&f.Samples[1]); c != metrics.Connect {
		t.Errorf("class %v", c)
	}
}

func FuzzJTL(f *testing.F) {
	f.Add([]byte(csvHead + "1732270000000,120,a,200,OK,T 1-1,text,true,,1,1,1,1,,0,0,0\n"))
	f.Add([]byte(`<testResults><httpSample ts="1732270000000" t="5" lb="a" rc="200" s="true" tn="T 1-1"/></testResults>`))
	b, _ := os.ReadFile(filepath.Join("testdata", "burst.xml.jtl"))
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		if len(file.Samples) > 2000 {
			return
		}
		span := time.Duration(0)
		first, last := file.Samples[0].Start, file.Samples[0].Start
		for _, s := range file.Samples {
			if s.Start.Before(first) {
				first = s.Start
			}
			if e := s.Start.Add(s.Elapsed); e.After(last) {
				last = e
			}
		}
		if span = last.Sub(first); span > time.Minute {
			return // a valid file, but too long a replay for a fuzz run
		}
		res, err := Results(file, metrics.RunInfo{})
		if err != nil {
			t.Fatal(err)
		}
		// Every sample is an attempt; one that retries its thread's 429
		// is not a request of its own.
		if s := res.Summary; s.Attempts != int64(len(file.Samples)) || s.Requests+s.Retries != s.Attempts {
			t.Fatalf("%d attempts, %d requests, %d retries for %d samples", s.Attempts, s.Requests, s.Retries, len(file.Samples))
		}
		diagnose.Analyze(res)
	})
}
