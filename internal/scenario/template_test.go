package scenario

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"
)

// testScope defines id (a string), n (a number), obj (an object) and
// quote (a string needing escapes); unset is defined but never set.
func testScope() (*Scope, *Vars) {
	s := NewScope()
	for _, n := range []string{"id", "n", "obj", "quote", "unset"} {
		s.Define(n)
	}
	v := NewVars(s)
	v.Set(0, StringValue("job-1"))
	v.Set(1, NumberValue("42"))
	v.Set(2, RawJSONValue(`{"a":[1,2]}`))
	v.Set(3, StringValue("say \"hi\"\n\tnow"))
	return s, v
}

func scopeResolver(s *Scope) Resolver {
	return func(name string) (int, error) {
		if i, ok := s.Slot(name); ok {
			return i, nil
		}
		return 0, fmt.Errorf("undefined variable .%s; define it", name)
	}
}

var fixedNow = time.Date(2026, 11, 22, 10, 0, 0, 123e6, time.UTC)

func testEnv(v *Vars) *Env {
	return &Env{Vars: v, VU: 7, Iteration: 3, Rand: rand.New(rand.NewPCG(1, 2)), Now: func() time.Time { return fixedNow }}
}

func TestTemplateRender(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src string
		mode      Mode
		want      string
	}{
		{"plain text", "/api/v2/jobs", Text, "/api/v2/jobs"},
		{"variable in path", "/api/v2/recording/jobs/{{.id}}", Text, "/api/v2/recording/jobs/job-1"},
		{"spaces inside action", "{{ .id }}-{{  vu  }}", Text, "job-1-7"},
		{"two actions", "{{.id}}/{{.n}}", Text, "job-1/42"},
		{"object as text", "x={{.obj}}", Text, `x={"a":[1,2]}`},
		{"vu and iteration", "bot-{{vu}}-{{iteration}}", Text, "bot-7-3"},
		{"now", "{{now}}", Text, "2026-11-22T10:00:00.123Z"},
		{"now with quoted offset", `{{now "-1h"}}`, Text, "2026-11-22T09:00:00.123Z"},
		{"now with bare offset", `{{now +90m}}`, Text, "2026-11-22T11:30:00.123Z"},
		{"unix", `{{unix "24h"}}`, Text, fmt.Sprint(fixedNow.Add(24 * time.Hour).Unix())},
		{"literal braces", `{{"{{"}}.id}}`, Text, "{{.id}}"},
		{"backquoted string", "{{`a}}b`}}", Text, "a}}b"},
		{"lone closing braces", "a }} b", Text, "a }} b"},
		{"json string escapes literal and value", `he said {{.quote}} "ok"`, JSONString, `he said say \"hi\"\n\tnow \"ok\"`},
		{"json value: one string action is quoted", "{{.id}}", JSONValue, `"job-1"`},
		{"json value: a number stays a number", "{{.n}}", JSONValue, `42`},
		{"json value: an object stays an object", "{{.obj}}", JSONValue, `{"a":[1,2]}`},
		{"json value: escapes", "{{.quote}}", JSONValue, `"say \"hi\"\n\tnow"`},
		{"json value: text around makes a string", "n={{.n}} {{.quote}}", JSONValue, `"n=42 say \"hi\"\n\tnow"`},
		{"json value: function yielding a number", "{{vu}}", JSONValue, `7`},
		{"json value: function yielding text", "{{now}}", JSONValue, `"2026-11-22T10:00:00.123Z"`},
		{"json value: string literal", `{{"a\"b"}}`, JSONValue, `"a\"b"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, v := testScope()
			tp, err := Parse(tt.src, tt.mode, scopeResolver(s))
			if err != nil {
				t.Fatal(err)
			}
			got, err := tp.Render(testEnv(v))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("render %q = %q, want %q", tt.src, got, tt.want)
			}
			if tt.mode == JSONValue && !json.Valid([]byte(got)) {
				t.Errorf("JSONValue render %q is not valid JSON", got)
			}
			if tp.Source() != tt.src {
				t.Errorf("Source() = %q, want %q", tp.Source(), tt.src)
			}
		})
	}
}

func TestTemplateRandomFunctions(t *testing.T) {
	t.Parallel()
	s, v := testScope()
	env := testEnv(v)
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	u := MustParse("{{uuid}}", Text, scopeResolver(s))
	seen := map[string]bool{}
	for range 100 {
		got, _ := u.Render(env)
		if !uuid.MatchString(got) {
			t.Fatalf("uuid %q is not a version 4 UUID", got)
		}
		if seen[got] {
			t.Fatalf("uuid %q repeated", got)
		}
		seen[got] = true
	}
	ri := MustParse("{{randInt -2 2}}", Text, nil)
	counts := map[string]int{}
	for range 1000 {
		got, _ := ri.Render(env)
		counts[got]++
	}
	if len(counts) != 5 {
		t.Errorf("randInt -2 2 gave %v, want each of -2..2", counts)
	}
	rs := MustParse("{{randString 12}}", Text, nil)
	got, _ := rs.Render(env)
	if !regexp.MustCompile(`^[A-Za-z0-9]{12}$`).MatchString(got) {
		t.Errorf("randString 12 = %q", got)
	}
	// The same seed gives the same values: runs are reproducible.
	a, _ := u.Render(&Env{Rand: rand.New(rand.NewPCG(5, 5))})
	b, _ := u.Render(&Env{Rand: rand.New(rand.NewPCG(5, 5))})
	if a != b {
		t.Errorf("seeded uuids differ: %s %s", a, b)
	}
}

func TestTemplateParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src    string
		offset int
		msg    string
	}{
		{"/jobs/{{.job}}", 8, "undefined variable .job"},
		{"/jobs/{{.id", 6, "unclosed {{"},
		{"{{}}", 0, "empty {{}}"},
		{"ab{{ }}", 2, "empty {{}}"},
		{"{{.id.field}}", 2, "variables have no fields"},
		{"{{.1x}}", 2, "bad variable name"},
		{"{{.id extra}}", 6, "takes nothing after the variable"},
		{"x {{nope}}", 4, `unknown function "nope"`},
		{"{{id}}", 2, "did you mean the variable {{.id}}?"},
		{"{{uuid 3}}", 2, "uuid takes no arguments"},
		{"{{now 1 2}}", 2, "now takes 0 to 1 arguments"},
		{`{{now "yesterday"}}`, 6, "bad offset"},
		{"{{randInt 5 1}}", 10, "min 5 is above max 1"},
		{"{{randInt a 1}}", 10, "a is not a whole number"},
		{"{{randInt 1}}", 2, "randInt takes 2 arguments"},
		{"{{randString 0}}", 13, "from 1 to 4096"},
		{`{{"abc}}`, 0, "unterminated string"},
		{`{{"a" "b"}}`, 6, "stands alone"},
		{`{{"\q"}}`, 2, "bad string"},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			t.Parallel()
			s, _ := testScope()
			_, err := Parse(tt.src, Text, scopeResolver(s))
			var te *TemplateError
			if !errors.As(err, &te) {
				t.Fatalf("Parse(%q) = %v, want a *TemplateError", tt.src, err)
			}
			if te.Offset != tt.offset || !strings.Contains(te.Msg, tt.msg) {
				t.Errorf("Parse(%q): offset %d %q, want offset %d containing %q", tt.src, te.Offset, te.Msg, tt.offset, tt.msg)
			}
		})
	}
}

func TestTemplateUnsetVariableAtRender(t *testing.T) {
	t.Parallel()
	s, v := testScope()
	tp := MustParse("/jobs/{{.unset}}", Text, scopeResolver(s))
	_, err := tp.Render(testEnv(v))
	var ue *UnsetError
	if !errors.As(err, &ue) || ue.Name != "unset" {
		t.Fatalf("render = %v, want *UnsetError for unset", err)
	}
	if !strings.Contains(err.Error(), "variable .unset is not set in this iteration") {
		t.Errorf("message %q", err)
	}
	if _, err := MustParse("{{.unset}}", Text, scopeResolver(s)).Value(testEnv(v)); err == nil {
		t.Errorf("Value of an unset variable: no error")
	}
}

func TestTemplateValueKeepsTypes(t *testing.T) {
	t.Parallel()
	s, v := testScope()
	env := testEnv(v)
	for src, want := range map[string]Kind{"{{.n}}": Number, "{{.obj}}": JSON, "{{vu}}": Number, "{{now}}": String, "x{{.n}}": String, "{{randInt 1 2}}": Number} {
		got, err := MustParse(src, Text, scopeResolver(s)).Value(env)
		if err != nil || got.Kind() != want {
			t.Errorf("Value(%s) = %v kind %d (%v), want kind %d", src, got, got.Kind(), err, want)
		}
	}
}

func TestConcatJoinsLiteralsAndTemplates(t *testing.T) {
	t.Parallel()
	s, v := testScope()
	body := Concat(Literal(`{"id":`), MustParse("{{.id}}", JSONValue, scopeResolver(s)), Literal(`,"n":`),
		MustParse("{{.n}}", JSONValue, scopeResolver(s)), Literal(`}`))
	got, err := body.Render(testEnv(v))
	if err != nil || got != `{"id":"job-1","n":42}` {
		t.Errorf("render = %q, %v", got, err)
	}
	if body.Source() != `{"id":{{.id}},"n":{{.n}}}` {
		t.Errorf("source = %q", body.Source())
	}
}

// BenchmarkTemplateAppend measures the per-request cost of a templated
// path: it must not allocate.
func BenchmarkTemplateAppend(b *testing.B) {
	s, v := testScope()
	tp := MustParse("/api/v2/recording/jobs/{{.id}}/x/{{vu}}-{{iteration}}", Text, scopeResolver(s))
	env := testEnv(v)
	buf := make([]byte, 0, 128)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = tp.Append(buf[:0], env)
	}
}

// TestURLQuery: literal text and rendered values are percent-encoded, so
// a value holding & or = stays one query value.
func TestURLQuery(t *testing.T) {
	sc := NewScope()
	slot := sc.Define("q")
	resolve := func(name string) (int, error) { return sc.Define(name), nil }
	for _, c := range []struct{ src, val, want string }{
		{"{{.q}}", "a&b=c d", "a%26b%3Dc+d"},
		{"x y-{{.q}}", "plain", "x+y-plain"},
		{"{{.q}}", "ok-1.2_~", "ok-1.2_~"},
		{"{{.q}}", "é", "%C3%A9"},
	} {
		tm, err := Parse(c.src, URLQuery, resolve)
		if err != nil {
			t.Fatal(err)
		}
		vars := NewVars(sc)
		vars.Set(slot, StringValue(c.val))
		got, err := tm.Render(&Env{Vars: vars})
		if err != nil || got != c.want {
			t.Errorf("%q with q=%q: %q (%v), want %q", c.src, c.val, got, err, c.want)
		}
	}
}

// TestIterationCounter: {{iteration start step}} counts from start.
func TestIterationCounter(t *testing.T) {
	for _, c := range []struct {
		src  string
		iter int
		want string
	}{
		{"{{iteration}}", 3, "3"},
		{"{{iteration 1 1}}", 0, "1"},
		{"{{iteration 1 1}}", 4, "5"},
		{"{{iteration 100 -10}}", 2, "80"},
	} {
		tm, err := Parse(c.src, Text, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := tm.Render(&Env{Iteration: c.iter}); err != nil || got != c.want {
			t.Errorf("%s at %d: %q (%v), want %q", c.src, c.iter, got, err, c.want)
		}
	}
	for _, bad := range []string{"{{iteration 1}}", "{{iteration a 1}}", "{{iteration 1 2 3}}"} {
		if _, err := Parse(bad, Text, nil); err == nil {
			t.Errorf("%s parsed", bad)
		}
	}
}
