package partiql

import (
	"strconv"
	"strings"

	"github.com/partitadb/partita/item"
)

// MaxStatementLength is the longest statement DynamoDB accepts, in
// characters.
const MaxStatementLength = 8192

// maxDepth bounds the nesting of expressions, so that a hostile statement
// cannot exhaust the stack.
const maxDepth = 64

// reserved are the keywords that cannot be bare attribute names; quote
// them ("value") to use them as names.
var reserved = map[string]bool{
	"SELECT": true, "FROM": true, "WHERE": true, "AND": true, "OR": true, "NOT": true,
	"IN": true, "IS": true, "BETWEEN": true, "INSERT": true, "INTO": true, "VALUE": true,
	"VALUES": true, "UPDATE": true, "SET": true, "REMOVE": true, "DELETE": true,
	"RETURNING": true, "TRUE": true, "FALSE": true, "NULL": true, "MISSING": true,
	"ORDER": true, "BY": true, "AS": true, "AT": true, "LIMIT": true, "LIKE": true,
}

// parser is a recursive descent parser over the tokens of one statement.
type parser struct {
	toks   []token
	i      int
	params int
	depth  int
}

// Parse parses one statement.
func Parse(src string) (*Statement, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	st, err := p.statement()
	if err != nil {
		return nil, err
	}
	if p.peek().is(";") {
		p.i++
	}
	if p.peek().kind != tEOF {
		return nil, malformed(msgLeftover)
	}
	st.Params = p.params
	return st, nil
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

// accept consumes the bare keyword kw if it comes next.
func (p *parser) accept(kw string) bool {
	if p.peek().isKeyword(kw) {
		p.i++
		return true
	}
	return false
}

// acceptPunct consumes the punctuation s if it comes next.
func (p *parser) acceptPunct(s string) bool {
	if p.peek().is(s) {
		p.i++
		return true
	}
	return false
}

func (p *parser) expect(kw string) error {
	if !p.accept(kw) {
		return p.unexpected()
	}
	return nil
}

func (p *parser) expectPunct(s string) error {
	if !p.acceptPunct(s) {
		return p.unexpected()
	}
	return nil
}

// unexpected is the syntax error at the next token.
func (p *parser) unexpected() error {
	t := p.peek()
	switch {
	case t.kind == tEOF || t.is(";"):
		return malformed("Unexpected term")
	case t.isKeyword("IS") || t.isKeyword("LIKE") || t.kind == tPunct && isComparison(t.text):
		return malformed("Unexpected operator")
	case t.kind == tIdent && reserved[strings.ToUpper(t.text)]:
		return malformed("Unexpected keyword")
	}
	return malformed("Unexpected token")
}

// msgLeftover is the detail of a statement with tokens after its end.
const msgLeftover = "Unexpected token after expression"

// rightHandSide checks that an infix operator has something after it.
func (p *parser) rightHandSide() error {
	if t := p.peek(); t.kind == tEOF || t.is(";") {
		return malformed("Missing right-hand side expression of infix operator")
	}
	return nil
}

// statement parses one of SELECT, INSERT, UPDATE and DELETE.
func (p *parser) statement() (*Statement, error) {
	switch {
	case p.accept("SELECT"):
		return p.selectStatement()
	case p.accept("INSERT"):
		return p.insertStatement()
	case p.accept("UPDATE"):
		return p.updateStatement()
	case p.accept("DELETE"):
		return p.deleteStatement()
	}
	return nil, malformed("Expected data manipulation")
}

// selectStatement parses the rest of SELECT proj FROM source [WHERE e]
// [ORDER BY k [ASC|DESC], ...].
func (p *parser) selectStatement() (*Statement, error) {
	st := &Statement{Kind: KindSelect}
	if err := p.projection(st); err != nil {
		return nil, err
	}
	if err := p.expect("FROM"); err != nil {
		return nil, err
	}
	if err := p.source(st); err != nil {
		return nil, err
	}
	if err := p.where(st, false); err != nil {
		return nil, err
	}
	return st, p.orderBy(st)
}

// projection parses `*` or a list of paths.
func (p *parser) projection(st *Statement) error {
	for {
		if p.acceptPunct("*") {
			st.Star = true
		} else {
			path, err := p.path()
			if err != nil {
				return err
			}
			st.Projection = append(st.Projection, path)
		}
		if p.accept("AS") {
			return errorf("%s", msgAlias)
		}
		if !p.acceptPunct(",") {
			break
		}
	}
	if st.Star && len(st.Projection) > 0 {
		return errorf("%s", msgStarAndOthers)
	}
	return nil
}

// source parses `table` or `table.index`.
func (p *parser) source(st *Statement) error {
	name, err := p.name()
	if err != nil {
		return err
	}
	st.Table = name
	if p.acceptPunct(".") {
		if st.Index, err = p.name(); err != nil {
			return err
		}
		if p.peek().is(".") {
			return errorf("%s", msgFromPath)
		}
	}
	if p.accept("AS") || p.peek().kind == tIdent && !reserved[strings.ToUpper(p.peek().text)] {
		return errorf("%s", msgAlias)
	}
	return nil
}

// tableName parses the single table of INSERT, UPDATE and DELETE.
func (p *parser) tableName(st *Statement) error {
	t := p.peek()
	if t.kind != tQuoted && (t.kind != tIdent || reserved[strings.ToUpper(t.text)]) {
		return malformed("Expected identifier for simple path")
	}
	name, err := p.name()
	if err != nil {
		return err
	}
	st.Table = name
	if p.peek().is(".") {
		return errorf("%s", msgIndexWrite)
	}
	if st.Kind != KindInsert && (p.accept("AS") || p.peek().kind == tIdent && !reserved[strings.ToUpper(p.peek().text)]) {
		return errorf("%s", msgAlias)
	}
	return nil
}

// name parses an identifier, bare or quoted.
func (p *parser) name() (string, error) {
	t := p.peek()
	switch {
	case t.kind == tQuoted:
		p.i++
		return t.text, nil
	case t.kind == tIdent && !reserved[strings.ToUpper(t.text)]:
		p.i++
		return t.text, nil
	}
	return "", p.unexpected()
}

// where parses an optional (or, when required, mandatory) WHERE clause.
func (p *parser) where(st *Statement, required bool) error {
	if !p.accept("WHERE") {
		if required {
			return errorf("%s", msgIncompleteKey)
		}
		return nil
	}
	e, err := p.expr()
	if err != nil {
		return err
	}
	st.Where = e
	return nil
}

// orderBy parses ORDER BY key [ASC|DESC], ...
func (p *parser) orderBy(st *Statement) error {
	if !p.accept("ORDER") {
		return nil
	}
	if err := p.expect("BY"); err != nil {
		return err
	}
	for {
		n, err := p.name()
		if err != nil {
			return err
		}
		desc := p.accept("DESC")
		if !desc {
			p.accept("ASC")
		}
		st.OrderBy, st.OrderDesc = append(st.OrderBy, n), append(st.OrderDesc, desc)
		if !p.acceptPunct(",") {
			return nil
		}
	}
}

// insertStatement parses the rest of INSERT INTO table VALUE {...}.
func (p *parser) insertStatement() (*Statement, error) {
	st := &Statement{Kind: KindInsert}
	if err := p.expect("INTO"); err != nil {
		return nil, err
	}
	if err := p.tableName(st); err != nil {
		return nil, err
	}
	if p.peek().isKeyword("VALUES") || p.peek().is("<<") || p.peek().is("(") {
		return nil, errorf("Unsupported operation: Inserting multiple items in a single statement is not supported, use \"INSERT INTO tableName VALUE item\" instead")
	}
	if !p.accept("VALUE") {
		if p.peek().kind == tEOF {
			return nil, p.unexpected()
		}
		return nil, malformed(msgLeftover)
	}
	v, err := p.operand()
	if err != nil {
		return nil, err
	}
	if _, ok := v.(*MapExpr); !ok {
		return nil, errorf("%s", msgInsertItem)
	}
	st.Value = v
	if p.peek().isKeyword("RETURNING") {
		return nil, errorf("%s", msgReturningInsert)
	}
	return st, nil
}

// updateStatement parses the rest of UPDATE table SET ... REMOVE ...
// WHERE e [RETURNING ...].
func (p *parser) updateStatement() (*Statement, error) {
	st := &Statement{Kind: KindUpdate}
	if err := p.tableName(st); err != nil {
		return nil, err
	}
	for {
		var err error
		switch {
		case p.accept("SET"):
			err = p.sets(st)
		case p.accept("REMOVE"):
			err = p.removes(st)
		default:
			if len(st.Sets)+len(st.Removes) == 0 {
				return nil, p.unexpected()
			}
			if err := p.where(st, true); err != nil {
				return nil, err
			}
			return st, p.returning(st)
		}
		if err != nil {
			return nil, err
		}
	}
}

// sets parses `path = value, ...`.
func (p *parser) sets(st *Statement) error {
	for {
		path, err := p.path()
		if err != nil {
			return err
		}
		if err := p.expectPunct("="); err != nil {
			return err
		}
		v, err := p.additive()
		if err != nil {
			return err
		}
		st.Sets = append(st.Sets, Assign{Path: path, Value: v})
		if !p.acceptPunct(",") {
			return nil
		}
	}
}

// removes parses `path, ...`.
func (p *parser) removes(st *Statement) error {
	for {
		path, err := p.path()
		if err != nil {
			return err
		}
		st.Removes = append(st.Removes, path)
		if !p.acceptPunct(",") {
			return nil
		}
	}
}

// deleteStatement parses the rest of DELETE FROM table WHERE e
// [RETURNING ALL OLD *].
func (p *parser) deleteStatement() (*Statement, error) {
	st := &Statement{Kind: KindDelete}
	if err := p.expect("FROM"); err != nil {
		return nil, err
	}
	if err := p.tableName(st); err != nil {
		return nil, err
	}
	if err := p.where(st, true); err != nil {
		return nil, err
	}
	if err := p.returning(st); err != nil {
		return nil, err
	}
	if st.Returning != "" && st.Returning != "ALL OLD" {
		return nil, errorf("Invalid returning clause: RETURNING %s *. Only RETURNING ALL OLD * is allowed in DELETE statements.", st.Returning)
	}
	return st, nil
}

// returning parses RETURNING (ALL|MODIFIED) (OLD|NEW) *.
func (p *parser) returning(st *Statement) error {
	if !p.accept("RETURNING") {
		return nil
	}
	var which, when string
	switch {
	case p.accept("ALL"):
		which = "ALL"
	case p.accept("MODIFIED"):
		which = "MODIFIED"
	default:
		return p.unexpected()
	}
	switch {
	case p.accept("OLD"):
		when = "OLD"
	case p.accept("NEW"):
		when = "NEW"
	default:
		return p.unexpected()
	}
	if !p.acceptPunct("*") {
		return errorf("%s", msgReturningSyntax)
	}
	st.Returning = which + " " + when
	return nil
}

// path parses name ( .name | [index] )*.
func (p *parser) path() (Path, error) {
	if p.peek().is("[") {
		return nil, errorf("%s", msgPathStartsAtIndex)
	}
	first, err := p.pathName()
	if err != nil {
		return nil, err
	}
	path := Path{{Name: first}}
	for {
		switch {
		case p.acceptPunct("."):
			n, err := p.pathName()
			if err != nil {
				return nil, err
			}
			path = append(path, PathElem{Name: n})
		case p.acceptPunct("["):
			elem, err := p.index()
			if err != nil {
				return nil, err
			}
			path = append(path, elem)
		default:
			return path, nil
		}
	}
}

// pathName parses one name of a path, which may not be empty.
func (p *parser) pathName() (string, error) {
	n, err := p.name()
	if err == nil && n == "" {
		return "", errorf("Path component cannot be an empty string")
	}
	return n, err
}

// index parses the rest of [n] or ['key'].
func (p *parser) index() (PathElem, error) {
	t := p.next()
	var elem PathElem
	switch t.kind {
	case tNumber:
		n, err := strconv.Atoi(t.text)
		if err != nil || n < 0 {
			return elem, malformed("Invalid list index")
		}
		elem = PathElem{Index: n, IsIndex: true}
	case tString:
		elem = PathElem{Name: t.text}
	default:
		p.i--
		return elem, p.unexpected()
	}
	return elem, p.expectPunct("]")
}

// enter guards recursion depth.
func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return malformed("Expression nested too deeply")
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

// expr parses OR, the loosest operator.
func (p *parser) expr() (Expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.accept("OR") {
		if err := p.rightHandSide(); err != nil {
			return nil, err
		}
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = &Binary{Op: "OR", L: l, R: r}
	}
	return l, nil
}

func (p *parser) and() (Expr, error) {
	l, err := p.not()
	if err != nil {
		return nil, err
	}
	for p.accept("AND") {
		if err := p.rightHandSide(); err != nil {
			return nil, err
		}
		r, err := p.not()
		if err != nil {
			return nil, err
		}
		l = &Binary{Op: "AND", L: l, R: r}
	}
	return l, nil
}

func (p *parser) not() (Expr, error) {
	if p.accept("NOT") {
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer p.leave()
		x, err := p.not()
		if err != nil {
			return nil, err
		}
		return &Not{X: x}, nil
	}
	return p.predicate()
}

// predicate parses a comparison, BETWEEN, IN or IS, or a lone operand.
func (p *parser) predicate() (Expr, error) {
	l, err := p.additive()
	if err != nil {
		return nil, err
	}
	t := p.peek()
	switch {
	case t.kind == tPunct && isComparison(t.text):
		p.i++
		r, err := p.additive()
		if err != nil {
			return nil, err
		}
		return &Binary{Op: t.text, L: l, R: r}, nil
	case t.isKeyword("IS"):
		p.i++
		return p.is(l)
	}
	negated := false
	if t.isKeyword("NOT") && (p.toks[p.i+1].isKeyword("BETWEEN") || p.toks[p.i+1].isKeyword("IN")) {
		p.i++
		negated = true
	}
	switch {
	case p.accept("BETWEEN"):
		return p.between(l, negated)
	case p.accept("IN"):
		return p.in(l, negated)
	}
	return l, nil
}

func isComparison(s string) bool {
	switch s {
	case "=", "<>", "!=", "<", "<=", ">", ">=":
		return true
	}
	return false
}

func (p *parser) between(x Expr, negated bool) (Expr, error) {
	lo, err := p.additive()
	if err != nil {
		return nil, err
	}
	if err := p.expect("AND"); err != nil {
		return nil, err
	}
	hi, err := p.additive()
	if err != nil {
		return nil, err
	}
	return &Between{X: x, Lo: lo, Hi: hi, Negated: negated}, nil
}

func (p *parser) in(x Expr, negated bool) (Expr, error) {
	var end string
	switch {
	case p.acceptPunct("["):
		end = "]"
	case p.acceptPunct("("):
		end = ")"
	case p.peek().kind == tPunct && p.peek().text == "?":
		return nil, errorf("%s", msgInvalidIn)
	default:
		return nil, p.unexpected()
	}
	elems, err := p.elems(end)
	if err != nil {
		return nil, err
	}
	if len(elems) == 0 {
		return nil, errorf("%s", msgInvalidIn)
	}
	return &In{X: x, List: elems, Negated: negated}, nil
}

// isTypes are the types IS accepts.
var isTypes = map[string]bool{
	"MISSING": true, "NULL": true, "BOOLEAN": true, "BLOB": true, "STRING": true,
	"NUMERIC": true, "STRUCT": true, "TUPLE": true, "LIST": true,
}

func (p *parser) is(x Expr) (Expr, error) {
	negated := p.accept("NOT")
	t := p.next()
	if t.kind != tIdent {
		p.i--
		return nil, p.unexpected()
	}
	typ := strings.ToUpper(t.text)
	if !isTypes[typ] {
		return nil, malformed("Expected type name")
	}
	return &Is{X: x, Type: typ, Negated: negated}, nil
}

// additive parses operand (+|- operand)*.
func (p *parser) additive() (Expr, error) {
	l, err := p.operand()
	if err != nil {
		return nil, err
	}
	for p.peek().is("+") || p.peek().is("-") {
		op := p.next().text
		r, err := p.operand()
		if err != nil {
			return nil, err
		}
		l = &Binary{Op: op, L: l, R: r}
	}
	return l, nil
}

// operand parses a literal, a parameter, a collection, a parenthesized
// expression, a function call or a path.
func (p *parser) operand() (Expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	t := p.peek()
	switch t.kind {
	case tString:
		p.i++
		return &Literal{Value: item.S(t.text)}, nil
	case tNumber:
		p.i++
		return number(t.text, false)
	case tPunct:
		return p.punctOperand(t)
	case tIdent:
		if lit, ok := keywordLiteral(t.text); ok {
			p.i++
			return lit, nil
		}
		if p.toks[p.i+1].is("(") && !reserved[strings.ToUpper(t.text)] {
			return p.call()
		}
	}
	path, err := p.path()
	if err != nil {
		return nil, err
	}
	return &PathExpr{Path: path}, nil
}

// keywordLiteral returns the literal a keyword stands for.
func keywordLiteral(word string) (*Literal, bool) {
	switch strings.ToUpper(word) {
	case "TRUE":
		return &Literal{Value: item.Bool(true)}, true
	case "FALSE":
		return &Literal{Value: item.Bool(false)}, true
	case "NULL":
		return &Literal{Value: item.Null()}, true
	case "MISSING":
		return &Literal{Missing: true}, true
	}
	return nil, false
}

// number is a numeric literal, checked against DynamoDB's number rules
// when its value is taken (the message then names where it is).
func number(text string, neg bool) (Expr, error) {
	if neg {
		text = "-" + text
	}
	return &Literal{Num: text}, nil
}

// punctOperand parses an operand that starts with punctuation.
func (p *parser) punctOperand(t token) (Expr, error) {
	p.i++
	switch t.text {
	case "?":
		p.params++
		return &Param{N: p.params - 1}, nil
	case "-":
		if n := p.peek(); n.kind == tNumber {
			p.i++
			return number(n.text, true)
		}
	case "[":
		elems, err := p.elems("]")
		if err != nil {
			return nil, err
		}
		return &ListExpr{Elems: elems}, nil
	case "<<":
		elems, err := p.elems(">>")
		if err != nil {
			return nil, err
		}
		return &BagExpr{Elems: elems}, nil
	case "{":
		return p.mapExpr()
	case "(":
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		return e, p.expectPunct(")")
	}
	p.i--
	return nil, p.unexpected()
}

// elems parses a comma-separated list of operands up to end.
func (p *parser) elems(end string) ([]Expr, error) {
	var out []Expr
	if p.acceptPunct(end) {
		return out, nil
	}
	for {
		e, err := p.additive()
		if err != nil {
			return nil, err
		}
		out = append(out, e)
		if p.acceptPunct(end) {
			return out, nil
		}
		if err := p.expectPunct(","); err != nil {
			return nil, err
		}
	}
}

// mapExpr parses the rest of {'k': v, ...}.
func (p *parser) mapExpr() (Expr, error) {
	m := &MapExpr{}
	if p.acceptPunct("}") {
		return m, nil
	}
	for {
		t := p.next()
		if t.kind != tString && t.kind != tQuoted {
			p.i--
			return nil, p.unexpected()
		}
		if err := p.expectPunct(":"); err != nil {
			return nil, err
		}
		v, err := p.additive()
		if err != nil {
			return nil, err
		}
		m.Keys, m.Vals = append(m.Keys, t.text), append(m.Vals, v)
		if p.acceptPunct("}") {
			return m, nil
		}
		if err := p.expectPunct(","); err != nil {
			return nil, err
		}
	}
}

// call parses name(args).
func (p *parser) call() (Expr, error) {
	name := strings.ToLower(p.next().text)
	p.i++ // (
	args, err := p.elemsOrConditions()
	if err != nil {
		return nil, err
	}
	return &Call{Name: name, Args: args}, nil
}

// elemsOrConditions parses call arguments up to ")": full expressions, so
// that EXISTS(SELECT ...) reports what DynamoDB does.
func (p *parser) elemsOrConditions() ([]Expr, error) {
	var out []Expr
	if p.acceptPunct(")") {
		return out, nil
	}
	for {
		if p.peek().isKeyword("SELECT") {
			return nil, errorf("%s", msgExistsOutsideTx)
		}
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		out = append(out, e)
		if p.acceptPunct(")") {
			return out, nil
		}
		if err := p.expectPunct(","); err != nil {
			return nil, err
		}
	}
}
