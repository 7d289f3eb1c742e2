package scenario

import "slices"

// Scope names a scenario's variables and gives each a slot, so that a VU
// keeps its values in a slice and rendering a template never looks up a
// map. Build it once at load time; it is read-only afterwards and then
// safe for concurrent use.
type Scope struct {
	names []string
	idx   map[string]int
}

// NewScope returns an empty scope.
func NewScope() *Scope { return &Scope{idx: map[string]int{}} }

// Define returns name's slot, adding it when new.
func (s *Scope) Define(name string) int {
	if i, ok := s.idx[name]; ok {
		return i
	}
	s.idx[name] = len(s.names)
	s.names = append(s.names, name)
	return len(s.names) - 1
}

// Slot returns name's slot.
func (s *Scope) Slot(name string) (int, bool) {
	i, ok := s.idx[name]
	return i, ok
}

// Name returns the name of slot i.
func (s *Scope) Name(i int) string { return s.names[i] }

// Len is the number of variables.
func (s *Scope) Len() int { return len(s.names) }

// Names returns the variables' names in the order they were defined.
func (s *Scope) Names() []string { return slices.Clone(s.names) }

// Vars holds one iteration's variable values, by slot. It belongs to one
// VU and is not safe for concurrent use.
type Vars struct {
	scope *Scope
	vals  []Value
}

// NewVars returns unset values for every variable of s (s may be nil).
func NewVars(s *Scope) *Vars {
	if s == nil {
		s = NewScope()
	}
	return &Vars{scope: s, vals: make([]Value, s.Len())}
}

// Set sets slot i.
func (v *Vars) Set(i int, val Value) { v.vals[i] = val }

// Get returns slot i's value; the zero Value when unset.
func (v *Vars) Get(i int) Value { return v.vals[i] }

// Reset unsets every variable, for a new iteration.
func (v *Vars) Reset() { clear(v.vals) }

// Map returns the set variables by name, as Go values (see Value.Any),
// for conditions.
func (v *Vars) Map() map[string]any {
	m := make(map[string]any, len(v.vals))
	for i, val := range v.vals {
		if val.IsSet() {
			m[v.scope.names[i]] = val.Any()
		}
	}
	return m
}
