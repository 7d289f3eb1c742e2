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
