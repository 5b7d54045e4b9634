package dynamo

import (
	"strings"

	"github.com/partitadb/partita/item"
)

// filterCondition is one entry of KeyConditions, QueryFilter or
// ScanFilter: a legacy comparison on one attribute.
type filterCondition struct {
	ComparisonOperator *string      `json:"ComparisonOperator"`
	AttributeValueList []item.Value `json:"AttributeValueList"`
}

// filterConditions checks the operators of a legacy condition map under
// the parameter path (keyConditions, queryFilter, scanFilter).
func (v *violations) filterConditions(m map[string]filterCondition, path string) {
	for _, k := range sortedKeys(m) {
		op := m[k].ComparisonOperator
		v.notNull(op != nil, path+"."+k+".member.comparisonOperator")
		v.enum(op, path+"."+k+".member.comparisonOperator", comparisonOperatorEnum...)
	}
}

// translateFilter turns QueryFilter or ScanFilter (joined by
// ConditionalOperator, AND by default) into a filter expression.
func translateFilter(m map[string]filterCondition, condOp *string, tr *translation) (string, error) {
	join := " AND "
	if str(condOp) == "OR" {
		join = " OR "
	}
	var clauses []string
	for _, attr := range sortedKeys(m) {
		c := m[attr]
		clause, err := comparisonClause(attr, *c.ComparisonOperator, c.AttributeValueList, true, tr)
		if err != nil {
			return "", err
		}
		clauses = append(clauses, "("+clause+")")
	}
	return strings.Join(clauses, join), nil
}

// indexableOperators are the legacy operators a key condition may use.
var indexableOperators = map[string]bool{
	"EQ": true, "LE": true, "LT": true, "GE": true, "GT": true, "BEGINS_WITH": true, "BETWEEN": true,
}

// translateKeyConditions turns KeyConditions into a key condition
// expression: the terms joined by AND.
func translateKeyConditions(m map[string]filterCondition, tr *translation) (string, error) {
	var terms []string
	for _, attr := range sortedKeys(m) {
		c := m[attr]
		if !indexableOperators[*c.ComparisonOperator] {
			return "", validationf("Attempted conditional constraint is not an indexable operation")
		}
		term, err := comparisonClause(attr, *c.ComparisonOperator, c.AttributeValueList, true, tr)
		if err != nil {
			return "", err
		}
		terms = append(terms, term)
	}
	return strings.Join(terms, " AND "), nil
}

// checkLegacyFilterKeys rejects a QueryFilter on key attributes.
func checkLegacyFilterKeys(m map[string]filterCondition, ks keySchema) error {
	for _, attr := range sortedKeys(m) {
		if ks.has(attr) {
			return validationf("QueryFilter can only contain non-key attributes: Primary key attribute: %s", attr)
		}
	}
	return nil
}
