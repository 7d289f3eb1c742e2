package cli

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// A target whose certificate is not trusted fails every request's TLS:
// the first seconds say so with the fix, and the run stops early and
// exits 1 like an unreachable target instead of running its length and
// exiting 0.
func TestRunAgainstAnUntrustedCertificate(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // every handshake fails, by design
	srv.StartTLS()
	t.Cleanup(srv.Close)
	p := writePlan(t, "target: "+srv.URL+"\nscenarios:\n  s:\n    executor: {open: {rate: 200/s, duration: 1m}}\n    steps: [{request: {path: /}}]\n")
	out := filepath.Join(t.TempDir(), "res")
	te := newTestEnv(nil)
	err := Main(context.Background(), &te.Env, []string{"run", p, "--out", out})
	if ExitCode(err) != ExitRuntime {
		t.Fatalf("exit %d (%v), want %d", ExitCode(err), err, ExitRuntime)
	}
	for _, want := range []string{srv.URL, "TLS failed", "x509: certificate signed by unknown authority", "tls: {ca_file: ca.pem}", "SSL_CERT_FILE"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	line := regexp.MustCompile(`TLS failed on \d+ connections? to the target ` + regexp.QuoteMeta(srv.URL) + ` \(.*x509.*\): .*SSL_CERT_FILE`)
	if !line.MatchString(te.errText()) {
		t.Errorf("stderr lacks the TLS line:\n%s", te.errText())
	}
	s := readSummary(t, out)
	if s.StopReason != "TLS failed" || s.DurationS > 30 || s.Errors["tls"] == 0 {
		t.Errorf("stop reason %q after %.1f s, errors %v: want it stopped early on TLS failures", s.StopReason, s.DurationS, s.Errors)
	}
}
