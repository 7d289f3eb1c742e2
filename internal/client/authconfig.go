package client

// AuthConfig is how requests authenticate: exactly one method is set.
// The engine builds it from the plan (package clientcfg).
type AuthConfig struct {
	OAuth2 *OAuth2Config
	Bearer *BearerConfig
	Basic  *BasicConfig
}

// OAuth2Config is the client-credentials grant.
type OAuth2Config struct {
	TokenURL     string // absolute, or resolved against the target
	ClientID     string
	ClientSecret Secret
	Scopes       []string
}

// BearerConfig is a static bearer token.
type BearerConfig struct {
	Token Secret
}

// BasicConfig is HTTP Basic authentication.
type BasicConfig struct {
	Username string
	Password Secret
}

// Secret is a credential that gives its value only when asked, and
// formats without it (plan.Secret is one).
type Secret interface {
	Reveal() string
}

// reveal is s's value, "" for none.
func reveal(s Secret) string {
	if s == nil {
		return ""
	}
	return s.Reveal()
}
