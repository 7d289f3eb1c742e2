package auth

import (
	"net/http"
	"testing"
	"time"

	"github.com/floodgate-dev/floodgate/internal/emulator/config"
)

func newRegistry(tb testing.TB, max int) *Registry {
	tb.Helper()
	r, err := New([]config.Org{config.DemoOrg()}, max, 1)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

func bearer(v string) http.Header { return http.Header{"Authorization": {"Bearer " + v}} }

// TestRevocationsForgetSoonestExpiry: at capacity, the revocation whose
// token expires first is forgotten; the others keep refusing.
func TestRevocationsForgetSoonestExpiry(t *testing.T) {
	t.Parallel()
	r := newRegistry(t, 3)
	start := time.Unix(1_700_000_000, 0)
	var toks []*Token
	// Issued out of order in time, so expiry order is not revocation order.
	for _, offset := range []int{4, 1, 3, 0, 2} {
		tok, err := r.Issue(config.DemoClientID, config.DemoClientSecret, start.Add(time.Duration(offset)*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		toks = append(toks, tok)
	}
	now := start.Add(10 * time.Minute)
	// As DELETE /api/v2/tokens/me does: authenticate (which verifies a
	// token the bounded cache forgot), then revoke.
	for _, tok := range toks {
		if _, err := r.Authenticate(bearer(tok.Value), now); err != nil {
			t.Fatal(err)
		}
		r.Revoke(tok.Value)
	}
	if n := r.Revoked(); n != 3 {
		t.Fatalf("remembers %d revocations, want 3", n)
	}
	// Offsets 4, 3, 2 expire last: still refused. Offsets 1 and 0 were
	// forgotten, and their valid signatures are accepted again (as a
	// replica that never saw the revocation would).
	for i, want := range []bool{false, true, false, true, false} {
		_, err := r.Authenticate(bearer(toks[i].Value), now)
		if ok := err == nil; ok != want {
			t.Errorf("token %d: accepted = %v, want %v (err %v)", i, ok, want, err)
		}
	}
}

// BenchmarkIssueRevokeAtCapacity issues and revokes tokens with 100,000
// revocations remembered: each revocation evicts the soonest-expiring one.
func BenchmarkIssueRevokeAtCapacity(b *testing.B) {
	const max = 100_000
	r := newRegistry(b, max)
	now := time.Unix(1_700_000_000, 0)
	for i := range max {
		tok, _ := r.Issue(config.DemoClientID, config.DemoClientSecret, now.Add(time.Duration(i)*time.Millisecond))
		r.Revoke(tok.Value)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		tok, _ := r.Issue(config.DemoClientID, config.DemoClientSecret, now.Add(time.Duration(max+i)*time.Millisecond))
		r.Revoke(tok.Value)
	}
}
