package item

import (
	"bytes"
	"slices"
	"strings"
)

// Equal reports whether a and b are the same DynamoDB value (sets compare as
// sets, ignoring order; maps and lists deeply).
func Equal(a, b Value) bool {
	if a.Type != b.Type {
		return false
	}
	switch a.Type {
	case TypeS:
		return a.S == b.S
	case TypeN:
		return a.N == b.N
	case TypeB:
		return bytes.Equal(a.B, b.B)
	case TypeBOOL:
		return a.BOOL == b.BOOL
	case TypeNULL:
		return true
	case TypeM:
		return equalMaps(a.M, b.M)
	case TypeL:
		return slices.EqualFunc(a.L, b.L, Equal)
	case TypeSS:
		return sameSet(a.SS, b.SS, strings.Compare)
	case TypeNS:
		return sameSet(a.NS, b.NS, Number.Cmp)
	case TypeBS:
		return sameSet(a.BS, b.BS, bytes.Compare)
	}
	return false
}

// EqualItems reports whether two items hold the same attributes with Equal
// values.
func EqualItems(a, b Item) bool { return equalMaps(a, b) }

func equalMaps(a, b map[string]Value) bool {
	if len(a) != len(b) {
		return false
	}
	for k, va := range a {
		vb, ok := b[k]
		if !ok || !Equal(va, vb) {
			return false
		}
	}
	return true
}

// sameSet reports whether a and b hold the same members, in any order.
// Sets have no duplicates, so equal lengths and a ⊆ b suffice; small sets
// are checked pairwise, larger ones by sorting copies.
func sameSet[T any](a, b []T, cmp func(T, T) int) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) <= 8 {
		for _, x := range a {
			if !slices.ContainsFunc(b, func(y T) bool { return cmp(x, y) == 0 }) {
				return false
			}
		}
		return true
	}
	sa, sb := slices.Clone(a), slices.Clone(b)
	slices.SortFunc(sa, cmp)
	slices.SortFunc(sb, cmp)
	return slices.EqualFunc(sa, sb, func(x, y T) bool { return cmp(x, y) == 0 })
}

// Compare orders two scalar values of the same type (S by UTF-8 bytes, N
// numerically, B by unsigned bytes). ok is false when the values are not both
// S, both N or both B.
func Compare(a, b Value) (c int, ok bool) {
	if a.Type != b.Type {
		return 0, false
	}
	switch a.Type {
	case TypeS:
		return strings.Compare(a.S, b.S), true
	case TypeN:
		return a.N.Cmp(b.N), true
	case TypeB:
		return bytes.Compare(a.B, b.B), true
	}
	return 0, false
}
