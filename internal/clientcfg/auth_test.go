package clientcfg

import (
	"fmt"
	"strings"
	"testing"

	"github.com/floodgate-dev/floodgate/internal/client"
	"github.com/floodgate-dev/floodgate/internal/plan"
)

// TestAuth: each method reaches the client whole, and the converted
// config formats without its secrets.
func TestAuth(t *testing.T) {
	if Auth(nil) != nil {
		t.Error("no auth gave a config")
	}
	o := Auth(&plan.Auth{OAuth2: &plan.OAuth2{TokenURL: "/oauth/token", ClientID: "id", ClientSecret: plan.NewSecret("s3cret"), Scopes: []string{"a"}}})
	if o.OAuth2 == nil || o.OAuth2.TokenURL != "/oauth/token" || o.OAuth2.ClientID != "id" || o.OAuth2.ClientSecret.Reveal() != "s3cret" || len(o.OAuth2.Scopes) != 1 {
		t.Errorf("oauth2: %+v", o.OAuth2)
	}
	b := Auth(&plan.Auth{Bearer: &plan.Bearer{Token: plan.NewSecret("t0ken")}})
	if b.Bearer == nil || b.Bearer.Token.Reveal() != "t0ken" {
		t.Errorf("bearer: %+v", b.Bearer)
	}
	u := Auth(&plan.Auth{Basic: &plan.Basic{Username: "ann", Password: plan.NewSecret("pa55")}})
	if u.Basic == nil || u.Basic.Username != "ann" || u.Basic.Password.Reveal() != "pa55" {
		t.Errorf("basic: %+v", u.Basic)
	}
	for _, c := range []*client.AuthConfig{o, b, u} {
		s := fmt.Sprintf("%v %+v %#v", c, *c, c)
		for _, p := range []any{c.OAuth2, c.Bearer, c.Basic} {
			s += fmt.Sprintf(" %v %+v", p, p)
		}
		for _, secret := range []string{"s3cret", "t0ken", "pa55"} {
			if strings.Contains(s, secret) {
				t.Errorf("formatting the config shows %q: %s", secret, s)
			}
		}
	}
	if _, err := client.NewAuth(Auth(&plan.Auth{}), "", nil); err == nil {
		t.Error("an auth without a method: no error from the client")
	}
}
