package item

import (
	"bytes"
	"maps"
	"slices"
)

// Clone returns a deep copy of v: no slice or map of the copy is shared
// with v.
func (v Value) Clone() Value {
	switch v.Type {
	case TypeB:
		v.B = bytes.Clone(v.B)
	case TypeM:
		v.M = cloneMap(v.M)
	case TypeL:
		v.L = cloneList(v.L)
	case TypeSS:
		v.SS = slices.Clone(v.SS)
	case TypeNS:
		v.NS = slices.Clone(v.NS)
	case TypeBS:
		v.BS = cloneBytesList(v.BS)
	}
	return v
}

// Clone returns a deep copy of it.
func (it Item) Clone() Item { return Item(cloneMap(it)) }

func cloneMap(m map[string]Value) map[string]Value {
	if m == nil {
		return nil
	}
	out := maps.Clone(m)
	for k, v := range out {
		out[k] = v.Clone()
	}
	return out
}

func cloneList(l []Value) []Value {
	if l == nil {
		return nil
	}
	out := make([]Value, len(l))
	for i, v := range l {
		out[i] = v.Clone()
	}
	return out
}

func cloneBytesList(bs [][]byte) [][]byte {
	if bs == nil {
		return nil
	}
	out := make([][]byte, len(bs))
	for i, b := range bs {
		out[i] = bytes.Clone(b)
	}
	return out
}
