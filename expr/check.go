package expr

import (
	"encoding/base64"

	"github.com/partitadb/partita/item"
)

// category groups validation errors. DynamoDB validates a parsed expression
// in passes, so when an expression has several problems the one reported
// is the first in category order (then in source order), not the first in
// the text. The order below follows DynamoDB's observed behaviour.
type category int

const (
	catParens     category = iota // redundant parentheses
	catReserved                   // a reserved word used as a name (updates, projections)
	catFunction                   // unknown function, or one not allowed in this expression
	catMisuse                     // function used where it cannot be
	catSection                    // update clause used twice
	catName                       // undefined #name
	catValue                      // undefined :value
	catOverlap                    // overlapping document paths
	catConflict                   // conflicting document paths
	catActionType                 // ADD or DELETE given a value of the wrong type
	catOperands                   // wrong number of operands
	catDistinct                   // the same path on both sides
	catType                       // wrong operand type, path required, bad BETWEEN bounds
	numCategories
)

// checker collects the first validation error of each category while
// walking a syntax tree, resolving placeholders through env as it goes.
type checker struct {
	kind string
	env  *Env
	errs [numCategories]error

	// reservedFirst reports reserved words before function errors, as
	// DynamoDB does in update expressions; conditions do the opposite.
	reservedFirst bool
}

func newChecker(kind string, env *Env) *checker {
	return &checker{kind: kind, env: env}
}

// report records an error unless its category already has one.
func (c *checker) report(cat category, format string, args ...any) {
	if c.errs[cat] == nil {
		c.errs[cat] = invalidf(c.kind, format, args...)
	}
}

// err returns the error to report, or nil.
func (c *checker) err() error {
	order := []category{catParens, catFunction, catMisuse, catReserved}
	if c.reservedFirst {
		order = []category{catParens, catReserved, catFunction, catMisuse}
	}
	for cat := catSection; cat < numCategories; cat++ {
		order = append(order, cat)
	}
	for _, cat := range order {
		if c.errs[cat] != nil {
			return c.errs[cat]
		}
	}
	return nil
}

// parens reports an operand or condition wrapped in two or more pairs of
// parentheses.
func (c *checker) parens(n int) {
	if n > 1 {
		c.report(catParens, "The expression has redundant parentheses;")
	}
}

// path checks reserved words and resolves the #names of p, in place.
func (c *checker) path(p Path) {
	for i := range p {
		e := &p[i]
		switch {
		case e.IsIndex:
		case e.placeholder == "":
			if IsReserved(e.Name) {
				c.report(catReserved, "Attribute name is a reserved keyword; reserved keyword: %s", e.Name)
			}
		default:
			name, ok := c.env.name(e.placeholder)
			if !ok {
				c.report(catName, "An expression attribute name used in the document path is not defined; attribute name: %s", e.placeholder)
			}
			e.Name = name
		}
	}
}

// value resolves the :value operand o, in place.
func (c *checker) value(o *Operand) {
	v, ok := c.env.value(o.Placeholder)
	if !ok {
		c.report(catValue, "An expression attribute value used in expression is not defined; attribute value: %s", o.Placeholder)
	}
	o.Value = v
}

// literalType returns the type of a resolved :value operand.
func literalType(o *Operand) (item.Type, bool) {
	if o.Kind != OperandValue || o.Value.Type == 0 {
		return 0, false
	}
	return o.Value.Type, true
}

// isScalar reports whether t can be ordered (S, N or B).
func isScalar(t item.Type) bool { return t == item.TypeS || t == item.TypeN || t == item.TypeB }

// distinct reports a path given again as a later operand of op.
func (c *checker) distinct(op string, ops []*Operand) {
	if len(ops) < 2 || ops[0].Kind != OperandPath {
		return
	}
	for _, o := range ops[1:] {
		if o.Kind == OperandPath && o.Path.Equal(ops[0].Path) {
			c.report(catDistinct, "The first operand must be distinct from the remaining operands for this operator or function; operator: %s, first operand: %s", op, ops[0].Path)
			return
		}
	}
}

// attrValueString prints a scalar value as DynamoDB quotes it in BETWEEN
// messages: "AttributeValue: {N:3}".
func attrValueString(v item.Value) string {
	var s string
	switch v.Type {
	case item.TypeS:
		s = v.S
	case item.TypeN:
		s = v.N.String()
	case item.TypeB:
		s = base64.StdEncoding.EncodeToString(v.B)
	}
	return "AttributeValue: {" + v.Type.String() + ":" + s + "}"
}
