package clientcfg

import (
	"github.com/floodgate-dev/floodgate/internal/client"
	"github.com/floodgate-dev/floodgate/internal/plan"
)

// Auth is the plan's auth a as the client takes it (nil: none). The
// secrets stay plan.Secrets, which format without their values.
func Auth(a *plan.Auth) *client.AuthConfig {
	switch {
	case a == nil:
		return nil
	case a.OAuth2 != nil:
		o := a.OAuth2
		return &client.AuthConfig{OAuth2: &client.OAuth2Config{TokenURL: o.TokenURL, ClientID: o.ClientID,
			ClientSecret: o.ClientSecret, Scopes: o.Scopes}}
	case a.Bearer != nil:
		return &client.AuthConfig{Bearer: &client.BearerConfig{Token: a.Bearer.Token}}
	case a.Basic != nil:
		return &client.AuthConfig{Basic: &client.BasicConfig{Username: a.Basic.Username, Password: a.Basic.Password}}
	}
	return &client.AuthConfig{} // no method: NewAuth says so
}
