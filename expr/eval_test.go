package expr

import (
	"fmt"
	"strings"
	"testing"

	"github.com/partitadb/partita/item"
)

func TestEval(t *testing.T) {
	tests := []struct {
		expr string
		want bool
	}{
		// = and <> on every type; different types are unequal, not errors.
		{"s = :s", false}, {"s = s2", true}, {"n = :n", true}, {"n = :n2", false},
		{"b = :b", false}, {"bool = :bool", true}, {"nul = :null", true},
		{"ss = :ss", true}, {"ns = :ns", false}, {"bs = :bs", true}, {"m.x = :n", true},
		{"l[1] = x", false}, {"n = :s", false}, {"n <> :s", true}, {"s <> s2", false},
		{"#d = :n", false}, {"#dot = :s", false},
		// A nope attribute equals nothing, not even another nope one;
		// <> is then true.
		{"nope = :s", false}, {"nope = gone", false}, {"nope <> :s", true}, {"nope <> gone", true},
		// Ordering: S by bytes, N numerically, B by unsigned bytes; gone
		// types and mixed types are false.
		{"n < :n2", true}, {"n <= :n", true}, {"n > :n", false}, {"n >= :n", true}, {"n2 > n", true},
		{"s < :s", false}, {"s > :s", true}, {"b < :b2", true}, {"b > :b", true},
		{"n < :s", false}, {"l < :n", false}, {":n < nope", false}, {"nope < gone", false},
		{"size(s) >= :n5", true}, {"size(s) < :n5", false},
		// BETWEEN is inclusive; nope or mixed operands are false.
		{"n BETWEEN :n AND :n2", true}, {"n2 BETWEEN :n AND :n2", true}, {"n BETWEEN n2 AND :n5", false},
		{"s BETWEEN :pre AND :s2", false}, {"s BETWEEN :pre AND s2", true}, {"n BETWEEN :s AND :s2", false}, {"nope BETWEEN :n AND :n2", false},
		{"n BETWEEN nope AND :n2", false},
		// IN: any equal element, of any type.
		{"n IN (:s, :n)", true}, {"n IN (:s, :n2)", false}, {"ss IN (:ss)", true}, {"nope IN (:s, :n)", false},
		{"l IN (:l, m)", false}, {"l[2][0] IN (:n5, :n2)", false},
		// Functions.
		{"attribute_exists(s)", true}, {"attribute_exists(nope)", false}, {"attribute_exists(m.y.z)", true},
		{"attribute_exists(m.y.q)", false}, {"attribute_exists(l[2][0])", true}, {"attribute_exists(l[3])", false},
		{"attribute_exists(s.x)", false}, {"attribute_exists(m[0])", false},
		{"attribute_not_exists(nope)", true}, {"attribute_not_exists(nul)", false},
		{"attribute_type(s, :tS)", true}, {"attribute_type(n, :t)", true}, {"attribute_type(s, :t)", false},
		{"attribute_type(nope, :tS)", false}, {"attribute_type(:n, :t)", true},
		{"begins_with(s, :pre)", false}, {"begins_with(#c, :pre)", false}, {"begins_with(s, s2)", true},
		{"begins_with(b, :b)", true}, {"begins_with(s, :b)", false}, {"begins_with(nope, :pre)", false},
		{"begins_with(:s, :pre)", true}, {"begins_with(n, :pre)", false}, {"begins_with(emptys, :empty)", true},
		{"contains(s, :empty)", true}, {"contains(b, :b)", true}, {"contains(ss, :s)", false},
		{"contains(ns, :n)", true}, {"contains(ns, :s)", false}, {"contains(bs, :b)", false},
		{"contains(l, :n)", true}, {"contains(l, :s)", false}, {"contains(n, :n)", false},
		{"contains(nope, :n)", false}, {"contains(s, nope)", false},
		// size(): length of S and B, elements of sets, L and M; nothing for
		// N, BOOL, NULL and nope attributes.
		{"size(s) = :n5", true}, {"size(b) > :n5", true}, {"size(ss) = :n2", true}, {"size(ns) > :n2", true},
		{"size(bs) = :n2", true}, {"size(l) > :n2", true}, {"size(m) = :n2", true}, {"size(emptys) < :n", true},
		{"size(n) = :n", false}, {"size(bool) = :n", false}, {"size(nul) = :n", false}, {"size(nope) = :n", false},
		{"size(n) <> :n", true}, {"size(s) = :s", false}, {"size(:s) = s", false},
		// Logic, precedence and parentheses.
		{"n = :n AND n2 = :n2", true}, {"n = :n AND n2 = :n", false}, {"n = :n2 OR n2 = :n2", true},
		{"NOT n = :n", false}, {"NOT NOT n = :n", true},
		{"n = :n OR n = :n2 AND n = :n2", true}, {"(n = :n OR n = :n2) AND n = :n2", false},
		{"NOT n = :n2 AND n = :n2", false}, {"NOT (n = :n2 AND n = :n2)", true},
		{"n BETWEEN :n AND :n2 AND n < :n2", true},
	}
	it := testItem()
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			c := mustCondition(t, tt.expr)
			got, err := c.Eval(it)
			if err != nil || got != tt.want {
				t.Errorf("Eval(%q) = %v, %v; want %v", tt.expr, got, err, tt.want)
			}
		})
	}
}

// A nope item has no attributes: only attribute_not_exists, <> and
// comparisons of :values can be true.
func TestEvalMissingItem(t *testing.T) {
	tests := map[string]bool{
		"attribute_not_exists(pk)": true, "attribute_exists(pk)": false, "pk = :s": false,
		"pk <> :s": true, "NOT pk = :s": true, ":n < :n2": true, "size(pk) = :n": false,
	}
	for expr, want := range tests {
		for _, it := range []item.Item{nil, {}} {
			if got, _ := mustCondition(t, expr).Eval(it); got != want {
				t.Errorf("Eval(%q, %v) = %v, want %v", expr, it, got, want)
			}
		}
	}
}

func TestEvalIn100(t *testing.T) {
	values := item.Item{":x": num("74")}
	names := make([]string, 99)
	for i := range names {
		names[i] = fmt.Sprintf(":v%d", i)
		values[names[i]] = num(fmt.Sprint(i))
	}
	expr := "a IN (" + strings.Join(names, ",") + ")"
	c, err := ParseCondition(KindCondition, expr, NewEnv(nil, values))
	if err != nil {
		t.Fatal(err)
	}
	for a, want := range map[string]bool{"74": true, "174": false} {
		if got, _ := c.Eval(item.Item{"a": num(a)}); got != want {
			t.Errorf("a=%s: got %v want %v", a, got, want)
		}
	}
	_, err = ParseCondition(KindCondition, "a IN (:x,"+strings.Join(names, ",")+")", NewEnv(nil, values))
	want := "Invalid ConditionExpression: The IN operator is provided with too many operands; number of operands: 101"
	if err == nil || err.Error() != want {
		t.Errorf("101 operands: got %v, want %q", err, want)
	}
}

// Paths, Name and Get are what callers use to inspect conditions.
func TestConditionPaths(t *testing.T) {
	c := mustCondition(t, "#a.b[1] = :s AND size(c) > d OR attribute_exists(#s)")
	var got []string
	for _, p := range c.Paths() {
		got = append(got, p.String())
	}
	if want := "[a, b, [1]] [c] [d] [status]"; strings.Join(got, " ") != want {
		t.Errorf("Paths = %v, want %s", got, want)
	}
	if c.Root.Op != OpOr || c.Root.Children[0].Op != OpAnd || c.Root.Children[1].Func != "attribute_exists" {
		t.Errorf("unexpected tree %s", c)
	}
}

func TestExpressionSize(t *testing.T) {
	long := "a = :s OR " + strings.Repeat("a = :s OR ", 420) + "a = :s"
	_, err := ParseCondition(KindFilter, long, testEnv())
	want := fmt.Sprintf("Invalid FilterExpression: Expression size has exceeded the maximum allowed size; expression size: %d", len(long))
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
	ok := "a = :s" + strings.Repeat(" ", MaxExpressionSize-6)
	if _, err := ParseCondition(KindFilter, ok, testEnv()); err != nil {
		t.Errorf("expression of exactly %d bytes: %v", MaxExpressionSize, err)
	}
}
