package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/floodgate-dev/floodgate/internal/diagnose"
	emuconfig "github.com/floodgate-dev/floodgate/internal/emulator/config"
	"github.com/floodgate-dev/floodgate/internal/jmx"
	"github.com/floodgate-dev/floodgate/internal/lint"
	"github.com/floodgate-dev/floodgate/internal/plan"
)

func init() {
	register("lint", "predict a plan's load (YAML or JMeter .jmx) and check it against rate limits", runLint)
}

const lintUsage = `Usage: floodgate lint PLAN [--limit 300/60s] [--limit-key token|client|org]
                      [--max-in-flight N] [--latency 200ms] [--emulator-config FILE]
                      [--format text|json] [--strict]

Predicts the load each scenario of PLAN offers — peak request rate, peak
concurrency, total requests, how long the plan runs — and checks it
against rate limits: the emulator's defaults (300 requests per 60 s per
token) unless --limit or --emulator-config gives others. It says when
the first 429 comes and how long the limit makes the run, and flags
plans that won't survive the wall: retries off (or not on 429) where
429s are expected, Retry-After ignored or cut short, POSTs retried with
non_idempotent: true, more in flight than --max-in-flight, an open
executor short of VUs. PLAN may be a JMeter .jmx file: it is imported
first, findings name JMeter elements, and the Constant Throughput Timer
unit trap (samples per MINUTE) and unbounded Thread Groups are checked.

Where the load depends on response times (closed executors), each
request is assumed to take --latency.

Exit codes: 0 no errors (warnings are advice), 1 lint found errors (or
warnings, with --strict), 2 bad usage, or a plan that does not parse
(a JMeter plan that does not convert, an unbounded one included).`

func runLint(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "lint", lintUsage)
	var limits []string
	fs.Func("limit", "a rate limit `N/WINDOW`, e.g. 300/60s or 300/m (repeatable; default: the emulator's)", func(s string) error {
		limits = append(limits, s)
		return nil
	})
	key := fs.String("limit-key", lint.KeyToken, "what --limit counts per: `token`, client or org")
	maxInFlight := fs.Int("max-in-flight", 0, "a concurrency cap: at most `N` requests in flight")
	latency := fs.Duration("latency", lint.DefaultLatency, "the response time to assume per request")
	emuFile := fs.String("emulator-config", "", "take limits and caps from an emulator config `FILE`")
	format := fs.String("format", "text", "`format`: text or json")
	strict := fs.Bool("strict", false, "exit 1 on warnings too")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return withCode(ExitUsage, errors.New("lint: want exactly one PLAN (.yaml or .jmx)"))
	}
	if *format != "text" && *format != "json" {
		return withCode(ExitUsage, fmt.Errorf("lint: --format %q: want text or json", *format))
	}
	if *key != lint.KeyToken && *key != lint.KeyClient && *key != lint.KeyOrg {
		return withCode(ExitUsage, fmt.Errorf("lint: --limit-key %q: want token, client or org", *key))
	}
	if *latency <= 0 {
		return withCode(ExitUsage, fmt.Errorf("lint: --latency %s: want a positive duration such as 200ms", *latency))
	}
	var opts []lint.Option
	var ls []lint.Limit
	if *emuFile != "" {
		c, err := emuconfig.Load(*emuFile)
		if err != nil {
			return withCode(ExitUsage, fmt.Errorf("lint: %w", err))
		}
		ls = append(ls, lint.ConfigLimits(c, *emuFile)...)
		if m := lint.ConfigMaxInFlight(c); m > 0 && *maxInFlight == 0 {
			*maxInFlight = m
		}
	}
	for _, s := range limits {
		l, err := lint.ParseLimit(s)
		if err != nil {
			return withCode(ExitUsage, fmt.Errorf("lint: --limit: %w", err))
		}
		l.Key = *key
		ls = append(ls, l)
	}
	if ls != nil {
		opts = append(opts, lint.WithLimits(ls...))
	}
	if *maxInFlight > 0 {
		opts = append(opts, lint.WithMaxInFlight(*maxInFlight))
	}
	opts = append(opts, lint.WithLatency(*latency))

	path := pos[0]
	src, err := os.ReadFile(path)
	if err != nil {
		return withCode(ExitUsage, fmt.Errorf("lint: %w", err))
	}
	var r *lint.Report
	if isJMX(path, src) {
		res, err := jmx.Convert(bytes.NewReader(src), jmx.WithFile(path))
		if err != nil {
			return withCode(ExitUsage, fmt.Errorf("lint %s: %w", path, err))
		}
		// Data files resolve against the .jmx file's directory, as
		// `floodgate import` without -o writes them.
		p, err := plan.Parse(strings.TrimSuffix(path, filepath.Ext(path))+".yaml", res.YAML, withExamples(env.Getenv, res.Required))
		if err != nil {
			return withCode(ExitUsage, fmt.Errorf("lint %s: the imported plan does not parse (see floodgate import): %w", path, err))
		}
		r = lint.JMX(res, p, opts...)
	} else {
		p, err := plan.Parse(path, src, env.Getenv)
		if err != nil {
			return withCode(ExitUsage, err)
		}
		r = lint.Plan(p, opts...)
	}
	if err := writeLint(env, *format, path, r); err != nil {
		return err
	}
	errs, warns := r.Count(lint.Error), r.Count(lint.Warning)
	switch {
	case errs > 0:
		return fmt.Errorf("lint: %s, %s", plural(errs, "error"), plural(warns, "warning"))
	case warns > 0 && *strict:
		return fmt.Errorf("lint: %s (--strict)", plural(warns, "warning"))
	}
	return nil
}

// isJMX tells a JMeter plan by its extension or its first byte.
func isJMX(path string, src []byte) bool {
	if strings.EqualFold(filepath.Ext(path), ".jmx") {
		return true
	}
	return bytes.HasPrefix(bytes.TrimLeft(src, " \t\r\n\ufeff"), []byte("<"))
}

func writeLint(env *Env, format, path string, r *lint.Report) error {
	if format == "json" {
		b, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			return err
		}
		_, err = env.Stdout.Write(append(b, '\n'))
		return err
	}
	w := env.Stdout
	if len(r.Predictions) > 0 {
		var lims []string
		for _, l := range r.Limits {
			s := l.String()
			if l.Source != "" {
				s += " (" + l.Source + ")"
			}
			lims = append(lims, s)
		}
		if len(lims) == 0 {
			lims = []string{"no limits"}
		}
		fmt.Fprintf(w, "lint %s: against %s; %s per request assumed", path, strings.Join(lims, ", "), r.Latency)
		if r.MaxInFlight > 0 {
			fmt.Fprintf(w, "; at most %d in flight", r.MaxInFlight)
		}
		fmt.Fprint(w, "\n\n")
		writePredictions(w, r.Predictions)
		fmt.Fprintln(w)
	}
	for _, f := range r.Findings {
		fmt.Fprintf(w, "%-8s %s  %s\n  %s\n", f.Severity, f.Rule, f.Where, f.Message)
		if f.Fix != "" {
			fmt.Fprintf(w, "  fix: %s\n", f.Fix)
		}
	}
	if len(r.Findings) > 0 {
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "%s, %s\n", plural(r.Count(lint.Error), "error"), plural(r.Count(lint.Warning), "warning"))
	return nil
}

func writePredictions(w io.Writer, ps []lint.Prediction) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  scenario\tschedule\trequests\tpeak rate\tpeak in flight\tlength")
	for _, p := range ps {
		req := diagnose.Count(p.Requests)
		if p.Estimated {
			req = "~" + req
		}
		if p.AtLeast {
			req = "≥ " + req
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%d\t%s\n", p.Scenario, p.Executor, req, diagnose.Rate(p.PeakRate), p.PeakConcurrency, diagnose.Seconds(p.Duration.Seconds()))
	}
	tw.Flush()
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}
