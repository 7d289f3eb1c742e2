package plan

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSignedPEM returns a fresh self-signed CA certificate in PEM form.
func selfSignedPEM(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "floodgate test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func TestTLS(t *testing.T) {
	dir := t.TempDir()
	ca := selfSignedPEM(t)
	for name, content := range map[string][]byte{"ca.pem": ca, "junk.pem": []byte("not a certificate\n")} {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	head := "target: https://127.0.0.1:8443\nscenarios:\n  s:\n    executor: {closed: {vus: 1, iterations: 1}}\n" + okSteps
	parse := func(tls string) (*Plan, error) {
		return Parse(filepath.Join(dir, "plan.yaml"), []byte(tls+head), nil)
	}

	p, err := parse("tls: {ca_file: ca.pem}\n")
	if err != nil {
		t.Fatal(err)
	}
	if p.TLS == nil || p.TLS.CAFile != filepath.Join(dir, "ca.pem") || string(p.TLS.CAPEM) != string(ca) || p.TLS.InsecureSkipVerify || p.TLS.Pos != (Pos{1, 1}) {
		t.Errorf("ca_file relative to the plan: got %+v", p.TLS)
	}
	if p, err := parse("tls:\n  insecure_skip_verify: true\n"); err != nil || p.TLS == nil || !p.TLS.InsecureSkipVerify || p.TLS.CAPEM != nil {
		t.Errorf("insecure_skip_verify: %+v, %v", p.TLS, err)
	}
	if p, err := parse(""); err != nil || p.TLS != nil {
		t.Errorf("no tls key: %+v, %v", p.TLS, err)
	}

	for _, c := range []struct {
		tls  string
		pos  Pos
		want string
	}{
		{"tls: {ca_file: missing.pem}\n", Pos{1, 16}, "cannot read ca_file"},
		{"tls: {ca_file: junk.pem}\n", Pos{1, 16}, "holds no PEM certificate"},
		{"tls: {ca_file: .}\n", Pos{1, 16}, "not a regular file"},
		{"tls: {ca_file: ca.pem, insecure_skip_verify: true}\n", Pos{1, 24}, "keep one"},
		{"tls: {insecure_skip_verify: yes please}\n", Pos{1, 29}, "true or false"},
		{"tls: {verify: false}\n", Pos{1, 7}, "verify"},
		{"tls: true\n", Pos{1, 6}, "tls"},
	} {
		_, err := parse(c.tls)
		if err == nil {
			t.Errorf("%q: no error", c.tls)
			continue
		}
		errs := planErrors(t, err)
		if len(errs) != 1 || errs[0].Pos != c.pos || !strings.Contains(errs[0].Msg, c.want) {
			t.Errorf("%q: %v; want one error at %v containing %q", c.tls, err, c.pos, c.want)
		}
	}
}
