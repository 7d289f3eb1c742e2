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

// TestGalleryPlans converts the gallery's own JMeter plans: each imports,
// parses, sends no JMeter function literally, and takes its setUp Thread
// Group's client-credentials token as the plan's oauth2 auth instead of a
// Bearer header from a property nothing sets.
func TestGalleryPlans(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("..", "..", "examples", "walls", "jmeter-*", "plan.jmx"))
	if err != nil || len(files) < 2 {
		t.Fatalf("gallery plans: %v %v", files, err)
	}
	want := map[string][]string{
		"jmeter-bot-burst": {"retry: {on: [429], max_attempts: 5}", `"bot-{{vu}}"`},
		"jmeter-storm":     {`"actionDate": "{{now}}"`, `"interval": "{{now -1h}}/{{now 1h}}"`},
	}
	for _, path := range files {
		name := filepath.Base(filepath.Dir(path))
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		res, err := Convert(bytes.NewReader(b), WithFile(path))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		y := string(res.YAML)
		getenv := func(k string) (string, bool) { v, ok := res.Required[k]; return v, ok }
		if _, err := plan.Parse(filepath.Join(t.TempDir(), "plan.yaml"), res.YAML, getenv); err != nil {
			t.Errorf("%s does not parse: %v\n%s", name, err, y)
		}
		for _, line := range strings.Split(y, "\n") {
			if !strings.HasPrefix(strings.TrimSpace(line), "#") && strings.Contains(line, "__") {
				t.Errorf("%s sends a JMeter function: %s", name, line)
			}
		}
		for _, w := range append(want[name], "auth:\n  oauth2:\n    token_url: /oauth/token\n") {
			if !strings.Contains(y, w) {
				t.Errorf("%s lacks %q:\n%s", name, w, y)
			}
		}
		if strings.Contains(y, "Authorization: \"Bearer") || strings.Contains(y, "not converted: setUp") {
			t.Errorf("%s keeps the property's Bearer header or drops its setUp:\n%s", name, y)
		}
	}
}

// TestOnceVariables: a once step's variable is declared under vars (which
// resets it each iteration) only when something uses it before the step,
// and then that is reported; a header that uses it waits for it.
func TestOnceVariables(t *testing.T) {
	t.Parallel()
	sampler := func(name, path, extra string) string {
		return `<HTTPSamplerProxy testclass="HTTPSamplerProxy" testname="` + name + `" enabled="true"><stringProp name="HTTPSampler.path">` + path + `</stringProp><stringProp name="HTTPSampler.method">GET</stringProp></HTTPSamplerProxy><hashTree>` + extra + `</hashTree>`
	}
	extract := `<JSONPostProcessor testclass="JSONPostProcessor" testname="x" enabled="true"><stringProp name="JSONPostProcessor.referenceNames">token</stringProp><stringProp name="JSONPostProcessor.jsonPathExprs">$.token</stringProp></JSONPostProcessor><hashTree/>`
	header := `<HeaderManager testclass="HeaderManager" testname="h" enabled="true"><collectionProp name="HeaderManager.headers"><elementProp name="" elementType="Header"><stringProp name="Header.name">X-Token</stringProp><stringProp name="Header.value">${token}</stringProp></elementProp></collectionProp></HeaderManager><hashTree/>`
	once := `<OnceOnlyController testclass="OnceOnlyController" testname="login" enabled="true"/><hashTree>` + sampler("login", "/login", extract) + `</hashTree>`
	doc := func(body string) string {
		return `<jmeterTestPlan><hashTree><TestPlan testclass="TestPlan" testname="p" enabled="true"/><hashTree><ThreadGroup testclass="ThreadGroup" testname="g" enabled="true"><stringProp name="ThreadGroup.num_threads">2</stringProp><stringProp name="ThreadGroup.on_sample_error">startnextloop</stringProp></ThreadGroup><hashTree>` + body + `</hashTree></hashTree></hashTree></jmeterTestPlan>`
	}
	for _, c := range []struct {
		name, body string
		has, lacks []string
	}{
		{"a thread-level header waits", header + once + sampler("a", "/a", "") + sampler("b", "/b", ""),
			[]string{"X-Token: \"{{.token}}\"", "header X-Token is not sent"}, []string{"vars:", "\n    headers:"}},
		{"used in a path after the once step", once + sampler("a", "/a/${token}", ""),
			[]string{"path: \"/a/{{.token}}\""}, []string{"vars:"}},
		{"used in a path before it", sampler("a", "/a/${token}", "") + once,
			[]string{"vars:", "used before the once step that extracts it"}, nil},
		{"an ordinary step's variable used in the next iteration", sampler("a", "/a/${token}", "") + sampler("b", "/b", extract),
			[]string{"vars:", "JMeter would use the previous iteration's value"}, nil},
	} {
		res, err := Convert(strings.NewReader(doc(c.body)))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		y := string(res.YAML)
		if _, err := plan.Parse("p.yaml", res.YAML, nil); err != nil {
			t.Errorf("%s: %v\n%s", c.name, err, y)
		}
		for _, w := range c.has {
			if !strings.Contains(y, w) {
				t.Errorf("%s: lacks %q:\n%s", c.name, w, y)
			}
		}
		for _, w := range c.lacks {
			if strings.Contains(y, w) {
				t.Errorf("%s: has %q:\n%s", c.name, w, y)
			}
		}
	}
}

// testPlan wraps thread groups (and anything else at the top) in a Test
// Plan.
func testPlan(body string) string {
	return `<jmeterTestPlan><hashTree><TestPlan testclass="TestPlan" testname="p" enabled="true"/><hashTree>` + body + `</hashTree></hashTree></jmeterTestPlan>`
}

func testGroup(kind, body string) string {
	return `<` + kind + ` testclass="` + kind + `" testname="g" enabled="true"><stringProp name="ThreadGroup.num_threads">2</stringProp><stringProp name="ThreadGroup.on_sample_error">startnextloop</stringProp></` + kind + `><hashTree>` + body + `</hashTree>`
}

func testSampler(method, path, args, raw, extra string) string {
	body := ""
	if raw != "" {
		body = `<boolProp name="HTTPSampler.postBodyRaw">true</boolProp><elementProp name="HTTPsampler.Arguments" elementType="Arguments"><collectionProp name="Arguments.arguments"><elementProp name="" elementType="HTTPArgument"><stringProp name="Argument.value">` + raw + `</stringProp></elementProp></collectionProp></elementProp>`
	}
	if args != "" {
		var b strings.Builder
		for _, kv := range strings.Split(args, "&") {
			k, v, _ := strings.Cut(kv, "=")
			b.WriteString(`<elementProp name="` + k + `" elementType="HTTPArgument"><stringProp name="Argument.name">` + k + `</stringProp><stringProp name="Argument.value">` + v + `</stringProp></elementProp>`)
		}
		body = `<elementProp name="HTTPsampler.Arguments" elementType="Arguments"><collectionProp name="Arguments.arguments">` + b.String() + `</collectionProp></elementProp>`
	}
	return `<HTTPSamplerProxy testclass="HTTPSamplerProxy" testname="` + method + ` ` + path + `" enabled="true">` + body + `<stringProp name="HTTPSampler.path">` + path + `</stringProp><stringProp name="HTTPSampler.method">` + method + `</stringProp></HTTPSamplerProxy><hashTree>` + extra + `</hashTree>`
}

func testHeader(name, value string) string {
	return `<HeaderManager testclass="HeaderManager" testname="h" enabled="true"><collectionProp name="HeaderManager.headers"><elementProp name="" elementType="Header"><stringProp name="Header.name">` + name + `</stringProp><stringProp name="Header.value">` + value + `</stringProp></elementProp></collectionProp></HeaderManager><hashTree/>`
}

// TestSetUpAndRetryLoops: setUp Thread Groups that fetch a
// client-credentials token (by form fields, raw body or a Basic header)
// become the plan's auth, others a once step; only a Loop around an If
// around one request with a script naming 429 or Retry-After is a retry.
func TestSetUpAndRetryLoops(t *testing.T) {
	t.Parallel()
	users := testGroup("ThreadGroup", testHeader("Authorization", "Bearer ${__P(token,)}")+testSampler("GET", "/api/v2/users", "", "", ""))
	script := func(src string) string {
		return `<JSR223PostProcessor testclass="JSR223PostProcessor" testname="s" enabled="true"><stringProp name="script">` + src + `</stringProp></JSR223PostProcessor><hashTree/>`
	}
	loop := func(n, inner string) string {
		return `<LoopController testclass="LoopController" testname="l" enabled="true"><stringProp name="LoopController.loops">` + n + `</stringProp></LoopController><hashTree><IfController testclass="IfController" testname="i" enabled="true"><stringProp name="IfController.condition">${__javaScript(vars.get("done") != "1")}</stringProp></IfController><hashTree>` + inner + `</hashTree></hashTree>`
	}
	for _, c := range []struct {
		name, body string
		has, lacks []string
		required   []string
	}{
		{"form fields", testGroup("SetupThreadGroup", testSampler("POST", "/oauth/token", "grant_type=client_credentials&client_id=${__P(id,app)}&client_secret=${__P(secret,)}", "", "")) + users,
			[]string{"token_url: /oauth/token", `client_id: "${ID:-app}"`, `client_secret: "${SECRET}"`}, []string{`Authorization: "Bearer`, "once: true"}, []string{"SECRET"}},
		{"a raw body and a literal Basic header", testGroup("SetupThreadGroup", testSampler("POST", "/oauth/token", "", "grant_type=client_credentials", testHeader("Authorization", "Basic YXBwOnMzY3JldA=="))) + users,
			[]string{`client_id: "${CLIENT_ID:-app}"`, `client_secret: "${CLIENT_SECRET:-s3cret}"`}, []string{`Authorization: "Bearer`}, nil},
		{"credentials a script sets", testGroup("SetupThreadGroup", testSampler("POST", "/oauth/token", "grant_type=client_credentials", "", testHeader("Authorization", "Basic ${basic}"))) + users,
			[]string{`client_id: "${CLIENT_ID}"`, `client_secret: "${CLIENT_SECRET}"`}, nil, []string{"CLIENT_ID", "CLIENT_SECRET"}},
		{"a data file's own tokens are kept", testGroup("SetupThreadGroup", testSampler("POST", "/oauth/token", "grant_type=client_credentials", "", "")) +
			testGroup("ThreadGroup", `<CSVDataSet testclass="CSVDataSet" testname="c" enabled="true"><stringProp name="filename">users.csv</stringProp><boolProp name="ignoreFirstLine">true</boolProp></CSVDataSet><hashTree/>`+testHeader("Authorization", "Bearer ${nickname}")+testSampler("GET", "/api/v2/users", "", "", "")),
			[]string{"auth:", `Authorization: "Bearer {{.nickname}}"`}, nil, nil},
		{"a password login is a once step", testGroup("SetupThreadGroup", testSampler("POST", "/login", "", `{"user": "u"}`, "")) + users,
			[]string{"once: true", "path: /login", "Bearer ${TOKEN:-}"}, []string{"auth:"}, nil},
		{"a loop around an If with a 429 script", testGroup("ThreadGroup", loop("3", testSampler("POST", "/api/v2/x", "", "{}", script(`if (prev.getResponseCode() == "429") sleep(1000) else vars.put("done", "1")`)))),
			[]string{"retry: {on: [429], max_attempts: 3}"}, []string{"repeat:", "not converted: If", "vars:", "when:"}, nil},
		{"Retry-After alone names it", testGroup("ThreadGroup", loop("4", testSampler("POST", "/api/v2/x", "", "{}", script(`Thread.sleep(prev.getResponseHeaders().find("Retry-After"))`)))),
			[]string{"retry: {on: [429], max_attempts: 4}"}, nil, nil},
		{"a script that does not retry", testGroup("ThreadGroup", loop("3", testSampler("POST", "/api/v2/x", "", "{}", script(`vars.put("done", "1")`)))),
			[]string{"iterations: 3", `when: 'string(done) != "1"'`}, []string{"retry: {"}, nil},
		{"one pass is no retry", testGroup("ThreadGroup", loop("1", testSampler("POST", "/api/v2/x", "", "{}", script(`if (prev.getResponseCode() == "429") sleep(1)`)))),
			[]string{"group:"}, []string{"retry: {"}, nil},
		{"two requests are no retry", testGroup("ThreadGroup", loop("3", testSampler("POST", "/api/v2/x", "", "{}", script(`429`))+testSampler("GET", "/api/v2/y", "", "", ""))),
			[]string{"iterations: 3"}, []string{"retry: {"}, nil},
	} {
		res, err := Convert(strings.NewReader(testPlan(c.body)), WithFile(filepath.Join("testdata", "p.jmx")))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		y := string(res.YAML)
		getenv := func(k string) (string, bool) { v, ok := res.Required[k]; return v, ok }
		if _, err := plan.Parse(filepath.Join("testdata", "p.yaml"), res.YAML, getenv); err != nil {
			t.Errorf("%s: %v\n%s", c.name, err, y)
		}
		for _, w := range c.has {
			if !strings.Contains(y, w) {
				t.Errorf("%s: lacks %q:\n%s", c.name, w, y)
			}
		}
		for _, w := range c.lacks {
			if strings.Contains(y, w) {
				t.Errorf("%s: has %q:\n%s", c.name, w, y)
			}
		}
		for _, k := range c.required {
			if _, ok := res.Required[k]; !ok {
				t.Errorf("%s: %s is not required (%v)", c.name, k, res.Required)
			}
		}
	}
}
