package config

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/floodgate-dev/floodgate/internal/emulator/catalog"
)

func TestParseErrorsHavePositions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, yaml string
		want       []string // each a substring of one joined error line
	}{
		{"unknown key with suggestion", "time_scale: 1\nlimits:\n  token:\n    requsts: 5\n",
			[]string{`emu.yaml:4:5: limits.token.requsts: unknown key (fix: did you mean "requests"? known keys here: requests, window)`}},
		{"unknown top-level key", "timescale: 0.5\n",
			[]string{`emu.yaml:1:1: timescale: unknown key (fix: did you mean "time_scale"?`}},
		{"bad duration", "limits:\n  token: {requests: 5, window: 60}\n",
			[]string{`emu.yaml:2:32: limits.token.window: "60" is not a duration (fix: write it with a unit, like "60s" or "250ms")`}},
		{"bad int", "caps:\n  - family: tokens\n    max_in_flight: lots\n",
			[]string{`emu.yaml:3:20: caps[0].max_in_flight: "lots" is not an integer`}},
		{"not a list", "families: conversations\n", []string{`emu.yaml:1:11: families: want a list`}},
		{"duplicate key", "seed: 1\nseed: 2\n", []string{`emu.yaml:2:1: seed: duplicate key`}},
		{"invalid values", "time_scale: -1\ncaps:\n  - family: nope\n    max_in_flight: 0\n    status: 200\n", []string{
			`emu.yaml:1:1: time_scale: time_scale must be > 0, got -1`,
			`emu.yaml:3:5: caps[0].family: unknown family "nope" (fix: declare it under families or use one of: oauth, tokens, conversations, recordings, analytics, notifications, unknown; catalogued routes' families are their path's first segment after /api/v2 (users, routing, …))`,
			`emu.yaml:4:5: caps[0].max_in_flight: must be > 0`,
			`emu.yaml:5:5: caps[0].status: status 200 is not an error status`,
		}},
		{"client problems", "orgs:\n  - id: o1\n    clients:\n      - id: c1\n        permissions: [\"conversation:*\"]\n        token_lifetime: 72h\n", []string{
			`emu.yaml:4:9: orgs[0].clients[0].secret: client secret is required`,
			`emu.yaml:5:23: orgs[0].clients[0].permissions[0]: "conversation:*": want three parts separated by ':'`,
			`emu.yaml:6:9: orgs[0].clients[0].token_lifetime: token_lifetime 72h0m0s is outside (0, 48h]`,
		}},
		{"route rule problems", "unknown_entities: maybe\ncatalog: {max_entities: -1}\nroutes:\n  - family: users\n    route: \"GET /api/v2/users/{userId}\"\n    status: 200\n  - family: users\n  - route: \"GET /api/v2/users/{userId}\"\n    status: 99\n    body: \"{nope\"\n    unknown_entities: never\n  - family: nope\n    unknown_entities: not_found\n", []string{
			`emu.yaml:1:1: unknown_entities: unknown value "maybe" (fix: use synthesize or not_found)`,
			`emu.yaml:4:5: routes[0]: set exactly one of family and route`,
			`emu.yaml:7:5: routes[1]: rule does nothing`,
			`emu.yaml:2:11: catalog.max_entities: must be > 0`,
			`emu.yaml:9:5: routes[2].status: status 99 is not an HTTP status`,
			`emu.yaml:10:5: routes[2].body: body is not JSON`,
			`emu.yaml:11:5: routes[2].unknown_entities: unknown value "never"`,
			`emu.yaml:12:5: routes[3].family: unknown family "nope"`,
		}},
		{"fault problems", "faults:\n  - family: tokens\n    route: \"GET /x\"\n  - route: \"GET /api/v2/tokens/me\"\n    latency: {dist: lognormal, median: 100ms, p99: 50ms}\n    errors:\n      - {status: 503, probability: 0.7}\n      - {status: 500, probability: 0.6}\n", []string{
			`emu.yaml:2:5: faults[0]: set exactly one of family and route`,
			`emu.yaml:5:47: faults[1].latency.p99: lognormal needs 0 < median <= p99`,
			`emu.yaml:6:5: faults[1].errors: probabilities add up to 1.3 > 1`,
		}},
		{"seed problems", "catalog:\n  max_entities: 100\n  seed: {users: 30, userz: 3, routing/queues: -1, presencedefinitions: 80}\n", []string{
			`emu.yaml:3:21: catalog.seed.userz: "userz" is not a catalogued collection entities can be created in and listed (fix: did you mean "users"?`,
			`emu.yaml:3:31: catalog.seed.routing/queues: must be >= 0, got -1`,
		}},
		{"seed not a count", "catalog:\n  seed: {groups: many}\n", []string{`emu.yaml:2:18: catalog.seed.groups: "many" is not an integer`}},
		{"seed over the store", "catalog:\n  max_entities: 100\n  seed: {users: 30, presencedefinitions: 80}\n", []string{
			`emu.yaml:3:3: catalog.seed: 110 seeded entities per org × 1 orgs exceed catalog.max_entities (100) (fix: seed fewer or raise catalog.max_entities)`,
		}},
		{"seed not a mapping", "catalog:\n  seed: [users]\n", []string{`emu.yaml:2:9: catalog.seed: want a mapping of keys to values`}},
		{"syntax error", "limits: [\n", []string{`emu.yaml: `}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("emu.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatal("no error")
			}
			lines := strings.Split(err.Error(), "\n")
			for _, w := range tc.want {
				found := false
				for _, l := range lines {
					found = found || strings.Contains(l, w)
				}
				if !found {
					t.Errorf("no error line contains\n  %s\ngot:\n  %s", w, strings.Join(lines, "\n  "))
				}
			}
		})
	}
}

func TestParseEmptyIsDefault(t *testing.T) {
	t.Parallel()
	c, err := Parse("empty.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	d := Default()
	if diff := cmp.Diff(d.Live, c.Live); diff != "" || c.TimeScale != 1 || len(c.Orgs) != 1 {
		t.Errorf("empty config differs from Default (-want +got):\n%s", diff)
	}
	if !maps.Equal(c.Catalog.Seed, catalog.DefaultSeed) || c.Catalog.Seed["users"] <= 10 {
		t.Errorf("catalog.seed = %v, want the default %v", c.Catalog.Seed, catalog.DefaultSeed)
	}
	// An empty seed seeds nothing; one collection replaces the default.
	for src, want := range map[string]map[string]int{
		"catalog: {seed: {}}":                  {},
		"catalog: {seed: {/api/v2/groups: 4}}": {"/api/v2/groups": 4},
	} {
		c, err := Parse("seed.yaml", []byte(src))
		if err != nil || !maps.Equal(c.Catalog.Seed, want) {
			t.Errorf("%s: seed %v, %v; want %v", src, c.Catalog.Seed, err, want)
		}
	}
}

// TestExamples loads every example config; default.yaml must equal the
// built-in profile.
func TestExamples(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("../../../examples/emulator/*.yaml")
	if len(files) < 3 {
		t.Fatalf("found %d example configs", len(files))
	}
	for _, f := range files {
		c, err := Load(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if filepath.Base(f) == "default.yaml" {
			d := Default()
			c.file, c.pos = "", nil
			if diff := cmp.Diff(d, c, cmp.AllowUnexported(Config{}), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("default.yaml differs from Default() (-want +got):\n%s", diff)
			}
		}
	}
}

func TestSecretFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	yaml := "orgs:\n  - id: o\n    clients:\n      - id: c\n        secret_file: secret\n        permissions: [\"*:*:*\"]\n"
	path := filepath.Join(dir, "emu.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if cl := c.Orgs[0].Clients[0]; cl.Secret != "s3cret" || cl.TokenLifetime != Duration(24*time.Hour) {
		t.Errorf("client = %+v", cl)
	}
	_, err = Parse(path, []byte(strings.Replace(yaml, "secret_file: secret", "secret_file: missing", 1)))
	if err == nil || !strings.Contains(err.Error(), "emu.yaml:5:9: orgs[0].clients[0].secret_file:") {
		t.Errorf("missing secret file: %v", err)
	}
}

func TestMatchRoute(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		pattern, method, template string
		want                      bool
	}{
		{"/api/v2/conversations/*", "GET", "/api/v2/conversations/{conversationId}", true},
		{"/api/v2/conversations/*", "POST", "/api/v2/conversations/messages/{integrationId}/inbound/open/message", true},
		{"/api/v2/conversations/*", "GET", "/api/v2/tokens/me", false},
		{"POST /api/v2/conversations/*", "GET", "/api/v2/conversations/{conversationId}", false},
		{"GET /api/v2/conversations/{id}", "GET", "/api/v2/conversations/{conversationId}", true},
		{"GET /api/v2/conversations/{id}", "GET", "/api/v2/conversations/calls/{conversationId}", false},
		{"/api/v2/conversations/messages*", "POST", "/api/v2/conversations/messages", true},
		{"/api/v2/conversations/messages/agentless", "POST", "/api/v2/conversations/messages/agentless", true},
	} {
		if got := MatchRoute(tc.pattern, tc.method, tc.template); got != tc.want {
			t.Errorf("MatchRoute(%q, %s %s) = %v", tc.pattern, tc.method, tc.template, got)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "time_scale: 0.5\n", "limits: {token: {requests: 1, window: 1s}}\n", "faults: [{family: tokens, latency: {dist: fixed, value: 1ms}}]\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.yaml", data)
		if err == nil {
			if err := c.Validate(); err != nil {
				t.Errorf("Parse accepted a config Validate rejects: %v", err)
			}
		}
	})
}
