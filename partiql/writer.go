package partiql

import (
	"strconv"
	"strings"

	"github.com/partitadb/partita/item"
)

// writer turns PartiQL expressions into DynamoDB expression text over
// generated placeholders: every name is a #nK (no reserved word can
// clash), every constant a :vK.
type writer struct {
	params []item.Value
	names  map[string]string // placeholder -> name
	byName map[string]string // name -> placeholder
	values item.Item
}

func newWriter(params []item.Value) *writer {
	return &writer{params: params, names: map[string]string{}, byName: map[string]string{}, values: item.Item{}}
}

// name returns the placeholder of attribute or key name n.
func (w *writer) name(n string) string {
	if ph, ok := w.byName[n]; ok {
		return ph
	}
	ph := "#n" + strconv.Itoa(len(w.names))
	w.names[ph], w.byName[n] = n, ph
	return ph
}

// value returns a fresh placeholder for v.
func (w *writer) value(v item.Value) string {
	ph := ":v" + strconv.Itoa(len(w.values))
	w.values[ph] = v
	return ph
}

// path writes p with placeholders.
func (w *writer) path(p Path) string {
	var b strings.Builder
	for i, e := range p {
		switch {
		case e.IsIndex:
			b.WriteString("[" + strconv.Itoa(e.Index) + "]")
		case i > 0:
			b.WriteString("." + w.name(e.Name))
		default:
			b.WriteString(w.name(e.Name))
		}
	}
	return b.String()
}

// cond writes a boolean expression as a condition.
func (w *writer) cond(e Expr) (string, error) {
	switch x := e.(type) {
	case *Binary:
		return w.binaryCond(x)
	case *Not:
		s, err := w.cond(x.X)
		if isLogical(x.X, "AND") || isLogical(x.X, "OR") {
			s = "(" + s + ")"
		}
		return "NOT " + s, err
	case *Between:
		return w.between(x)
	case *In:
		return w.in(x)
	case *Is:
		return w.is(x)
	case *Call:
		return w.callCond(x)
	}
	return "", errorf("%s", msgWhereBoolean)
}

func (w *writer) binaryCond(x *Binary) (string, error) {
	switch x.Op {
	case "AND", "OR":
		l, err := w.cond(x.L)
		if err != nil {
			return "", err
		}
		r, err := w.cond(x.R)
		if err != nil {
			return "", err
		}
		if x.Op == "AND" {
			l, r = wrapOr(x.L, l), wrapOr(x.R, r)
		}
		return l + " " + x.Op + " " + r, nil
	case "+", "-":
		return "", errorf("%s", msgWhereBoolean)
	}
	l, err := w.operand(x.L)
	if err != nil {
		return "", err
	}
	r, err := w.operand(x.R)
	if err != nil {
		return "", err
	}
	op := x.Op
	if op == "!=" {
		op = "<>"
	}
	return l + " " + op + " " + r, nil
}

// isLogical reports whether e is the logical operator op.
func isLogical(e Expr, op string) bool {
	b, ok := e.(*Binary)
	return ok && b.Op == op
}

// wrapOr parenthesizes s, the text of e, when e is an OR under an AND.
func wrapOr(e Expr, s string) string {
	if isLogical(e, "OR") {
		return "(" + s + ")"
	}
	return s
}

func (w *writer) between(x *Between) (string, error) {
	ops, err := w.operands(x.X, x.Lo, x.Hi)
	if err != nil {
		return "", err
	}
	s := ops[0] + " BETWEEN " + ops[1] + " AND " + ops[2]
	if x.Negated {
		s = "NOT (" + s + ")"
	}
	return s, nil
}

func (w *writer) in(x *In) (string, error) {
	if _, ok := x.X.(*PathExpr); !ok {
		return "", errorf("%s", msgInvalidIn)
	}
	ops, err := w.operands(append([]Expr{x.X}, x.List...)...)
	if err != nil {
		return "", err
	}
	s := ops[0] + " IN (" + strings.Join(ops[1:], ", ") + ")"
	if x.Negated {
		s = "NOT (" + s + ")"
	}
	return s, nil
}

// isTypeNames maps IS types to DynamoDB's attribute types.
var isTypeNames = map[string]string{
	"NULL": "NULL", "BOOLEAN": "BOOL", "BLOB": "B", "STRING": "S", "NUMERIC": "N",
	"STRUCT": "M", "TUPLE": "M", "LIST": "L",
}

func (w *writer) is(x *Is) (string, error) {
	pe, ok := x.X.(*PathExpr)
	if !ok {
		return "", errorf("The left hand side argument to IS must be a Variable Reference, Literal, or Path")
	}
	p := w.path(pe.Path)
	if x.Type == "MISSING" {
		if x.Negated {
			return "attribute_exists(" + p + ")", nil
		}
		return "attribute_not_exists(" + p + ")", nil
	}
	s := "attribute_type(" + p + ", " + w.value(item.S(isTypeNames[x.Type])) + ")"
	if x.Negated {
		s = "NOT (" + s + ")"
	}
	return s, nil
}

// condFuncs are the functions that decide a condition, with their
// argument counts.
var condFuncs = map[string]int{
	"begins_with": 2, "contains": 2, "attribute_type": 2,
	"attribute_exists": 1, "attribute_not_exists": 1,
}

func (w *writer) callCond(x *Call) (string, error) {
	if x.Name == "exists" {
		return "", errorf("%s", msgExistsOutsideTx)
	}
	n, ok := condFuncs[x.Name]
	if !ok {
		if x.Name == "size" {
			return "", errorf("%s", msgWhereBoolean)
		}
		return "", errorf("Unrecognized function: %s", x.Name)
	}
	if len(x.Args) != n {
		return "", malformed("Incorrect number of arguments to " + x.Name)
	}
	ops, err := w.operands(x.Args...)
	if err != nil {
		return "", err
	}
	return x.Name + "(" + strings.Join(ops, ", ") + ")", nil
}

func (w *writer) operands(es ...Expr) ([]string, error) {
	out := make([]string, len(es))
	for i, e := range es {
		s, err := w.operand(e)
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

// operand writes a value of a condition: a path, a constant or size().
func (w *writer) operand(e Expr) (string, error) {
	switch x := e.(type) {
	case *PathExpr:
		return w.path(x.Path), nil
	case *Call:
		if x.Name != "size" || len(x.Args) != 1 {
			return "", errorf("Unsupported operation: function %s as an operand", x.Name)
		}
		p, ok := x.Args[0].(*PathExpr)
		if !ok {
			return "", errorf("Unsupported operation: size of a value")
		}
		return "size(" + w.path(p.Path) + ")", nil
	}
	if !isConstant(e) {
		return "", errorf("Unsupported operation: expression as an operand")
	}
	v, err := constant(e, w.params)
	if err != nil {
		return "", err
	}
	return w.value(v), nil
}
