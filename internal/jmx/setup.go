package jmx

import (
	"encoding/base64"
	"strings"
)

// setUp converts a setUp Thread Group. JMeter runs it once, before the
// other thread groups start; floodgate has no such phase. One that fetches
// a client-credentials token becomes the plan's oauth2 auth, which gets
// the token before the scenarios send and refreshes it. Any other that
// sends requests becomes a once step at the start of each scenario
// (c.setups): each VU runs it in its first iteration, and what it
// extracts carries over to the VU's later iterations.
func (c *converter) setUp(g *Element, p *outPlan) {
	if tok := clientCredentials(g); tok != nil && p.auth == nil {
		p.auth, p.authSrc = c.oauth2(tok), Path(tok)
		c.oauth = true
		msg := "its token request " + label(tok) + " is a client-credentials grant: it becomes the plan's auth (oauth2), which fetches the token before the scenarios send and refreshes it; Authorization: Bearer headers built from variables or properties are left out, the auth sends the token"
		if n := countHTTP(g) - 1; n > 0 {
			msg += "; its other requests don't convert"
		}
		c.approximated(g, "%s", msg)
		return
	}
	if countHTTP(g) == 0 {
		c.notConverted(g, "floodgate runs all scenarios at the same time, with no set-up phase, and it sends no HTTP request")
		return
	}
	c.setups = append(c.setups, g)
	c.approximated(g, "it becomes a once step at the start of each scenario: each VU runs it in its first iteration (JMeter runs it once, before the other thread groups start), and what it extracts carries over to the VU's later iterations")
}

// clientCredentials returns the first enabled HTTP Request under g that
// posts grant_type=client_credentials, nil when none does.
func clientCredentials(g *Element) *Element {
	var found *Element
	var walk func(e *Element)
	walk = func(e *Element) {
		for _, ch := range e.Children {
			if found != nil || !ch.Enabled {
				continue
			}
			if kindOf(ch) == kHTTPSampler && strings.EqualFold(strings.TrimSpace(ch.Str("HTTPSampler.method")), "POST") {
				for _, a := range arguments(ch) {
					if a.name == "grant_type" && strings.TrimSpace(a.value) == "client_credentials" ||
						strings.Contains(a.value, "grant_type=client_credentials") {
						found = ch
					}
				}
			}
			walk(ch)
		}
	}
	walk(g)
	return found
}

// oauth2 writes the plan's oauth2 auth for a client-credentials token
// request: its path, and the client's id and secret from its form
// fields or a literal Basic header; else ${CLIENT_ID} and
// ${CLIENT_SECRET}, which the run must set.
func (c *converter) oauth2(tok *Element) []kv {
	src := Path(tok)
	f := defaultsOf(tok)
	url := c.text(f.path, envOnly, tok)
	if !strings.HasPrefix(url, "/") && !absoluteURL(url) {
		url = "/" + url
	}
	if f.domain != "" && !absoluteURL(f.path) {
		if o := c.origin(f); o != c.planTarget() && validOrigin(o) {
			url = o + url
		}
	}
	var id, secret string
	for _, a := range arguments(tok) {
		switch a.name {
		case "client_id":
			id = a.value
		case "client_secret":
			secret = a.value
		}
	}
	if id == "" && secret == "" {
		id, secret = basicCredentials(tok)
	}
	cred := func(v, env, example string) string {
		switch {
		case v == "":
			c.required(env, example)
			return "${" + env + "}"
		case strings.Contains(v, "${"):
			t := c.text(v, envOnly, tok)
			if name, ok := strings.CutSuffix(strings.TrimPrefix(t, "${"), ":-}"); ok && validEnv(name) && strings.HasPrefix(t, "${") {
				// A property with no default: the run must set it.
				c.required(name, example)
				return "${" + name + "}"
			}
			return t
		}
		return "${" + env + ":-" + escapeLiteral(v, envOnly) + "}"
	}
	return []kv{
		{key: "token_url", value: url, src: src},
		{key: "client_id", value: cred(id, "CLIENT_ID", "my-client-id"), src: src},
		{key: "client_secret", value: cred(secret, "CLIENT_SECRET", "my-client-secret"), src: src},
	}
}

// basicCredentials reads a literal "Authorization: Basic id:secret"
// header in the token request's scope.
func basicCredentials(tok *Element) (id, secret string) {
	for a := tok; a != nil; a = a.Parent {
		for _, h := range a.Children {
			if !h.Enabled || kindOf(h) != kHeaderManager || (a != tok && h.Parent != a) {
				continue
			}
			coll := h.Prop("HeaderManager.headers")
			if coll == nil {
				continue
			}
			for _, hd := range coll.Props {
				v, ok := strings.CutPrefix(strings.TrimSpace(hd.Str("Header.value")), "Basic ")
				if !strings.EqualFold(strings.TrimSpace(hd.Str("Header.name")), "Authorization") || !ok {
					continue
				}
				b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
				if i, s, ok := strings.Cut(string(b), ":"); err == nil && ok {
					return i, s
				}
			}
		}
	}
	return "", ""
}

// required records an environment variable the plan reads with no
// default, with an example value.
func (c *converter) required(env, example string) {
	if c.requiredEnv == nil {
		c.requiredEnv = map[string]string{}
	}
	c.requiredEnv[env] = example
}
