package cli

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/floodgate-dev/floodgate/internal/jmx"
	"github.com/floodgate-dev/floodgate/internal/plan"
)

func init() {
	register("import", "convert a JMeter plan (.jmx) to a floodgate plan, listing what does not convert", runImport)
}

const importUsage = `Usage: floodgate import PLAN.jmx [-o PLAN.yaml]

Converts a JMeter test plan (JMeter 2.13 to 5.x) to a floodgate plan:
Thread Groups become scenarios, HTTP Requests request steps; HTTP Request
Defaults give the target (the server every request names; paths stay
relative), Header Managers headers, CSV Data Set Config data, JSON and
regex extractors extract, Response and JSON Assertions expect, timers
think steps, a cookie manager cookies: true, Counters vars, and a
Constant Throughput Timer (samples per MINUTE) an open executor's rate.
Loop, While, ForEach, If, Switch, Once Only, Random, Interleave,
Throughput, Module and Include Controllers become repeat, when, once and
choose; While Controllers that poll become poll steps. JMeter properties
${__P(name,default)} become environment variables ${NAME:-default};
JMeter variables ${var} become templates {{.var}}.

What does not convert (scripts, other controllers, plugins, options) is
listed on stderr with its place in JMeter's tree, and left as a comment
where it was in the plan. The plan is written to -o, or to stdout, once
it parses.

A Thread Group that loops forever runs for ${DURATION}, set when the plan
runs (DURATION=10m floodgate run PLAN.yaml). When nothing converts, every
element that did not is listed with why.

Exit codes: 0 converted (even with elements left out), 1 the converted
plan does not parse (e.g. a data file is missing; nothing is written),
2 not a JMeter plan, or nothing in it converts.`

func runImport(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "import", importUsage)
	out := fs.String("o", "", "write the plan to `FILE` (default stdout)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return withCode(ExitUsage, errors.New("import: want exactly one .jmx file"))
	}
	in := pos[0]
	src, err := os.ReadFile(in)
	if err != nil {
		return withCode(ExitUsage, fmt.Errorf("import: %w", err))
	}
	opts := []jmx.Option{jmx.WithFile(in)}
	if *out != "" {
		opts = append(opts, jmx.WithOutputDir(filepath.Dir(*out)))
	}
	res, err := jmx.Convert(bytes.NewReader(src), opts...)
	if err != nil {
		return withCode(ExitUsage, fmt.Errorf("import %s: %w", in, err))
	}
	writeProblems(env, in, *out, res)

	// The plan must parse, as run would read it, before it is written:
	// variables it requires (DURATION) may be set only when it runs.
	at := *out
	if at == "" {
		at = filepath.Join(filepath.Dir(in), "imported.yaml")
	}
	if _, err := plan.Parse(at, res.YAML, withExamples(env.Getenv, res.Required)); err != nil {
		fmt.Fprintf(env.Stderr, "the converted plan does not parse, so it was not written; fix these and import again:\n%v\n", err)
		return fmt.Errorf("import: the converted plan does not parse")
	}
	if *out == "" {
		if _, err := env.Stdout.Write(res.YAML); err != nil {
			return err
		}
	} else if err := os.WriteFile(*out, res.YAML, 0o644); err != nil {
		return fmt.Errorf("import: %w", err)
	}
	for _, name := range slices.Sorted(maps.Keys(res.Required)) {
		if _, ok := env.Getenv(name); !ok {
			fmt.Fprintf(env.Stderr, "import: the plan needs %s when it runs, e.g. %s=%s floodgate run %s\n", name, name, res.Required[name], cmp.Or(*out, "PLAN.yaml"))
		}
	}
	return nil
}

// withExamples looks variables up with getenv, and gives those the plan
// requires but the environment lacks their example values, to check a
// plan whose run will set them.
func withExamples(getenv func(string) (string, bool), required map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		if v, ok := getenv(name); ok {
			return v, ok
		}
		v, ok := required[name]
		return v, ok
	}
}

// writeProblems lists on stderr what did not convert exactly.
func writeProblems(env *Env, in, out string, res *jmx.Result) {
	to := out
	if to == "" {
		to = "stdout"
	}
	counts := map[jmx.ProblemKind]int{}
	for _, p := range res.Problems {
		counts[p.Kind]++
	}
	fmt.Fprintf(env.Stderr, "import: %s → %s: %d not converted, %d approximated, %d ignored\n",
		in, to, counts[jmx.NotConverted], counts[jmx.Approximated], counts[jmx.Ignored])
	for _, k := range []jmx.ProblemKind{jmx.NotConverted, jmx.Approximated, jmx.Ignored} {
		for _, p := range res.Problems {
			if p.Kind == k {
				fmt.Fprintf(env.Stderr, "  %s\n", p)
			}
		}
	}
}
