package plan

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

var (
	authKeys   = []string{"oauth2", "bearer", "basic"}
	oauth2Keys = []string{"token_url", "client_id", "client_secret", "client_secret_file", "scopes"}
	bearerKeys = []string{"token", "token_file"}
	basicKeys  = []string{"username", "password", "password_file"}
)

// maxSecretFile bounds what a *_file may hold.
const maxSecretFile = 64 << 10

// auth decodes an auth block. target (maybe "" after an error) resolves a
// relative token_url.
func (d *decoder) auth(key, n *yaml.Node, target string) *Auth {
	f, ok := d.mapping(n, key, "auth", authKeys)
	if !ok {
		return nil
	}
	kind, ok := d.oneOf(f, authKeys, "auth has no kind; add one of oauth2, bearer or basic, or remove auth for none")
	if !ok {
		return nil
	}
	a := &Auth{}
	k, v := f.key(kind), f.val(kind)
	switch kind {
	case "oauth2":
		a.OAuth2 = d.oauth2(k, v, target)
	case "bearer":
		a.Bearer = d.bearer(k, v)
	case "basic":
		a.Basic = d.basic(k, v)
	}
	return a
}

func (d *decoder) oauth2(key, n *yaml.Node, target string) *OAuth2 {
	f, ok := d.mapping(n, key, "oauth2 auth", oauth2Keys)
	if !ok {
		return nil
	}
	o := &OAuth2{}
	if v := f.val("token_url"); v != nil {
		o.TokenURL = d.tokenURL(v, target)
	} else {
		d.errorf(key, "oauth2 auth needs token_url; add token_url: /oauth/token (relative to target) or an absolute URL")
	}
	if v := f.val("client_id"); v != nil {
		o.ClientID, _ = d.nonEmpty(v, "client_id")
	} else {
		d.errorf(key, "oauth2 auth needs client_id; add client_id: ${GC_CLIENT_ID}")
	}
	var given bool
	if o.ClientSecret, given = d.secret(f, "client_secret", "client_secret_file"); !given {
		d.errorf(key, "oauth2 auth needs client_secret; add client_secret: ${GC_CLIENT_SECRET} or client_secret_file: path")
	}
	if v := f.val("scopes"); v != nil {
		items, _ := d.sequence(v, "scopes", "[conversations, analytics:readonly]")
		o.Scopes = []string{}
		for _, it := range items {
			s, ok := d.nonEmpty(it, "a scope")
			if ok && strings.ContainsAny(s, " \t") {
				d.errorf(it, "scope %s holds a space; list each scope as its own item", describe(resolve(it)))
				continue
			}
			if ok {
				o.Scopes = append(o.Scopes, s)
			}
		}
	}
	return o
}

// tokenURL accepts an absolute http(s) URL, or a path starting with "/"
// that is appended to target (keeping target's base path, as step paths).
func (d *decoder) tokenURL(n *yaml.Node, target string) string {
	s, ok := d.nonEmpty(n, "token_url")
	if !ok {
		return ""
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		d.errorf(n, "token_url %s is not a URL; give a path such as /oauth/token or an absolute https URL", describe(n))
	case u.User != nil:
		d.errorf(n, "token_url holds credentials (user:password@); remove them, client_id and client_secret carry them")
	case u.Scheme == "" && u.Host == "":
		if !strings.HasPrefix(s, "/") {
			d.errorf(n, "token_url %s is relative but doesn't start with /; write /%s or an absolute URL", describe(n), n.Value)
			return ""
		}
		if target == "" {
			return "" // target's own problem is reported
		}
		return target + s
	case u.Scheme != "http" && u.Scheme != "https":
		d.errorf(n, "token_url %s has an unsupported scheme; use an http:// or https:// URL, or a path such as /oauth/token", describe(n))
	case u.Host == "":
		d.errorf(n, "token_url %s has no host; give an absolute URL or a path such as /oauth/token", describe(n))
	default:
		return s
	}
	return ""
}

func (d *decoder) bearer(key, n *yaml.Node) *Bearer {
	f, ok := d.mapping(n, key, "bearer auth", bearerKeys)
	if !ok {
		return nil
	}
	b := &Bearer{}
	var given bool
	if b.Token, given = d.secret(f, "token", "token_file"); !given {
		d.errorf(key, "bearer auth needs token; add token: ${TOKEN} or token_file: path")
	}
	return b
}

func (d *decoder) basic(key, n *yaml.Node) *Basic {
	f, ok := d.mapping(n, key, "basic auth", basicKeys)
	if !ok {
		return nil
	}
	b := &Basic{}
	if v := f.val("username"); v != nil {
		b.Username, _ = d.nonEmpty(v, "username")
		if strings.Contains(b.Username, ":") {
			d.errorf(v, "username holds a colon, which basic auth can't carry; check the value")
		}
	} else {
		d.errorf(key, "basic auth needs username; add username: ${API_USER}")
	}
	var given bool
	if b.Password, given = d.secret(f, "password", "password_file"); !given {
		d.errorf(key, "basic auth needs password; add password: ${API_PASSWORD} or password_file: path")
	}
	return b
}

// secret reads a credential from key, which must take it from the
// environment, or from the file named by fileKey. It reports whether
// either key was given. No message here may contain the value.
func (d *decoder) secret(f *fields, key, fileKey string) (Secret, bool) {
	v, fv := f.val(key), f.val(fileKey)
	switch {
	case v != nil && fv != nil:
		d.errorf(f.key(fileKey), "both %s and %s in %s; keep one", key, fileKey, f.what)
		return Secret{}, true
	case v != nil:
		sv, ok := d.scalar(v, key, "a ${VAR} reference")
		switch {
		case !ok:
		case !sv.ref && sv.tag == nullTag:
			d.errorf(v, "%s has no value; write %s: ${VAR} or use %s", key, key, fileKey)
		case !sv.ref:
			d.errorf(v, "%s is written into the plan; secrets come from the environment or a file: write %s: ${VAR} or %s: path", key, key, fileKey)
		case sv.s == "":
			d.errorf(v, "%s is empty after expanding %s; set the variable to the secret", key, describe(sv.n))
		default:
			return NewSecret(sv.s), true
		}
		return Secret{}, true
	case fv != nil:
		path, ok := d.nonEmpty(fv, fileKey)
		if !ok {
			return Secret{}, true
		}
		s, err := d.readSecret(path)
		switch {
		case err != nil:
			// The path may come from the environment: quote it as written.
			where := "the current directory"
			if d.dir != "" {
				where = d.dir
			}
			d.errorf(fv, "cannot read %s %s: %v; check the path (a relative one starts from %s)", fileKey, describe(resolve(fv)), err, where)
		case s == "":
			d.errorf(fv, "%s %s is empty; put the secret in it", fileKey, describe(resolve(fv)))
		default:
			return NewSecret(s), true
		}
		return Secret{}, true
	}
	return Secret{}, false
}

// readSecret reads a secret file relative to the plan's directory, without
// its trailing newline. It refuses anything but a small regular file, so a
// path such as /dev/stdin can't block or flood the parser.
func (d *decoder) readSecret(path string) (string, error) {
	if !filepath.IsAbs(path) && d.dir != "" {
		path = filepath.Join(d.dir, path)
	}
	// Errors leave the path out: the caller quotes it as written.
	fi, err := os.Stat(path)
	if err != nil {
		return "", pathless(err)
	}
	if !fi.Mode().IsRegular() {
		return "", errors.New("not a regular file")
	}
	if fi.Size() > maxSecretFile {
		return "", fmt.Errorf("larger than %d KiB", maxSecretFile>>10)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", pathless(err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// pathless drops the path from a *fs.PathError.
func pathless(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
