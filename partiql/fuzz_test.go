package partiql

import (
	"errors"
	"strings"
	"testing"

	"github.com/partitadb/partita/expr"
	"github.com/partitadb/partita/item"
)

// FuzzParse: parsing and planning never panic, every refusal is an *Error
// (or an item validation error for a bad number), and every expression a
// plan writes is well formed for package expr: it may be refused for its
// operand types, never for its syntax.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`SELECT * FROM "Music" WHERE pk = 'a' AND sk > 3 AND begins_with(title, 'x') ORDER BY sk DESC`,
		`SELECT a, b.c[2] FROM t WHERE pk IN ['a', ?] AND x IS NOT MISSING OR NOT (y BETWEEN 1 AND 2)`,
		`INSERT INTO t VALUE {'pk': ?, 'sk': 1.5e3, 's': <<'a', 'b'>>, 'm': {'l': [true, null, -1]}}`,
		`UPDATE t SET a = a + 1, l = list_append(l, [1]) SET s = set_add(s, <<1>>) REMOVE x WHERE pk = 'a' AND sk = 1 AND v <> 2 RETURNING MODIFIED NEW *`,
		`DELETE FROM t WHERE pk = 'a' AND sk = ? AND (v = 1 OR size(w) > 3) RETURNING ALL OLD *`,
		`select "value" from t."i" where "a""b" = 'it''s' -- comment`,
	} {
		f.Add(s)
	}
	ks := KeySchema{Hash: "pk", Range: "sk"}
	f.Fuzz(func(t *testing.T, src string) {
		st, err := Parse(src)
		if err != nil {
			checkRefusal(t, src, err)
			return
		}
		params := make([]item.Value, st.Params)
		for i := range params {
			params[i] = item.S("p")
		}
		p, err := NewPlan(st, params, ks)
		if err != nil {
			checkRefusal(t, src, err)
			return
		}
		checkWritten(t, src, p)
	})
}

// checkRefusal fails unless err is a refusal with DynamoDB's form.
func checkRefusal(t *testing.T, src string, err error) {
	var pe *Error
	var ie *item.Error
	if !errors.As(err, &pe) && !errors.As(err, &ie) {
		t.Fatalf("%q: error %v is %T", src, err, err)
	}
}

// checkWritten parses every expression of p with package expr.
func checkWritten(t *testing.T, src string, p *Plan) {
	env := expr.NewEnv(p.Names, p.Values)
	check := func(what, text string, parse func(string) error) {
		if text == "" {
			return
		}
		err := parse(text)
		if err == nil {
			return
		}
		if msg := err.Error(); strings.Contains(msg, "Syntax error") || strings.Contains(msg, "redundant parentheses") ||
			strings.Contains(msg, "An expression attribute") {
			t.Fatalf("%q: %s %q is not well formed: %v", src, what, text, err)
		}
	}
	cond := func(s string) error { _, err := expr.ParseCondition("ConditionExpression", s, env); return err }
	check("filter", p.Filter, cond)
	check("condition", p.Condition, cond)
	check("update", p.Update, func(s string) error { _, err := expr.ParseUpdate(s, env); return err })
	for _, kc := range p.KeyConditions {
		check("key condition", kc, func(s string) error { _, err := expr.ParseKeyCondition(s, env); return err })
	}
}
