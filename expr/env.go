package expr

import (
	"sort"
	"strings"

	"github.com/partitadb/partita/item"
)

// Env holds one request's ExpressionAttributeNames and
// ExpressionAttributeValues and records which of them the request's
// expressions used, so that unused ones can be reported as DynamoDB does.
// Parse every expression of a request through the same Env, then call
// CheckUnused. An Env is not safe for concurrent use.
type Env struct {
	Names  map[string]string
	Values item.Item
	usedN  map[string]bool
	usedV  map[string]bool
	// translated are the kinds of expression (KindFilter, ...) whose
	// text was generated from legacy parameters: DynamoDB's limits on
	// expressions (size, IN operands) do not apply to them.
	translated map[string]bool
}

// MarkTranslated records that the expression of kind parsed through e was
// translated from legacy parameters, which have no expression limits.
func (e *Env) MarkTranslated(kind string) {
	if e.translated == nil {
		e.translated = map[string]bool{}
	}
	e.translated[kind] = true
}

// WithoutLimits exempts every expression parsed through e from DynamoDB's
// expression limits, and returns e. A replica applying a write uses it:
// the limits are the edge's to enforce on what a client sends, and a
// write the edge accepted must apply.
func (e *Env) WithoutLimits() *Env {
	for _, kind := range []string{KindCondition, KindFilter, KindKeyCondition, KindUpdate, KindProjection} {
		e.MarkTranslated(kind)
	}
	return e
}

// limited reports whether DynamoDB's expression limits apply to the
// expression of kind.
func (e *Env) limited(kind string) bool { return e == nil || !e.translated[kind] }

// NewEnv returns an Env over names and values (either may be nil).
func NewEnv(names map[string]string, values item.Item) *Env {
	return &Env{Names: names, Values: values, usedN: map[string]bool{}, usedV: map[string]bool{}}
}

// name resolves the expression attribute name ph ("#n").
func (e *Env) name(ph string) (string, bool) {
	if e == nil {
		return "", false
	}
	n, ok := e.Names[ph]
	if ok {
		if e.usedN == nil {
			e.usedN = map[string]bool{}
		}
		e.usedN[ph] = true
	}
	return n, ok
}

// value resolves the expression attribute value ph (":v").
func (e *Env) value(ph string) (item.Value, bool) {
	if e == nil {
		return item.Value{}, false
	}
	v, ok := e.Values[ph]
	if ok {
		if e.usedV == nil {
			e.usedV = map[string]bool{}
		}
		e.usedV[ph] = true
	}
	return v, ok
}

// CheckUnused returns DynamoDB's ValidationException message error if a
// name or value was supplied but not used by any expression parsed in env:
// "Value provided in ExpressionAttributeValues unused in expressions: keys: {:v}"
// (and the ExpressionAttributeNames counterpart, which is checked first).
func (e *Env) CheckUnused() error {
	if k := unused(e.Names, e.usedN); len(k) > 0 {
		return errorf("Value provided in ExpressionAttributeNames unused in expressions: keys: {%s}", strings.Join(k, ", "))
	}
	if k := unused(e.Values, e.usedV); len(k) > 0 {
		return errorf("Value provided in ExpressionAttributeValues unused in expressions: keys: {%s}", strings.Join(k, ", "))
	}
	return nil
}

// unused returns the sorted keys of m that are not in used.
func unused[V any](m map[string]V, used map[string]bool) []string {
	var keys []string
	for k := range m {
		if !used[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// ValidateParams checks the ExpressionAttributeNames and
// ExpressionAttributeValues maps themselves, as DynamoDB does before it
// parses any expression: a map that is present must not be empty ("must not
// be empty"), and every key must be a well-formed placeholder ("#" or ":"
// followed by letters, digits or underscores). nil means the parameter was
// absent; a non-nil empty map means it was sent as {}. The wire layer calls
// this once per request, before NewEnv.
func ValidateParams(names map[string]string, values item.Item) error {
	if names != nil && len(names) == 0 {
		return errorf("ExpressionAttributeNames must not be empty")
	}
	if k, ok := badKey(names, '#'); !ok {
		return errorf("ExpressionAttributeNames contains invalid key: Syntax error; key: \"%s\"", k)
	}
	if k, ok := emptyName(names); !ok {
		return errorf("ExpressionAttributeNames contains invalid value: Empty attribute name for key %s", k)
	}
	if values != nil && len(values) == 0 {
		return errorf("ExpressionAttributeValues must not be empty")
	}
	if k, ok := badKey(values, ':'); !ok {
		return errorf("ExpressionAttributeValues contains invalid key: Syntax error; key: \"%s\"", k)
	}
	return nil
}

// emptyName returns the first placeholder of names, in sorted order, that
// stands for an empty attribute name.
func emptyName(names map[string]string) (string, bool) {
	keys := make([]string, 0, len(names))
	for k, v := range names {
		if v == "" {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return "", true
	}
	sort.Strings(keys)
	return keys[0], false
}

// badKey returns the first key of m, in sorted order, that is not a
// placeholder starting with prefix.
func badKey[V any](m map[string]V, prefix byte) (string, bool) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !isPlaceholder(k, prefix) {
			return k, false
		}
	}
	return "", true
}

// isPlaceholder reports whether s is prefix followed by one or more word bytes.
func isPlaceholder(s string, prefix byte) bool {
	if len(s) < 2 || s[0] != prefix {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isWordByte(s[i]) {
			return false
		}
	}
	return true
}
