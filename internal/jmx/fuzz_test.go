package jmx

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/floodgate-dev/floodgate/internal/plan"
)

// FuzzJMX feeds the reader and the converter arbitrary input: they never
// panic, and whatever converts is a plan that parses (a data file that
// does not exist aside).
func FuzzJMX(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.jmx"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		"",
		"<",
		"<jmeterTestPlan>",
		"<jmeterTestPlan><hashTree><TestPlan testclass=\"TestPlan\"><stringProp name=\"a\">",
		`<jmeterTestPlan><hashTree><hashTree><hashTree></hashTree></hashTree></hashTree></jmeterTestPlan>`,
		`<jmeterTestPlan><hashTree><TestPlan testclass="TestPlan"/><hashTree><ThreadGroup testclass="ThreadGroup" testname="t"><stringProp name="ThreadGroup.num_threads">${__P(n,${x})}</stringProp></ThreadGroup><hashTree><HTTPSamplerProxy testclass="HTTPSamplerProxy" testname="${a}"><stringProp name="HTTPSampler.path">/${__Random(1,2)}/${b}{{c}}$${d</stringProp></HTTPSamplerProxy><hashTree/></hashTree></hashTree></hashTree></jmeterTestPlan>`,
		`<jmeterTestPlan><hashTree><TestPlan testclass="TestPlan"/><hashTree><ThreadGroup testclass="ThreadGroup"><elementProp name="ThreadGroup.main_controller"><stringProp name="LoopController.loops">-1</stringProp></elementProp></ThreadGroup><hashTree/></hashTree></hashTree></jmeterTestPlan>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		root, perr := Parse(bytes.NewReader(data))
		if perr == nil && root == nil {
			t.Fatal("Parse returned neither an element nor an error")
		}
		res, err := Convert(bytes.NewReader(data), WithFile(filepath.Join("testdata", "fuzz.jmx")))
		if err != nil {
			return
		}
		if len(res.Sources) != bytes.Count(res.YAML, []byte("\n")) {
			t.Fatalf("%d sources for %d lines", len(res.Sources), bytes.Count(res.YAML, []byte("\n")))
		}
		getenv := func(k string) (string, bool) { v, ok := res.Required[k]; return v, ok }
		if _, err := plan.Parse(filepath.Join("testdata", "fuzz.yaml"), res.YAML, getenv); err != nil && !strings.Contains(err.Error(), "data file") {
			t.Fatalf("the converted plan does not parse: %v\n%s", err, res.YAML)
		}
	})
}
