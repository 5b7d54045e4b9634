package dynamo

import (
	"bytes"
	"encoding/json"
	"sort"
	"strings"

	"github.com/partitadb/partita/expr"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

// exprValues is an ExpressionAttributeValues parameter. Its decoder names
// the placeholder of an invalid value, as DynamoDB does.
type exprValues map[string]item.Value

// UnmarshalJSON decodes the map value by value.
func (ev *exprValues) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		*ev = nil
		return nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	out := make(exprValues, len(raw))
	for _, k := range sortedKeys(raw) {
		if bytes.Equal(bytes.TrimSpace(raw[k]), []byte("null")) {
			continue
		}
		var v item.Value
		if err := json.Unmarshal(raw[k], &v); err != nil {
			return wrapValueError(err, k)
		}
		out[k] = v
	}
	*ev = out
	return nil
}

// wrapValueError names key in a value's validation error.
func wrapValueError(err error, key string) error {
	ae, internal := toAPIError(err)
	if internal || ae.Kind != kindValidation {
		return err
	}
	return validationf("ExpressionAttributeValues contains invalid value: %s for key %s", ae.Message, key)
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// param is one request parameter by its wire name, and whether the
// request carries it.
type param struct {
	name string
	set  bool
}

// setNames returns the names of the params that are set.
func setNames(ps []param) []string {
	var out []string
	for _, p := range ps {
		if p.set {
			out = append(out, p.name)
		}
	}
	return out
}

// checkExprParams applies DynamoDB's rules on mixing expression and legacy
// parameters and on the placeholder maps. exprs lists the operation's
// expression parameters (ProjectionExpression last), legacy its legacy ones.
func checkExprParams(exprs, legacy []param, names map[string]string, values exprValues) error {
	usedExprs, usedLegacy := setNames(exprs), setNames(legacy)
	if len(usedExprs) > 0 && len(usedLegacy) > 0 {
		return validationf("Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {%s} Expression parameters: {%s}",
			strings.Join(usedLegacy, ", "), strings.Join(usedExprs, ", "))
	}
	if names != nil && len(usedExprs) == 0 {
		return validationf("ExpressionAttributeNames can only be specified when using expressions")
	}
	if err := checkValuesUsable(exprs, values); err != nil {
		return err
	}
	return expr.ValidateParams(names, item.Item(values))
}

// checkValuesUsable rejects ExpressionAttributeValues in a request whose
// expressions cannot use values.
func checkValuesUsable(exprs []param, values exprValues) error {
	var valueExprs []string
	anySet := false
	for _, p := range exprs {
		if p.name != "ProjectionExpression" {
			valueExprs = append(valueExprs, p.name)
			anySet = anySet || p.set
		}
	}
	if values == nil || len(valueExprs) == 0 || anySet {
		return nil
	}
	verb := "is"
	if len(valueExprs) > 1 {
		verb = "are"
	}
	return validationf("ExpressionAttributeValues can only be specified when using expressions: %s %s null",
		strings.Join(valueExprs, " and "), verb)
}

// exprSet is the parsed expressions of one request with the placeholders
// they share (the request's own, or those a legacy translation generated).
type exprSet struct {
	names  map[string]string
	values item.Item
	env    *expr.Env
	// tr generates the placeholders of all legacy translations of the
	// request, so that they never collide.
	tr *translation
	// translated are the kinds of the expressions tr wrote.
	translated []string

	// condText and updateText are the expressions to parse; nil for none.
	condText, updateText *string
	cond                 *expr.Condition
	update               *expr.Update
	proj                 *expr.Projection
}

// newExprSet starts an exprSet over the request's placeholders.
func newExprSet(names map[string]string, values exprValues) *exprSet {
	es := &exprSet{names: names, values: item.Item(values)}
	if es.names == nil {
		es.names = map[string]string{}
	}
	if es.values == nil {
		es.values = item.Item{}
	}
	return es
}

// legacy returns the request's translation of legacy parameters, into the
// expression of kind (expr.KindFilter, ...).
func (es *exprSet) legacy(kind string) *translation {
	es.translated = append(es.translated, kind)
	if es.tr == nil {
		es.tr = newTranslation()
		es.tr.taken = func(p string) bool {
			_, name := es.names[p]
			_, value := es.values[p]
			return name || value
		}
	}
	return es.tr
}

// adoptLegacy merges the placeholders legacy translations generated.
func (es *exprSet) adoptLegacy() {
	if es.tr == nil {
		return
	}
	for k, v := range es.tr.names {
		es.names[k] = v
	}
	for k, v := range es.tr.values {
		es.values[k] = v
	}
}

// newEnv merges the placeholders of legacy translations and starts the
// environment the expressions are parsed in; the translated ones are
// exempt from DynamoDB's expression limits, which legacy parameters do not
// have.
func (es *exprSet) newEnv() {
	es.adoptLegacy()
	es.env = expr.NewEnv(es.names, es.values)
	for _, kind := range es.translated {
		es.env.MarkTranslated(kind)
	}
}

// parse parses the expression texts (in DynamoDB's order: update,
// condition, projection) and checks that every placeholder was used.
func (es *exprSet) parse(projText *string) error {
	es.newEnv()
	var err error
	if es.updateText != nil {
		if es.update, err = expr.ParseUpdate(*es.updateText, es.env); err != nil {
			return err
		}
	}
	if es.condText != nil {
		if es.cond, err = expr.ParseCondition("ConditionExpression", *es.condText, es.env); err != nil {
			return err
		}
	}
	if projText != nil {
		if es.proj, err = expr.ParseProjection(*projText, es.env); err != nil {
			return err
		}
	}
	return es.env.CheckUnused()
}

// expression returns the command form of text with the set's placeholders,
// or nil for no expression.
func (es *exprSet) expression(text *string) *partitapb.Expression {
	if text == nil {
		return nil
	}
	e := &partitapb.Expression{Text: *text}
	if len(es.names) > 0 {
		e.Names = es.names
	}
	if len(es.values) > 0 {
		e.Values = item.EncodeItem(es.values)
	}
	return e
}
