package auth

import (
	"fmt"
	"strings"
)

// Permission is a domain:entity:action permission or, when granted, a
// pattern whose parts may be "*".
type Permission [3]string

// ParsePermission parses "domain:entity:action".
func ParsePermission(s string) (Permission, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return Permission{}, fmt.Errorf("permission %q: want domain:entity:action", s)
	}
	return Permission{parts[0], parts[1], parts[2]}, nil
}

func (p Permission) String() string { return p[0] + ":" + p[1] + ":" + p[2] }

// Grants reports whether the granted pattern p covers the permission q.
func (p Permission) Grants(q Permission) bool {
	for i := range p {
		if p[i] != "*" && p[i] != q[i] {
			return false
		}
	}
	return true
}

// Can reports whether the client was granted q.
func (c *Client) Can(q Permission) bool {
	for _, p := range c.perms {
		if p.Grants(q) {
			return true
		}
	}
	return false
}

// Allowed reports whether the client was granted the permission written
// as domain:entity:action; a malformed permission is never granted. It
// implements platform.Grants.
func (c *Client) Allowed(perm string) bool {
	q, err := ParsePermission(perm)
	return err == nil && c.Can(q)
}
