package jmx

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/floodgate-dev/floodgate/internal/plan"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// goldenFile compares got with testdata/name, or rewrites it with -update.
func goldenFile(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got; go test -update rewrites it):\n%s", name, diff)
	}
}

// TestConvertGolden converts every testdata/*.jmx: the YAML matches its
// golden file, parses with plan.Parse, and every problem is a comment in
// it. Files named bad-*.jmx must fail; their golden file is the error.
func TestConvertGolden(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "*.jmx"))
	if err != nil || len(files) == 0 {
		t.Fatal("no testdata/*.jmx", err)
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".jmx")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Convert(bytes.NewReader(b), WithFile(path))
			if strings.HasPrefix(name, "bad-") {
				if err == nil {
					t.Fatalf("converted, want an error:\n%s", res.YAML)
				}
				goldenFile(t, name+".golden", []byte(err.Error()+"\n"))
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			goldenFile(t, name+".golden", res.YAML)
			// Deterministic: a second conversion gives the same bytes.
			again, err := Convert(bytes.NewReader(b), WithFile(path))
			if err != nil || !bytes.Equal(again.YAML, res.YAML) {
				t.Errorf("a second conversion differs (err %v)", err)
			}
			if len(res.Sources) != bytes.Count(res.YAML, []byte("\n")) {
				t.Errorf("%d sources for %d lines", len(res.Sources), bytes.Count(res.YAML, []byte("\n")))
			}
			// It parses, in testdata (data files are relative to it),
			// with an empty environment: every ${ENV} has a default.
			yamlPath := filepath.Join("testdata", name+".yaml")
			getenv := func(k string) (string, bool) { v, ok := res.Required[k]; return v, ok }
			if _, err := plan.Parse(yamlPath, res.YAML, getenv); err != nil {
				t.Errorf("the converted plan does not parse:\n%v", err)
			}
			for _, p := range res.Problems {
				want := "# " + p.Kind.String() + ": " + lastLabel(p.Path) + ": "
				if !bytes.Contains(res.YAML, []byte(want)) {
					t.Errorf("problem %q has no comment %q", p, want)
				}
			}
		})
	}
}

func TestConvertErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		want error
	}{
		{"", ErrNotJMX},
		{"not xml at all", ErrNotJMX},
		{"<html><body/></html>", ErrNotJMX},
		{`<jmeterTestPlan><hashTree></hashTree></jmeterTestPlan>`, ErrNotJMX},
		{`<jmeterTestPlan><hashTree><TestPlan testclass="TestPlan" testname="x"/><hashTree/></hashTree></jmeterTestPlan>`, ErrNothingToConvert},
	} {
		_, err := Convert(strings.NewReader(c.in))
		if !errors.Is(err, c.want) {
			t.Errorf("%q: %v, want %v", c.in, err, c.want)
		}
	}
	b, err := os.ReadFile(filepath.Join("testdata", "forever.jmx"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Convert(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Forever) != 1 || res.Forever[0] != `Test Plan > Thread Group "Soak"` || res.Required[DurationVar] == "" {
		t.Errorf("Forever %q, Required %v: want the thread group Soak and DURATION", res.Forever, res.Required)
	}
	if !bytes.Contains(res.YAML, []byte("duration: \"${DURATION}\"")) {
		t.Errorf("the scenario should run for ${DURATION}:\n%s", res.YAML)
	}
	if _, err := plan.Parse("forever.yaml", res.YAML, nil); err == nil || !strings.Contains(err.Error(), "DURATION is not set") {
		t.Errorf("without DURATION the plan must not run: %v", err)
	}
}

// TestEncodeLiteral: literal text is URL-encoded, references and
// templates are kept, and an escaped "$${...}" is encoded whole.
func TestEncodeLiteral(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"a b&c", "a+b%26c"},
		{"x {{.id}} y", "x+{{.id}}+y"},
		{"${HOST:-h} z", "${HOST:-h}+z"},
		{"it is $${__time(yyyy'T')} now", "it+is+%24%7B__time%28yyyy%27T%27%29%7D+now"},
		{"$${open", "%24%7Bopen"},
	} {
		if got := encodeLiteral(c.in); got != c.want {
			t.Errorf("encodeLiteral(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
