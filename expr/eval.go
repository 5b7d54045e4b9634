package expr

import (
	"bytes"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/partitadb/partita/item"
)

// Eval evaluates c against it (nil for a missing item). Errors are
// evaluation-time validation errors (e.g. a type mismatch DynamoDB rejects);
// every such rule DynamoDB applies is checked when the condition is parsed,
// so Eval currently always returns a nil error.
//
// DynamoDB's semantics: a missing attribute, or operands of different
// types, make a comparison false (and <> true); only S, N and B order.
func (c *Condition) Eval(it item.Item) (bool, error) {
	return evalNode(c.Root, it), nil
}

// evalNode evaluates a condition node.
func evalNode(n *Node, it item.Item) bool {
	switch n.Op {
	case OpAnd:
		return evalNode(n.Children[0], it) && evalNode(n.Children[1], it)
	case OpOr:
		return evalNode(n.Children[0], it) || evalNode(n.Children[1], it)
	case OpNot:
		return !evalNode(n.Children[0], it)
	case OpFunc:
		return evalFunc(n.Func, n.Operands, it)
	case OpBetween:
		return evalBetween(n.Operands, it)
	case OpIn:
		return evalIn(n.Operands, it)
	default:
		return evalCompare(n.Op, n.Operands[0], n.Operands[1], it)
	}
}

// operandValue returns the value of o for it, and false if it has none
// (a missing attribute, or size() of a value that has no size).
func operandValue(o *Operand, it item.Item) (item.Value, bool) {
	switch o.Kind {
	case OperandPath:
		return o.Path.Get(it)
	case OperandValue:
		return o.Value, true
	}
	if o.Func != "size" {
		return item.Value{}, false
	}
	v, ok := operandValue(o.Args[0], it)
	if !ok {
		return item.Value{}, false
	}
	n, ok := valueSize(v)
	return item.N(item.NumberFromInt(int64(n))), ok
}

// valueSize is size(): the length of a string in characters (as DynamoDB
// documents; its UTF-8 bytes are what item sizes count) or of a binary in
// bytes, the number of elements of a set or list, or of entries of a map.
// Strings reach here valid UTF-8 (the edge refuses others), so a character
// is a Unicode code point.
func valueSize(v item.Value) (int, bool) {
	switch v.Type {
	case item.TypeS:
		return utf8.RuneCountInString(v.S), true
	case item.TypeB:
		return len(v.B), true
	case item.TypeSS:
		return len(v.SS), true
	case item.TypeNS:
		return len(v.NS), true
	case item.TypeBS:
		return len(v.BS), true
	case item.TypeL:
		return len(v.L), true
	case item.TypeM:
		return len(v.M), true
	}
	return 0, false
}

// evalCompare evaluates a comparison. A missing operand makes it false,
// except for <>, which is then true.
func evalCompare(op Op, a, b *Operand, it item.Item) bool {
	x, okx := operandValue(a, it)
	y, oky := operandValue(b, it)
	if !okx || !oky {
		return op == OpNe
	}
	switch op {
	case OpEq:
		return item.Equal(x, y)
	case OpNe:
		return !item.Equal(x, y)
	}
	c, ok := item.Compare(x, y)
	if !ok {
		return false
	}
	switch op {
	case OpLt:
		return c < 0
	case OpLe:
		return c <= 0
	case OpGt:
		return c > 0
	default:
		return c >= 0
	}
}

// evalBetween evaluates v BETWEEN lo AND hi.
func evalBetween(ops []*Operand, it item.Item) bool {
	v, ok1 := operandValue(ops[0], it)
	lo, ok2 := operandValue(ops[1], it)
	hi, ok3 := operandValue(ops[2], it)
	if !ok1 || !ok2 || !ok3 {
		return false
	}
	c1, ok1 := item.Compare(lo, v)
	c2, ok2 := item.Compare(v, hi)
	return ok1 && ok2 && c1 <= 0 && c2 <= 0
}

// evalIn evaluates v IN (a, b, ...).
func evalIn(ops []*Operand, it item.Item) bool {
	v, ok := operandValue(ops[0], it)
	if !ok {
		return false
	}
	for _, o := range ops[1:] {
		if w, ok := operandValue(o, it); ok && item.Equal(v, w) {
			return true
		}
	}
	return false
}

// evalFunc evaluates a boolean function.
func evalFunc(name string, args []*Operand, it item.Item) bool {
	v, ok := operandValue(args[0], it)
	switch name {
	case "attribute_exists":
		return ok
	case "attribute_not_exists":
		return !ok
	}
	w, ok2 := operandValue(args[1], it)
	if !ok || !ok2 {
		return false
	}
	switch name {
	case "attribute_type":
		return w.Type == item.TypeS && v.Type.String() == w.S
	case "begins_with":
		return beginsWith(v, w)
	default:
		return contains(v, w)
	}
}

// beginsWith reports whether the string or binary v starts with w.
func beginsWith(v, w item.Value) bool {
	switch {
	case v.Type == item.TypeS && w.Type == item.TypeS:
		return strings.HasPrefix(v.S, w.S)
	case v.Type == item.TypeB && w.Type == item.TypeB:
		return bytes.HasPrefix(v.B, w.B)
	}
	return false
}

// contains reports whether v contains w: a substring of a string or
// binary, a member of a set, or an element of a list.
func contains(v, w item.Value) bool {
	switch {
	case v.Type == item.TypeS && w.Type == item.TypeS:
		return strings.Contains(v.S, w.S)
	case v.Type == item.TypeB && w.Type == item.TypeB:
		return bytes.Contains(v.B, w.B)
	case v.Type == item.TypeL:
		for _, e := range v.L {
			if item.Equal(e, w) {
				return true
			}
		}
		return false
	}
	return setHas(v, w)
}

// setHas reports whether the set v has the member w.
func setHas(v, w item.Value) bool {
	switch {
	case v.Type == item.TypeSS && w.Type == item.TypeS:
		return slices.Contains(v.SS, w.S)
	case v.Type == item.TypeNS && w.Type == item.TypeN:
		return slices.ContainsFunc(v.NS, func(n item.Number) bool { return n.Cmp(w.N) == 0 })
	case v.Type == item.TypeBS && w.Type == item.TypeB:
		return slices.ContainsFunc(v.BS, func(b []byte) bool { return bytes.Equal(b, w.B) })
	}
	return false
}
