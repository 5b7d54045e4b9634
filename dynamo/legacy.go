package dynamo

import (
	"strconv"
	"strings"

	"github.com/partitadb/partita/item"
)

// Legacy (pre-expression) request parameters are translated here into
// expression text with generated placeholders, which the expr package then
// parses like any other expression: there is one evaluator.
//
//	Expected {"a": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "1"}]}}
//	  -> "#l0 > :l0" with #l0 = a, :l0 = 1
//	AttributeUpdates {"a": {"Action": "ADD", "Value": {"N": "1"}}}
//	  -> "ADD #l0 :l0"
//	AttributesToGet ["a", "b"] -> "#l0, #l1"
//
// Legacy and expression parameters mix in one case only (Query's
// KeyConditions with FilterExpression or ProjectionExpression): there the
// generated placeholders skip those the request names itself.

// translation accumulates the placeholders of translated parameters.
type translation struct {
	names  map[string]string
	values item.Item
	byName map[string]string
	// taken reports a placeholder of the request's own (nil: none).
	taken func(string) bool
	// nextName and nextValue number the next placeholders.
	nextName, nextValue int
}

// newTranslation returns an empty translation.
func newTranslation() *translation {
	return &translation{names: map[string]string{}, values: item.Item{}, byName: map[string]string{}}
}

// fresh returns the next placeholder prefix+n not taken by the request,
// advancing *n past it.
func (tr *translation) fresh(prefix string, n *int) string {
	for {
		p := prefix + strconv.Itoa(*n)
		*n++
		if tr.taken == nil || !tr.taken(p) {
			return p
		}
	}
}

// name returns the placeholder of attribute name attr.
func (tr *translation) name(attr string) string {
	if p, ok := tr.byName[attr]; ok {
		return p
	}
	p := tr.fresh("#l", &tr.nextName)
	tr.names[p] = attr
	tr.byName[attr] = p
	return p
}

// value returns a fresh placeholder for v.
func (tr *translation) value(v item.Value) string {
	p := tr.fresh(":l", &tr.nextValue)
	tr.values[p] = v
	return p
}

// translateAttributesToGet turns AttributesToGet into a projection.
func translateAttributesToGet(attrs []string, tr *translation) (string, error) {
	seen := map[string]bool{}
	parts := make([]string, len(attrs))
	for i, a := range attrs {
		if seen[a] {
			return "", validationf("%sDuplicate value in attribute name: %s", msgInvalidParams, a)
		}
		seen[a] = true
		parts[i] = tr.name(a)
	}
	return strings.Join(parts, ", "), nil
}

// expectedAttr is one entry of the Expected parameter.
type expectedAttr struct {
	Value              *item.Value  `json:"Value"`
	Exists             *bool        `json:"Exists"`
	ComparisonOperator *string      `json:"ComparisonOperator"`
	AttributeValueList []item.Value `json:"AttributeValueList"`
}

// comparisonOperators lists the legacy operators with the number of
// operands each takes (-1: one or more) and the operand types allowed
// (nil: any).
var comparisonOperators = map[string]struct {
	operands int
	types    []item.Type
}{
	"EQ":           {1, []item.Type{item.TypeS, item.TypeN, item.TypeB, item.TypeSS, item.TypeNS, item.TypeBS, item.TypeBOOL, item.TypeNULL, item.TypeL, item.TypeM}},
	"NE":           {1, []item.Type{item.TypeS, item.TypeN, item.TypeB, item.TypeSS, item.TypeNS, item.TypeBS, item.TypeBOOL, item.TypeNULL, item.TypeL, item.TypeM}},
	"LE":           {1, []item.Type{item.TypeS, item.TypeN, item.TypeB}},
	"LT":           {1, []item.Type{item.TypeS, item.TypeN, item.TypeB}},
	"GE":           {1, []item.Type{item.TypeS, item.TypeN, item.TypeB}},
	"GT":           {1, []item.Type{item.TypeS, item.TypeN, item.TypeB}},
	"NOT_NULL":     {0, nil},
	"NULL":         {0, nil},
	"CONTAINS":     {1, []item.Type{item.TypeS, item.TypeN, item.TypeB}},
	"NOT_CONTAINS": {1, []item.Type{item.TypeS, item.TypeN, item.TypeB}},
	"BEGINS_WITH":  {1, []item.Type{item.TypeS, item.TypeB}},
	"IN":           {-1, []item.Type{item.TypeS, item.TypeN, item.TypeB}},
	"BETWEEN":      {2, []item.Type{item.TypeS, item.TypeN, item.TypeB}},
}

// comparisonOperatorEnum is the enum of ComparisonOperator in messages.
var comparisonOperatorEnum = []string{"IN", "NULL", "BETWEEN", "LT", "NOT_CONTAINS", "EQ", "GT", "NOT_NULL", "NE", "LE", "BEGINS_WITH", "GE", "CONTAINS"}

// expectedViolations checks the enums inside Expected.
func (v *violations) expected(exp map[string]expectedAttr) {
	for _, k := range sortedKeys(exp) {
		v.enum(exp[k].ComparisonOperator, "expected."+k+".member.comparisonOperator", comparisonOperatorEnum...)
	}
}

// translateExpected turns Expected (joined by ConditionalOperator, AND by
// default) into a condition expression.
func translateExpected(exp map[string]expectedAttr, conditionalOp *string, tr *translation) (string, error) {
	join := " AND "
	if str(conditionalOp) == "OR" {
		join = " OR "
	}
	var clauses []string
	for _, attr := range sortedKeys(exp) {
		c, err := expectedClause(attr, exp[attr], tr)
		if err != nil {
			return "", err
		}
		clauses = append(clauses, "("+c+")")
	}
	return strings.Join(clauses, join), nil
}

// expectedClause translates the condition on one attribute.
func expectedClause(attr string, e expectedAttr, tr *translation) (string, error) {
	if e.Value != nil && e.AttributeValueList != nil {
		return "", validationf("%sValue and AttributeValueList cannot be used together for Attribute: %s", msgInvalidParams, attr)
	}
	if e.ComparisonOperator != nil {
		if e.Exists != nil {
			return "", validationf("%sExists and ComparisonOperator cannot be used together for Attribute: %s", msgInvalidParams, attr)
		}
		operands := e.AttributeValueList
		if e.Value != nil {
			operands = []item.Value{*e.Value}
		}
		return comparisonClause(attr, *e.ComparisonOperator, operands, e.Value != nil || e.AttributeValueList != nil, tr)
	}
	if e.AttributeValueList != nil {
		return "", validationf("%sAttributeValueList can only be used with a ComparisonOperator for Attribute: %s", msgInvalidParams, attr)
	}
	return existsClause(attr, e, tr)
}

// existsClause translates the Value/Exists form.
func existsClause(attr string, e expectedAttr, tr *translation) (string, error) {
	exists := e.Exists == nil || *e.Exists
	if exists && e.Value == nil {
		state := "null"
		if e.Exists != nil {
			state = "true"
		}
		return "", validationf("%sValue must be provided when Exists is %s for Attribute: %s", msgInvalidParams, state, attr)
	}
	if !exists && e.Value != nil {
		return "", validationf("%sValue cannot be used when Exists is false for Attribute: %s", msgInvalidParams, attr)
	}
	if !exists {
		return "attribute_not_exists(" + tr.name(attr) + ")", nil
	}
	return tr.name(attr) + " = " + tr.value(*e.Value), nil
}

// comparisonClause translates the ComparisonOperator form.
func comparisonClause(attr, op string, operands []item.Value, given bool, tr *translation) (string, error) {
	spec := comparisonOperators[op]
	if op != "NULL" && op != "NOT_NULL" && !given {
		return "", validationf("%sValue or AttributeValueList must be used with ComparisonOperator: %s for Attribute: %s", msgInvalidParams, op, attr)
	}
	if err := checkOperands(op, operands, spec.operands, spec.types); err != nil {
		return "", err
	}
	n := tr.name(attr)
	switch op {
	case "NULL":
		return "attribute_not_exists(" + n + ")", nil
	case "NOT_NULL":
		return "attribute_exists(" + n + ")", nil
	case "CONTAINS":
		return "contains(" + n + ", " + tr.value(operands[0]) + ")", nil
	case "NOT_CONTAINS":
		return "attribute_exists(" + n + ") AND NOT contains(" + n + ", " + tr.value(operands[0]) + ")", nil
	case "BEGINS_WITH":
		return "begins_with(" + n + ", " + tr.value(operands[0]) + ")", nil
	case "NE":
		return "attribute_not_exists(" + n + ") OR " + n + " <> " + tr.value(operands[0]), nil
	case "BETWEEN":
		return n + " BETWEEN " + tr.value(operands[0]) + " AND " + tr.value(operands[1]), nil
	case "IN":
		ps := make([]string, len(operands))
		for i, v := range operands {
			ps[i] = tr.value(v)
		}
		return n + " IN (" + strings.Join(ps, ", ") + ")", nil
	}
	return n + " " + comparators[op] + " " + tr.value(operands[0]), nil
}

// comparators spells the binary legacy operators in expression syntax.
var comparators = map[string]string{"EQ": "=", "LE": "<=", "LT": "<", "GE": ">=", "GT": ">"}

// checkOperands validates the operand list of a legacy comparison.
func checkOperands(op string, operands []item.Value, want int, types []item.Type) error {
	if (want >= 0 && len(operands) != want) || (want < 0 && len(operands) == 0) {
		return validationf("%sInvalid number of argument(s) for the %s ComparisonOperator", msgInvalidParams, op)
	}
	for _, v := range operands {
		if v.Type == 0 {
			return validationf("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
		}
	}
	for _, v := range operands {
		if v.Type != operands[0].Type {
			return validationf("%sAttributeValues inside AttributeValueList must be of same type", msgInvalidParams)
		}
	}
	for _, v := range operands {
		if types != nil && !hasType(types, v.Type) {
			return validationf("%sComparisonOperator %s is not valid for %s AttributeValue type", msgInvalidParams, op, v.Type)
		}
	}
	if op == "BETWEEN" {
		if c, ok := item.Compare(operands[0], operands[1]); ok && c > 0 {
			return validationf("The BETWEEN condition was provided a range where the lower bound is greater than the upper bound")
		}
	}
	return nil
}

// hasType reports whether t is in types.
func hasType(types []item.Type, t item.Type) bool {
	for _, x := range types {
		if x == t {
			return true
		}
	}
	return false
}
