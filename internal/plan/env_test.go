package plan

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestExpand(t *testing.T) {
	t.Parallel()
	getenv := env(map[string]string{"A": "alpha", "EMPTY": "", "B": "b"})
	tests := []struct {
		in, want string
		refs     int
		err      string
	}{
		{in: "plain", want: "plain"},
		{in: "${A}", want: "alpha", refs: 1},
		{in: "x-${A}-${B}-y", want: "x-alpha-b-y", refs: 2},
		{in: "${UNSET:-dflt}", want: "dflt", refs: 1},
		{in: "${EMPTY:-dflt}", want: "dflt", refs: 1},
		{in: "${EMPTY}", want: "", refs: 1},
		{in: "${A:-dflt}", want: "alpha", refs: 1},
		{in: "${UNSET:-}", want: "", refs: 1},
		{in: "${UNSET:-a b:c}", want: "a b:c", refs: 1},
		{in: "$${A}", want: "${A}"},
		{in: "cost: $5 and $$", want: "cost: $5 and $$"},
		{in: "$A", want: "$A"},
		{in: "${UNSET}", err: "environment variable UNSET is not set; set it in the environment or use ${UNSET:-default}"},
		{in: "${A", err: `unterminated "${"`},
		{in: "${}", err: `bad environment reference "${}"`},
		{in: "${1X}", err: `bad environment reference "${1X}"`},
		{in: "${A-x}", err: "write ${A:-default} for a default"},
		{in: "${A:-${B}}", err: "nested reference"},
	}
	for _, tt := range tests {
		got, refs, errs := expand(tt.in, getenv)
		if tt.err != "" {
			if len(errs) != 1 || !strings.Contains(errs[0].msg, tt.err) {
				t.Errorf("expand(%q) errors %+v, want one containing %q", tt.in, errs, tt.err)
			}
			continue
		}
		if len(errs) != 0 || got != tt.want || refs != tt.refs {
			t.Errorf("expand(%q) = %q, %d refs, %+v; want %q, %d refs", tt.in, got, refs, errs, tt.want, tt.refs)
		}
	}
}

func TestParseExpandsBeforeTyping(t *testing.T) {
	t.Parallel()
	src := `name: ${NAME:-fallback}
target: ${TARGET}
grace: ${GRACE}
scenarios:
  s:
    executor:
      open: {rate: "${RATE}", duration: "${DUR:-1m}", max_vus: "${MAXVUS}"}
    headers:
      X-Literal: $${NOT_A_VAR}
      ${KEY}: not expanded
    steps:
      - request:
          path: /v${VER}/things
          json:
            n: ${N}
            quoted: "${N}"
            flag: ${FLAG}
            ${KEY}: key kept
            text: "$${HOME} stays"
          expect: ["${OK}"]
`
	getenv := env(map[string]string{
		"TARGET": "http://h:1/", "GRACE": "5s", "RATE": "50/s", "MAXVUS": "9", "VER": "2",
		"N": "42", "FLAG": "true", "OK": "201",
	})
	_, err := Parse("", []byte(src), getenv)
	// ${KEY} as a header name is not expanded, so it's a bad header name.
	if err == nil || !strings.Contains(err.Error(), `10:7: bad header name "${KEY}"`) {
		t.Fatalf("want only the bad header name error, got %v", err)
	}
	src = strings.Replace(src, "      ${KEY}: not expanded\n", "", 1)
	p, err := Parse("", []byte(src), getenv)
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "fallback" || p.Target != "http://h:1" || p.Grace.String() != "5s" {
		t.Errorf("name %q target %q grace %v", p.Name, p.Target, p.Grace)
	}
	o := p.Scenarios[0].Executor.Open
	if o.Rate.String() != "50/s" || o.Duration.String() != "1m0s" || o.MaxVUs != 9 {
		t.Errorf("open = %+v", o)
	}
	if got := p.Scenarios[0].Headers["X-Literal"]; got != "${NOT_A_VAR}" {
		t.Errorf("escaped header = %q", got)
	}
	r := p.Scenarios[0].Steps[0].Request
	want := `{"n":42,"quoted":"42","flag":true,"${KEY}":"key kept","text":"${HOME} stays"}`
	if diff := cmp.Diff(want, string(r.Body)); diff != "" || r.Path != "/v2/things" || r.Expect[0] != 201 {
		t.Errorf("body (-want +got):\n%s\npath %q expect %v", diff, r.Path, r.Expect)
	}
}
