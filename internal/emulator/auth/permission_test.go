package auth

import "testing"

func TestGrants(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		granted, need string
		want          bool
	}{
		{"*:*:*", "conversation:message:receive", true},
		{"conversation:*:*", "conversation:message:receive", true},
		{"conversation:message:*", "conversation:message:create", true},
		{"conversation:*:view", "conversation:communication:view", true},
		{"conversation:*:view", "conversation:communication:add", false},
		{"recording:*:*", "conversation:message:receive", false},
		{"conversation:message:receive", "conversation:message:receive", true},
	} {
		g, err := ParsePermission(tc.granted)
		if err != nil {
			t.Fatal(err)
		}
		n, _ := ParsePermission(tc.need)
		if got := g.Grants(n); got != tc.want {
			t.Errorf("%s grants %s = %v", tc.granted, tc.need, got)
		}
	}
	if _, err := ParsePermission("a:b"); err == nil {
		t.Error("two-part permission accepted")
	}
}
