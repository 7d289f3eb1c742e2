package plan

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/floodgate-dev/floodgate/internal/scenario"
)

func TestParseFlow(t *testing.T) {
	t.Parallel()
	p, err := Load("testdata/flow.yaml", env(nil))
	if err != nil {
		t.Fatal(err)
	}
	sc := p.Scenarios[0]
	if got := sc.Scope.Names(); !slices.Equal(got, []string{"user", "region", "tag", "since", "job_id", "where", "total"}) {
		t.Errorf("scope %v", got)
	}
	if d := sc.Data; d == nil || d.Mode != scenario.Unique || d.OnExhaust != scenario.Stop || len(d.Rows) != 2 || !slices.Equal(d.Columns, []string{"user", "region"}) {
		t.Errorf("data %+v", sc.Data)
	}
	if len(sc.Vars) != 2 || sc.Vars[0].Name != "tag" || sc.Vars[1].Slot != 3 {
		t.Errorf("vars %+v", sc.Vars)
	}
	if p.Defaults.HeaderTemplates["X-Request-Id"] == nil || sc.HeaderTemplates["X-User"] == nil {
		t.Errorf("header templates: defaults %v scenario %v", p.Defaults.HeaderTemplates, sc.HeaderTemplates)
	}

	var paths []string
	WalkSteps(sc.Steps, func(st *Step) { paths = append(paths, st.Path+":"+st.Kind()) })
	want := []string{"create:request", "ready:poll", "think:think", "done:wait_event", "check:group", "check/get_job:request", "check/think:think"}
	if !slices.Equal(paths, want) {
		t.Errorf("steps %v, want %v", paths, want)
	}

	create := sc.Steps[0]
	r := create.Request
	if r.PathTemplate == nil || r.HeaderTemplates["X-Tag"] == nil || r.BodyTemplate == nil || r.Body != nil {
		t.Fatalf("request templates %+v", r)
	}
	if len(create.Extract) != 2 || create.Extract[0].Name != "job_id" || create.Extract[1].Spec != "header:Location" {
		t.Errorf("extract %+v", create.Extract)
	}
	// The json body renders with types kept: count is a number.
	vars := scenario.NewVars(sc.Scope)
	vars.Set(2, scenario.StringValue(`ann "the" tag`))
	vars.Set(3, scenario.StringValue("2026-11-22T09:00:00.000Z"))
	env := &scenario.Env{Vars: vars, Rand: rand.New(rand.NewPCG(1, 1))}
	body, err := r.BodyTemplate.Render(env)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	if doc["name"] != `ann "the" tag` || doc["when"] != "since 2026-11-22T09:00:00.000Z" || doc["fixed"] != 1.0 {
		t.Errorf("body %s", body)
	}
	if n, ok := doc["count"].(float64); !ok || n < 1 || n > 9 {
		t.Errorf("count %v is not a number from 1 to 9", doc["count"])
	}

	poll := sc.Steps[1].Poll
	if poll.Every != 500*time.Millisecond || poll.Timeout != DefaultPollTimeout || poll.Until.Source() != `state == "READY"` || poll.FailIf == nil {
		t.Errorf("poll %+v", poll)
	}
	if th := sc.Steps[2].Think; th.Min != time.Second || th.Max != 2*time.Second {
		t.Errorf("think %+v", th)
	}
	w := sc.Steps[3].WaitEvent
	if w.TopicTemplate == nil || w.Trigger == nil || w.Trigger.BodyTemplate == nil || w.Channel != ChannelStep || w.Timeout != time.Minute || w.FailIf != nil {
		t.Errorf("wait_event %+v", w)
	}
	if len(p.Thresholds) != 2 || p.Thresholds[1].Step != "check/get_job" {
		t.Errorf("thresholds %+v", p.Thresholds)
	}
}

func TestParseStepDefaults(t *testing.T) {
	t.Parallel()
	src := `target: http://x
scenarios:
  s:
    executor: {closed: {vus: 1, iterations: 1}}
    steps:
      - poll: {path: /jobs/1, until: "done"}
      - wait_event: {topic: v2.users.me}
      - think: 250ms
      - group: [{request: {path: /a}}]
      - group: [{request: {path: /a}}]
`
	p, err := Parse("", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	st := p.Scenarios[0].Steps
	if st[0].Name != "GET /jobs/1" || st[0].Poll.Every != DefaultPollEvery || st[0].Poll.Timeout != DefaultPollTimeout {
		t.Errorf("poll %q %+v", st[0].Name, st[0].Poll)
	}
	if st[1].Name != "wait v2.users.me" || st[1].WaitEvent.Timeout != DefaultWaitTimeout || st[1].WaitEvent.Channel != ChannelVU || st[1].WaitEvent.Until != nil {
		t.Errorf("wait_event %q %+v", st[1].Name, st[1].WaitEvent)
	}
	if st[2].Think.Min != 250*time.Millisecond || st[2].Think.Max != 250*time.Millisecond {
		t.Errorf("think %+v", st[2].Think)
	}
	if st[3].Path != "group" || st[4].Path != "group #2" || st[4].Group.Steps[0].Path != "group #2/GET /a" {
		t.Errorf("group paths %q %q %q", st[3].Path, st[4].Path, st[4].Group.Steps[0].Path)
	}
}

// TestParseTemplateHotPath: a request without templates keeps the
// encoded body and plain fields, so the engine renders nothing for it.
func TestParseTemplateHotPath(t *testing.T) {
	t.Parallel()
	src := "target: http://x\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n    steps:\n      - request: {path: /a, headers: {X-A: b}, json: {a: \"$${x}\"}}\n"
	p, err := Parse("", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	r := p.Scenarios[0].Steps[0].Request
	if r.PathTemplate != nil || r.HeaderTemplates != nil || r.BodyTemplate != nil || string(r.Body) != `{"a":"${x}"}` {
		t.Errorf("request %+v", r)
	}
}

func TestParseDataModes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "d.csv"), []byte("a\n1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ data, mode, exhaust string }{
		{"{file: d.csv}", "sequential", "recycle"},
		{"{file: d.csv, on_exhaust: stop}", "sequential", "stop"},
		{"{file: d.csv, mode: unique}", "unique", "stop"},
		{"{file: d.csv, mode: random}", "random", ""},
	} {
		src := "target: http://x\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n    data: " + tt.data + "\n    steps: [{request: {path: '/{{.a}}'}}]\n"
		p, err := Parse(filepath.Join(dir, "p.yaml"), []byte(src), nil)
		if err != nil {
			t.Fatalf("%s: %v", tt.data, err)
		}
		if d := p.Scenarios[0].Data; d.Mode != tt.mode || d.OnExhaust != tt.exhaust {
			t.Errorf("%s: mode %q on_exhaust %q, want %q %q", tt.data, d.Mode, d.OnExhaust, tt.mode, tt.exhaust)
		}
	}
}

func TestParseFlowErrors(t *testing.T) {
	t.Parallel()
	head := "target: http://x\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n"
	tests := []struct {
		name, yaml, pos, msg string
	}{
		{"undefined variable in path", "    steps:\n      - request:\n          path: /jobs/{{.job_id}}\n",
			"7:25", "path: undefined variable .job_id; none is defined here"},
		{"unquoted template in a flow mapping", "    steps:\n      - request: {path: /jobs/{{.job_id}}}\n",
			"6:31", "a {{...}} template must be quoted"},
		{"undefined variable in quoted path", "    steps:\n      - request: {path: \"/jobs/{{.jobid}}\"}\n      - request: {path: /a}\n        extract: {job_id: id}\n",
			"6:34", `did you mean "job_id"?`},
		{"variable used before its extraction", "    steps:\n      - request: {path: \"/jobs/{{.job_id}}\"}\n      - request: {path: /jobs}\n        extract: {job_id: id}\n",
			"6:34", "variable .job_id is not set yet here: the extract at line 8 sets it, later"},
		{"a step can't use its own extraction", "    steps:\n      - request: {path: \"/jobs/{{.id}}\"}\n        extract: {id: id}\n",
			"6:34", "is not set yet here"},
		{"bad template in json", "    steps:\n      - request: {path: /, json: {a: {b: \"x {{nope}}\"}}}\n",
			"6:47", `json value: unknown function "nope"`},
		{"unquoted template in json", "    steps:\n      - request: {path: /, json: {a: [1]}}\n      - request:\n          path: /\n          json:\n            id: {{.x}}\n",
			"10:18", "a {{...}} template must be quoted"},
		{"bad template in header", "    steps:\n      - request: {path: /, headers: {X-A: \"{{uuid 1}}\"}}\n",
			"6:46", "header X-A: uuid takes no arguments"},
		{"variable in defaults header", "    steps: [{request: {path: /}}]\ndefaults: {headers: {X-A: \"{{.user}}\"}}\n",
			"6:30", "variables belong to a scenario"},
		{"vars use earlier vars only", "    vars: {a: \"{{.b}}\", b: x}\n" + okSteps,
			"5:18", "undefined variable .b"},
		{"bad var name", "    vars: {1a: x}\n" + okSteps, "5:12", `"1a" is not a variable name`},
		{"bad extract name", "    steps:\n      - request: {path: /}\n        extract: {job-id: id}\n", "7:19", `"job-id" is not a variable name`},
		{"bad extract path", "    steps:\n      - request: {path: /}\n        extract: {x: \"$[0]\"}\n", "7:22", "array indexes with dots"},
		{"extract on think", "    steps:\n      - request: {path: /}\n      - think: 1s\n        extract: {x: y}\n", "8:9", "a think step has no response"},
		{"retry on think", "    steps:\n      - request: {path: /}\n      - think: 1s\n        retry: off\n", "8:9", "retry does nothing here"},
		{"only thinking", "    steps:\n      - think: 1s\n", "5:5", "only thinks"},
		{"poll without until", "    steps:\n      - poll: {path: /jobs}\n", "6:9", "poll needs until"},
		{"poll condition syntax", "    steps:\n      - poll: {path: /jobs, until: 'state == '}\n", "6:45", "until \"state == \": unexpected token EOF"},
		{"poll condition not boolean", "    steps:\n      - poll: {path: /jobs, until: \"1 + 1\"}\n", "6:37", "must be true or false"},
		{"poll unknown key", "    steps:\n      - poll: {path: /jobs, until: x, interval: 1s}\n", "6:39", `unknown key "interval" in poll`},
		{"poll zero every", "    steps:\n      - poll: {path: /jobs, until: x, every: 0s}\n", "6:46", "every must be longer than 0s"},
		{"wait_event without topic", "    steps:\n      - wait_event: {until: x}\n", "6:9", "wait_event needs topic"},
		{"wait_event bad channel", "    steps:\n      - wait_event: {topic: t, channel: shared}\n", "6:41", "use vu"},
		{"wait_event trigger without path", "    steps:\n      - wait_event: {topic: t, trigger: {method: PUT}}\n", "6:32", "trigger needs path"},
		{"think max below min", "    steps:\n      - request: {path: /}\n      - think: {min: 3s, max: 1s}\n", "7:31", "swap them"},
		{"think missing max", "    steps:\n      - request: {path: /}\n      - think: {min: 3s}\n", "7:9", "think needs min and max"},
		{"think zero", "    steps:\n      - request: {path: /}\n      - think: 0s\n", "7:16", "longer than 0s"},
		{"empty group", "    steps:\n      - group: []\n", "6:9", "steps is empty"},
		{"duplicate names in group", "    steps:\n      - group: [{name: a, request: {path: /}}, {name: a, request: {path: /}}]\n", "6:55", `duplicate step name "a" in group`},
		{"missing data file", "    data: {file: nope.csv}\n" + okSteps, "5:18", "data file \"nope.csv\" can't be read"},
		{"data without file", "    data: {mode: random}\n" + okSteps, "5:5", "data needs file"},
		{"bad data mode", "    data: {file: users.csv, mode: shuffle}\n" + okSteps, "5:35", "unknown data mode"},
		{"unique can't recycle", "    data: {file: users.csv, mode: unique, on_exhaust: recycle}\n" + okSteps, "5:55", "can't recycle"},
		{"random never runs out", "    data: {file: users.csv, mode: random, on_exhaust: stop}\n" + okSteps, "5:43", "does nothing"},
		{"bad csv", "    data: {file: bad.csv}\n" + okSteps, "5:18", "bad.csv:3: wrong number of fields"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("testdata/plan.yaml", []byte(head+tt.yaml), nil)
			if err == nil {
				t.Fatal("no error")
			}
			for _, e := range planErrors(t, err) {
				if e.Pos.String() == tt.pos && strings.Contains(e.Msg, tt.msg) {
					if !strings.Contains(e.Msg, "; ") {
						t.Errorf("message %q doesn't say how to fix it after a semicolon", e.Msg)
					}
					return
				}
			}
			t.Errorf("no error at %s containing %q; got:\n%v", tt.pos, tt.msg, err)
		})
	}
}

func TestParseGroupDepth(t *testing.T) {
	t.Parallel()
	steps := "[{request: {path: /}}]"
	for range maxGroupDepth + 1 {
		steps = "[{group: " + steps + "}]"
	}
	src := "target: http://x\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n    steps: " + steps + "\n"
	if _, err := Parse("", []byte(src), nil); err == nil || !strings.Contains(err.Error(), "groups nest deeper") {
		t.Errorf("err = %v", err)
	}
	// An alias bomb of groups (10 groups of 10 groups ... 7 deep) stops
	// at maxSteps, quickly.
	var b strings.Builder
	b.WriteString("target: http://x\nx0: &a [{request: {path: /}}]\n")
	for i := 1; i <= 7; i++ {
		b.WriteString("x" + string(rune('0'+i)) + ": &" + string(rune('a'+i)) + " [")
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("{group: *" + string(rune('a'+i-1)) + "}")
		}
		b.WriteString("]\n")
	}
	b.WriteString("scenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n    steps: *h\n")
	start := time.Now()
	_, err := Parse("", []byte(b.String()), nil)
	if err == nil || !strings.Contains(err.Error(), "more than 10000 steps") {
		t.Errorf("alias bomb: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("alias bomb took %v", d)
	}
	// An anchor that contains itself stops there too.
	src = "target: http://x\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n    steps: &s [{group: *s}]\n"
	if _, err := Parse("", []byte(src), nil); err == nil {
		t.Errorf("self-containing group: no error")
	}
}
