package expr

import "github.com/partitadb/partita/item"

// updateFuncs are the functions of update expressions, by arity; "+" and
// "-" are parsed as functions of two operands too.
var updateFuncs = map[string]int{"if_not_exists": 2, "list_append": 2}

// typeWords are how DynamoDB names types in ADD and DELETE messages.
var typeWords = map[item.Type]string{
	item.TypeS: "STRING", item.TypeN: "NUMBER", item.TypeB: "BINARY", item.TypeNULL: "NULL",
	item.TypeBOOL: "BOOLEAN", item.TypeL: "LIST", item.TypeM: "MAP",
}

// update checks a parsed update expression.
func (c *checker) update(u *Update, clauses []ActionKind) {
	seen := map[ActionKind]bool{}
	for _, k := range clauses {
		if seen[k] {
			c.report(catSection, "The \"%s\" section can only be used once in an update expression;", k)
		}
		seen[k] = true
	}
	paths := make([]Path, len(u.Actions))
	for i, a := range u.Actions {
		c.action(a)
		paths[i] = a.Path
	}
	c.overlaps(paths)
}

// action checks one action.
func (c *checker) action(a Action) {
	c.path(a.Path)
	switch a.Kind {
	case ActionSet:
		c.updOperand(a.Value, false)
	case ActionAdd, ActionDelete:
		c.value(a.Value)
		t, ok := literalType(a.Value)
		allowed := t == item.TypeSS || t == item.TypeNS || t == item.TypeBS || t == item.TypeN && a.Kind == ActionAdd
		if ok && !allowed {
			c.report(catActionType, "Incorrect operand type for operator or function; operator: %s, operand type: %s", a.Kind, typeWords[t])
		}
	}
}

// updOperand checks an operand of SET; nested is true inside a function.
func (c *checker) updOperand(o *Operand, nested bool) {
	c.parens(o.parens)
	switch o.Kind {
	case OperandPath:
		c.path(o.Path)
	case OperandValue:
		c.value(o)
	case OperandCall:
		c.updCall(o, nested)
	}
}

// updCall checks a function (or + and -) in SET.
func (c *checker) updCall(o *Operand, nested bool) {
	name := o.Func
	arity, known := updateFuncs[name]
	if name == "+" || name == "-" {
		arity, known = 2, true
	}
	switch {
	case condFuncs[name].arity > 0:
		c.report(catFunction, "The function is not allowed in an update expression; function: %s", name)
	case !known:
		c.report(catFunction, "Invalid function name; function: %s", name)
	case name == "list_append" && nested:
		c.report(catMisuse, "The function is not allowed to be used this way in an expression; function: %s", name)
	}
	for _, a := range o.Args {
		c.updOperand(a, true)
	}
	if !known {
		return
	}
	if len(o.Args) != arity {
		c.report(catOperands, "Incorrect number of operands for operator or function; operator or function: %s, number of operands: %d", name, len(o.Args))
		return
	}
	c.updCallTypes(name, o.Args)
}

// updCallTypes checks the operands a SET function requires.
func (c *checker) updCallTypes(name string, args []*Operand) {
	want := item.TypeN
	switch name {
	case "if_not_exists":
		if args[0].Kind != OperandPath {
			c.report(catType, "Operator or function requires a document path; operator or function: %s", name)
		}
		return
	case "list_append":
		want = item.TypeL
	}
	for _, a := range args {
		if t, ok := literalType(a); ok && t != want {
			c.wrongType(name, t.String())
			return
		}
	}
}

// overlaps reports paths that address the same element or one inside
// another (overlap), or that step into the same value both as a map and as
// a list (conflict). Each path is compared with those before it.
func (c *checker) overlaps(paths []Path) {
	for j := range paths {
		for i := 0; i < j; i++ {
			switch relate(paths[i], paths[j]) {
			case pathsOverlap:
				c.report(catOverlap, "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: %s, path two: %s", paths[i], paths[j])
				return
			case pathsConflict:
				c.report(catConflict, "Two document paths conflict with each other; must remove or rewrite one of these paths; path one: %s, path two: %s", paths[i], paths[j])
			}
		}
	}
}

// relation is how two document paths relate.
type relation int

const (
	pathsDisjoint relation = iota
	pathsOverlap
	pathsConflict
)

// relate compares two paths over their common length.
func relate(a, b Path) relation {
	for k := 0; k < len(a) && k < len(b); k++ {
		if a[k].IsIndex != b[k].IsIndex {
			return pathsConflict
		}
		if !a[k].same(b[k]) {
			return pathsDisjoint
		}
	}
	return pathsOverlap
}
