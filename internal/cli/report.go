package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/floodgate-dev/floodgate/internal/diagnose"
	"github.com/floodgate-dev/floodgate/internal/metrics"
	"github.com/floodgate-dev/floodgate/internal/report"
)

func init() {
	register("report", "re-render a results dir: HTML with charts, text, JSON or JUnit, diagnosis included", runReport)
}

const reportUsage = `Usage: floodgate report DIR [--format html|text|json|junit] [-o FILE]

Renders the results dir DIR (written by 'floodgate run' or 'floodgate merge')
again, running the diagnosis — where the wall is and what kind — anew:

  html   one self-contained page (works offline): the diagnosis, thresholds,
         charts over time and per-step tables; written to DIR/report.html
         unless -o names another file (the default format)
  text   the end-of-run summary, thresholds and the diagnosis
  json   summary.json with the diagnosis under "diagnosis"
  junit  the thresholds as test cases when the run had any, else one test
         case per kind of wall, failed when the run hit one

text, json and junit go to stdout unless -o names a file.`

func runReport(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "report", reportUsage)
	format := fs.String("format", "html", "`format`: html, text, json or junit")
	out := fs.String("o", "", "write to `FILE` (default DIR/report.html for html, stdout otherwise)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return withCode(ExitUsage, errors.New("report: want exactly one results DIR"))
	}
	dir := pos[0]
	switch *format {
	case "html":
		path, err := report.WriteHTMLDir(dir, *out)
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
	d := diagnose.Analyze(res)
	s := res.Summary
	var b bytes.Buffer
	switch *format {
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
			return fmt.Errorf("report: %w", err)
		}
		b.Write(append(j, '\n'))
	case "junit":
		if len(s.Thresholds) > 0 {
			err = report.WriteJUnit(&b, s)
		} else {
			err = diagnose.WriteJUnit(&b, d, s.Plan, s.StartTime, s.DurationS)
		}
		if err != nil {
			return err
		}
	}
	if *out == "" {
		_, err := env.Stdout.Write(b.Bytes())
		return err
	}
	if err := os.WriteFile(*out, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	fmt.Fprintf(env.Stdout, "report: %s\n", *out)
	return nil
}
