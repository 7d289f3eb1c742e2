package emulator

import (
	"net/http"
	"strings"
)

// router matches /api/v2 paths against route templates segment by
// segment. A literal segment beats a {param} one and the match backtracks,
// so templates that net/http.ServeMux rejects as conflicting (the catalogue
// has 158 such pairs, e.g. /cases/{caseId}/stages beside
// /cases/externalcontacts/{id}) all route. At one template and method the
// first route added wins: hand-built routes are added before the catalogue.
type router struct{ root node }

type node struct {
	lit   map[string]*node
	param *node
	leaf  map[string]*leaf // by method
}

type leaf struct {
	rt     *route
	params []string // names of the template's {param} segments, in order
}

// add registers rt under its method and path; false if that method and
// template (up to parameter names) is already taken.
func (t *router) add(rt *route) bool {
	n := &t.root
	var params []string
	for _, seg := range strings.Split(strings.Trim(rt.Path, "/"), "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			params = append(params, seg[1:len(seg)-1])
			if n.param == nil {
				n.param = &node{}
			}
			n = n.param
			continue
		}
		if n.lit == nil {
			n.lit = map[string]*node{}
		}
		c := n.lit[seg]
		if c == nil {
			c = &node{}
			n.lit[seg] = c
		}
		n = c
	}
	if n.leaf == nil {
		n.leaf = map[string]*leaf{}
	}
	if _, ok := n.leaf[rt.Method]; ok {
		return false
	}
	n.leaf[rt.Method] = &leaf{rt: rt, params: params}
	return true
}

// match returns the route for method and path and the path's values of
// its parameters, appended to vals; nil when no route matches. GET routes
// serve HEAD when there is no HEAD route, as with ServeMux.
func (t *router) match(method, path string, vals []string) (*leaf, []string) {
	path = strings.Trim(path, "/")
	if l, v := t.root.match(method, path, vals); l != nil {
		return l, v
	}
	if method == http.MethodHead {
		return t.root.match(http.MethodGet, path, vals)
	}
	return nil, vals
}

func (n *node) match(method, rest string, vals []string) (*leaf, []string) {
	if rest == "" {
		if l := n.leaf[method]; l != nil {
			return l, vals
		}
		return nil, vals
	}
	seg, tail, _ := strings.Cut(rest, "/")
	if c := n.lit[seg]; c != nil {
		if l, v := c.match(method, tail, vals); l != nil {
			return l, v
		}
	}
	if n.param != nil && seg != "" {
		if l, v := n.param.match(method, tail, append(vals, seg)); l != nil {
			return l, v
		}
	}
	return nil, vals
}
