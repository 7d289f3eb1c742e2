package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/floodgate-dev/floodgate/internal/plan"
)

func jmxFile(name string) string { return filepath.Join("..", "jmx", "testdata", name) }

func TestImportWritesPlanAndListsWhatDidNotConvert(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "plan.yaml")
	te := newTestEnv(nil)
	if err := Main(context.Background(), &te.Env, []string{"import", jmxFile("bot-burst.jmx"), "-o", out}); err != nil {
		t.Fatal(err, te.errText())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plan.Parse(out, b, nil); err != nil {
		t.Errorf("%v\n%s", err, b)
	}
	for _, want := range []string{
		"1 not converted, 4 approximated, 1 ignored",
		`not converted: Bot burst > Bot users > JSR223 PreProcessor "sign": scripts don't convert`,
		`ignored: Bot burst > Bot users > View Results Tree "View Results Tree"`,
	} {
		if !strings.Contains(te.errText(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, te.errText())
		}
	}
	if te.out.String() != "" {
		t.Errorf("stdout: %s", te.out.String())
	}

	// Without -o the plan goes to stdout; data files stay relative to
	// the .jmx file.
	te = newTestEnv(nil)
	if err := Main(context.Background(), &te.Env, []string{"import", jmxFile("jmeter-2.13.jmx")}); err != nil {
		t.Fatal(err, te.errText())
	}
	if !strings.Contains(te.out.String(), "file: users.csv") || !strings.Contains(te.out.String(), "closed: {vus: 20, ramp_up: 30s, duration: 2m}") {
		t.Errorf("stdout:\n%s", te.out.String())
	}

	// -o elsewhere: data file names follow.
	out = filepath.Join(t.TempDir(), "sub", "p.yaml")
	os.MkdirAll(filepath.Dir(out), 0o755)
	te = newTestEnv(nil)
	if err := Main(context.Background(), &te.Env, []string{"import", jmxFile("jmeter-2.13.jmx"), "-o", out}); err != nil {
		t.Fatal(err, te.errText())
	}
}

func TestImportFailures(t *testing.T) {
	t.Parallel()
	notJMX := filepath.Join(t.TempDir(), "x.jmx")
	os.WriteFile(notJMX, []byte("<html/>"), 0o644)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"import"}, ExitUsage, "exactly one"},
		{[]string{"import", jmxFile("bad-infinite.jmx")}, ExitUsage, `Test Plan > Thread Group "Soak" loops forever`},
		{[]string{"import", notJMX}, ExitUsage, "not a JMeter test plan"},
		{[]string{"import", "nope.jmx"}, ExitUsage, "no such file"},
	} {
		te := newTestEnv(nil)
		err := Main(context.Background(), &te.Env, c.args)
		if ExitCode(err) != c.code || err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: exit %d (%v), want %d and %q", c.args, ExitCode(err), err, c.code, c.want)
		}
	}
	// A plan written but not parseable yet (its data file is missing
	// next to the output): exit 1, and stderr says why.
	dir := t.TempDir()
	src, _ := os.ReadFile(jmxFile("jmeter-2.13.jmx"))
	jmxPath := filepath.Join(dir, "p.jmx")
	os.WriteFile(jmxPath, src, 0o644)
	te := newTestEnv(nil)
	err := Main(context.Background(), &te.Env, []string{"import", jmxPath, "-o", filepath.Join(dir, "p.yaml")})
	if ExitCode(err) != ExitRuntime || !strings.Contains(te.errText(), "data file") {
		t.Errorf("exit %d (%v):\n%s", ExitCode(err), err, te.errText())
	}
}
