package plan

import (
	"crypto/x509"
	"os"
	"path/filepath"

	"go.yaml.in/yaml/v3"
)

var tlsKeys = []string{"ca_file", "insecure_skip_verify"}

// TLS says how https targets are verified. nil means the system's
// roots (and SSL_CERT_FILE, SSL_CERT_DIR), as for any Go program.
type TLS struct {
	// CAFile is the path of a PEM file of CA certificates trusted on top
	// of the system's (a private CA, a self-signed server certificate),
	// relative paths resolved from the plan's directory; CAPEM is its
	// content, read and checked when the plan is parsed.
	CAFile string
	CAPEM  []byte
	// InsecureSkipVerify accepts any server certificate. The run's
	// summary says so: numbers measured this way have not checked who
	// answered.
	InsecureSkipVerify bool
	Pos                Pos
}

// maxCAFile bounds a CA file: a bundle of every public root is ~200 KiB.
const maxCAFile = 4 << 20

func (d *decoder) tls(key, n *yaml.Node) *TLS {
	f, ok := d.mapping(n, key, "tls", tlsKeys)
	if !ok {
		return nil
	}
	t := &TLS{Pos: pos(key)}
	if v := f.val("ca_file"); v != nil {
		if path, ok := d.nonEmpty(v, "ca_file"); ok {
			t.CAFile, t.CAPEM = d.caFile(v, path)
		}
	}
	if v := f.val("insecure_skip_verify"); v != nil {
		if b, ok := d.boolean(v, "insecure_skip_verify"); ok {
			t.InsecureSkipVerify = *b
		}
	}
	if t.CAFile != "" && t.InsecureSkipVerify {
		d.errorf(f.key("insecure_skip_verify"), "tls has both ca_file and insecure_skip_verify: true; keep one (with ca_file the server's certificate is checked against it)")
	}
	return t
}

// caFile reads and checks the PEM file at path (v's value).
func (d *decoder) caFile(v *yaml.Node, path string) (string, []byte) {
	if !filepath.IsAbs(path) && d.dir != "" {
		path = filepath.Join(d.dir, path)
	}
	where := "the current directory"
	if d.dir != "" {
		where = d.dir
	}
	fi, err := os.Stat(path)
	switch {
	case err != nil:
		d.errorf(v, "cannot read ca_file %s: %v; check the path (a relative one starts from %s)", describe(resolve(v)), pathless(err), where)
		return "", nil
	case !fi.Mode().IsRegular():
		d.errorf(v, "ca_file %s is not a regular file; give a PEM file of CA certificates", describe(resolve(v)))
		return "", nil
	case fi.Size() > maxCAFile:
		d.errorf(v, "ca_file %s is larger than %d MiB; give a PEM file of CA certificates", describe(resolve(v)), maxCAFile>>20)
		return "", nil
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		d.errorf(v, "cannot read ca_file %s: %v", describe(resolve(v)), pathless(err))
		return "", nil
	}
	if !x509.NewCertPool().AppendCertsFromPEM(pem) {
		d.errorf(v, "ca_file %s holds no PEM certificate (-----BEGIN CERTIFICATE-----); give the CA's certificate in PEM form", describe(resolve(v)))
		return "", nil
	}
	return path, pem
}
