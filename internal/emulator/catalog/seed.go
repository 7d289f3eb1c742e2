package catalog

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Collections returns the collections entities can be seeded into, as
// paths without /api/v2 ("users", "routing/queues"): those with a create
// (POST), an item GET and a paged listing, and no path parameter. Sorted.
func (c *Catalog) Collections() []string {
	got := map[string]uint8{}
	const create, item, list = 1, 2, 4
	for _, o := range c.Ops {
		switch {
		case o.Method == http.MethodPost && !strings.Contains(o.Path, "{"):
			got[o.Path] |= create
		case o.Method == http.MethodGet && lastIsParam(o.Path) && !strings.Contains(parent(o.Path), "{"):
			got[parent(o.Path)] |= item
		case o.Method == http.MethodGet && !strings.Contains(o.Path, "{") && listed(c.Type(o.Returns)) != nil:
			got[o.Path] |= list
		}
	}
	var out []string
	for p, k := range got {
		if k == create|item|list && strings.HasPrefix(p, apiPrefix) {
			out = append(out, strings.TrimPrefix(p, apiPrefix))
		}
	}
	slices.Sort(out)
	return out
}

const apiPrefix = "/api/v2/"

// CollectionPath returns the path of a collection named as in
// Collections, or with /api/v2/ in front.
func CollectionPath(name string) string {
	return apiPrefix + strings.TrimPrefix(strings.TrimPrefix(name, "/"), "api/v2/")
}

// DefaultSeed is what every org holds at start unless configured: enough
// users for more than one page of ten, queues, and the system presences
// in both presence-definition collections.
var DefaultSeed = map[string]int{
	"users":                25,
	"routing/queues":       10,
	"presencedefinitions":  len(systemPresences),
	"presence/definitions": len(systemPresences),
}

// systemPresences are the platform's system presences, which every org's
// presence definitions start with.
var systemPresences = []string{"Available", "Away", "Busy", "Offline", "On Queue", "Idle", "Meal", "Meeting", "Training", "Break"}

// seeder adds the fields particular to a collection's i-th (from 1)
// seeded entity of org; name is already set where the model has one.
type seeder func(org string, i int, body map[string]any)

// seeders make the default collections' entities look like the
// platform's: users with distinct e-mails in the home division, queues in
// it, presences carrying their system presence. Other collections get
// their create body's required fields (synthetic) and a numbered name.
var seeders = map[string]seeder{
	"users": func(org string, i int, b map[string]any) {
		email := fmt.Sprintf("user%02d@example.com", i)
		b["email"], b["username"], b["state"], b["title"] = email, email, "active", "Agent"
		b["division"] = homeDivision(org)
	},
	"routing/queues": func(org string, i int, b map[string]any) {
		b["description"] = fmt.Sprintf("Seeded queue %d", i)
		b["division"] = homeDivision(org)
	},
	"presencedefinitions": func(org string, i int, b map[string]any) {
		p := systemPresences[(i-1)%len(systemPresences)]
		b["name"], b["systemPresence"], b["languageLabels"] = p, p, map[string]any{"en_US": p}
		b["primary"], b["deactivated"] = i <= len(systemPresences), false
	},
	"presence/definitions": func(org string, i int, b map[string]any) {
		p := systemPresences[(i-1)%len(systemPresences)]
		b["name"], b["systemPresence"], b["languageLabels"] = p, p, map[string]any{"en_US": p}
		b["type"], b["deactivated"] = "System", false
	},
}

// homeDivision is a reference to org's home division, as entities carry.
func homeDivision(org string) map[string]any {
	id := DeterministicID(org + "/division/home")
	return map[string]any{"id": id, "name": "Home", "selfUri": "/api/v2/authorization/divisions/" + id}
}

// seed fills org's collection name (see Collections) with n
// deterministic entities: the same ids, names and dates in every run and
// on every replica.
func (s *Service) seed(org, name string, n int) error {
	path := CollectionPath(name)
	name = strings.TrimPrefix(path, apiPrefix)
	var p *op
	for _, o := range s.ops {
		if o.kind == kindCreate && o.Path == path {
			p = o
		}
	}
	if p == nil || !slices.Contains(s.cat.Collections(), name) {
		return fmt.Errorf("catalog: %q is not a collection entities can be seeded into (e.g. users, routing/queues)", name)
	}
	label := seedLabel(name)
	for i := 1; i <= n; i++ {
		body := map[string]any{}
		if p.body != nil && p.body.Kind == KindModel {
			for _, f := range p.required {
				if mf := p.body.Model.Field(f); mf != nil {
					body[f] = synth(mf.Type, f, path, fullDepth+1)
				}
			}
		}
		body["name"] = fmt.Sprintf("%s %d", label, i)
		if f := seeders[name]; f != nil {
			f(org, i, body)
		}
		id := DeterministicID(org + path + "/" + fmt.Sprint(i))
		at := path + "/" + id
		_, err := s.store.update(org, at, path, func(map[string]any, state) (map[string]any, error) {
			return s.entityAt(p, nil, body, id, at, synthDate), nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// seedLabel names a collection's entities: "routing/queues" → "Queue".
func seedLabel(name string) string {
	l := name[strings.LastIndexByte(name, '/')+1:]
	l = strings.TrimSuffix(l, "s")
	if l == "" {
		return "Entity"
	}
	return strings.ToUpper(l[:1]) + l[1:]
}
