package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/floodgate-dev/floodgate/internal/client"
	"github.com/floodgate-dev/floodgate/internal/diagnose"
	"github.com/floodgate-dev/floodgate/internal/engine"
	"github.com/floodgate-dev/floodgate/internal/hostcpu"
	"github.com/floodgate-dev/floodgate/internal/metrics"
	"github.com/floodgate-dev/floodgate/internal/plan"
	"github.com/floodgate-dev/floodgate/internal/report"
)

func init() {
	register("run", "run a load plan and write a results dir", runRun)
}

const runUsage = `Usage: floodgate run PLAN [--out DIR] [--target URL]

Runs the YAML plan PLAN: live progress while it runs, a summary at the end,
and a results dir (summary.json, timeseries.jsonl, histograms.json).

Ctrl-C once stops starting new iterations and lets in-flight ones finish
within the plan's grace period; twice aborts them. Either way the results
dir is written for what ran.`

func runRun(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "run", runUsage)
	out := fs.String("out", "", "results dir (default results/<plan>-<timestamp>)")
	target := fs.String("target", "", "override the plan's target base URL, e.g. http://127.0.0.1:8080")
	every := fs.Duration("progress", time.Second, "how often to print a progress line when stdout is not a terminal (0: every second)")
	seed := fs.Uint64("seed", 0, "seed for backoff jitter (default random)")
	segFlag := fs.String("segment", "", "run only share `i/n` of every scenario (VUs, arrivals, batches), for one plan across n processes; auto/n takes i from $JOB_COMPLETION_INDEX+1")
	metricsAddr := fs.String("metrics-addr", "", "serve live Prometheus metrics on `host:port` during the run (e.g. 127.0.0.1:9464)")
	startAt := fs.String("start-at", "", "shared time zero for segments: RFC 3339 (2026-11-22T10:00:00Z) or Unix seconds; waits for it")
	force := fs.Bool("force", false, "run even where the scale checks only warn: memory for the VUs, an arrival rate beyond one process, max_vus beyond ulimit -n")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return withCode(ExitUsage, errors.New("run: want exactly one PLAN file"))
	}
	p, err := plan.Load(pos[0], env.Getenv)
	if err != nil {
		return withCode(ExitUsage, err)
	}
	if *target != "" {
		if err := retarget(p, *target); err != nil {
			return withCode(ExitUsage, err)
		}
	}
	dir := *out
	if dir == "" {
		dir = filepath.Join("results", p.Name+"-"+time.Now().Format("20060102-150405"))
		if *segFlag != "" {
			dir += "-seg" + strings.ReplaceAll(*segFlag, "/", "of")
		}
	}

	var opts []engine.Option
	if *seed != 0 {
		opts = append(opts, engine.WithSeed(*seed))
	}
	var seg engine.Segment
	if *segFlag != "" {
		if rest, ok := strings.CutPrefix(*segFlag, "auto/"); ok {
			// A Kubernetes Indexed Job gives each pod its 0-based index.
			idx, ok := env.Getenv("JOB_COMPLETION_INDEX")
			k, err := strconv.Atoi(idx)
			if !ok || err != nil {
				return withCode(ExitUsage, fmt.Errorf("--segment %s: JOB_COMPLETION_INDEX is not set to a number (auto/N is for Kubernetes Indexed Jobs)", *segFlag))
			}
			*segFlag = strconv.Itoa(k+1) + "/" + rest
		}
		if seg, err = engine.ParseSegment(*segFlag); err != nil {
			return withCode(ExitUsage, err)
		}
		opts = append(opts, engine.WithSegment(seg))
	}
	if *startAt != "" {
		t, err := parseStartAt(*startAt)
		if err != nil {
			return withCode(ExitUsage, err)
		}
		opts = append(opts, engine.WithStartAt(t))
	}
	var (
		pr    *progress
		keep  *keeper
		e     *engine.Engine
		noted bool // the "is the target running?" line was printed
	)
	checks := make(chan struct{}, 1) // each second: check abort_on_fail thresholds
	opts = append(opts, engine.WithTick(func(b metrics.Bucket) {
		if pr != nil {
			pr.Tick(b)
		}
		if keep != nil {
			keep.tick(b)
		}
		if !noted && pr != nil && b.T < unreachableNoteWithin.Seconds() {
			noted = noteUnreachable(pr.Above(env.Stderr), e, p.Target)
		}
		select {
		case checks <- struct{}{}:
		default:
		}
	}))
	var live *liveServer
	if *metricsAddr != "" {
		live = newLiveServer(p)
		opts = append(opts, engine.WithObserver(live.exp))
	}
	e, err = engine.New(p, opts...)
	if err != nil {
		return withCode(ExitUsage, err)
	}
	fatal, soft := preflight(runScale{closedVUs: e.ClosedVUs(), maxConc: e.MaxConcurrency(), rate: e.PeakRate()}, readLimits())
	if err := preflightError(fatal, soft, *force); err != nil {
		return withCode(ExitUsage, err)
	}
	for _, w := range soft {
		fmt.Fprintf(env.Stderr, "floodgate: warning: %s (running anyway: --force)\n", w)
	}
	if live != nil {
		live.inflight = e.InFlight
		if err := live.start(*metricsAddr); err != nil {
			return withCode(ExitUsage, err)
		}
		defer live.stop()
		fmt.Fprintf(env.Stderr, "live metrics on http://%s/metrics\n", live.addr)
	}
	// Results must be writable before the first request, not after the
	// last: a read-only or full disk fails the run now.
	if err := metrics.PrepareDir(dir); err != nil {
		return withCode(ExitRuntime, fmt.Errorf("%w; choose another --out", err))
	}
	info := metrics.RunInfo{Plan: p.Name, PlanFile: p.File, Target: p.Target, Segment: seg.String(), Executors: map[string]string{}}
	for _, sc := range p.Scenarios {
		info.Executors[sc.Name] = sc.Executor.Kind()
	}
	keep, err = startKeeper(dir, env.Stderr, func(now time.Time) *metrics.Results {
		rec := e.Recorder()
		res := &metrics.Results{Summary: rec.Summarize(info, now)}
		for i, h := range rec.StepHists() {
			res.Hists = append(res.Hists, metrics.StepHists{Key: rec.Steps()[i], Hists: h})
		}
		return res
	})
	if err != nil {
		return withCode(ExitRuntime, fmt.Errorf("results dir: %w; choose another --out", err))
	}
	defer keep.close()
	defer tuneRuntime(env, e)()
	pr = newProgress(env.Stdout, env.IsTerminal, p.Name, e, *every)
	fmt.Fprintf(env.Stderr, "running %s against %s (results: %s)\n", p.Name, p.Target, dir)
	if p.TLS != nil && p.TLS.InsecureSkipVerify {
		fmt.Fprintf(env.Stderr, "floodgate: warning: %s\n", insecureNote)
	}

	done := make(chan struct{})
	above := pr.Above(env.Stderr) // not drawn over by a terminal's bar
	go func() {
		n := 0
		for {
			select {
			case <-done:
				return
			case <-env.Interrupts:
				n++
				// Say what is actually in flight: a run stopped while
				// it starts VUs may have nothing to wait for.
				inflight := e.InFlight()
				switch {
				case n == 1 && inflight == 0:
					fmt.Fprintln(above, "\ninterrupt: no new iterations; no requests in flight (Ctrl-C again to abort)")
				case n == 1:
					fmt.Fprintf(above, "\ninterrupt: no new iterations; waiting up to %s for %d in-flight requests (Ctrl-C again to abort)\n", p.Grace, inflight)
				default:
					fmt.Fprintf(above, "\ninterrupt: aborting %d in-flight requests\n", inflight)
				}
				e.Stop()
			}
		}
	}()
	watchDone := make(chan struct{})
	abortedBy, abortAt := watchThresholds(e, p, checks, done, watchDone)
	before := hostcpu.Read()
	runErr := e.Run(ctx)
	used := hostcpu.Read().Since(before)
	close(done)
	<-watchDone
	pr.Close()
	kerr := keep.close()

	info.Interrupted, info.Aborted, info.Generator = e.Interrupted(), e.Aborted(), generatorUsage(used)
	switch {
	case *abortedBy != nil:
		info.StopReason = report.AbortReason(*abortedBy)
	case e.Unreachable():
		info.StopReason = "target unreachable"
	case errors.Is(runErr, client.ErrCredentialsRefused):
		info.StopReason = "credentials refused"
	case info.Interrupted:
		info.StopReason = "interrupted"
	}
	res := e.Recorder().Results(info, e.Ended())
	res.Summary.Failures = e.Failures()
	if p.TLS != nil && p.TLS.InsecureSkipVerify {
		res.Summary.Notes = append(res.Summary.Notes, insecureNote)
	}
	// The series is on disk already unless streaming it failed.
	failed, werr := finishResults(env, dir, res, p.File, p.Thresholds, *abortedBy, *abortAt, kerr == nil)
	if werr != nil {
		if kerr != nil && kerr.Error() != werr.Error() {
			werr = errors.Join(werr, kerr)
		}
		return fmt.Errorf("results not written: %w", werr)
	}
	// Exit-code precedence (README "Exit codes"): a run that could not
	// work (refused credentials, unreachable target, a runtime failure)
	// 1; a threshold that stopped the run 3; an interrupt 130, even when
	// thresholds failed over what ran; failed thresholds 3.
	switch {
	case runErr != nil:
		return runErr
	case *abortedBy != nil:
		return withCode(ExitThresholds, fmt.Errorf("threshold %q failed and stopped the run", (*abortedBy).Threshold))
	case info.Interrupted:
		return withCode(ExitInterrupt, errors.New("run interrupted; results cover what ran"))
	case failed > 0:
		return withCode(ExitThresholds, fmt.Errorf("%d of %d thresholds failed", failed, len(res.Summary.Thresholds)))
	}
	return nil
}

// generatorUsage is u as summary.json reports it; nil where nothing was
// measured.
func generatorUsage(u hostcpu.Sample) *metrics.Generator {
	if u.Process <= 0 && !u.StealKnown {
		return nil
	}
	g := &metrics.Generator{CPUs: u.CPUs, CPUS: u.Process.Seconds()}
	if u.StealKnown {
		steal := u.Steal.Seconds()
		g.StealS = &steal
	}
	return g
}

// insecureNote is what the run says, before and in its summary, when
// the plan turned certificate checks off.
const insecureNote = "tls.insecure_skip_verify is on: https servers' certificates were not verified, so who answered is unchecked"

// finishResults evaluates the thresholds and the diagnosis over res,
// writes the results dir (files, junit.xml when there are thresholds,
// report.html) and prints the summary, checks and diagnosis. It returns
// how many thresholds failed. Both run and merge end with it, so a merge
// is judged on the merged whole. streamed says timeseries.jsonl holds the
// whole series already (see keeper).
func finishResults(env *Env, dir string, res *metrics.Results, planFile string, ths []*plan.Threshold,
	abortedBy *metrics.ThresholdResult, abortAt time.Duration, streamed bool) (failed int, err error) {
	if len(ths) > 0 {
		res.Summary.Thresholds = report.EvaluateThresholds(planFile, ths, res.Summary, res.Hists)
		report.MarkAborted(res.Summary.Thresholds, abortedBy, abortAt)
	}
	d := diagnose.Analyze(res)
	if b, jerr := json.Marshal(d); jerr == nil {
		res.Summary.Diagnosis = b
	}
	if streamed {
		err = metrics.FinishDir(dir, res)
	} else {
		err = metrics.WriteDir(dir, res)
	}
	if err == nil && len(ths) > 0 {
		err = report.WriteJUnitFile(filepath.Join(dir, report.JUnitFile), res.Summary)
	}
	if err == nil {
		err = report.WriteHTMLFile(filepath.Join(dir, report.HTMLFile), res, d)
	}
	fmt.Fprintln(env.Stdout)
	report.WriteText(env.Stdout, res.Summary)
	report.WriteChecks(env.Stdout, res.Summary)
	for _, n := range res.Summary.Notes {
		fmt.Fprintf(env.Stdout, "note: %s\n", n)
	}
	fmt.Fprintln(env.Stdout)
	diagnose.WriteText(env.Stdout, d)
	if err != nil {
		return 0, err
	}
	fmt.Fprintf(env.Stdout, "\nresults: %s (report: %s)\n", dir, filepath.Join(dir, report.HTMLFile))
	for _, t := range res.Summary.Thresholds {
		if !t.Passed {
			failed++
		}
	}
	return failed, nil
}

// watchThresholds checks the plan's abort_on_fail thresholds over the
// running totals each time checks fires (every second), and stops the
// engine at the first that fails. It closes watchDone when done closes;
// the results are valid to read after that.
func watchThresholds(e *engine.Engine, p *plan.Plan, checks, done <-chan struct{}, watchDone chan<- struct{}) (**metrics.ThresholdResult, *time.Duration) {
	abortedBy, abortAt := new(*metrics.ThresholdResult), new(time.Duration)
	w := report.NewWatcher(p.File, p.Thresholds)
	go func() {
		defer close(watchDone)
		if w == nil {
			<-done
			return
		}
		for {
			select {
			case <-done:
				return
			case <-checks:
			}
			// The first tick comes after Run has set the recorder up.
			rec := e.Recorder()
			now := time.Now()
			s := rec.Summarize(metrics.RunInfo{}, now)
			var hists []metrics.StepHists
			for i, h := range rec.StepHists() {
				hists = append(hists, metrics.StepHists{Key: rec.Steps()[i], Hists: h})
			}
			if th, r := w.Check(s, hists, now.Sub(e.Started())); th != nil {
				*abortedBy, *abortAt = r, now.Sub(e.Started())
				e.Stop()
				return
			}
		}
	}()
	return abortedBy, abortAt
}

func parseStartAt(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if sec, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Unix(sec, 0), nil
	}
	return time.Time{}, fmt.Errorf("--start-at %q: want RFC 3339 (2026-11-22T10:00:00Z) or Unix seconds", v)
}

// retarget points the plan at another base URL; a token URL on the old
// target moves with it.
func retarget(p *plan.Plan, target string) error {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--target %q: want an absolute http(s) URL such as http://127.0.0.1:8080", target)
	}
	target = strings.TrimSuffix(target, "/")
	old := p.Target
	p.Target = target
	for _, a := range []*plan.Auth{p.Auth} {
		moveToken(a, old, target)
	}
	for _, sc := range p.Scenarios {
		moveToken(sc.Auth, old, target)
	}
	return nil
}

func moveToken(a *plan.Auth, old, target string) {
	if a != nil && a.OAuth2 != nil && strings.HasPrefix(a.OAuth2.TokenURL, old+"/") {
		a.OAuth2.TokenURL = target + strings.TrimPrefix(a.OAuth2.TokenURL, old)
	}
}

// unreachableNoteWithin is how long into a run a target that has never
// answered gets the "is it running?" line: past the default attempt
// timeout, for a target that drops connections rather than refuse them.
const unreachableNoteWithin = 30 * time.Second

// noteUnreachable prints, once the run's attempts have failed to connect
// with none answered, the line that says so at once rather than at the
// end; it reports whether it printed.
func noteUnreachable(w io.Writer, e *engine.Engine, target string) bool {
	if e == nil {
		return false
	}
	total, consecutive, first := e.ConnectFailures()
	if total == 0 || consecutive != total {
		return false
	}
	conns := "connections"
	if total == 1 {
		conns = "connection"
	}
	what := "target"
	var te *client.TokenError
	if errors.As(first, &te) {
		what, target = "token endpoint", te.TokenURL
	}
	if first != nil && (errors.Is(first, syscall.ECONNREFUSED) || strings.Contains(first.Error(), "connection refused")) {
		fmt.Fprintf(w, "floodgate: %s refused %d %s: is it running at %s?\n", what, total, conns, target)
	} else {
		fmt.Fprintf(w, "floodgate: %d %s to the %s failed (%v): is it running at %s?\n", total, conns, what, first, target)
	}
	return true
}
