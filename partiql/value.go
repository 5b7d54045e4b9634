package partiql

import (
	"bytes"
	"errors"
	"slices"
	"strconv"

	"github.com/partitadb/partita/item"
)

// maxValueDepth is how deep literal collections may nest, as DynamoDB
// bounds the nesting of attribute values.
const maxValueDepth = 32

// isConstant reports whether e is a value known before any item is read:
// a literal, a parameter, or a collection of constants.
func isConstant(e Expr) bool {
	switch x := e.(type) {
	case *Literal, *Param:
		return true
	case *ListExpr:
		return allConstant(x.Elems)
	case *BagExpr:
		return allConstant(x.Elems)
	case *MapExpr:
		return allConstant(x.Vals)
	}
	return false
}

func allConstant(es []Expr) bool {
	for _, e := range es {
		if !isConstant(e) {
			return false
		}
	}
	return true
}

// constant returns the value of the constant e with params bound.
// Messages name where in it a bad value is: root, root.key, root[1].
func constant(e Expr, params []item.Value) (item.Value, error) {
	return constantAt(e, params, "root", 0)
}

// numberValue parses a number literal written at path under.
func numberValue(text, under string) (item.Value, error) {
	n, err := item.ParseNumber(text)
	var ie *item.Error
	if errors.As(err, &ie) {
		return item.Value{}, errorf("%s under %s", ie.Msg, under)
	}
	if err != nil {
		return item.Value{}, malformed("")
	}
	return item.N(n), nil
}

func constantAt(e Expr, params []item.Value, under string, depth int) (item.Value, error) {
	if depth > maxValueDepth {
		return item.Value{}, errorf("Nesting Levels have exceeded supported limits")
	}
	switch x := e.(type) {
	case *Literal:
		switch {
		case x.Missing:
			return item.Value{}, errorf("%s", msgMissingCompare)
		case x.Num != "":
			return numberValue(x.Num, under)
		}
		return x.Value, nil
	case *Param:
		if x.N >= len(params) {
			return item.Value{}, errorf("%s", msgParamCount)
		}
		return params[x.N], nil
	case *ListExpr:
		l := make([]item.Value, 0, len(x.Elems))
		for i, el := range x.Elems {
			v, err := constantAt(el, params, under+"["+strconv.Itoa(i)+"]", depth+1)
			if err != nil {
				return item.Value{}, err
			}
			l = append(l, v)
		}
		return item.Value{Type: item.TypeL, L: l}, nil
	case *MapExpr:
		return mapConstant(x, params, under, depth)
	case *BagExpr:
		return bagConstant(x, params, under, depth)
	}
	return item.Value{}, errorf("Unsupported operation: expression in a value")
}

// mapConstant builds a map value; a key given twice is an error.
func mapConstant(x *MapExpr, params []item.Value, under string, depth int) (item.Value, error) {
	m := make(map[string]item.Value, len(x.Keys))
	for i, k := range x.Keys {
		if _, dup := m[k]; dup {
			return item.Value{}, errorf("Duplicate keys in tuple. Key: %s under %s", k, under)
		}
		v, err := constantAt(x.Vals[i], params, under+"."+k, depth+1)
		if err != nil {
			return item.Value{}, err
		}
		m[k] = v
	}
	return item.Value{Type: item.TypeM, M: m}, nil
}

// bagConstant builds a set: all numbers, all strings or all binaries.
func bagConstant(x *BagExpr, params []item.Value, under string, depth int) (item.Value, error) {
	if len(x.Elems) == 0 {
		return item.Value{}, errorf("%s", msgEmptyBag)
	}
	var set item.Value
	for _, el := range x.Elems {
		v, err := constantAt(el, params, under, depth+1)
		if err != nil {
			return item.Value{}, err
		}
		if err := addToSet(&set, v); err != nil {
			return item.Value{}, err
		}
	}
	return set, nil
}

// addToSet adds scalar v to set, fixing the set's type on the first
// element; a duplicate element is dropped, as a bag of a set's values
// means the set.
func addToSet(set *item.Value, v item.Value) error {
	want := map[item.Type]item.Type{item.TypeS: item.TypeSS, item.TypeN: item.TypeNS, item.TypeB: item.TypeBS}[v.Type]
	if want == 0 || set.Type != 0 && set.Type != want {
		return errorf("%s", msgBagType)
	}
	set.Type = want
	switch v.Type {
	case item.TypeS:
		if !slices.Contains(set.SS, v.S) {
			set.SS = append(set.SS, v.S)
		}
	case item.TypeN:
		if !slices.ContainsFunc(set.NS, func(n item.Number) bool { return n.Cmp(v.N) == 0 }) {
			set.NS = append(set.NS, v.N)
		}
	case item.TypeB:
		if !slices.ContainsFunc(set.BS, func(b []byte) bool { return bytes.Equal(b, v.B) }) {
			set.BS = append(set.BS, v.B)
		}
	}
	return nil
}
