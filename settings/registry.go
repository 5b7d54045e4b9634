package settings

import (
	"fmt"
	"sort"
)

// Registry is a checked catalogue of settings, read-only once built.
type Registry struct {
	byName map[string]*Setting
	names  []string // sorted
}

// NewRegistry checks every setting (default and bounds parse, the default
// is within bounds, names are unique) and indexes them.
func NewRegistry(defs ...Setting) (*Registry, error) {
	r := &Registry{byName: make(map[string]*Setting, len(defs))}
	for i := range defs {
		s := defs[i]
		if err := s.compile(); err != nil {
			return nil, err
		}
		if _, dup := r.byName[s.Name]; dup {
			return nil, fmt.Errorf("setting %s: defined twice", s.Name)
		}
		r.byName[s.Name] = &s
		r.names = append(r.names, s.Name)
	}
	sort.Strings(r.names)
	return r, nil
}

// MustRegistry is NewRegistry for catalogues fixed in code: a bad one is a
// programming error.
func MustRegistry(defs ...Setting) *Registry {
	r, err := NewRegistry(defs...)
	if err != nil {
		panic(err)
	}
	return r
}

// Names are the registered settings' names, sorted.
func (r *Registry) Names() []string { return r.names }

// Lookup finds a setting by name.
func (r *Registry) Lookup(name string) (*Setting, error) {
	if s, ok := r.byName[name]; ok {
		return s, nil
	}
	return nil, fmt.Errorf("%w: %q (partita ctl config list names them all)", ErrUnknown, name)
}

// Check validates an override of name to text at scope: the setting
// exists, can change live, takes that scope, and text is a value of it
// within its bounds.
func (r *Registry) Check(name, text string, scope Scope) (Value, error) {
	s, err := r.Lookup(name)
	if err != nil {
		return Value{}, err
	}
	if !s.Live {
		return Value{}, fmt.Errorf("%w: %s is read at start only; change it in the node's flags or file and restart", ErrNotLive, name)
	}
	if scope.Kind == ScopeTable && !s.PerTable {
		return Value{}, fmt.Errorf("%w: %s is not a table setting; scope it to the cluster, a zone or a node", ErrBadScope, name)
	}
	return s.Parse(text)
}
