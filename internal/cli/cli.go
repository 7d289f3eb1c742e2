// Package cli implements floodgate's commands: one file per command, each a
// func(ctx, *Env, args) error, dispatched by Main.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/floodgate-dev/floodgate/internal/suggest"
)

// Exit codes. They are part of floodgate's interface: scripts and CI
// branch on them.
const (
	ExitOK         = 0
	ExitRuntime    = 1 // the run or command failed at runtime
	ExitUsage      = 2 // bad command line or bad plan/config file
	ExitThresholds = 3 // the run completed but thresholds failed
	ExitInterrupt  = 130
)

// Env is everything a command reaches outside itself: streams, environment,
// working directory. Tests build one to run whole commands in-process.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Getenv looks up an environment variable.
	Getenv func(string) (string, bool)
	// IsTerminal reports whether Stdout is an interactive terminal.
	IsTerminal bool
	// Interrupts delivers Ctrl-C (SIGINT/SIGTERM) notifications; nil in
	// tests that don't interrupt.
	Interrupts <-chan os.Signal
}

// ExitError attaches an exit code to an error. Commands return it (via
// withCode) where the code is not ExitRuntime.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// withCode attaches code to err unless err already carries one.
func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return err
	}
	return &ExitError{Code: code, Err: err}
}

// ExitCode returns the process exit code for err.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	return ExitRuntime
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *Env, args []string) error
}

// commands is filled by each command file's init, in the order shown in help.
var commands []command

func register(name, summary string, run func(context.Context, *Env, []string) error) {
	commands = append(commands, command{name, summary, run})
}

const usageHead = `floodgate: load-test integrations with rate-limited APIs, and emulate the API offline.

Usage:
  floodgate <command> [flags] [args]

Commands:
`

const usageTail = `
Run 'floodgate <command> --help' for a command's flags.
Exit codes: 0 ok, 1 runtime failure, 2 bad usage or bad plan, 3 thresholds failed, 130 interrupted.
`

// helpOrder lists commands by how often people reach for them; any
// command not named here follows, in registration order.
var helpOrder = []string{"run", "emulate", "report", "probe", "lint", "import", "merge", "version"}

func usage(w io.Writer) {
	fmt.Fprint(w, usageHead)
	rank := func(name string) int {
		for i, n := range helpOrder {
			if n == name {
				return i
			}
		}
		return len(helpOrder)
	}
	sorted := slices.Clone(commands)
	slices.SortStableFunc(sorted, func(a, b command) int { return rank(a.name) - rank(b.name) })
	for _, c := range sorted {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, usageTail)
}

// Main runs the command named by args[0].
func Main(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 {
		usage(env.Stderr)
		return withCode(ExitUsage, errors.New("no command given"))
	}
	name := args[0]
	switch name {
	case "-h", "--help", "help":
		usage(env.Stdout)
		return nil
	case "-v", "--version":
		name = "version"
	}
	for _, c := range commands {
		if c.name == name {
			return c.run(ctx, env, args[1:])
		}
	}
	usage(env.Stderr)
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c.name
	}
	if s := suggest.Closest(name, names); s != "" {
		return withCode(ExitUsage, fmt.Errorf("unknown command %q; did you mean %q?", name, s))
	}
	return withCode(ExitUsage, fmt.Errorf("unknown command %q", name))
}

// newFlagSet returns a flag set for a command, writing usage to env.Stderr.
// head is the usage line(s) shown before the flags.
func newFlagSet(env *Env, name, head string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	// The flag package's own error lines name flags with one dash;
	// parseFlags returns them reworded instead.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, strings.TrimSpace(head))
		fmt.Fprintln(env.Stderr, "\nFlags:")
		printFlags(env.Stderr, fs)
	}
	return fs
}

// printFlags lists fs's flags as the README writes them, with two dashes
// but for one-letter ones (the flag package's PrintDefaults uses one for
// all; both parse).
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if len(f.Name) == 1 {
			line = "  -" + f.Name // -o, as such flags are written
		}
		if name != "" {
			line += " " + name
		}
		usage = strings.ReplaceAll(usage, "\n", "\n    \t")
		if def := f.DefValue; def != "" && def != "0" && def != "false" && def != "0s" {
			if fmt.Sprintf("%T", f.Value) == "*flag.stringValue" {
				def = strconv.Quote(def)
			}
			usage += " (default " + def + ")"
		}
		fmt.Fprintf(w, "%s\n    \t%s\n", line, usage)
	})
}

// parseFlags parses args, mapping -h to a nil-code help exit and other
// errors to ExitUsage. Flags may appear after positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, withCode(ExitUsage, flagTypo(fs, err))
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// flagTypo rewords the flag package's errors with two dashes, and adds
// "did you mean" for a flag fs does not define.
func flagTypo(fs *flag.FlagSet, err error) error {
	got, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: -")
	if !ok {
		msg := strings.NewReplacer(" flag -", " flag --", "argument: -", "argument: --").Replace(err.Error())
		return fmt.Errorf("%s: %s", fs.Name(), msg)
	}
	got = strings.TrimLeft(got, "-")
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	if s := suggest.Closest(got, names); s != "" {
		return fmt.Errorf("unknown flag --%s; did you mean --%s? (%s --help lists them)", got, s, fs.Name())
	}
	return fmt.Errorf("unknown flag --%s (%s --help lists them)", got, fs.Name())
}
