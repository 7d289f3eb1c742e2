package engine

import (
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/floodgate-dev/floodgate/internal/metrics"
	"github.com/floodgate-dev/floodgate/internal/plan"
)

// TestPlanTLS runs a plan against a loopback https server whose
// certificate no system root signed: it fails the TLS check unless the
// plan trusts the certificate (tls.ca_file) or turns the check off.
func TestPlanTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	dir := t.TempDir()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(filepath.Join(dir, "ca.pem"), ca, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		tls string
		ok  bool
	}{
		{"", false},
		{"tls: {ca_file: ca.pem}\n", true},
		{"tls: {insecure_skip_verify: true}\n", true},
	} {
		src := c.tls + "target: " + srv.URL + "\nretry: off\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 2}}\n    steps: [{request: {path: /}}]\n"
		p, err := plan.Parse(filepath.Join(dir, "plan.yaml"), []byte(src), nil)
		if err != nil {
			t.Fatal(err)
		}
		e, err := New(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		s := e.Recorder().Summarize(metrics.RunInfo{Plan: p.Name}, e.Ended())
		if ok := s.Succeeded == 2; ok != c.ok || !c.ok && s.Errors["tls"] != 2 {
			t.Errorf("%q: %d of %d requests succeeded (errors %v)", c.tls, s.Succeeded, s.Requests, s.Errors)
		}
	}
}
