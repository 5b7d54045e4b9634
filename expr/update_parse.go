package expr

import "strings"

// updateKeywords are the identifiers that are syntax in update expressions.
var updateKeywords = []string{"SET", "REMOVE", "ADD", "DELETE"}

// clauseKind returns the clause a keyword token opens, or 0.
func clauseKind(t token) ActionKind {
	if t.kind != tIdent {
		return 0
	}
	for i, kw := range updateKeywords {
		if strings.EqualFold(t.text, kw) {
			return ActionKind(i + 1)
		}
	}
	return 0
}

// parseUpdateTree parses s into actions, also returning the clauses in the
// order they appear (so a repeated clause can be reported).
func parseUpdateTree(s string, limited bool) (*Update, []ActionKind, error) {
	if err := checkText(KindUpdate, s, limited); err != nil {
		return nil, nil, err
	}
	p := newParser(KindUpdate, s, updateKeywords)
	u := &Update{}
	var clauses []ActionKind
	for {
		kind := clauseKind(p.peek())
		if kind == 0 {
			return nil, nil, p.syntaxError()
		}
		p.next()
		clauses = append(clauses, kind)
		if err := p.clause(kind, u); err != nil {
			return nil, nil, err
		}
		if p.peek().kind == tEOF {
			if limited {
				if err := checkUpdateOperators(u); err != nil {
					return nil, nil, err
				}
			}
			return u, clauses, nil
		}
	}
}

// clause parses the comma-separated actions of one clause.
func (p *parser) clause(kind ActionKind, u *Update) error {
	for {
		a, err := p.action(kind)
		if err != nil {
			return err
		}
		u.Actions = append(u.Actions, a)
		if !p.peek().is(",") {
			break
		}
		p.next()
	}
	if t := p.peek(); t.kind != tEOF && clauseKind(t) == 0 {
		return p.syntaxError()
	}
	return nil
}

// action parses one action of a clause of the given kind.
func (p *parser) action(kind ActionKind) (Action, error) {
	path, err := p.path()
	if err != nil {
		return Action{}, err
	}
	a := Action{Kind: kind, Path: path}
	switch kind {
	case ActionSet:
		if err := p.expect("="); err != nil {
			return Action{}, err
		}
		a.Value, err = p.setValue()
	case ActionAdd, ActionDelete:
		t := p.peek()
		if t.kind != tValue {
			return Action{}, p.syntaxError()
		}
		p.next()
		a.Value = &Operand{Kind: OperandValue, Placeholder: t.text}
	}
	return a, err
}

// setValue parses what SET assigns: operand [ ("+" | "-") operand ],
// possibly in parentheses. "(" may open either the whole value, as in
// "(a + b)", or its first operand, as in "(a) + b"; the first reading is
// kept only when no "+" or "-" follows the ")".
func (p *parser) setValue() (*Operand, error) {
	if p.peek().is("(") {
		save := p.i
		p.next()
		if v, err := p.setSum(); err == nil && p.peek().is(")") {
			p.next()
			if t := p.peek(); !t.is("+") && !t.is("-") {
				v.parens++
				return v, nil
			}
		}
		p.i = save
	}
	return p.setSum()
}

// setSum parses operand [ ("+" | "-") operand ].
func (p *parser) setSum() (*Operand, error) {
	a, err := p.operand()
	if err != nil {
		return nil, err
	}
	t := p.peek()
	if !t.is("+") && !t.is("-") {
		return a, nil
	}
	p.next()
	b, err := p.operand()
	if err != nil {
		return nil, err
	}
	return &Operand{Kind: OperandCall, Func: t.text, Args: []*Operand{a, b}}, nil
}
