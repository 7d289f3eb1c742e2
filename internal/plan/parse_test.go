package plan

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/floodgate-dev/floodgate/internal/scenario"
)

// cmpSecrets compares Secrets by value, which only tests may do.
var cmpSecrets = cmp.Options{
	cmp.Comparer(func(a, b Secret) bool { return a.Reveal() == b.Reveal() }),
	// A scope is compared by the variables it names.
	cmp.Comparer(func(a, b *scenario.Scope) bool {
		return a == nil && b == nil || a != nil && b != nil && slices.Equal(a.Names(), b.Names())
	}),
}

func ptr[T any](v T) *T { return &v }

func TestParseFull(t *testing.T) {
	t.Parallel()
	p, err := Load("testdata/full.yaml", env(map[string]string{"GC_CLIENT_ID": "cid", "COUNT": "7"}))
	if err != nil {
		t.Fatal(err)
	}
	want := &Plan{
		File:   "testdata/full.yaml",
		Name:   "bot-burst",
		Target: "http://127.0.0.1:8080",
		Defaults: Defaults{
			Headers: map[string]string{"Accept": "application/json"},
			Timeout: 20 * time.Second, ResponseHeaderBytes: DefaultResponseHeaderBytes,
		},
		Auth: &Auth{OAuth2: &OAuth2{
			TokenURL:     "http://127.0.0.1:8080/oauth/token",
			ClientID:     "cid",
			ClientSecret: NewSecret("file-secret-Zq7"),
			Scopes:       []string{"conversations", "analytics:readonly"},
		}},
		Retry: &Retry{
			Pos:             Pos{15, 3},
			On:              []int{429, 502, 503, 504},
			OnErrors:        []string{"connect", "reset", "timeout", "tls"},
			HonorRetryAfter: ptr(true),
			MaxWait:         time.Minute,
			Backoff:         &Backoff{Base: 100 * time.Millisecond, Max: 10 * time.Second, Multiplier: 2, Jitter: "full"},
			MaxAttempts:     5,
			MaxElapsed:      2 * time.Minute,
			Budget:          &Budget{Ratio: 0.2, Window: 10 * time.Second, MinRetries: 5},
			NonIdempotent:   ptr(false),
			Gate:            ptr(true),
			LimitKey:        "conversations",
		},
		Grace:       45 * time.Second,
		Unreachable: DefaultUnreachable,
		Scenarios: []*Scenario{
			{
				Name:     "bot_burst",
				Pos:      Pos{26, 3},
				Executor: Executor{Closed: &Closed{VUs: 100, RampUp: 10 * time.Second, Iterations: 50, Duration: 5 * time.Minute}},
				Retry:    &Retry{Pos: Pos{30, 12}, Off: true},
				Scope:    scenario.NewScope(),
				Headers:  map[string]string{"X-Scenario": "burst"},
				Steps: []*Step{
					{
						Name: "create",
						Path: "create",
						Pos:  Pos{32, 9},
						Request: &Request{
							Method:  "POST",
							Path:    "/api/v2/conversations/messages/abc/inbound/open/message",
							Headers: map[string]string{"X-Foo": "bar", "Content-Type": "application/json"},
							Body:    []byte(`{"channel":{"from":{"id":"bot-1","idType":"Opaque"}},"text":"hi <there> & \"you\"","count":7,"ok":true,"none":null}`),
							Expect:  []int{200, 202},
						},
						Retry: &Retry{Pos: Pos{45, 11}, On: []int{503}, OnErrors: []string{}},
					},
					{Name: "GET /api/v2/conversations", Path: "GET /api/v2/conversations", Pos: Pos{46, 9}, Request: &Request{Method: "GET", Path: "/api/v2/conversations"}},
					{Name: "GET /api/v2/conversations #2", Path: "GET /api/v2/conversations #2", Pos: Pos{47, 9}, Request: &Request{Method: "GET", Path: "/api/v2/conversations"}},
				},
			},
			{
				Name:     "bearer_open",
				Pos:      Pos{48, 3},
				Executor: Executor{Open: &Open{Rate: Rate{200, time.Second}, Duration: time.Minute, MaxVUs: 500, Granularity: time.Millisecond}},
				Auth:     &Auth{Bearer: &Bearer{Token: NewSecret("tok-from-file-X9")}},
				Scope:    scenario.NewScope(),
				Steps: []*Step{{
					Name: "PUT /api/v2/things",
					Path: "PUT /api/v2/things",
					Pos:  Pos{54, 9},
					Request: &Request{Method: "PUT", Path: "/api/v2/things", Body: []byte("raw text"),
						Headers: map[string]string{"Content-Type": "text/plain"}},
				}},
			},
		},
	}
	if diff := cmp.Diff(want, p, cmpSecrets); diff != "" {
		t.Errorf("plan mismatch (-want +got):\n%s", diff)
	}
	if !json.Valid(p.Scenarios[0].Steps[0].Request.Body) {
		t.Errorf("json body is not valid JSON")
	}
}

func TestParseExecutorsAndDefaults(t *testing.T) {
	t.Parallel()
	const head = "target: http://localhost:8080\nscenarios:\n  s:\n    steps: [{request: {path: /}}]\n    executor: "
	tests := []struct {
		name     string
		executor string
		want     Executor
	}{
		{"closed by iterations", "{closed: {vus: 3, iterations: 2}}", Executor{Closed: &Closed{VUs: 3, Iterations: 2}}},
		{"closed by duration", "{closed: {vus: 3, ramp_up: 0, duration: 1m30s}}", Executor{Closed: &Closed{VUs: 3, Duration: 90 * time.Second}}},
		{"open rate", "{open: {rate: 2.5/s, duration: 1m}}", Executor{Open: &Open{Rate: Rate{2.5, time.Second}, Duration: time.Minute, MaxVUs: 1000, Granularity: time.Millisecond}}},
		{"open per minute", "{open: {rate: 6000/m, duration: 1h}}", Executor{Open: &Open{Rate: Rate{6000, time.Minute}, Duration: time.Hour, MaxVUs: 1000, Granularity: time.Millisecond}}},
		{"open per duration", "{open: {rate: 10/100ms, duration: 1s, max_vus: 5}}", Executor{Open: &Open{Rate: Rate{10, 100 * time.Millisecond}, Duration: time.Second, MaxVUs: 5, Granularity: time.Millisecond}}},
		{"open exact sends", "{open: {rate: 10/s, duration: 1s, granularity: 0}}", Executor{Open: &Open{Rate: Rate{10, time.Second}, Duration: time.Second, MaxVUs: 1000}}},
		{"open granularity", "{open: {rate: 10/s, duration: 1s, granularity: 250us}}", Executor{Open: &Open{Rate: Rate{10, time.Second}, Duration: time.Second, MaxVUs: 1000, Granularity: 250 * time.Microsecond}}},
		{"open stages", "{open: {start_rate: 1/h, stages: [{target: 100/s, duration: 30s}, {target: 0/s, duration: 10s}]}}",
			Executor{Open: &Open{StartRate: Rate{1, time.Hour}, MaxVUs: 1000, Granularity: time.Millisecond, Stages: []Stage{
				{Pos: Pos{5, 49}, Target: Rate{100, time.Second}, Duration: 30 * time.Second},
				{Pos: Pos{5, 81}, Target: Rate{0, time.Second}, Duration: 10 * time.Second},
			}}}},
		{"batches max_vus capped at total", "{batches: {size: 50, pause: 10s, total: 120}}", Executor{Batches: &Batches{Size: 50, Pause: 10 * time.Second, Total: 120, MaxVUs: 120}}},
		{"batches max_vus size*4", "{batches: {size: 50, pause: 0, total: 500}}", Executor{Batches: &Batches{Size: 50, Total: 500, MaxVUs: 200}}},
		{"batches explicit max_vus", "{batches: {size: 5, pause: 1s, total: 50, max_vus: 7}}", Executor{Batches: &Batches{Size: 5, Pause: time.Second, Total: 50, MaxVUs: 7}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := Parse("", []byte(head+tt.executor+"\n"), nil)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, p.Scenarios[0].Executor); diff != "" {
				t.Errorf("executor mismatch (-want +got):\n%s", diff)
			}
			// Defaults.
			if p.Name != "plan" || p.Grace != DefaultGrace || p.Defaults.Timeout != DefaultTimeout || p.Auth != nil || p.Retry != nil {
				t.Errorf("defaults not filled: %+v", p)
			}
			if r := p.Scenarios[0].Steps[0]; r.Name != "GET /" || r.Request.Method != "GET" || r.Request.Expect != nil {
				t.Errorf("step defaults not filled: %+v %+v", r, r.Request)
			}
		})
	}
}

func TestParseDefaultNames(t *testing.T) {
	t.Parallel()
	tests := []struct{ file, want string }{
		{"", "plan"},
		{"plan.yaml", "plan"},
		{"dir/bot-burst.yml", "bot-burst"},
		{"dir/.yaml", "plan"},
		{"noext", "noext"},
		{"a.b.yaml", "a.b"},
	}
	for _, tt := range tests {
		if got := defaultName(tt.file); got != tt.want {
			t.Errorf("defaultName(%q) = %q, want %q", tt.file, got, tt.want)
		}
	}
}

func TestParseStepNames(t *testing.T) {
	t.Parallel()
	src := `target: http://x
scenarios:
  s:
    executor: {closed: {vus: 1, iterations: 1}}
    steps:
      - request: {path: /a}
      - request: {path: /a}
      - name: "GET /a #3"
        request: {path: /b}
      - request: {path: /a}
      - request: {method: delete, path: /a}
`
	p, err := Parse("", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range p.Scenarios[0].Steps {
		got = append(got, s.Name)
	}
	want := []string{"GET /a", "GET /a #2", "GET /a #3", "GET /a #4", "DELETE /a"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("step names (-want +got):\n%s", diff)
	}
}

func TestParseRetryForms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		retry string
		want  *Retry
	}{
		{"off", &Retry{Pos: Pos{2, 8}, Off: true}},
		{"false", &Retry{Pos: Pos{2, 8}, Off: true}},
		{"{}", &Retry{Pos: Pos{2, 8}}},
		{"{budget: 20%}", &Retry{Pos: Pos{2, 8}, Budget: &Budget{Ratio: 0.2, MinRetries: 10}}},
		{"{budget: 0.5}", &Retry{Pos: Pos{2, 8}, Budget: &Budget{Ratio: 0.5, MinRetries: 10}}},
		{"{budget: {ratio: 10%, min_retries: 0}}", &Retry{Pos: Pos{2, 8}, Budget: &Budget{Ratio: 0.1}}},
		{"{on: [], gate: false}", &Retry{Pos: Pos{2, 8}, On: []int{}, OnErrors: []string{}, Gate: ptr(false)}},
		{"{backoff: {jitter: none, multiplier: 1.5}}", &Retry{Pos: Pos{2, 8}, Backoff: &Backoff{Jitter: "none", Multiplier: 1.5}}},
	}
	for _, tt := range tests {
		t.Run(tt.retry, func(t *testing.T) {
			t.Parallel()
			src := "target: http://x\nretry: " + tt.retry + "\nscenarios: {s: {executor: {closed: {vus: 1, iterations: 1}}, steps: [{request: {path: /}}]}}\n"
			p, err := Parse("", []byte(src), nil)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, p.Retry); diff != "" {
				t.Errorf("retry (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseAuthForms(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte("pw-from-file\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	getenv := env(map[string]string{"TOKEN": "tok", "SECRET": "sec"})
	tests := []struct {
		auth string
		want *Auth
	}{
		{`{bearer: {token: "${TOKEN}"}}`, &Auth{Bearer: &Bearer{Token: NewSecret("tok")}}},
		{`{basic: {username: "u", password_file: pw}}`, &Auth{Basic: &Basic{Username: "u", Password: NewSecret("pw-from-file")}}},
		{`{basic: {username: "u", password: "${UNSET:-dflt}"}}`, &Auth{Basic: &Basic{Username: "u", Password: NewSecret("dflt")}}},
		{`{oauth2: {token_url: "https://login.example.com/oauth/token", client_id: 42, client_secret: "${SECRET}"}}`,
			&Auth{OAuth2: &OAuth2{TokenURL: "https://login.example.com/oauth/token", ClientID: "42", ClientSecret: NewSecret("sec")}}},
		{`{oauth2: {token_url: /oauth/token, client_id: id, client_secret: "${SECRET}", scopes: []}}`,
			&Auth{OAuth2: &OAuth2{TokenURL: "https://h/base/oauth/token", ClientID: "id", ClientSecret: NewSecret("sec"), Scopes: []string{}}}},
	}
	for _, tt := range tests {
		t.Run(tt.auth, func(t *testing.T) {
			t.Parallel()
			src := "target: https://h/base/\nauth: " + tt.auth + "\nscenarios: {s: {executor: {closed: {vus: 1, iterations: 1}}, steps: [{request: {path: /}}]}}\n"
			p, err := Parse(filepath.Join(dir, "p.yaml"), []byte(src), getenv)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, p.Auth, cmpSecrets); diff != "" {
				t.Errorf("auth (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	t.Parallel()
	_, err := Load("testdata/does-not-exist.yaml")
	if !errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrInvalid) {
		t.Fatalf("Load = %v, want a not-exist error", err)
	}
}
