package expr

import (
	"bytes"
	"maps"
	"slices"

	"github.com/partitadb/partita/item"
)

// edit is what an action does at its path: given the value there (ok false
// if there is none) it returns the new value, and keep false to remove it.
type edit func(old item.Value, ok bool) (v item.Value, keep bool, err error)

// editFor returns the edit of an action of kind k with operand value v.
func editFor(k ActionKind, v item.Value) edit {
	switch k {
	case ActionSet:
		return func(item.Value, bool) (item.Value, bool, error) { return v, true, nil }
	case ActionRemove:
		return func(item.Value, bool) (item.Value, bool, error) { return item.Value{}, false, nil }
	case ActionAdd:
		return func(old item.Value, ok bool) (item.Value, bool, error) { return addEdit(old, ok, v) }
	default:
		return func(old item.Value, ok bool) (item.Value, bool, error) { return deleteEdit(old, ok, v) }
	}
}

// modify returns v with f applied at path, copying every map and list it
// changes (v itself only when owned is false) and sharing the rest.
func modify(v item.Value, path Path, f edit, owned bool) (item.Value, error) {
	if path[0].IsIndex {
		return modifyList(v, path, f)
	}
	if v.Type != item.TypeM {
		return v, errorf(msgInvalidPath)
	}
	name := path[0].Name
	old, ok := v.M[name]
	nv, keep := old, true
	var err error
	if len(path) == 1 {
		nv, keep, err = f(old, ok)
	} else if !ok {
		err = errorf(msgInvalidPath)
	} else {
		nv, err = modify(old, path[1:], f, false)
	}
	if err != nil || !keep && !ok {
		return v, err
	}
	m := v.M
	if !owned || m == nil {
		m = maps.Clone(v.M)
	}
	if m == nil {
		m = map[string]item.Value{}
	}
	if keep {
		m[name] = nv
	} else {
		delete(m, name)
	}
	return item.Value{Type: item.TypeM, M: m}, nil
}

// modifyList is modify for a path that steps into a list. Setting an index
// past the end appends; removing one past the end does nothing.
func modifyList(v item.Value, path Path, f edit) (item.Value, error) {
	if v.Type != item.TypeL {
		return v, errorf(msgInvalidPath)
	}
	i := path[0].Index
	ok := i < len(v.L)
	if len(path) > 1 {
		if !ok {
			return v, errorf(msgInvalidPath)
		}
		nv, err := modify(v.L[i], path[1:], f, false)
		if err != nil {
			return v, err
		}
		l := slices.Clone(v.L)
		l[i] = nv
		return item.Value{Type: item.TypeL, L: l}, nil
	}
	var old item.Value
	if ok {
		old = v.L[i]
	}
	nv, keep, err := f(old, ok)
	var l []item.Value
	switch {
	case err != nil:
		return v, err
	case ok && keep:
		l = slices.Clone(v.L)
		l[i] = nv
	case ok:
		l = slices.Delete(slices.Clone(v.L), i, i+1)
	case keep:
		l = append(slices.Clip(v.L), nv)
	default:
		return v, nil
	}
	return item.Value{Type: item.TypeL, L: l}, nil
}

// addEdit is ADD: a number is added to, a set gets the new members; a
// missing attribute becomes the operand.
func addEdit(old item.Value, ok bool, v item.Value) (item.Value, bool, error) {
	if !ok {
		return v, true, nil
	}
	if old.Type != v.Type {
		return old, true, errorf(msgBadOperandType)
	}
	switch v.Type {
	case item.TypeN:
		n, err := old.N.Add(v.N)
		if err != nil {
			return old, true, fromItemError(err)
		}
		return item.N(n), true, nil
	case item.TypeSS:
		return item.Value{Type: v.Type, SS: union(old.SS, v.SS, eqString)}, true, nil
	case item.TypeNS:
		return item.Value{Type: v.Type, NS: union(old.NS, v.NS, eqNumber)}, true, nil
	case item.TypeBS:
		return item.Value{Type: v.Type, BS: union(old.BS, v.BS, bytes.Equal)}, true, nil
	}
	return old, true, errorf(msgBadOperandType)
}

// deleteEdit is DELETE: members are removed from a set, and a set left
// empty is removed; a missing attribute stays missing.
func deleteEdit(old item.Value, ok bool, v item.Value) (item.Value, bool, error) {
	if !ok {
		return old, false, nil
	}
	if old.Type != v.Type {
		return old, true, errorf(msgBadOperandType)
	}
	out := item.Value{Type: v.Type}
	var n int
	switch v.Type {
	case item.TypeSS:
		out.SS = difference(old.SS, v.SS, eqString)
		n = len(out.SS)
	case item.TypeNS:
		out.NS = difference(old.NS, v.NS, eqNumber)
		n = len(out.NS)
	case item.TypeBS:
		out.BS = difference(old.BS, v.BS, bytes.Equal)
		n = len(out.BS)
	default:
		return old, true, errorf(msgBadOperandType)
	}
	return out, n > 0, nil
}

func eqString(a, b string) bool      { return a == b }
func eqNumber(a, b item.Number) bool { return a.Cmp(b) == 0 }

// union returns a followed by the members of b not in a, in a new slice.
func union[T any](a, b []T, eq func(T, T) bool) []T {
	out := slices.Clone(a)
	for _, x := range b {
		if !slices.ContainsFunc(out, func(y T) bool { return eq(x, y) }) {
			out = append(out, x)
		}
	}
	return out
}

// difference returns the members of a not in b, in a new slice.
func difference[T any](a, b []T, eq func(T, T) bool) []T {
	var out []T
	for _, x := range a {
		if !slices.ContainsFunc(b, func(y T) bool { return eq(x, y) }) {
			out = append(out, x)
		}
	}
	return out
}
