package plan

import (
	"os"
	"strings"
	"testing"
)

// TestReadmePlanParses keeps the README's multi-step plan valid.
func TestReadmePlanParses(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Skip("no README")
	}
	_, section, ok := strings.Cut(string(b), "### Multi-step flows, events, data and thresholds")
	if !ok {
		t.Fatal("README has no multi-step section")
	}
	_, block, ok := strings.Cut(section, "```yaml\n")
	block, _, ok2 := strings.Cut(block, "```")
	if !ok || !ok2 {
		t.Fatal("the section has no yaml block")
	}
	p, err := Parse("README.md", []byte(block), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Thresholds) == 0 || len(p.Scenarios[0].Steps) != 5 {
		t.Errorf("plan %+v", p)
	}
}

// TestReadmeControlFlowParses keeps the README's control-flow example
// valid, with every new step control in it.
func TestReadmeControlFlowParses(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Skip("no README")
	}
	_, section, ok := strings.Cut(string(b), "#### Control flow: repeat, when, choose, once, cookies")
	if !ok {
		t.Fatal("README has no control-flow section")
	}
	_, block, ok := strings.Cut(section, "```yaml\n")
	block, _, ok2 := strings.Cut(block, "```")
	if !ok || !ok2 {
		t.Fatal("the section has no yaml block")
	}
	p, err := Parse("README.md", []byte("target: http://127.0.0.1:8080\n"+block), nil)
	if err != nil {
		t.Fatal(err)
	}
	sc := p.Scenarios[0]
	var kinds []string
	WalkSteps(sc.Steps, func(st *Step) { kinds = append(kinds, st.Kind()) })
	got := strings.Join(kinds, " ")
	for _, k := range []string{"repeat", "choose", "request"} {
		if !strings.Contains(got, k) {
			t.Errorf("steps %s lack %s", got, k)
		}
	}
	if !sc.Cookies || !sc.Steps[0].Once || sc.Steps[2].When == nil || sc.Steps[0].Request.ExpectBody == nil || sc.Steps[0].Request.Timeout == 0 {
		t.Errorf("the example should use cookies, once, when, expect body and timeout: %+v", sc.Steps)
	}
}
