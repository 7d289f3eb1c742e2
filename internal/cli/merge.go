package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/floodgate-dev/floodgate/internal/metrics"
	"github.com/floodgate-dev/floodgate/internal/report"
)

func init() {
	register("merge", "merge the results dirs of segments into one", runMerge)
}

const mergeUsage = `Usage: floodgate merge DIR... -o OUT

Merges results dirs of one plan — typically its segments, run with
'floodgate run --segment i/n --start-at T' in n processes — into OUT,
losslessly: counters and HDR histograms add, time series align by second,
and percentiles are recomputed from the merged histograms.`

func runMerge(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "merge", mergeUsage)
	out := fs.String("o", "", "results dir to write (required)")
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
	if err := metrics.WriteDir(*out, merged); err != nil {
		return err
	}
	if err := report.WriteText(env.Stdout, merged.Summary); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "\nmerged %d results dirs into %s\n", len(parts), *out)
	return nil
}
