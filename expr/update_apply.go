package expr

import (
	"maps"
	"slices"

	"github.com/partitadb/partita/item"
)

// Apply returns the item that results from applying u to it (nil for a
// missing item; the result then starts empty and the caller merges the key).
// it is not modified. Errors carry DynamoDB's validation messages.
//
// As in DynamoDB, every operand is read from it before anything is written
// ("SET a = b, b = a" swaps), and list indexes refer to positions in it:
// SET and ADD run first in path order (so several appends past the end of
// a list land in index order), then REMOVE and DELETE in reverse path
// order (so removing a[1] and a[3] removes the original elements). On a
// missing item, REMOVE and DELETE do nothing.
func (u *Update) Apply(it item.Item) (item.Item, error) {
	return u.apply(it, it == nil)
}

// ApplyToKey is Apply for an item that does not exist yet, whose key
// attributes are key: operands can read the key (SET dup = pk), the result
// includes it, and REMOVE and DELETE do nothing. key is not modified.
func (u *Update) ApplyToKey(key item.Item) (item.Item, error) {
	return u.apply(key, true)
}

func (u *Update) apply(it item.Item, missing bool) (item.Item, error) {
	vals, err := u.values(it)
	if err != nil {
		return nil, err
	}
	root := item.Value{Type: item.TypeM, M: maps.Clone(it)}
	if root.M == nil {
		root.M = map[string]item.Value{}
	}
	order := u.order()
	for _, i := range order {
		if k := u.Actions[i].Kind; k == ActionSet || k == ActionAdd {
			if root, err = modify(root, u.Actions[i].Path, editFor(k, vals[i]), true); err != nil {
				return nil, err
			}
		}
	}
	for _, i := range slices.Backward(order) {
		if k := u.Actions[i].Kind; !missing && (k == ActionRemove || k == ActionDelete) {
			if root, err = modify(root, u.Actions[i].Path, editFor(k, vals[i]), true); err != nil {
				return nil, err
			}
		}
	}
	return item.Item(root.M), nil
}

// values evaluates every action's operand against the original item.
func (u *Update) values(it item.Item) ([]item.Value, error) {
	vals := make([]item.Value, len(u.Actions))
	for i, a := range u.Actions {
		if a.Value == nil {
			continue
		}
		v, err := setOperandValue(a.Value, it)
		if err != nil {
			return nil, err
		}
		vals[i] = v
	}
	return vals, nil
}

// order returns the action indexes sorted by path.
func (u *Update) order() []int {
	idx := make([]int, len(u.Actions))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(i, j int) int { return u.Actions[i].Path.compare(u.Actions[j].Path) })
	return idx
}

// setOperandValue evaluates an operand of SET (or the :value of ADD and DELETE).
func setOperandValue(o *Operand, it item.Item) (item.Value, error) {
	switch o.Kind {
	case OperandValue:
		return o.Value, nil
	case OperandPath:
		if v, ok := o.Path.Get(it); ok {
			return v, nil
		}
		return item.Value{}, errorf(msgMissingAttr)
	}
	if o.Func == "if_not_exists" {
		if v, ok := o.Args[0].Path.Get(it); ok {
			return v, nil
		}
		return setOperandValue(o.Args[1], it)
	}
	a, err := setOperandValue(o.Args[0], it)
	if err != nil {
		return item.Value{}, err
	}
	b, err := setOperandValue(o.Args[1], it)
	if err != nil {
		return item.Value{}, err
	}
	return combine(o.Func, a, b)
}

// combine evaluates list_append(a, b), a + b or a - b.
func combine(fn string, a, b item.Value) (item.Value, error) {
	if fn == "list_append" {
		if a.Type != item.TypeL || b.Type != item.TypeL {
			return item.Value{}, errorf(msgBadOperandType)
		}
		return item.Value{Type: item.TypeL, L: slices.Concat(a.L, b.L)}, nil
	}
	if a.Type != item.TypeN || b.Type != item.TypeN {
		return item.Value{}, errorf(msgBadOperandType)
	}
	op := a.N.Add
	if fn == "-" {
		op = a.N.Sub
	}
	n, err := op(b.N)
	if err != nil {
		return item.Value{}, fromItemError(err)
	}
	return item.N(n), nil
}
