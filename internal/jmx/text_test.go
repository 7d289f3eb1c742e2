package jmx

import (
	"strings"
	"testing"

	"github.com/floodgate-dev/floodgate/internal/scenario"
)

// TestFunctions converts JMeter functions in templated text: each either
// becomes a template that parses, or is left out and reported — never
// sent as "${__fn(...)}".
func TestFunctions(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in, want string
		problem  string // a word of the problem reported, "" for none
	}{
		{"${__javaScript(new Date().toISOString())}", "{{now}}", ""},
		{"${__javaScript(new Date(Date.now()-3600000).toISOString())}", "{{now -1h}}", ""},
		{"${__javaScript(new Date(Date.now() + 30*60*1000).toISOString())}", "{{now 30m}}", ""},
		{"${__javaScript(new Date(new Date().getTime()+90000).toISOString())}", "{{now 1m30s}}", ""},
		{"${__groovy(new Date().toISOString())}", "{{now}}", ""},
		{"t=${__javaScript(Date.now())}", "t={{unix}}000", "to the second"},
		{"${__javaScript(new Date().getTime() - 86400000)}", "{{unix -24h}}000", "to the second"},
		{"${__javaScript(Math.floor(Math.random()*10))}", "{{randInt 0 9}}", ""},
		{"${__javaScript(Math.floor(Math.random() * 6) + 1)}", "{{randInt 1 6}}", ""},
		{"${__javaScript(60*60*1000)}", "3600000", ""},
		{"${__javaScript((2+3)*4)}", "20", ""},
		{"${__jexl3(7/2)}", "3.5", ""},
		{"${__time()}", "{{unix}}000", "to the second"},
		{"${__time(/1000)}", "{{unix}}", ""},
		{"${__time(yyyy-MM-dd'T'HH:mm:ss.SSSXXX)}", "{{now}}", "UTC"},
		{"${__time(,start)}", "{{unix}}000", "not also stored"},
		{"n=${__counter(TRUE,)}", "n={{iteration 1 1}}", ""},
		{"n=${__counter(FALSE,)}", "n={{iteration 1 1}}", "per VU"},
		{"${__UUID}", "{{uuid}}", ""},
		{"${__Random(1,100)}", "{{randInt 1 100}}", ""},
		// Left out, each with why.
		{"a${__javaScript(vars.get(\"x\").length)}b", "ab", "only simple dates"},
		{"${__javaScript(1/0)}", "", "only simple dates"},
		{"${__time(dd/MM/yyyy)}", "", "ISO-8601 formats"},
		{"${__digest(SHA-256,x)}", "", "__digest has no floodgate counterpart"},
		{"${__groovy(new Date().format('yyyy'))}", "", "only simple dates"},
		{"${__Random(a,b)}", "", "whole numbers"},
	} {
		cv := &converter{props: map[string]string{}, udv: map[string]udvValue{}, reported: map[string]bool{}, assumed: map[string]bool{}}
		cv.sc = &scenarioCtx{defined: map[string]bool{}, earlyAt: map[string]*Element{}, extracted: map[string]bool{}, why: map[string]string{}, lists: map[string]bool{}}
		got := cv.text(c.in, templated, &Element{Name: "x", TestClass: "HTTPSamplerProxy"})
		if got != c.want {
			t.Errorf("%s → %q, want %q", c.in, got, c.want)
		}
		if strings.Contains(got, "__") || strings.Contains(got, "${") {
			t.Errorf("%s → %q: a function is sent literally", c.in, got)
		}
		if _, err := scenario.Parse(got, scenario.Text, nil); err != nil && got != "" {
			t.Errorf("%s → %q does not parse: %v", c.in, got, err)
		}
		var msgs []string
		for _, p := range cv.problems {
			msgs = append(msgs, p.Msg)
		}
		all := strings.Join(msgs, "\n")
		switch {
		case c.problem == "" && all != "":
			t.Errorf("%s: unexpected problems: %s", c.in, all)
		case c.problem != "" && !strings.Contains(all, c.problem):
			t.Errorf("%s: problems %q lack %q", c.in, all, c.problem)
		}
	}
}
