package cli

import (
	"context"
	"errors"
	"flag"
	"regexp"
	"strings"
	"testing"
)

// TestHelpWritesFlagsWithTwoDashes: every command's --help lists its
// flags as the README writes them: --name, and -o for one letter.
func TestHelpWritesFlagsWithTwoDashes(t *testing.T) {
	t.Parallel()
	single := regexp.MustCompile(`(?m)^\s+-[a-z][a-z]`)
	for _, c := range commands {
		te := newTestEnv(nil)
		err := Main(context.Background(), &te.Env, []string{c.name, "--help"})
		if !errors.Is(err, flag.ErrHelp) {
			continue // a command without flags
		}
		help := te.errText()
		if single.MatchString(help) {
			t.Errorf("%s --help lists a flag with one dash:\n%s", c.name, help)
		}
		if strings.Contains(help, "Flags:") && !regexp.MustCompile(`\n  (--[a-z]{2}|-[a-z] )`).MatchString(help) {
			t.Errorf("%s --help lists no flag:\n%s", c.name, help)
		}
	}
	te := newTestEnv(nil)
	_ = Main(context.Background(), &te.Env, []string{"run", "--help"})
	for _, want := range []string{"  --metrics-addr host:port\n", "  --progress duration\n", "(default 1s)"} {
		if !strings.Contains(te.errText(), want) {
			t.Errorf("run --help lacks %q:\n%s", want, te.errText())
		}
	}
}

func TestTyposGetDidYouMean(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"runn"}, `unknown command "runn"; did you mean "run"?`},
		{[]string{"emualte"}, `did you mean "emulate"?`},
		{[]string{"xyzzy"}, `unknown command "xyzzy"`},
		{[]string{"run", "--metrics-adr", "x", "p.yaml"}, "unknown flag --metrics-adr; did you mean --metrics-addr?"},
		{[]string{"run", "-progres", "2s", "p.yaml"}, "unknown flag --progres; did you mean --progress?"},
		{[]string{"run", "--progress", "soon", "p.yaml"}, `run: invalid value "soon" for flag --progress`},
	} {
		te := newTestEnv(nil)
		err := Main(context.Background(), &te.Env, tc.args)
		if ExitCode(err) != ExitUsage || err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: exit %d, %v; want %d and %q", tc.args, ExitCode(err), err, ExitUsage, tc.want)
		}
		if tc.args[0] == "xyzzy" && strings.Contains(err.Error(), "did you mean") {
			t.Errorf("%v: a suggestion for no near command: %v", tc.args, err)
		}
	}
}
