package expr

import "github.com/partitadb/partita/item"

// Op is the operator of a condition node.
type Op uint8

// The condition operators. Comparisons take two operands, BETWEEN three
// (the value, the lower and the upper bound), IN one followed by its list;
// AND and OR have two children, NOT one; OpFunc is a boolean function call
// (attribute_exists, attribute_not_exists, attribute_type, begins_with,
// contains) whose arguments are the node's operands.
const (
	OpEq Op = iota + 1
	OpNe
	OpLt
	OpLe
	OpGt
	OpGe
	OpBetween
	OpIn
	OpAnd
	OpOr
	OpNot
	OpFunc
)

var opNames = [...]string{"", "=", "<>", "<", "<=", ">", ">=", "BETWEEN", "IN", "AND", "OR", "NOT", "function"}

// String returns the operator as written in expressions.
func (o Op) String() string {
	if int(o) < len(opNames) {
		return opNames[o]
	}
	return "?"
}

// comparators maps comparison punctuation to its operator.
var comparators = map[string]Op{"=": OpEq, "<>": OpNe, "<": OpLt, "<=": OpLe, ">": OpGt, ">=": OpGe}

// isComparison reports whether o is one of = <> < <= > >=.
func (o Op) isComparison() bool { return o >= OpEq && o <= OpGe }

// Node is one node of a parsed condition.
type Node struct {
	Op       Op
	Operands []*Operand // comparisons, BETWEEN, IN, and OpFunc arguments
	Func     string     // OpFunc: the function's name
	Children []*Node    // AND, OR: two; NOT: one

	parens int // parentheses written directly around the node
}

// OperandKind says what an Operand is.
type OperandKind uint8

// The kinds of operands.
const (
	OperandPath  OperandKind = iota + 1 // a document path, read from the item
	OperandValue                        // an expression attribute value (:v)
	OperandCall                         // a function: size() in conditions; if_not_exists, list_append, + and - in updates
)

// Operand is a value in an expression: a path, a :value or a function of
// other operands.
type Operand struct {
	Kind        OperandKind
	Path        Path       // OperandPath
	Placeholder string     // OperandValue: the ":name" as written
	Value       item.Value // OperandValue: the value it stands for
	Func        string     // OperandCall: "size", "if_not_exists", "list_append", "+" or "-"
	Args        []*Operand // OperandCall

	parens int // parentheses written directly around the operand
}

// Condition is a parsed ConditionExpression (also the form of
// FilterExpression and, with restrictions, KeyConditionExpression).
type Condition struct {
	Root *Node
	Kind string // the request parameter it came from, e.g. KindFilter
}

// Paths returns every document path the condition reads, in source order;
// Query uses it to reject a FilterExpression on key attributes.
func (c *Condition) Paths() []Path {
	var out []Path
	walkNodes(c.Root, func(n *Node) {
		for _, o := range n.Operands {
			out = appendPaths(out, o)
		}
	})
	return out
}

// walkNodes calls f on n and its descendants, in source order.
func walkNodes(n *Node, f func(*Node)) {
	f(n)
	for _, c := range n.Children {
		walkNodes(c, f)
	}
}

// appendPaths appends the paths o reads.
func appendPaths(out []Path, o *Operand) []Path {
	switch o.Kind {
	case OperandPath:
		return append(out, o.Path)
	case OperandCall:
		for _, a := range o.Args {
			out = appendPaths(out, a)
		}
	}
	return out
}
