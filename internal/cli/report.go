package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/floodgate-dev/floodgate/internal/diagnose"
	"github.com/floodgate-dev/floodgate/internal/jtl"
	"github.com/floodgate-dev/floodgate/internal/metrics"
	"github.com/floodgate-dev/floodgate/internal/report"
)

func init() {
	register("report", "re-render a results dir: HTML with charts, text, JSON or JUnit, diagnosis included", runReport)
}

const reportUsage = `Usage: floodgate report DIR [--format html|text|json|junit] [-o FILE]
       floodgate report RESULTS.jtl [--format html|text|json|junit] [-o DIR]

Renders the results dir DIR (written by 'floodgate run' or 'floodgate merge')
again, running the diagnosis — where the wall is and what kind — anew:

  html   one self-contained page (works offline): the diagnosis, thresholds,
         charts over time and per-step tables; written to DIR/report.html
         unless -o names another file (the default format)
  text   the end-of-run summary, thresholds and the diagnosis
  json   summary.json with the diagnosis under "diagnosis"
  junit  the thresholds as test cases when the run had any, else one test
         case per kind of wall, failed when the run hit one

text, json and junit go to stdout unless -o names a file.

Given a JMeter results file (.jtl: CSV with its header line, or XML), it
builds the same results a floodgate run writes — per-label steps under
per-thread-group scenarios, per-second buckets, HDR histograms — into a
results dir (-o DIR, default RESULTS-floodgate next to the file) with
report.html, prints the summary and the diagnosis, and writes --format
text, json or junit to stdout as above. What a JTL lacks is
reconstructed and noted in summary.json's notes: requests in flight come
from the samples' timestamps and elapsed times.`

func runReport(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "report", reportUsage)
	format := fs.String("format", "html", "`format`: html, text, json or junit")
	out := fs.String("o", "", "write to `PATH`: for a DIR, the report FILE (default DIR/report.html for html, stdout otherwise); for a .jtl, the results DIR")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return withCode(ExitUsage, errors.New("report: want exactly one results DIR or .jtl file"))
	}
	dir := pos[0]
	if isJTL(dir) {
		return reportJTL(env, dir, *out, *format)
	}
	switch *format {
	case "html":
		path, err := writeHTMLReport(dir, *out)
		if err != nil {
			return withCode(ExitUsage, err)
		}
		fmt.Fprintf(env.Stdout, "report: %s\n", path)
		return nil
	case "text", "json", "junit":
	default:
		return withCode(ExitUsage, fmt.Errorf("report: --format %q: want html, text, json or junit", *format))
	}
	res, err := metrics.ReadDir(dir)
	if err != nil {
		return withCode(ExitUsage, err)
	}
	b, err := renderReport(*format, res, diagnose.Analyze(res))
	if err != nil {
		return err
	}
	if *out == "" {
		_, err := env.Stdout.Write(b)
		return err
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	fmt.Fprintf(env.Stdout, "report: %s\n", *out)
	return nil
}

// renderReport renders res in format text, json or junit.
func renderReport(format string, res *metrics.Results, d *diagnose.Diagnosis) ([]byte, error) {
	s := res.Summary
	var err error
	var b bytes.Buffer
	switch format {
	case "text":
		report.WriteText(&b, s)
		report.WriteChecks(&b, s)
		b.WriteString("\n")
		diagnose.WriteText(&b, d)
	case "json":
		// The summary's own keys, then the diagnosis; a "diagnosis" the
		// summary may already hold is replaced by this fresh one.
		doc := struct {
			*metrics.Summary
			Diagnosis *diagnose.Diagnosis `json:"diagnosis"`
		}{s, d}
		j, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
		b.Write(append(j, '\n'))
	case "junit":
		if len(s.Thresholds) > 0 {
			err = report.WriteJUnit(&b, s)
		} else {
			err = diagnose.WriteJUnit(&b, d, s.Plan, s.StartTime, s.DurationS)
		}
		if err != nil {
			return nil, err
		}
	}
	return b.Bytes(), nil
}

// isJTL tells a JMeter results file from a results dir: a regular file.
func isJTL(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// reportJTL reads a JMeter results file, writes the results dir a run
// would have written (with report.html), prints the summary and the
// diagnosis, and format's rendering when it is not html.
func reportJTL(env *Env, path, dir, format string) error {
	switch format {
	case "html", "text", "json", "junit":
	default:
		return withCode(ExitUsage, fmt.Errorf("report: --format %q: want html, text, json or junit", format))
	}
	fh, err := os.Open(path)
	if err != nil {
		return withCode(ExitUsage, fmt.Errorf("report: %w", err))
	}
	f, err := jtl.Read(fh)
	fh.Close()
	if err != nil {
		return withCode(ExitUsage, fmt.Errorf("report %s: %w", path, err))
	}
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	res, err := jtl.Results(f, metrics.RunInfo{Plan: name, PlanFile: path})
	if err != nil {
		return withCode(ExitUsage, fmt.Errorf("report %s: %w", path, err))
	}
	if dir == "" {
		dir = filepath.Join(filepath.Dir(path), name+"-floodgate")
	}
	d := diagnose.Analyze(res)
	if b, err := json.Marshal(d); err == nil {
		res.Summary.Diagnosis = b
	}
	if err := metrics.WriteDir(dir, res); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	html := filepath.Join(dir, report.HTMLFile)
	if err := report.WriteHTMLFile(html, res, d); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if format != "html" {
		b, err := renderReport(format, res, d)
		if err != nil {
			return err
		}
		_, err = env.Stdout.Write(b)
		return err
	}
	report.WriteText(env.Stdout, res.Summary)
	fmt.Fprintln(env.Stdout)
	for _, n := range res.Summary.Notes {
		fmt.Fprintf(env.Stdout, "note: %s\n", n)
	}
	fmt.Fprintln(env.Stdout)
	diagnose.WriteText(env.Stdout, d)
	fmt.Fprintf(env.Stdout, "\nresults: %s (report: %s)\n", dir, html)
	return nil
}

// writeHTMLReport renders dir's HTML report into out (dir/report.html
// when ""). A killed run's dir has no summary.json, only its last
// checkpoint: it is rendered from what ReadDir makes of that, marked
// partial.
func writeHTMLReport(dir, out string) (string, error) {
	res, err := metrics.ReadDir(dir)
	if err != nil {
		return "", err
	}
	if !res.Summary.Partial {
		return report.WriteHTMLDir(dir, out)
	}
	if out == "" {
		out = filepath.Join(dir, report.HTMLFile)
	}
	return out, report.WriteHTMLFile(out, res, diagnose.Analyze(res))
}
