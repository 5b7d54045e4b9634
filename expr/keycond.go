package expr

import (
	"strings"

	"github.com/partitadb/partita/item"
)

// KeyCondition is a parsed KeyConditionExpression: terms joined by AND,
// each a condition on one top-level attribute. Resolve matches them to the
// key schema: an equality on the partition key and at most one condition
// on the sort key.
type KeyCondition struct {
	Terms []KeyTerm // in source order
	cond  *Condition
}

// KeyTerm is one condition on a key attribute.
type KeyTerm struct {
	Name   string       // the attribute (placeholders resolved)
	Op     Op           // OpEq, OpLt, OpLe, OpGt, OpGe, OpBetween, or OpFunc for begins_with
	Values []item.Value // the operand; the lower and upper bound for BETWEEN
}

// ParseKeyCondition parses a KeyConditionExpression through env. Besides
// the errors of any condition, it rejects operators a key condition cannot
// use ("Invalid operator used in KeyConditionExpression: OR") and terms
// that are not "attribute op :value" ("Query key condition not supported").
func ParseKeyCondition(s string, env *Env) (*KeyCondition, error) {
	c, err := ParseCondition(KindKeyCondition, s, env)
	if err != nil {
		return nil, err
	}
	k := &KeyCondition{cond: c}
	if err := k.collect(c.Root); err != nil {
		return nil, err
	}
	return k, nil
}

// collect appends the terms under n, which may only be joined by AND.
func (k *KeyCondition) collect(n *Node) error {
	switch n.Op {
	case OpAnd:
		if err := k.collect(n.Children[0]); err != nil {
			return err
		}
		return k.collect(n.Children[1])
	case OpOr, OpNot, OpNe, OpIn:
		return invalidf(KindKeyCondition, "Invalid operator used in KeyConditionExpression: %s", n.Op)
	case OpFunc:
		if n.Func != "begins_with" {
			return invalidf(KindKeyCondition, "Invalid operator used in KeyConditionExpression: %s", n.Func)
		}
	}
	t, ok := keyTerm(n)
	if !ok {
		return errorf("Query key condition not supported")
	}
	k.Terms = append(k.Terms, t)
	return nil
}

// keyTerm turns "attr op :v", ":v op attr", "attr BETWEEN :a AND :b" or
// "begins_with(attr, :v)" into a KeyTerm.
func keyTerm(n *Node) (KeyTerm, bool) {
	ops, op := n.Operands, n.Op
	if op.isComparison() && isKeyValue(ops[0]) && isKeyAttr(ops[1]) {
		ops, op = []*Operand{ops[1], ops[0]}, flip(op)
	}
	if !isKeyAttr(ops[0]) {
		return KeyTerm{}, false
	}
	t := KeyTerm{Name: ops[0].Path.Name(), Op: op}
	for _, o := range ops[1:] {
		if !isKeyValue(o) {
			return KeyTerm{}, false
		}
		t.Values = append(t.Values, o.Value)
	}
	return t, true
}

func isKeyAttr(o *Operand) bool  { return o.Kind == OperandPath && len(o.Path) == 1 }
func isKeyValue(o *Operand) bool { return o.Kind == OperandValue }

// flip returns the comparison with its operands swapped: a < b is b > a.
func flip(op Op) Op {
	switch op {
	case OpLt:
		return OpGt
	case OpLe:
		return OpGe
	case OpGt:
		return OpLt
	case OpGe:
		return OpLe
	}
	return op
}

// Resolve matches the terms to a key schema (rangeKey "" for a table
// without a sort key) and returns the partition key's equality and the
// sort key's condition, if any.
func (k *KeyCondition) Resolve(hashKey, rangeKey string) (hash KeyTerm, rng *KeyTerm, err error) {
	var gotHash, other bool
	for i := range k.Terms {
		t := &k.Terms[i]
		switch {
		case t.Name == hashKey && gotHash, rangeKey != "" && t.Name == rangeKey && rng != nil:
			return KeyTerm{}, nil, errorf("KeyConditionExpressions must only contain one condition per key")
		case t.Name == hashKey && t.Op != OpEq:
			return KeyTerm{}, nil, errorf("Query key condition not supported")
		case t.Name == hashKey:
			hash, gotHash = *t, true
		case rangeKey != "" && t.Name == rangeKey:
			rng = t
		default:
			other = true
		}
	}
	switch {
	case !gotHash:
		return KeyTerm{}, nil, errorf("Query condition missed key schema element: %s", hashKey)
	case other && rangeKey != "" && rng == nil:
		return KeyTerm{}, nil, errorf("Query condition missed key schema element: %s", rangeKey)
	case other:
		return KeyTerm{}, nil, errorf("Query key condition not supported")
	}
	return hash, rng, nil
}

// Eval reports whether it matches every term.
func (k *KeyCondition) Eval(it item.Item) bool {
	ok, _ := k.cond.Eval(it)
	return ok
}

// String prints the key condition.
func (k *KeyCondition) String() string {
	s := make([]string, len(k.Terms))
	for i, t := range k.Terms {
		s[i] = t.String()
	}
	return strings.Join(s, " AND ")
}

// String prints the term with its values, for tests and logs.
func (t KeyTerm) String() string {
	vals := make([]string, len(t.Values))
	for i, v := range t.Values {
		vals[i] = attrValueString(v)
	}
	if t.Op == OpFunc {
		return "begins_with(" + t.Name + ", " + strings.Join(vals, ", ") + ")"
	}
	return t.Name + " " + t.Op.String() + " " + strings.Join(vals, " AND ")
}
