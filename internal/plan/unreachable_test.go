package plan

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestAbortOnUnreachable(t *testing.T) {
	t.Parallel()
	const rest = "\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n" + okSteps
	tests := []struct {
		value string // "" leaves the key out
		want  Unreachable
		err   string // a fragment of the error, with its line:col
	}{
		{"", DefaultUnreachable, ""},
		{"true", Unreachable{After: DefaultUnreachable.After}, ""},
		{"false", Unreachable{}, ""},
		{"20", Unreachable{After: 20}, ""},
		{"{after: 5, within: 30s}", Unreachable{After: 5, Within: 30 * time.Second}, ""},
		{"{within: 5s}", Unreachable{After: DefaultUnreachable.After, Within: 5 * time.Second}, ""},
		{"${N}", Unreachable{After: 7}, ""},
		{"0", Unreachable{}, "2:23: abort_on_unreachable must be at least 1"},
		{"yes please", Unreachable{}, "2:23: abort_on_unreachable must be true, false, a count"},
		{"{after: 5, whithin: 3s}", Unreachable{}, `2:34: unknown key "whithin" in abort_on_unreachable; did you mean "within"?`},
		{"{after: -1}", Unreachable{}, "2:31: abort_on_unreachable.after must be at least 1"},
		{"[1]", Unreachable{}, "2:23: abort_on_unreachable must be true, false, a count or {after: 50, within: 10s}, got a list"},
	}
	for _, tc := range tests {
		t.Run(strconv.Quote(tc.value), func(t *testing.T) {
			t.Parallel()
			src := "target: http://x\n"
			if tc.value != "" {
				src += "abort_on_unreachable: " + tc.value
			}
			p, err := Parse("p.yaml", []byte(src+rest), env(map[string]string{"N": "7"}))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), "p.yaml:"+tc.err) {
					t.Fatalf("Parse = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Unreachable != tc.want {
				t.Errorf("Unreachable = %+v, want %+v", p.Unreachable, tc.want)
			}
		})
	}
}
