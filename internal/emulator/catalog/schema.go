package catalog

import (
	"crypto/sha256"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// synthDate is the date every synthetic date-like string carries: fixed, so
// a synthetic body is the same on every read and in every run.
const synthDate = "2026-01-01T00:00:00.000Z"

// Depths of synthetic bodies: the top model gets every field; the models
// it holds only their required fields and the reference fields (id, name,
// selfUri), as the platform answers entity references; models nest
// recursively (User.manager is a User), so beyond maxDepth an empty object.
const (
	fullDepth = 0
	maxDepth  = 8
)

// refField reports whether a field is part of an entity reference.
func refField(name string) bool { return name == "id" || name == "name" || name == "selfUri" }

// Synthesize returns a deterministic JSON value of type t: every field of
// the top model (and of the models it holds), required fields deeper down;
// strings named like dates are ISO-8601, like ids are UUIDs derived from
// the model and field name, numbers 1, booleans false. seed varies ids.
func Synthesize(t *Type, seed string) any { return synth(t, "", seed, 0) }

func synth(t *Type, name, seed string, depth int) any {
	switch t.Kind {
	case KindString:
		return synthString(name, seed)
	case KindNumber:
		return 1
	case KindBoolean:
		return false
	case KindArray:
		if depth > fullDepth+1 {
			return []any{}
		}
		return []any{synth(t.Elem, name, seed, depth+1)}
	case KindModel:
		m := t.Model
		obj := make(map[string]any, len(m.Fields))
		if depth > maxDepth {
			return obj
		}
		for i := range m.Fields {
			f := &m.Fields[i]
			if depth > fullDepth && !f.Required && !refField(f.Name) {
				continue
			}
			obj[f.Name] = synth(f.Type, f.Name, seed+"/"+m.Name, depth+1)
		}
		// A reference's selfUri points at its id, as the platform's do
		// (the collection is guessed from the model's name).
		if id, ok := obj["id"].(string); ok {
			if _, ok := obj["selfUri"].(string); ok {
				obj["selfUri"] = "/api/v2/" + strings.ToLower(m.Name) + "s/" + id
			}
		}
		return obj
	default: // object, map, any
		return map[string]any{}
	}
}

func synthString(name, seed string) string {
	lower := strings.ToLower(name)
	switch {
	case name == "id" || strings.HasSuffix(name, "Id"):
		return DeterministicID(seed + "/" + name)
	case lower == "selfuri" || strings.HasSuffix(name, "Uri"):
		return "/api/v2/" + strings.ToLower(name)
	case strings.HasPrefix(lower, "date") || strings.HasSuffix(name, "Date") || strings.HasSuffix(name, "Time") ||
		strings.HasSuffix(name, "Timestamp") || strings.HasSuffix(name, "At"):
		return synthDate
	case strings.Contains(lower, "email"):
		return "user@example.com"
	case name == "":
		return "example"
	}
	return name
}

// DeterministicID returns a UUID (version 4 layout) derived from s.
func DeterministicID(s string) string {
	h := sha256.Sum256([]byte(s))
	h[6] = h[6]&0x0f | 0x40
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// Mismatch is where a request body does not fit its declared type.
type Mismatch struct {
	Field string // JSON path, e.g. "addresses[0].type"
	Want  string // the declared type
	Got   string // the JSON type found
}

func (m *Mismatch) Error() string {
	return fmt.Sprintf("Invalid value for %s: expected %s, got JSON %s.", m.Field, m.Want, m.Got)
}

// Check reports the first place where v (as decoded by encoding/json into
// any) does not fit t, or nil. Undeclared fields are ignored and missing
// ones allowed, as the platform ignores unknown fields and request models
// mark response-only fields required.
func Check(t *Type, v any) *Mismatch { return check(t, v, "") }

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "unknown"
}

func check(t *Type, v any, at string) *Mismatch {
	if v == nil {
		return nil // null clears a field
	}
	field := at
	if field == "" {
		field = "body"
	}
	want := ""
	switch t.Kind {
	case KindAny:
		return nil
	case KindString:
		want = "string"
	case KindNumber:
		want = "number"
	case KindBoolean:
		want = "boolean"
	case KindArray:
		want = "array"
	default:
		want = "object"
	}
	got := jsonKind(v)
	if got != want {
		return &Mismatch{Field: field, Want: describe(t), Got: got}
	}
	switch t.Kind {
	case KindArray:
		for i, e := range v.([]any) {
			if m := check(t.Elem, e, at+"["+strconv.Itoa(i)+"]"); m != nil {
				return m
			}
		}
	case KindMap:
		obj := v.(map[string]any)
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			if m := check(t.Elem, obj[k], join(at, k)); m != nil {
				return m
			}
		}
	case KindModel:
		obj := v.(map[string]any)
		for i := range t.Model.Fields {
			f := &t.Model.Fields[i]
			if e, ok := obj[f.Name]; ok {
				if m := check(f.Type, e, join(at, f.Name)); m != nil {
					return m
				}
			}
		}
	}
	return nil
}

func join(at, k string) string {
	if at == "" {
		return k
	}
	return at + "." + k
}

func describe(t *Type) string {
	switch t.Kind {
	case KindModel:
		return "an object (" + t.Model.Name + ")"
	case KindMap, KindObject:
		return "an object"
	case KindArray:
		return "an array"
	}
	return "a " + t.Decl
}
