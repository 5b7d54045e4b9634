package expr

import (
	"strconv"
	"strings"
)

// parser is a recursive-descent parser over the tokens of one expression.
// It builds the syntax tree only; names, values and every rule that is not
// grammar are checked afterwards by a checker, in DynamoDB's order.
type parser struct {
	kind     string   // the request parameter, for messages
	src      string   // the expression, for "near" in syntax errors
	toks     []token  // always ends with tEOF
	i        int      // the current token
	keywords []string // identifiers that are syntax here, not names
	closing  []int    // for each "(" token, the index of its ")", or -1
}

func newParser(kind, src string, keywords []string) *parser {
	toks := lex(src)
	return &parser{kind: kind, src: src, toks: toks, keywords: keywords, closing: matchParens(toks)}
}

// matchParens pairs parentheses: closing[i] is the index of the ")" that
// closes the "(" at i, or -1 (also for tokens that are not "(").
func matchParens(toks []token) []int {
	closing := make([]int, len(toks))
	var open []int
	for i, t := range toks {
		closing[i] = -1
		switch {
		case t.is("("):
			open = append(open, i)
		case t.is(")") && len(open) > 0:
			closing[open[len(open)-1]] = i
			open = open[:len(open)-1]
		}
	}
	return closing
}

// checkText rejects an empty expression, or an oversized one when limited,
// before parsing it.
func checkText(kind, s string, limited bool) error {
	if s == "" {
		return invalidf(kind, "The expression can not be empty;")
	}
	if limited && len(s) > MaxExpressionSize {
		return invalidf(kind, "Expression size has exceeded the maximum allowed size; expression size: %d", len(s))
	}
	return nil
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) peekAt(k int) token {
	if p.i+k < len(p.toks) {
		return p.toks[p.i+k]
	}
	return p.toks[len(p.toks)-1]
}

// next consumes the current token (never moving past the end).
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

// expect consumes the punctuation punct or fails with a syntax error.
func (p *parser) expect(punct string) error {
	if !p.peek().is(punct) {
		return p.syntaxError()
	}
	p.next()
	return nil
}

// expectEOF fails unless every token has been consumed.
func (p *parser) expectEOF() error {
	if p.peek().kind != tEOF {
		return p.syntaxError()
	}
	return nil
}

// syntaxError reports the current token as DynamoDB does: the token, and
// the source from the previous token through the next one.
func (p *parser) syntaxError() error {
	t := p.toks[p.i]
	start, end := t.pos, t.end
	if p.i > 0 {
		start = p.toks[p.i-1].pos
	}
	if p.i+1 < len(p.toks) {
		end = p.toks[p.i+1].end
	}
	return invalidf(p.kind, "Syntax error; token: \"%s\", near: \"%s\"", t.text, p.src[start:end])
}

// isKeyword reports whether t is one of this grammar's keywords.
func (p *parser) isKeyword(t token) bool {
	if t.kind != tIdent {
		return false
	}
	for _, kw := range p.keywords {
		if strings.EqualFold(t.text, kw) {
			return true
		}
	}
	return false
}

// path parses a document path: name { "." name | "[" index "]" }.
func (p *parser) path() (Path, error) {
	first, err := p.pathName()
	if err != nil {
		return nil, err
	}
	path := Path{first}
	for {
		switch {
		case p.peek().is("."):
			p.next()
			e, err := p.pathName()
			if err != nil {
				return nil, err
			}
			path = append(path, e)
		case p.peek().is("["):
			p.next()
			e, err := p.pathIndex()
			if err != nil {
				return nil, err
			}
			path = append(path, e)
		default:
			if len(path) > MaxPathDepth {
				return nil, invalidf(p.kind, "The document path has too many nesting levels; nesting levels: %d", len(path))
			}
			return path, nil
		}
	}
}

// pathName parses an attribute name or an expression attribute name.
func (p *parser) pathName() (PathElem, error) {
	t := p.peek()
	switch {
	case t.kind == tIdent && !p.isKeyword(t):
		p.next()
		return PathElem{Name: t.text}, nil
	case t.kind == tName:
		p.next()
		return PathElem{placeholder: t.text}, nil
	}
	return PathElem{}, p.syntaxError()
}

// pathIndex parses the "index ]" of a list index.
func (p *parser) pathIndex() (PathElem, error) {
	t := p.peek()
	if t.kind != tInt {
		return PathElem{}, p.syntaxError()
	}
	n, err := strconv.Atoi(t.text)
	if err != nil {
		return PathElem{}, p.syntaxError()
	}
	p.next()
	if err := p.expect("]"); err != nil {
		return PathElem{}, err
	}
	return PathElem{Index: n, IsIndex: true}, nil
}

// operand parses "(" operand ")" | function call | :value | path.
func (p *parser) operand() (*Operand, error) {
	t := p.peek()
	switch {
	case t.is("("):
		p.next()
		o, err := p.operand()
		if err != nil {
			return nil, err
		}
		o.parens++
		return o, p.expect(")")
	case t.kind == tValue:
		p.next()
		return &Operand{Kind: OperandValue, Placeholder: t.text}, nil
	case t.kind == tIdent && !p.isKeyword(t) && p.peekAt(1).is("("):
		return p.call()
	}
	path, err := p.path()
	if err != nil {
		return nil, err
	}
	return &Operand{Kind: OperandPath, Path: path}, nil
}

// call parses name "(" operand { "," operand } ")". The name is checked
// later, so an unknown function is a validation error, not a syntax error.
func (p *parser) call() (*Operand, error) {
	name := p.next().text
	p.next() // "("
	var args []*Operand
	for {
		a, err := p.operand()
		if err != nil {
			return nil, err
		}
		args = append(args, a)
		if !p.peek().is(",") {
			break
		}
		p.next()
	}
	if err := p.expect(")"); err != nil {
		return nil, err
	}
	return &Operand{Kind: OperandCall, Func: name, Args: args}, nil
}
