package plan

import (
	"errors"
	"strings"
	"testing"
)

// env returns a getenv over m.
func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// planErrors returns the *Errors joined in err.
func planErrors(t *testing.T, err error) []*Error {
	t.Helper()
	var out []*Error
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		pe, ok := e.(*Error)
		if !ok {
			t.Fatalf("not a *plan.Error: %T %v", e, e)
		}
		out = append(out, pe)
	}
	walk(err)
	return out
}

// steps is a valid steps block for cases about other keys.
const okSteps = "    steps: [{request: {path: /}}]\n"

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		yaml string
		env  map[string]string
		pos  string // line:col, or line: when the column is unknown
		msg  string // a fragment of the message
	}{
		{
			name: "repeat without count or while",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n    steps:\n      - repeat: {steps: [{request: {path: /}}]}\n",
			pos:  "6:9",
			msg:  "repeat needs count (how many times), while (a condition checked before each pass) or each",
		},
		{
			name: "repeat with both",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n    steps:\n      - repeat: {count: 2, while: 'true', steps: [{request: {path: /}}]}\n",
			pos:  "6:28",
			msg:  "repeat has both count and while; keep one",
		},
		{
			name: "repeat count zero",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n    steps:\n      - repeat: {count: 0, steps: [{request: {path: /}}]}\n",
			pos:  "6:25",
			msg:  "count must be at least 1, got 0",
		},
		{
			name: "repeat max with count",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n    steps:\n      - repeat: {count: 2, max: 3, steps: [{request: {path: /}}]}\n",
			pos:  "6:28",
			msg:  "max bounds a while or each repeat",
		},
		{
			name: "repeat bad while",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n    steps:\n      - repeat: {while: 'x ==', steps: [{request: {path: /}}]}\n",
			pos:  "6:29",
			msg:  "while \"x ==\"",
		},
		{
			name: "repeat without steps",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n    steps:\n      - repeat: {count: 2}\n",
			pos:  "6:9",
			msg:  "repeat needs steps",
		},
		{
			name: "when bad condition",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n    steps:\n      - when: 'a ==='\n        request: {path: /}\n",
			pos:  "6:20",
			msg:  "when \"a ===\"",
		},
		{
			name: "once not a bool",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n    steps:\n      - once: sometimes\n        request: {path: /}\n",
			pos:  "6:15",
			msg:  "once must be true or false",
		},
		{
			name: "weight outside choose",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n    steps:\n      - weight: 2\n        request: {path: /}\n",
			pos:  "6:9",
			msg:  "weight applies only to the steps of a choose",
		},
		{
			name: "weight zero",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n    steps:\n      - choose: [{weight: 0, request: {path: /}}]\n",
			pos:  "6:27",
			msg:  "weight must be more than 0",
		},
		{
			name: "choose empty",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n    steps:\n      - choose: []\n",
			pos:  "6:9",
			msg:  "steps is empty",
		},
		{
			name: "expect body on poll",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n    steps:\n      - poll: {path: /, until: 'true', expect: {body: 'true'}}\n",
			pos:  "6:49",
			msg:  "expect body applies to request steps",
		},
		{
			name: "expect empty mapping",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n    steps:\n      - request: {path: /, expect: {}}\n",
			pos:  "6:36",
			msg:  "expect is empty",
		},
		{
			name: "form and json",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n    steps:\n      - request: {path: /, json: {a: 1}, form: {b: 2}}\n",
			pos:  "6:42",
			msg:  "has both json and form; keep one",
		},
		{
			name: "query not a mapping",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n    steps:\n      - request: {path: /, query: [a]}\n",
			pos:  "6:35",
			msg:  "query must be a mapping",
		},
		{
			name: "request timeout zero",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n    steps:\n      - request: {path: /, timeout: 0s}\n",
			pos:  "6:37",
			msg:  "timeout must be longer than 0s",
		},
		{
			name: "cookies not a bool",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n    cookies: yes please\n    steps: [{request: {path: /}}]\n",
			pos:  "5:14",
			msg:  "cookies must be true or false",
		},
		{
			name: "repeat each undefined",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n    steps:\n      - repeat: {each: ids, as: id, steps: [{request: {path: /}}]}\n",
			pos:  "6:24",
			msg:  "each: undefined variable .ids",
		},
		{
			name: "repeat each without as",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n    steps:\n      - request: {path: /}\n        extract: {ids: \"#.id\"}\n      - repeat: {each: ids, steps: [{request: {path: /}}]}\n",
			pos:  "8:9",
			msg:  "an each repeat needs as",
		},
		{
			name: "repeat as without each",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n    steps:\n      - repeat: {count: 2, as: id, steps: [{request: {path: /}}]}\n",
			pos:  "6:28",
			msg:  "as names the variable each pass of an each repeat sets",
		},
		{
			name: "unknown key with suggestion",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor:\n      closed:\n        vu: 10\n        iterations: 1\n" + okSteps,
			pos:  "6:9",
			msg:  `unknown key "vu" in closed executor; did you mean "vus"? (allowed: vus, ramp_up, iterations, duration)`,
		},
		{
			name: "unknown key without suggestion",
			yaml: "target: http://x\nflavour: vanilla\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n" + okSteps,
			pos:  "2:1",
			msg:  `unknown key "flavour" in the plan; remove it (allowed: name, target,`,
		},
		{
			name: "unknown top-level key close to scenarios",
			yaml: "target: http://x\nscenario:\n  s: {}\n",
			pos:  "2:1",
			msg:  `did you mean "scenarios"?`,
		},
		{
			name: "snake case hint",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1, rampUp: 1s}}\n" + okSteps,
			pos:  "4:48",
			msg:  `did you mean "ramp_up"?`,
		},
		{
			name: "wrong type",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor: {closed: {vus: ten, iterations: 1}}\n" + okSteps,
			pos:  "4:30",
			msg:  `vus must be a whole number, got "ten"`,
		},
		{
			name: "quoted number",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor: {closed: {vus: \"10\", iterations: 1}}\n" + okSteps,
			pos:  "4:30",
			msg:  `remove the quotes`,
		},
		{
			name: "mapping where a list belongs",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n    steps:\n      request: {path: /}\n",
			pos:  "6:7",
			msg:  `steps must be a list, got a mapping; write it like [{request: {path: /}}]`,
		},
		{
			name: "missing target",
			yaml: "scenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n" + okSteps,
			pos:  "1:1",
			msg:  `missing target; add the base URL`,
		},
		{
			name: "bad URL scheme",
			yaml: "target: ftp://example.com\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n" + okSteps,
			pos:  "1:9",
			msg:  `target "ftp://example.com" must start with http:// or https://`,
		},
		{
			name: "relative target",
			yaml: "target: /api\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n" + okSteps,
			pos:  "1:9",
			msg:  `must start with http:// or https://`,
		},
		{
			name: "missing executor",
			yaml: "target: http://x\nscenarios:\n  bot_burst:\n" + okSteps,
			pos:  "3:3",
			msg:  `scenario "bot_burst" has no executor; add one`,
		},
		{
			name: "two executors",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor:\n      closed: {vus: 1, iterations: 1}\n      open: {rate: 1/s, duration: 1s}\n" + okSteps,
			pos:  "6:7",
			msg:  `executor has both closed and open; keep one`,
		},
		{
			name: "executor without kind",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor: {}\n" + okSteps,
			pos:  "4:5",
			msg:  `executor has no kind; add one of closed, open or batches`,
		},
		{
			name: "unbounded closed",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor:\n      closed: {vus: 5}\n" + okSteps,
			pos:  "5:7",
			msg:  `closed executor is unbounded; set iterations (per VU) or duration`,
		},
		{
			name: "unbounded open",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor:\n      open: {rate: 10/s}\n" + okSteps,
			pos:  "5:7",
			msg:  `open executor is unbounded; add a duration next to rate`,
		},
		{
			name: "open with zero-length stages",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor:\n      open:\n        stages: [{target: 1/s, duration: 0s}]\n" + okSteps,
			pos:  "6:9",
			msg:  `stages last 0s in total`,
		},
		{
			name: "unbounded batches",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor:\n      batches: {size: 50, pause: 10s}\n" + okSteps,
			pos:  "5:7",
			msg:  `batches executor is unbounded; add total`,
		},
		{
			name: "bad rate unit",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor: {open: {rate: 10/fortnight, duration: 1m}}\n" + okSteps,
			pos:  "4:29",
			msg:  `bad time unit "fortnight" in rate "10/fortnight"`,
		},
		{
			name: "rate without unit",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor: {open: {rate: 100, duration: 1m}}\n" + okSteps,
			pos:  "4:29",
			msg:  `rate "100" has no time unit; write 100/s`,
		},
		{
			name: "zero rate",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor: {open: {rate: 0/s, duration: 1m}}\n" + okSteps,
			pos:  "4:29",
			msg:  `rate must be more than 0`,
		},
		{
			name: "duration without unit",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor: {closed: {vus: 1, duration: 300}}\n" + okSteps,
			pos:  "4:43",
			msg:  `duration "300" has no unit; write a duration such as 300s`,
		},
		{
			name: "bad duration",
			yaml: "target: http://x\ngrace: 2d\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n" + okSteps,
			pos:  "2:8",
			msg:  `grace: bad duration "2d"; days are not a unit`,
		},
		{
			name: "negative vus",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor: {closed: {vus: -3, iterations: 1}}\n" + okSteps,
			pos:  "4:30",
			msg:  `vus must be at least 1, got -3`,
		},
		{
			name: "missing env var",
			yaml: "target: http://x\nauth:\n  bearer:\n    token: ${API_TOKEN}\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n" + okSteps,
			pos:  "4:12",
			msg:  `environment variable API_TOKEN is not set; set it in the environment or use ${API_TOKEN:-default}`,
		},
		{
			name: "missing env var inside a value",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n    steps:\n      - request:\n          path: /api/${VERSION}/users\n",
			pos:  "7:22",
			msg:  `environment variable VERSION is not set`,
		},
		{
			name: "missing env var in a quoted value",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n    steps:\n      - request: {path: \"/a\\tb/${ONE:-1}/${TWO}\"}\n",
			pos:  "6:42",
			msg:  `environment variable TWO is not set`,
		},
		{
			name: "missing env var in a block scalar",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n    steps:\n      - request:\n          path: /\n          body: |\n            line one\n            hello ${WHO}\n",
			pos:  "10:19",
			msg:  `environment variable WHO is not set`,
		},
		{
			name: "unquoted env reference in a flow mapping",
			yaml: "target: http://x\nauth:\n  bearer: {token: ${API_TOKEN}}\nscenarios: {}\n",
			pos:  "3:19",
			msg:  `inside {...} or [...] a ${VAR} must be quoted, e.g. "${VAR}"`,
		},
		{
			name: "bad env reference",
			yaml: "target: http://x\nname: ${NAME-x}\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n" + okSteps,
			pos:  "2:7",
			msg:  `bad environment reference "${NAME-x}"; write ${NAME:-default} for a default`,
		},
		{
			name: "unterminated env reference",
			yaml: "target: http://x\nname: a${NAME\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n" + okSteps,
			pos:  "2:8",
			msg:  `unterminated "${"`,
		},
		{
			name: "duplicate step name",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n    steps:\n      - name: get\n        request: {path: /a}\n      - name: get\n        request: {path: /b}\n",
			pos:  "8:15",
			msg:  `duplicate step name "get" in scenario "s" (first at line 6)`,
		},
		{
			name: "json and body both",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n    steps:\n      - request:\n          path: /\n          json: {a: 1}\n          body: raw\n",
			pos:  "9:11",
			msg:  `request has both json and body; keep one`,
		},
		{
			name: "json NaN",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n    steps:\n      - request: {path: /, json: {x: [1, .nan]}}\n",
			pos:  "6:42",
			msg:  `json value ".nan" is not a finite number`,
		},
		{
			name: "json anchor containing itself",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n    steps:\n      - request: {path: /, json: &a [*a]}\n",
			pos:  "6:34",
			msg:  `nests deeper than 100 levels`,
		},
		{
			name: "bad jitter",
			yaml: "target: http://x\nretry:\n  backoff: {base: 1s, jitter: fill}\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n" + okSteps,
			pos:  "3:31",
			msg:  `unknown jitter "fill"; did you mean "full"? use full, equal or none`,
		},
		{
			name: "unknown retry condition",
			yaml: "target: http://x\nretry:\n  on: [429, timout]\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n" + okSteps,
			pos:  "3:13",
			msg:  `unknown retry condition "timout"; did you mean "timeout"?`,
		},
		{
			name: "retry scalar other than off",
			yaml: "target: http://x\nretry: on\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n" + okSteps,
			pos:  "2:8",
			msg:  `retry must be off or a mapping, got "on"`,
		},
		{
			name: "budget as a bare number",
			yaml: "target: http://x\nretry: {budget: 20}\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n" + okSteps,
			pos:  "2:17",
			msg:  `budget "20" is not a fraction between 0 and 1; write a percentage such as 20%`,
		},
		{
			name: "secret and secret file both",
			yaml: "target: http://x\nauth:\n  oauth2:\n    token_url: /oauth/token\n    client_id: abc\n    client_secret: ${S}\n    client_secret_file: secret.txt\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n" + okSteps,
			env:  map[string]string{"S": "x"},
			pos:  "7:5",
			msg:  `both client_secret and client_secret_file in oauth2 auth; keep one`,
		},
		{
			name: "secret written into the plan",
			yaml: "target: http://x\nauth:\n  bearer: {token: abc123}\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n" + okSteps,
			pos:  "3:19",
			msg:  `token is written into the plan; secrets come from the environment or a file`,
		},
		{
			name: "missing secret file",
			yaml: "target: http://x\nauth:\n  bearer: {token_file: no-such-file.txt}\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n" + okSteps,
			pos:  "3:24",
			msg:  `cannot read token_file "no-such-file.txt": no such file or directory; check the path (a relative one starts from testdata)`,
		},
		{
			name: "two auth kinds",
			yaml: "target: http://x\nauth:\n  bearer: {token: \"${T}\"}\n  basic: {username: u, password: \"${T}\"}\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n" + okSteps,
			env:  map[string]string{"T": "x"},
			pos:  "4:3",
			msg:  `auth has both bearer and basic; keep one`,
		},
		{
			name: "relative token_url without slash",
			yaml: "target: http://x\nauth:\n  oauth2: {token_url: oauth/token, client_id: a, client_secret: \"${S}\"}\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n" + okSteps,
			env:  map[string]string{"S": "x"},
			pos:  "3:23",
			msg:  `write /oauth/token or an absolute URL`,
		},
		{
			name: "unknown step kind",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n    steps:\n      - sleep: 2s\n",
			pos:  "6:9",
			msg:  `unknown step kind "sleep" in step 1 of scenario "s"; known kinds: request, poll, wait_event, think, group, repeat, choose (a step also takes name, retry, extract, when, once, weight)`,
		},
		{
			name: "misspelt step kind",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n    steps:\n      - reqest: {path: /}\n",
			pos:  "6:9",
			msg:  `did you mean "request"?`,
		},
		{
			name: "step without kind",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n    steps:\n      - name: lonely\n",
			pos:  "6:9",
			msg:  `step 1 of scenario "s" has no kind; add one of: request, poll, wait_event, think, group`,
		},
		{
			name: "request without path",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n    steps:\n      - request: {method: GET}\n",
			pos:  "6:9",
			msg:  `request needs path`,
		},
		{
			name: "bad expected status",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n    steps:\n      - request: {path: /, expect: [200, 700]}\n",
			pos:  "6:42",
			msg:  `an expected status must be an HTTP status from 100 to 599, got 700`,
		},
		{
			name: "empty expect",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n    steps:\n      - request: {path: /, expect: []}\n",
			pos:  "6:36",
			msg:  `expect is empty`,
		},
		{
			name: "duplicate key",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n" + okSteps + "target: http://y\n",
			pos:  "6:1",
			msg:  `duplicate key "target" in the plan (first at line 1); remove one`,
		},
		{
			name: "header names differing in case",
			yaml: "target: http://x\ndefaults:\n  headers: {Accept: a, accept: b}\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n" + okSteps,
			pos:  "3:24",
			msg:  `header Accept given twice in defaults headers (first at line 3)`,
		},
		{
			name: "response header bytes too small",
			yaml: "target: http://x\ndefaults:\n  response_header_bytes: 100\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n" + okSteps,
			pos:  "3:26",
			msg:  `response_header_bytes`,
		},
		{
			name: "response header bytes too large",
			yaml: "target: http://x\ndefaults:\n  response_header_bytes: 9999999\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n" + okSteps,
			pos:  "3:26",
			msg:  `response_header_bytes 9999999 is over 1048576`,
		},
		{
			name: "bad scenario name",
			yaml: "target: http://x\nscenarios:\n  bot burst:\n    executor: {closed: {vus: 1, iterations: 1}}\n" + okSteps,
			pos:  "3:3",
			msg:  `scenario name "bot burst" may hold only letters, digits, _, . and -`,
		},
		{
			name: "no scenarios",
			yaml: "target: http://x\nscenarios: {}\n",
			pos:  "2:1",
			msg:  `scenarios is empty; add at least one scenario`,
		},
		{
			name: "YAML syntax error",
			yaml: "target: http://x\nscenarios:\n  s: [\n",
			pos:  "4:",
			msg:  `invalid YAML: did not find expected node content`,
		},
		{
			name: "empty plan",
			yaml: "# nothing here\n",
			pos:  "1:1",
			msg:  `the plan is empty`,
		},
		{
			name: "two documents",
			yaml: "target: http://x\n---\ntarget: http://y\n",
			pos:  "2:1",
			msg:  `a second YAML document`,
		},
		{
			name: "plan is a list",
			yaml: "- target: http://x\n",
			pos:  "1:1",
			msg:  `the plan must be a mapping of keys, got a list`,
		},
		{
			name: "null value",
			yaml: "target:\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n" + okSteps,
			pos:  "1:8",
			msg:  `target has no value`,
		},
		{
			name: "max_vus below batch size",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor: {batches: {size: 50, pause: 1s, total: 100, max_vus: 10}}\n" + okSteps,
			pos:  "4:68",
			msg:  `max_vus 10 is smaller than size 50`,
		},
		{
			name: "granularity too coarse",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor: {open: {rate: 10/s, duration: 1s, granularity: 50ms}}\n" + okSteps,
			pos:  "4:62",
			msg:  `granularity "50ms" is coarser than 10ms: arrivals would go out up to that late; use at most 10ms (default 1ms), or 0`,
		},
		{
			name: "ramp_up longer than duration",
			yaml: "target: http://x\nscenarios:\n  s:\n    executor: {closed: {vus: 1, ramp_up: 2m, duration: 1m}}\n" + okSteps,
			pos:  "4:42",
			msg:  `ramp_up 2m0s is longer than duration 1m0s`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := Parse("testdata/plan.yaml", []byte(tt.yaml), env(tt.env))
			if err == nil {
				t.Fatalf("Parse succeeded, want an error at %s containing %q", tt.pos, tt.msg)
			}
			if p != nil {
				t.Errorf("Parse returned a plan with its error")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("errors.Is(err, ErrInvalid) = false")
			}
			var first *Error
			if !errors.As(err, &first) {
				t.Fatalf("errors.As found no *Error in %v", err)
			}
			want := "testdata/plan.yaml:" + tt.pos
			for _, e := range planErrors(t, err) {
				if !strings.HasPrefix(e.Error(), want) {
					continue
				}
				if strings.Contains(e.Msg, tt.msg) {
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

func TestParseCollectsAllProblems(t *testing.T) {
	t.Parallel()
	src := `target: http://x
grace: soon
scenarios:
  a:
    executor: {closed: {vus: 0, iterations: 1}}
    steps: [{request: {path: /}}]
  b:
    executor: {open: {rate: 5/s}}
    steps: [{request: {path: /, methd: GET}}]
`
	_, err := Parse("p.yaml", []byte(src), nil)
	got := planErrors(t, err)
	var where []string
	for _, e := range got {
		where = append(where, e.Pos.String())
	}
	want := []string{"2:8", "5:30", "8:16", "9:33"}
	if strings.Join(where, " ") != strings.Join(want, " ") {
		t.Errorf("problems at %v, want %v:\n%v", where, want, err)
	}
	if lines := strings.Count(err.Error(), "\n") + 1; lines != len(want) {
		t.Errorf("error has %d lines, want one per problem:\n%v", lines, err)
	}
}

func TestParseCapsProblems(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("target: http://x\nscenarios:\n")
	for i := range 50 {
		b.WriteString("  s" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + ": {executor: {closed: {vus: 0, iterations: 1}}, steps: [{request: {path: /}}]}\n")
	}
	_, err := Parse("", []byte(b.String()), nil)
	got := planErrors(t, err)
	if len(got) != maxErrors+1 || !strings.Contains(got[maxErrors].Msg, "20 more problems not shown") {
		t.Errorf("got %d problems, last %q; want %d and a note", len(got), got[len(got)-1].Msg, maxErrors+1)
	}
}

func TestErrorFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		e    Error
		want string
	}{
		{Error{"p.yaml", Pos{7, 5}, "bad"}, "p.yaml:7:5: bad"},
		{Error{"p.yaml", Pos{7, 0}, "bad"}, "p.yaml:7: bad"},
		{Error{"p.yaml", Pos{}, "bad"}, "p.yaml: bad"},
		{Error{"", Pos{7, 5}, "bad"}, "7:5: bad"},
		{Error{"", Pos{}, "bad"}, "bad"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestSuggest(t *testing.T) {
	t.Parallel()
	known := []string{"vus", "ramp_up", "iterations", "duration", "max_vus"}
	tests := map[string]string{
		"vu": "vus", "VUS": "vus", "rampUp": "ramp_up", "ramp-up": "ramp_up", "iteration": "iterations",
		"duraton": "duration", "x": "", "colour": "", "maxvus": "max_vus",
	}
	for got, want := range tests {
		if s := suggest(got, known); s != want {
			t.Errorf("suggest(%q) = %q, want %q", got, s, want)
		}
	}
}
