package metrics

import "bytes"

// ErrCode is the platform error code a refused response's body named
// (its "code" field), from a short list: the codes that tell walls apart
// (a missing permission from a cap answered 403, a spent window from a
// cap answered 429). The zero ErrCode is none.
type ErrCode uint8

const (
	NoCode                    ErrCode = iota
	CodeMissingPermissions            // missing.permissions: the credentials lack a permission
	CodeNotAuthorized                 // not.authorized: refused, no permission named
	CodeTooManyRequests               // too.many.requests: refused for load, no window named
	CodeTooManyRetryAfter             // too.many.requests.retry.after: a spent window
	CodeServiceUnavailable            // service.unavailable
	CodeAuthRequired                  // authentication.required: no bearer token sent (401)
	CodeBadCredentials                // bad.credentials: a token the API does not know (401)
	CodeCredentialsExpired            // credentials.expired: an expired token (401)
	CodeMissingAnyPermissions         // missing.any.permissions: none of the permissions named (403)
	CodeOther                         // any other code
	numCodes
)

var codeNames = [numCodes]string{"", "missing.permissions", "not.authorized", "too.many.requests",
	"too.many.requests.retry.after", "service.unavailable", "authentication.required", "bad.credentials",
	"credentials.expired", "missing.any.permissions", "other"}

// String returns the code as the platform writes it ("other" for the
// rest, "" for none).
func (c ErrCode) String() string {
	if c < numCodes {
		return codeNames[c]
	}
	return "other"
}

var codeKey = []byte(`"code"`)

// ParseErrCode reads the "code" of a platform error body. It does not
// allocate: the body is scanned, not decoded, and only the top-level
// shape {"…", "code": "x", …} the platform writes is looked for.
func ParseErrCode(body []byte) ErrCode {
	i := bytes.Index(body, codeKey)
	if i < 0 {
		return NoCode
	}
	rest := bytes.TrimLeft(body[i+len(codeKey):], " \t\r\n")
	if len(rest) == 0 || rest[0] != ':' {
		return NoCode
	}
	rest = bytes.TrimLeft(rest[1:], " \t\r\n")
	if len(rest) == 0 || rest[0] != '"' {
		return NoCode
	}
	rest = rest[1:]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return NoCode
	}
	v := rest[:j]
	for c := CodeMissingPermissions; c < CodeOther; c++ {
		if string(v) == codeNames[c] {
			return c
		}
	}
	return CodeOther
}

func codeMap(a *[numCodes]int64) map[string]int64 {
	var m map[string]int64
	for i, n := range a {
		if n != 0 && ErrCode(i) != NoCode {
			if m == nil {
				m = map[string]int64{}
			}
			m[ErrCode(i).String()] = n
		}
	}
	return m
}

func fillCodes(a *[numCodes]int64, m map[string]int64) {
	for k, n := range m {
		c := CodeOther
		for i := CodeMissingPermissions; i < CodeOther; i++ {
			if codeNames[i] == k {
				c = i
			}
		}
		a[c] += n
	}
}
