package suggest

import "testing"

func TestClosest(t *testing.T) {
	t.Parallel()
	known := []string{"vus", "ramp_up", "iterations", "duration"}
	for got, want := range map[string]string{
		"vu": "vus", "rampUp": "ramp_up", "ramp-up": "ramp_up", "iteration": "iterations",
		"duraton": "duration", "x": "", "banana": "", "VUS": "vus",
	} {
		if g := Closest(got, known); g != want {
			t.Errorf("Closest(%q) = %q, want %q", got, g, want)
		}
	}
}

func TestDistance(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"abc", "abc", 0}, {"kitten", "sitting", 3}, {"", "abc", 3}, {"flaw", "lawn", 2}} {
		if d := Distance(c.a, c.b); d != c.d {
			t.Errorf("Distance(%q, %q) = %d, want %d", c.a, c.b, d, c.d)
		}
	}
}
