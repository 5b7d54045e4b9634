package settings

import (
	"fmt"
	"sort"
	"time"
)

// Edit sets or unsets one override.
type Edit struct {
	Key   string
	Scope Scope
	Value string // canonical text; ignored when Unset
	Unset bool
}

func (e Edit) String() string {
	if e.Unset {
		return fmt.Sprintf("unset %s at %s", e.Key, e.Scope)
	}
	return fmt.Sprintf("set %s=%s at %s", e.Key, e.Value, e.Scope)
}

// Change is one version of the overrides: its edits, who made it, when
// and why.
type Change struct {
	Version uint64
	Edits   []Edit
	Author  string
	Reason  string
	Time    time.Time
}

// Override is one override in force, with the version that set it.
type Override struct {
	Key     string
	Scope   Scope
	Value   string
	Version uint64
}

type slot struct {
	key   string
	scope Scope
}

// State is the set of overrides in force at a version. The zero State is
// version 0: no overrides.
type State struct {
	Version uint64
	set     map[slot]Override
}

// Apply returns the state after c. Versions must follow one another.
func (s State) Apply(c Change) (State, error) {
	if c.Version != s.Version+1 {
		return s, fmt.Errorf("settings: version %d follows %d, not %d", c.Version, c.Version-1, s.Version)
	}
	next := State{Version: c.Version, set: make(map[slot]Override, len(s.set)+len(c.Edits))}
	for k, o := range s.set {
		next.set[k] = o
	}
	for _, e := range c.Edits {
		k := slot{e.Key, e.Scope}
		if e.Unset {
			delete(next.set, k)
			continue
		}
		next.set[k] = Override{Key: e.Key, Scope: e.Scope, Value: e.Value, Version: c.Version}
	}
	return next, nil
}

// Replay applies changes from the zero state up to and including version
// upTo (all of them when upTo is 0).
func Replay(changes []Change, upTo uint64) (State, error) {
	var s State
	for _, c := range changes {
		if upTo != 0 && c.Version > upTo {
			break
		}
		var err error
		if s, err = s.Apply(c); err != nil {
			return s, err
		}
	}
	if upTo != 0 && s.Version != upTo {
		return s, fmt.Errorf("settings: no version %d (the last is %d)", upTo, s.Version)
	}
	return s, nil
}

// Overrides lists the overrides in force, by key then scope.
func (s State) Overrides() []Override {
	out := make([]Override, 0, len(s.set))
	for _, o := range s.set {
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Key != out[j].Key {
			return out[i].Key < out[j].Key
		}
		return scopeLess(out[i].Scope, out[j].Scope)
	})
	return out
}

func scopeLess(a, b Scope) bool {
	if a.Kind != b.Kind {
		return a.Kind < b.Kind
	}
	return a.Name < b.Name
}

// Diff lists the edits that turn from into to, by key then scope: a
// rollback to an old version is Diff(current, old).
func Diff(from, to State) []Edit {
	var out []Edit
	for k, o := range to.set {
		if was, ok := from.set[k]; !ok || was.Value != o.Value {
			out = append(out, Edit{Key: k.key, Scope: k.scope, Value: o.Value})
		}
	}
	for k := range from.set {
		if _, ok := to.set[k]; !ok {
			out = append(out, Edit{Key: k.key, Scope: k.scope, Unset: true})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Key != out[j].Key {
			return out[i].Key < out[j].Key
		}
		return scopeLess(out[i].Scope, out[j].Scope)
	})
	return out
}

// NewState is the state at version made of overrides (as stored: each
// with the version that set it). A later override of the same key and
// scope replaces an earlier one.
func NewState(version uint64, overrides []Override) State {
	st := State{Version: version, set: make(map[slot]Override, len(overrides))}
	for _, o := range overrides {
		st.set[slot{o.Key, o.Scope}] = o
	}
	return st
}
