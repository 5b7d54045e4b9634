package expr

import "strings"

// Printing: String methods print parsed expressions back in expression
// syntax, with placeholders as written and only the parentheses precedence
// needs, so a printed expression parses to an equivalent tree.

// String prints the condition.
func (c *Condition) String() string { return c.Root.String() }

// String prints the node and its descendants.
func (n *Node) String() string {
	var b strings.Builder
	n.print(&b, precOr)
	return b.String()
}

// Binding strength of condition operators, loosest first.
const (
	precOr = iota
	precAnd
	precNot
	precSimple
)

func (n *Node) prec() int {
	switch n.Op {
	case OpOr:
		return precOr
	case OpAnd:
		return precAnd
	case OpNot:
		return precNot
	}
	return precSimple
}

// print writes n, in parentheses if it binds looser than min.
func (n *Node) print(b *strings.Builder, min int) {
	if n.prec() < min {
		b.WriteByte('(')
		defer b.WriteByte(')')
	}
	switch n.Op {
	case OpOr, OpAnd:
		n.Children[0].print(b, n.prec())
		b.WriteString(" " + n.Op.String() + " ")
		n.Children[1].print(b, n.prec()+1)
	case OpNot:
		b.WriteString("NOT ")
		n.Children[0].print(b, precNot)
	case OpFunc:
		b.WriteString(n.Func + "(" + operandList(n.Operands) + ")")
	case OpBetween:
		b.WriteString(n.Operands[0].String() + " BETWEEN " + n.Operands[1].String() + " AND " + n.Operands[2].String())
	case OpIn:
		b.WriteString(n.Operands[0].String() + " IN (" + operandList(n.Operands[1:]) + ")")
	default:
		b.WriteString(n.Operands[0].String() + " " + n.Op.String() + " " + n.Operands[1].String())
	}
}

// String prints the operand.
func (o *Operand) String() string {
	switch o.Kind {
	case OperandPath:
		return o.Path.source()
	case OperandValue:
		return o.Placeholder
	}
	if o.Func == "+" || o.Func == "-" {
		return o.Args[0].String() + " " + o.Func + " " + o.Args[1].String()
	}
	return o.Func + "(" + operandList(o.Args) + ")"
}

func operandList(ops []*Operand) string {
	s := make([]string, len(ops))
	for i, o := range ops {
		s[i] = o.String()
	}
	return strings.Join(s, ", ")
}

// String prints the update, one clause per run of actions of a kind.
func (u *Update) String() string {
	var b strings.Builder
	for i, a := range u.Actions {
		switch {
		case i > 0 && u.Actions[i-1].Kind == a.Kind:
			b.WriteString(", ")
		case i > 0:
			b.WriteString(" " + a.Kind.String() + " ")
		default:
			b.WriteString(a.Kind.String() + " ")
		}
		b.WriteString(a.String())
	}
	return b.String()
}

// String prints the action without its clause keyword.
func (a Action) String() string {
	switch a.Kind {
	case ActionSet:
		return a.Path.source() + " = " + a.Value.String()
	case ActionRemove:
		return a.Path.source()
	}
	return a.Path.source() + " " + a.Value.String()
}
