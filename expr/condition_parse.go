package expr

// conditionKeywords are the identifiers that are syntax in conditions.
var conditionKeywords = []string{"AND", "OR", "NOT", "BETWEEN", "IN"}

// ParseCondition parses a condition expression, resolving #names and
// :values through env (an undefined one is an error). kind names the
// request parameter for messages ("ConditionExpression", "FilterExpression").
func ParseCondition(kind, s string, env *Env) (*Condition, error) {
	root, err := parseConditionTree(kind, s, env.limited(kind))
	if err != nil {
		return nil, err
	}
	c := newChecker(kind, env)
	c.node(root)
	if err := c.err(); err != nil {
		return nil, err
	}
	return &Condition{Root: root, Kind: kind}, nil
}

// parseConditionTree parses s into a syntax tree, without resolving or
// checking anything beyond the grammar.
func parseConditionTree(kind, s string, limited bool) (*Node, error) {
	if err := checkText(kind, s, limited); err != nil {
		return nil, err
	}
	p := newParser(kind, s, conditionKeywords)
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if err := p.expectEOF(); err != nil {
		return nil, err
	}
	if limited {
		if err := checkConditionOperators(kind, n); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// or parses and { OR and }: OR binds loosest.
func (p *parser) or() (*Node, error) {
	left, err := p.and()
	for err == nil && p.peek().isKeyword("OR") {
		p.next()
		var right *Node
		if right, err = p.and(); err == nil {
			left = &Node{Op: OpOr, Children: []*Node{left, right}}
		}
	}
	return left, err
}

// and parses not { AND not }.
func (p *parser) and() (*Node, error) {
	left, err := p.not()
	for err == nil && p.peek().isKeyword("AND") {
		p.next()
		var right *Node
		if right, err = p.not(); err == nil {
			left = &Node{Op: OpAnd, Children: []*Node{left, right}}
		}
	}
	return left, err
}

// not parses NOT not | primary: NOT binds tighter than AND.
func (p *parser) not() (*Node, error) {
	if !p.peek().isKeyword("NOT") {
		return p.primary()
	}
	p.next()
	c, err := p.not()
	if err != nil {
		return nil, err
	}
	return &Node{Op: OpNot, Children: []*Node{c}}, nil
}

// primary parses a parenthesized condition or a simple one. A "(" may also
// open a parenthesized operand, as in "(a) = :v": that reading is tried
// when a comparison follows the matching ")", and kept if it parses.
func (p *parser) primary() (*Node, error) {
	if !p.peek().is("(") {
		return p.simple()
	}
	save := p.i
	if c := p.closing[p.i]; c >= 0 && p.startsComparisonAt(c+1) {
		if o, err := p.operand(); err == nil && p.startsComparison() {
			return p.comparison(o)
		}
		p.i = save
	}
	p.next()
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	n.parens++
	return n, p.expect(")")
}

// simple parses a comparison, BETWEEN, IN, or a function call.
func (p *parser) simple() (*Node, error) {
	o, err := p.operand()
	if err != nil {
		return nil, err
	}
	if p.startsComparison() {
		return p.comparison(o)
	}
	if o.Kind == OperandCall && o.parens == 0 {
		return &Node{Op: OpFunc, Func: o.Func, Operands: o.Args}, nil
	}
	return nil, p.syntaxError()
}

// startsComparison reports whether the current token continues an operand
// into a comparison, BETWEEN or IN.
func (p *parser) startsComparison() bool { return p.startsComparisonAt(p.i) }

// startsComparisonAt is startsComparison for the token at index i.
func (p *parser) startsComparisonAt(i int) bool {
	t := p.toks[min(i, len(p.toks)-1)]
	_, cmp := comparators[t.text]
	return t.kind == tPunct && cmp || t.isKeyword("BETWEEN") || t.isKeyword("IN")
}

// comparison parses the rest of a comparison whose left operand is left.
func (p *parser) comparison(left *Operand) (*Node, error) {
	t := p.next()
	switch {
	case t.isKeyword("BETWEEN"):
		return p.between(left)
	case t.isKeyword("IN"):
		return p.in(left)
	}
	right, err := p.operand()
	if err != nil {
		return nil, err
	}
	return &Node{Op: comparators[t.text], Operands: []*Operand{left, right}}, nil
}

// between parses "lower AND upper".
func (p *parser) between(v *Operand) (*Node, error) {
	lo, err := p.operand()
	if err != nil {
		return nil, err
	}
	if !p.peek().isKeyword("AND") {
		return nil, p.syntaxError()
	}
	p.next()
	hi, err := p.operand()
	if err != nil {
		return nil, err
	}
	return &Node{Op: OpBetween, Operands: []*Operand{v, lo, hi}}, nil
}

// in parses "( operand { , operand } )".
func (p *parser) in(v *Operand) (*Node, error) {
	if err := p.expect("("); err != nil {
		return nil, err
	}
	ops := []*Operand{v}
	for {
		o, err := p.operand()
		if err != nil {
			return nil, err
		}
		ops = append(ops, o)
		if !p.peek().is(",") {
			break
		}
		p.next()
	}
	return &Node{Op: OpIn, Operands: ops}, p.expect(")")
}
