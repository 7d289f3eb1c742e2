package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/floodgate-dev/floodgate/internal/metrics"
	"github.com/floodgate-dev/floodgate/internal/plan"
)

func init() {
	register("merge", "merge the results dirs of segments into one", runMerge)
}

const mergeUsage = `Usage: floodgate merge DIR... -o OUT

Merges results dirs of one plan — typically its segments, run with
'floodgate run --segment i/n --start-at T' in n processes — into OUT,
losslessly: counters and HDR histograms add, time series align by second,
and percentiles are recomputed from the merged histograms. The plan's
thresholds and the diagnosis are evaluated on the merged whole; failed
thresholds exit 3, as in run.`

func runMerge(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "merge", mergeUsage)
	out := fs.String("o", "", "results dir to write (required)")
	planPath := fs.String("plan", "", "plan whose thresholds to check on the merged whole (default: the plan_file the results name, if readable)")
	dirs, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *out == "" || len(dirs) == 0 {
		fs.Usage()
		return withCode(ExitUsage, errors.New("merge: want DIR... and -o OUT"))
	}
	// Patterns are expanded here too, so a container without a shell can
	// say /results/seg-*.
	var expanded []string
	for _, d := range dirs {
		if strings.ContainsAny(d, "*?[") {
			m, err := filepath.Glob(d)
			if err != nil || len(m) == 0 {
				return withCode(ExitUsage, fmt.Errorf("merge: %q matches no results dir", d))
			}
			expanded = append(expanded, m...)
			continue
		}
		expanded = append(expanded, d)
	}
	dirs = expanded
	var parts []*metrics.Results
	for _, d := range dirs {
		r, err := metrics.ReadDir(d)
		if err != nil {
			return withCode(ExitUsage, err)
		}
		parts = append(parts, r)
	}
	merged, err := metrics.Merge(parts...)
	if err != nil {
		return withCode(ExitUsage, err)
	}
	var ths []*plan.Threshold
	pf := *planPath
	if pf == "" {
		pf = merged.Summary.PlanFile
	}
	if pf != "" {
		p, err := plan.Load(pf, env.Getenv)
		switch {
		case err == nil:
			ths = p.Thresholds
			merged.Summary.PlanFile = p.File
		case *planPath != "":
			return withCode(ExitUsage, err)
		default:
			fmt.Fprintf(env.Stderr, "merge: thresholds not checked: %v\n", err)
		}
	}
	fmt.Fprintf(env.Stdout, "merged %d results dirs into %s\n", len(parts), *out)
	failed, err := finishResults(env, *out, merged, pf, ths, nil, 0, false)
	if err != nil {
		return err
	}
	if failed > 0 {
		return withCode(ExitThresholds, fmt.Errorf("%d of %d thresholds failed on the merged results", failed, len(ths)))
	}
	return nil
}
