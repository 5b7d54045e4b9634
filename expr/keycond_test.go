package expr

import (
	"testing"

	"github.com/partitadb/partita/item"
)

func TestKeyConditionResolve(t *testing.T) {
	tests := []struct {
		expr, hash, rng string
		want            string // hash term, sort term, or the error
	}{
		{"pk = :s", "pk", "", "pk = AttributeValue: {S:abc} | <nil>"},
		{"pk = :s", "pk", "sk", "pk = AttributeValue: {S:abc} | <nil>"},
		{"sk BETWEEN :n AND :n2 AND pk = :s", "pk", "sk", "pk = AttributeValue: {S:abc} | sk BETWEEN AttributeValue: {N:1} AND AttributeValue: {N:2}"},
		{"begins_with(#b, :pre) AND #a = :s", "a", "b", "a = AttributeValue: {S:abc} | begins_with(b, AttributeValue: {S:ab})"},
		{"sk = :s", "pk", "sk", "Query condition missed key schema element: pk"},
		{"pk < :s", "pk", "sk", "Query key condition not supported"},
		{"begins_with(pk, :s)", "pk", "sk", "Query key condition not supported"},
		{"pk = :s AND pk = :s2", "pk", "sk", "KeyConditionExpressions must only contain one condition per key"},
		{"pk = :s AND sk > :n AND sk < :n2", "pk", "sk", "KeyConditionExpressions must only contain one condition per key"},
		{"pk = :s AND foo = :s", "pk", "sk", "Query condition missed key schema element: sk"},
		{"pk = :s AND foo = :s", "pk", "", "Query key condition not supported"},
		{"pk = :s AND sk = :s AND foo = :s", "pk", "sk", "Query key condition not supported"},
	}
	for _, tt := range tests {
		k, err := ParseKeyCondition(tt.expr, testEnv())
		if err != nil {
			t.Fatalf("%s: %v", tt.expr, err)
		}
		h, r, err := k.Resolve(tt.hash, tt.rng)
		got := errString(err)
		if err == nil {
			got = h.String() + " | <nil>"
			if r != nil {
				got = h.String() + " | " + r.String()
			}
		}
		if got != tt.want {
			t.Errorf("%s (%s, %s):\n got  %s\n want %s", tt.expr, tt.hash, tt.rng, got, tt.want)
		}
	}
}

func TestKeyConditionEval(t *testing.T) {
	k, err := ParseKeyCondition("pk = :s AND begins_with(sk, :pre)", testEnv())
	if err != nil {
		t.Fatal(err)
	}
	if !k.Eval(item.Item{"pk": str("abc"), "sk": str("abx")}) {
		t.Error("want a match")
	}
	if k.Eval(item.Item{"pk": str("abc"), "sk": str("x")}) {
		t.Error("want no match")
	}
}
