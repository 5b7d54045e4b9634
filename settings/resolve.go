package settings

import (
	"fmt"
	"sort"
)

// SourceKind is the layer a value comes from, least specific first.
type SourceKind int

// The layers.
const (
	FromDefault SourceKind = iota
	FromFile
	FromEnv
	FromFlag
	FromOverride
)

var sourceNames = map[SourceKind]string{FromDefault: "default", FromFile: "file", FromEnv: "env", FromFlag: "flag", FromOverride: "override"}

// Source says where an effective value came from.
type Source struct {
	Kind    SourceKind
	Scope   Scope  // of an override
	Version uint64 // of an override
}

func (s Source) String() string {
	if s.Kind == FromOverride {
		return fmt.Sprintf("override v%d (%s)", s.Version, s.Scope)
	}
	return sourceNames[s.Kind]
}

// Static is a value a node was started with: a flag, the environment or
// the YAML file.
type Static struct {
	Text string
	From SourceKind // FromFile, FromEnv or FromFlag
}

// Effective is a setting's value for one target, with its source.
type Effective struct {
	Name   string
	Value  Value
	Source Source
}

// Resolve computes the value of name for target t: the default, then the
// static value, then the most specific override of state that applies to
// t. An override that no longer parses (the catalogue changed since it
// was set) is skipped and reported in the error, and the value falls back
// to the next layer.
func (r *Registry) Resolve(name string, static map[string]Static, st State, t Target) (Effective, error) {
	s, err := r.Lookup(name)
	if err != nil {
		return Effective{}, err
	}
	eff := Effective{Name: name, Value: s.def}
	if sv, ok := static[name]; ok {
		v, err := s.Parse(sv.Text)
		if err != nil {
			return Effective{}, fmt.Errorf("%s: %w", sourceNames[sv.From], err)
		}
		eff.Value, eff.Source = v, Source{Kind: sv.From}
	}
	var bad error
	for _, o := range st.applicable(name, t) {
		v, err := s.Parse(o.Value)
		if err != nil {
			bad = fmt.Errorf("override v%d at %s skipped: %w", o.Version, o.Scope, err)
			continue
		}
		eff.Value, eff.Source = v, Source{Kind: FromOverride, Scope: o.Scope, Version: o.Version}
	}
	return eff, bad
}

// applicable are the overrides of name that apply to t, least specific
// first.
func (s State) applicable(name string, t Target) []Override {
	var out []Override
	for k, o := range s.set {
		if k.key == name && k.scope.matches(t) {
			out = append(out, o)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Scope.Kind < out[j].Scope.Kind })
	return out
}

// CheckStatic validates a node's static values: each names a setting and
// parses. It is what a node runs at start, so that a bad flag stops it.
func (r *Registry) CheckStatic(static map[string]Static) error {
	names := make([]string, 0, len(static))
	for n := range static {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if _, err := r.Resolve(n, static, State{}, Target{}); err != nil {
			return fmt.Errorf("%s: %w", n, err)
		}
	}
	return nil
}
