package plan

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds in testdata: %v", err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("target: http://x\nscenarios: {s: {executor: {closed: {vus: 1, iterations: 1}}, steps: [{request: {path: /, json: &a [*a]}}]}}\n"))
	f.Add([]byte("a: &a [*a, *a]\nb: &b [*a, *a]\nc: {<<: *b}\n"))
	getenv := env(map[string]string{"GC_CLIENT_ID": "id", "TOKEN": envSecret, "N": "5", "COUNT": "1e400"})
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("testdata/fuzz.yaml", data, getenv)
		if (p == nil) == (err == nil) {
			t.Fatalf("Parse returned plan %v and error %v; want exactly one", p, err)
		}
		if err != nil {
			for _, e := range planErrors(t, err) {
				if e.Msg == "" || e.File != "testdata/fuzz.yaml" {
					t.Fatalf("malformed problem %#v", e)
				}
			}
			if !bytes.Contains(data, []byte("TOKEN")) && strings.Contains(err.Error(), envSecret) {
				t.Fatalf("error reveals the secret: %v", err)
			}
			return
		}
		checkInvariants(t, p)
	})
}

// checkInvariants checks what the types' doc comments promise of a parsed plan.
func checkInvariants(t *testing.T, p *Plan) {
	t.Helper()
	if p.Name == "" || !strings.HasPrefix(p.Target, "http") || strings.HasSuffix(p.Target, "/") {
		t.Fatalf("bad name or target: %q %q", p.Name, p.Target)
	}
	if p.Grace < 0 || p.Defaults.Timeout <= 0 || len(p.Scenarios) == 0 {
		t.Fatalf("bad plan: %+v", p)
	}
	checkAuth(t, p.Auth)
	for _, sc := range p.Scenarios {
		checkAuth(t, sc.Auth)
		if !scenarioName.MatchString(sc.Name) || len(sc.Steps) == 0 {
			t.Fatalf("bad scenario %+v", sc)
		}
		switch e := sc.Executor; e.Kind() {
		case "closed":
			c := e.Closed
			if e.Open != nil || e.Batches != nil || c.VUs < 1 || c.Iterations <= 0 && c.Duration <= 0 || c.RampUp < 0 {
				t.Fatalf("bad closed executor %+v", c)
			}
		case "open":
			o := e.Open
			if e.Batches != nil || o.MaxVUs < 1 || o.TotalDuration() <= 0 || len(o.Stages) == 0 && o.Rate.PerSecond() <= 0 {
				t.Fatalf("bad open executor %+v", o)
			}
		case "batches":
			b := e.Batches
			if b.Size < 1 || b.Total < 1 || b.MaxVUs < 1 || b.Pause < 0 {
				t.Fatalf("bad batches executor %+v", b)
			}
		default:
			t.Fatalf("scenario %q has no executor", sc.Name)
		}
		checkSteps(t, sc.Steps)
		var paths []string
		sends := false
		WalkSteps(sc.Steps, func(s *Step) {
			if slices.Contains(paths, s.Path) {
				t.Fatalf("step path %q repeated", s.Path)
			}
			paths = append(paths, s.Path)
			sends = sends || s.Sends()
		})
		if !sends {
			t.Fatalf("scenario %q sends nothing", sc.Name)
		}
		if d := sc.Data; d != nil {
			if len(d.Rows) == 0 || len(d.Columns) != len(d.Slots) || !slices.Contains(scenarioModes, d.Mode) {
				t.Fatalf("bad data %+v", d)
			}
		}
	}
	for _, th := range p.Thresholds {
		if th.Text == "" || th.Op == "" || th.Pos.Line < 1 {
			t.Fatalf("bad threshold %+v", th)
		}
	}
}

var scenarioModes = []string{"sequential", "random", "unique"}

// checkSteps checks one list of steps: names, exactly one kind each, and
// what each kind promises.
func checkSteps(t *testing.T, steps []*Step) {
	t.Helper()
	var names []string
	for _, s := range steps {
		if s.Name == "" || slices.Contains(names, s.Name) || !strings.HasSuffix(s.Path, s.Name) {
			t.Fatalf("step name %q (path %q) empty or repeated", s.Name, s.Path)
		}
		names = append(names, s.Name)
		kinds := 0
		for _, set := range []bool{s.Request != nil, s.Poll != nil, s.WaitEvent != nil, s.Think != nil, s.Group != nil, s.Repeat != nil, s.Choose != nil} {
			if set {
				kinds++
			}
		}
		if kinds != 1 {
			t.Fatalf("step %q has %d kinds", s.Name, kinds)
		}
		checkRequest := func(r *Request) {
			if r == nil || r.Method == "" || r.Method != strings.ToUpper(r.Method) || r.Path == "" {
				t.Fatalf("bad request %+v", r)
			}
		}
		switch {
		case s.Request != nil:
			checkRequest(s.Request)
		case s.Poll != nil:
			checkRequest(&s.Poll.Request)
			if s.Poll.Until == nil || s.Poll.Every <= 0 || s.Poll.Timeout <= 0 {
				t.Fatalf("bad poll %+v", s.Poll)
			}
		case s.WaitEvent != nil:
			w := s.WaitEvent
			if w.Topic == "" || w.Timeout <= 0 || (w.Channel != ChannelVU && w.Channel != ChannelStep) {
				t.Fatalf("bad wait_event %+v", w)
			}
			if w.Trigger != nil {
				checkRequest(w.Trigger)
			}
		case s.Think != nil:
			if s.Think.Min <= 0 && s.Think.Max <= 0 || s.Think.Max < s.Think.Min {
				t.Fatalf("bad think %+v", s.Think)
			}
		case s.Group != nil:
			if len(s.Group.Steps) == 0 {
				t.Fatalf("empty group %q", s.Name)
			}
			checkSteps(t, s.Group.Steps)
		case s.Repeat != nil:
			r := s.Repeat
			ways := 0
			for _, set := range []bool{r.Count > 0, r.While != nil, r.Each != ""} {
				if set {
					ways++
				}
			}
			if ways != 1 || len(r.Steps) == 0 || r.Max < 1 || r.Each != "" && r.As == "" {
				t.Fatalf("bad repeat %+v", r)
			}
			checkSteps(t, r.Steps)
		case s.Choose != nil:
			if len(s.Choose.Steps) == 0 {
				t.Fatalf("empty choose %q", s.Name)
			}
			for _, ch := range s.Choose.Steps {
				if ch.Weight <= 0 {
					t.Fatalf("choose %q: step %q has weight %v", s.Name, ch.Name, ch.Weight)
				}
			}
			checkSteps(t, s.Choose.Steps)
		}
		if r := s.Request; r != nil && r.Timeout < 0 {
			t.Fatalf("bad request timeout %+v", r)
		}
	}
}

func checkAuth(t *testing.T, a *Auth) {
	t.Helper()
	if a == nil {
		return
	}
	switch {
	case a.OAuth2 != nil && a.Bearer == nil && a.Basic == nil:
		if a.OAuth2.ClientSecret.Reveal() == "" || a.OAuth2.TokenURL == "" {
			t.Fatalf("bad oauth2 %+v", a.OAuth2)
		}
	case a.Bearer != nil && a.OAuth2 == nil && a.Basic == nil:
		if a.Bearer.Token.Reveal() == "" {
			t.Fatal("empty bearer token")
		}
	case a.Basic != nil && a.OAuth2 == nil && a.Bearer == nil:
		if a.Basic.Password.Reveal() == "" {
			t.Fatal("empty basic password")
		}
	default:
		t.Fatalf("auth is not exactly one kind: %+v", a)
	}
}
