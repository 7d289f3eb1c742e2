package plan

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

const (
	envSecret     = "env-secret-Hq2"
	fileSecret    = "file-secret-Zq7"  // testdata/secrets/client_secret.txt
	tokenSecret   = "tok-from-file-X9" // testdata/secrets/token.txt
	literalSecret = "hunter2-literal"
)

var secrets = []string{envSecret, fileSecret, tokenSecret, literalSecret}

// assertNoSecret fails if s holds any secret value: the grep-style check.
func assertNoSecret(t *testing.T, what, s string) {
	t.Helper()
	for _, sec := range secrets {
		if strings.Contains(s, sec) {
			t.Errorf("%s reveals secret %q:\n%s", what, sec, s)
		}
	}
}

func TestSecretsNeverPrint(t *testing.T) {
	t.Parallel()
	p, err := Load("testdata/full.yaml", env(map[string]string{"GC_CLIENT_ID": "cid"}))
	if err != nil {
		t.Fatal(err)
	}
	src := "target: http://x\nauth: {basic: {username: u, password: \"${PW}\"}}\nscenarios: {s: {executor: {closed: {vus: 1, iterations: 1}}, steps: [{request: {path: /}}]}}\n"
	q, err := Parse("", []byte(src), env(map[string]string{"PW": envSecret}))
	if err != nil {
		t.Fatal(err)
	}
	// The values are there, for the client to send.
	if p.Auth.OAuth2.ClientSecret.Reveal() != fileSecret || p.Scenarios[1].Auth.Bearer.Token.Reveal() != tokenSecret ||
		q.Auth.Basic.Password.Reveal() != envSecret {
		t.Fatal("secrets not read")
	}
	values := []any{p, *p, *p.Auth, *p.Auth.OAuth2, p.Auth.OAuth2.ClientSecret, *p.Scenarios[1].Auth.Bearer,
		q, *q.Auth, *q.Auth.Basic, []*Auth{p.Auth, q.Auth}}
	for i, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
			assertNoSecret(t, fmt.Sprintf("Sprintf(%q) of value %d", verb, i), fmt.Sprintf(verb, v))
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		assertNoSecret(t, fmt.Sprintf("json.Marshal of value %d", i), string(b))
	}
}

func TestSecretsNeverInErrors(t *testing.T) {
	t.Parallel()
	const tail = "scenarios: {s: {executor: {closed: {vus: 1, iterations: 1}}, steps: [{request: {path: /}}]}}\n"
	getenv := env(map[string]string{"TOKEN": envSecret, "NL": "a\nb" + envSecret})
	tests := []string{
		"target: http://x\nauth: {bearer: {token: \"${TOKEN}\", token_file: secrets/token.txt}}\n" + tail,
		"target: http://x\nauth: {oauth2: {token_url: /t, client_id: i, client_secret: " + literalSecret + "}}\n" + tail,
		"target: http://x\nauth: {basic: {username: u, password: [" + literalSecret + "]}}\n" + tail,
		"target: http://x\nauth: {basic: {username: u, password: {" + literalSecret + ": 1}}}\n" + tail,
		"target: http://x\nauth: {oauth2: {token_url: \"http://u:" + literalSecret + "@h/t\", client_id: i, client_secret: \"${TOKEN}\"}}\n" + tail,
		"target: http://user:" + literalSecret + "@host\n" + tail,
		"target: http://x\ngrace: ${TOKEN}\n" + tail,
		"target: http://x\nretry: ${TOKEN}\n" + tail,
		"target: http://x\nretry: {on: [\"${TOKEN}\"], backoff: {jitter: \"${TOKEN}\"}}\n" + tail,
		"target: http://x\ndefaults: {headers: {X-Token: \"${NL}\"}}\n" + tail,
		"target: http://x\nauth: {bearer: {token_file: \"${TOKEN}\"}}\n" + tail,
		"target: http://x\nscenarios: {s: {executor: {closed: {vus: \"${TOKEN}\", iterations: 1}}, steps: [{request: {method: \"${TOKEN} x\", path: \"${TOKEN}\", json: {a: \"${TOKEN}\", b: .inf}}}]}}\n",
		"target: http://x\nscenarios: {s: {executor: {open: {rate: \"${TOKEN}\", duration: \"${TOKEN}\"}}, steps: [{name: \"${TOKEN}\", request: {path: /}}, {name: \"${TOKEN}\", request: {path: /}}]}}\n",
	}
	for i, src := range tests {
		_, err := Parse("testdata/p.yaml", []byte(src), getenv)
		if err == nil {
			t.Errorf("case %d: Parse succeeded", i)
			continue
		}
		assertNoSecret(t, fmt.Sprintf("case %d error", i), err.Error())
		assertNoSecret(t, fmt.Sprintf("case %d error %%+v", i), fmt.Sprintf("%+v", err))
	}
}
