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
		{[]string{"import", notJMX}, ExitUsage, "not a JMeter test plan"},
		{[]string{"import", "nope.jmx"}, ExitUsage, "no such file"},
	} {
		te := newTestEnv(nil)
		err := Main(context.Background(), &te.Env, c.args)
		if ExitCode(err) != c.code || err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: exit %d (%v), want %d and %q", c.args, ExitCode(err), err, c.code, c.want)
		}
	}
	// A plan that does not parse (its data file is missing next to the
	// output): exit 1, stderr says why, and nothing is written.
	dir := t.TempDir()
	src, _ := os.ReadFile(jmxFile("jmeter-2.13.jmx"))
	jmxPath := filepath.Join(dir, "p.jmx")
	os.WriteFile(jmxPath, src, 0o644)
	te := newTestEnv(nil)
	err := Main(context.Background(), &te.Env, []string{"import", jmxPath, "-o", filepath.Join(dir, "p.yaml")})
	if ExitCode(err) != ExitRuntime || !strings.Contains(te.errText(), "data file") || !strings.Contains(te.errText(), "not written") {
		t.Errorf("exit %d (%v):\n%s", ExitCode(err), err, te.errText())
	}
	if _, err := os.Stat(filepath.Join(dir, "p.yaml")); !os.IsNotExist(err) {
		t.Errorf("a plan that does not parse was written (%v)", err)
	}

	// A thread group that loops forever converts; the run must set DURATION.
	te = newTestEnv(nil)
	if err := Main(context.Background(), &te.Env, []string{"import", jmxFile("forever.jmx")}); err != nil {
		t.Fatal(err, te.errText())
	}
	if !strings.Contains(te.out.String(), `duration: "${DURATION}"`) || !strings.Contains(te.errText(), "needs DURATION when it runs") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", te.out.String(), te.errText())
	}

	// Nothing converts: every element that did not is listed, with its path.
	te = newTestEnv(nil)
	err = Main(context.Background(), &te.Env, []string{"import", jmxFile("bad-nothing.jmx")})
	if ExitCode(err) != ExitUsage || !strings.Contains(err.Error(), `not converted: Test Plan > Users > JDBC Request "query": floodgate sends HTTP requests only`) {
		t.Errorf("exit %d: %v", ExitCode(err), err)
	}
}
