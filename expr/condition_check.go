package expr

import "github.com/partitadb/partita/item"

// condFunc describes a function of the condition language.
type condFunc struct {
	arity     int
	predicate bool // a condition by itself; otherwise (size) a value
}

var condFuncs = map[string]condFunc{
	"attribute_exists":     {1, true},
	"attribute_not_exists": {1, true},
	"attribute_type":       {2, true},
	"begins_with":          {2, true},
	"contains":             {2, true},
	"size":                 {1, false},
}

// validTypes is how DynamoDB lists attribute_type's valid type names.
const validTypes = "{B,NULL,SS,BOOL,L,BS,N,NS,S,M}"

// node checks a condition node and its descendants.
func (c *checker) node(n *Node) {
	c.parens(n.parens)
	switch n.Op {
	case OpAnd, OpOr, OpNot:
		for _, ch := range n.Children {
			c.node(ch)
		}
	case OpFunc:
		c.condCall(n.Func, n.Operands, true)
	default:
		c.predicate(n)
	}
}

// predicate checks a comparison, BETWEEN or IN.
func (c *checker) predicate(n *Node) {
	for _, o := range n.Operands {
		c.condOperand(o)
	}
	if n.Op == OpIn && len(n.Operands) > MaxInOperands && c.env.limited(c.kind) {
		c.report(catOperands, "The IN operator is provided with too many operands; number of operands: %d", len(n.Operands))
	}
	c.distinct(n.Op.String(), n.Operands)
	switch {
	case n.Op == OpBetween:
		c.between(n.Operands)
	case n.Op.isComparison() && n.Op != OpEq && n.Op != OpNe:
		c.orderable(n.Op.String(), n.Operands)
	}
}

// condOperand checks an operand of a condition.
func (c *checker) condOperand(o *Operand) {
	c.parens(o.parens)
	switch o.Kind {
	case OperandPath:
		c.path(o.Path)
	case OperandValue:
		c.value(o)
	case OperandCall:
		c.condCall(o.Func, o.Args, false)
	}
}

// condCall checks a function call, used as a condition (asPredicate) or as
// an operand.
func (c *checker) condCall(name string, args []*Operand, asPredicate bool) {
	f, known := condFuncs[name]
	switch {
	case updateFuncs[name] > 0:
		c.report(catFunction, "The function is not allowed in a condition expression; function: %s", name)
	case !known:
		c.report(catFunction, "Invalid function name; function: %s", name)
	case f.predicate != asPredicate:
		c.report(catMisuse, "The function is not allowed to be used this way in an expression; function: %s", name)
	}
	for _, a := range args {
		c.condOperand(a)
	}
	if !known {
		return
	}
	if len(args) != f.arity {
		c.report(catOperands, "Incorrect number of operands for operator or function; operator or function: %s, number of operands: %d", name, len(args))
		return
	}
	c.distinct(name, args)
	c.condCallTypes(name, args)
}

// condCallTypes checks the operand types a function requires.
func (c *checker) condCallTypes(name string, args []*Operand) {
	switch name {
	case "attribute_exists", "attribute_not_exists":
		if args[0].Kind != OperandPath {
			c.report(catType, "Operator or function requires a document path; operator or function: %s", name)
		}
	case "attribute_type":
		c.attributeType(args[1])
	case "begins_with":
		for _, a := range args {
			if t, ok := operandType(a); ok && t != item.TypeS && t != item.TypeB {
				c.wrongType(name, t.String())
				return
			}
		}
	case "size":
		if t, ok := operandType(args[0]); ok && (t == item.TypeN || t == item.TypeBOOL || t == item.TypeNULL) {
			c.wrongType(name, t.String())
		}
	}
}

// attributeType checks attribute_type's type operand: a :value naming a type.
func (c *checker) attributeType(o *Operand) {
	t, ok := operandType(o)
	switch {
	case !ok && o.Kind == OperandValue:
		// undefined value: reported already
	case !ok:
		c.wrongType("attribute_type", "{NS,SS,L,BS,N,M,B,BOOL,NULL,S}")
	case t != item.TypeS:
		c.wrongType("attribute_type", t.String())
	default:
		if _, valid := item.ParseType(o.Value.S); !valid {
			c.report(catType, "Invalid attribute type name found; type: %s, valid types: %s", o.Value.S, validTypes)
		}
	}
}

// operandType returns the type an operand is known to have before
// evaluation: a :value's type, or N for size().
func operandType(o *Operand) (item.Type, bool) {
	if o.Kind == OperandCall && o.Func == "size" {
		return item.TypeN, true
	}
	return literalType(o)
}

// wrongType reports an operand of the wrong type for a function or operator.
func (c *checker) wrongType(name, typ string) {
	c.report(catType, "Incorrect operand type for operator or function; operator or function: %s, operand type: %s", name, typ)
}

// orderable reports a :value that cannot be ordered in <, <=, >, >=, BETWEEN.
func (c *checker) orderable(op string, ops []*Operand) bool {
	for _, o := range ops {
		if t, ok := literalType(o); ok && !isScalar(t) {
			c.wrongType(op, t.String())
			return false
		}
	}
	return true
}

// between checks that literal bounds have one type and are in order.
func (c *checker) between(ops []*Operand) {
	if !c.orderable("BETWEEN", ops) {
		return
	}
	lo, hi := ops[1], ops[2]
	lt, lok := literalType(lo)
	ht, hok := literalType(hi)
	if !lok || !hok {
		return
	}
	bounds := "lower bound operand: " + attrValueString(lo.Value) + ", upper bound operand: " + attrValueString(hi.Value)
	if lt != ht {
		c.report(catType, "The BETWEEN operator requires same data type for lower and upper bounds; %s", bounds)
	} else if cmp, _ := item.Compare(lo.Value, hi.Value); cmp > 0 {
		c.report(catType, "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; %s", bounds)
	}
}
