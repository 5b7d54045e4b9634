package dynamo

import (
	"errors"
	"testing"

	"github.com/partitadb/partita/expr"
	"github.com/partitadb/partita/item"
)

func n(s string) item.Value { return item.N(item.MustNumber(s)) }

func TestTranslateExpected(t *testing.T) {
	yes, no := true, false
	or := "OR"
	cases := []struct {
		name string
		exp  map[string]expectedAttr
		op   *string
		want string
	}{
		{"value", map[string]expectedAttr{"a": {Value: ptr(item.S("x"))}}, nil, "(#l0 = :l0)"},
		{"exists true", map[string]expectedAttr{"a": {Exists: &yes, Value: ptr(n("1"))}}, nil, "(#l0 = :l0)"},
		{"exists false", map[string]expectedAttr{"a": {Exists: &no}}, nil, "(attribute_not_exists(#l0))"},
		{"ops joined by OR", map[string]expectedAttr{
			"a": {ComparisonOperator: ptr("NE"), AttributeValueList: []item.Value{n("1")}},
			"b": {ComparisonOperator: ptr("NOT_NULL")},
			"c": {ComparisonOperator: ptr("IN"), AttributeValueList: []item.Value{item.S("x"), item.S("y")}},
		}, &or, "(attribute_not_exists(#l0) OR #l0 <> :l0) OR (attribute_exists(#l1)) OR (#l2 IN (:l1, :l2))"},
		{"comparisons", map[string]expectedAttr{
			"a": {ComparisonOperator: ptr("LT"), Value: ptr(n("1"))},
			"b": {ComparisonOperator: ptr("BETWEEN"), AttributeValueList: []item.Value{n("1"), n("2")}},
			"c": {ComparisonOperator: ptr("BEGINS_WITH"), AttributeValueList: []item.Value{item.S("p")}},
			"d": {ComparisonOperator: ptr("NOT_CONTAINS"), AttributeValueList: []item.Value{item.S("p")}},
			"e": {ComparisonOperator: ptr("NULL")},
		}, nil, "(#l0 < :l0) AND (#l1 BETWEEN :l1 AND :l2) AND (begins_with(#l2, :l3)) AND " +
			"(attribute_exists(#l3) AND NOT contains(#l3, :l4)) AND (attribute_not_exists(#l4))"},
	}
	for _, c := range cases {
		tr := newTranslation()
		got, err := translateExpected(c.exp, c.op, tr)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got != c.want {
			t.Fatalf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
		// The translation must parse, using every placeholder it made.
		env := expr.NewEnv(tr.names, tr.values)
		if _, err := expr.ParseCondition("ConditionExpression", got, env); err != nil {
			t.Fatalf("%s: %q does not parse: %v", c.name, got, err)
		}
		if err := env.CheckUnused(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
	}
}

func TestTranslateExpectedErrors(t *testing.T) {
	yes := true
	cases := []struct {
		exp  expectedAttr
		want string
	}{
		{expectedAttr{Value: ptr(n("1")), AttributeValueList: []item.Value{n("1")}},
			"One or more parameter values were invalid: Value and AttributeValueList cannot be used together for Attribute: a"},
		{expectedAttr{Exists: &yes, ComparisonOperator: ptr("EQ")},
			"One or more parameter values were invalid: Exists and ComparisonOperator cannot be used together for Attribute: a"},
		{expectedAttr{Exists: &yes}, "One or more parameter values were invalid: Value must be provided when Exists is true for Attribute: a"},
		{expectedAttr{}, "One or more parameter values were invalid: Value must be provided when Exists is null for Attribute: a"},
		{expectedAttr{AttributeValueList: []item.Value{n("1")}},
			"One or more parameter values were invalid: AttributeValueList can only be used with a ComparisonOperator for Attribute: a"},
		{expectedAttr{ComparisonOperator: ptr("EQ"), AttributeValueList: []item.Value{n("1"), n("2")}},
			"One or more parameter values were invalid: Invalid number of argument(s) for the EQ ComparisonOperator"},
		{expectedAttr{ComparisonOperator: ptr("NULL"), AttributeValueList: []item.Value{n("1")}},
			"One or more parameter values were invalid: Invalid number of argument(s) for the NULL ComparisonOperator"},
		{expectedAttr{ComparisonOperator: ptr("LT"), AttributeValueList: []item.Value{{Type: item.TypeSS, SS: []string{"a"}}}},
			"One or more parameter values were invalid: ComparisonOperator LT is not valid for SS AttributeValue type"},
		{expectedAttr{ComparisonOperator: ptr("IN"), AttributeValueList: []item.Value{n("1"), item.S("x")}},
			"One or more parameter values were invalid: AttributeValues inside AttributeValueList must be of same type"},
		{expectedAttr{ComparisonOperator: ptr("BETWEEN"), AttributeValueList: []item.Value{n("2"), n("1")}},
			"The BETWEEN condition was provided a range where the lower bound is greater than the upper bound"},
	}
	for _, c := range cases {
		_, err := translateExpected(map[string]expectedAttr{"a": c.exp}, nil, newTranslation())
		var ae *apiError
		if !errors.As(err, &ae) || ae.Message != c.want || ae.Kind != kindValidation {
			t.Fatalf("%+v: got %v, want %q", c.exp, err, c.want)
		}
	}
}

func TestTranslateAttributeUpdates(t *testing.T) {
	ups := map[string]attributeUpdate{
		"a": {Value: ptr(item.S("x"))},
		"b": {Action: ptr("DELETE")},
		"c": {Action: ptr("ADD"), Value: ptr(n("1"))},
		"d": {Action: ptr("DELETE"), Value: ptr(item.Value{Type: item.TypeSS, SS: []string{"x"}})},
		"e": {Action: ptr("ADD"), Value: ptr(item.Value{Type: item.TypeL, L: []item.Value{n("1")}})},
	}
	tr := newTranslation()
	got, err := translateAttributeUpdates(ups, tr)
	if err != nil {
		t.Fatal(err)
	}
	want := "SET #l0 = :l0, #l4 = list_append(if_not_exists(#l4, :l3), :l4) REMOVE #l1 ADD #l2 :l1 DELETE #l3 :l2"
	if got != want {
		t.Fatalf("\n got %s\nwant %s", got, want)
	}
	env := expr.NewEnv(tr.names, tr.values)
	if _, err := expr.ParseUpdate(got, env); err != nil {
		t.Fatalf("%q does not parse: %v", got, err)
	}
	if err := env.CheckUnused(); err != nil {
		t.Fatal(err)
	}
	bad := []struct {
		u    attributeUpdate
		want string
	}{
		{attributeUpdate{Action: ptr("PUT")}, "One or more parameter values were invalid: Only DELETE action is allowed when no attribute value is specified"},
		{attributeUpdate{Action: ptr("DELETE"), Value: ptr(item.S("x"))}, "One or more parameter values were invalid: DELETE action with value is not supported for the type S"},
		{attributeUpdate{Action: ptr("ADD"), Value: ptr(item.S("x"))}, "One or more parameter values were invalid: ADD action is not supported for the type S"},
	}
	for _, c := range bad {
		_, err := translateAttributeUpdates(map[string]attributeUpdate{"a": c.u}, newTranslation())
		var ae *apiError
		if !errors.As(err, &ae) || ae.Message != c.want {
			t.Fatalf("%+v: got %v, want %q", c.u, err, c.want)
		}
	}
}

func TestTranslateAttributesToGet(t *testing.T) {
	tr := newTranslation()
	got, err := translateAttributesToGet([]string{"a", "b.c", "status"}, tr)
	if err != nil || got != "#l0, #l1, #l2" || tr.names["#l1"] != "b.c" {
		t.Fatalf("got %q %v %v", got, tr.names, err)
	}
	if _, err := translateAttributesToGet([]string{"a", "a"}, newTranslation()); err == nil {
		t.Fatal("duplicate attribute accepted")
	}
}

func ptr[T any](v T) *T { return &v }
