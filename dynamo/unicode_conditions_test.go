package dynamo_test

import "testing"

// TestConditionsOnNonASCIIStrings: size() counts characters; comparisons
// order strings by their UTF-8 bytes; begins_with and contains match
// whole characters. Each condition is checked by a filter over one item.
func TestConditionsOnNonASCIIStrings(t *testing.T) {
	f := newFixture(t)
	f.createTable("unicode", "")
	// "héllo" is 5 characters and 6 bytes; "日本語" 3 characters and 9
	// bytes; "😀" one code point, 4 bytes.
	f.ok("PutItem", `{"TableName":"unicode","Item":{"pk":{"S":"a"},"s":{"S":"héllo"},"j":{"S":"日本語"},"e":{"S":"😀"}}}`)
	for _, c := range []struct {
		filter, values string
		match          bool
	}{
		{"size(s) = :n", `":n":{"N":"5"}`, true},
		{"size(j) = :n", `":n":{"N":"3"}`, true},
		{"size(j) = :n", `":n":{"N":"9"}`, false},
		{"size(e) = :n", `":n":{"N":"1"}`, true},
		{"size(s) BETWEEN :a AND :b", `":a":{"N":"5"},":b":{"N":"5"}`, true},
		// By UTF-8 bytes: "é" (C3 A9) sorts after "z" and before "日" (E6...).
		{"s > :v", `":v":{"S":"hz"}`, true},
		{"j > :v", `":v":{"S":"héllo"}`, true},
		{"e > :v", `":v":{"S":"日本語"}`, true},
		// U+FFFF sorts before U+1F600 in UTF-8 (and after it in UTF-16).
		{"e > :v", `":v":{"S":"\uffff"}`, true},
		{"begins_with(s, :v)", `":v":{"S":"hé"}`, true},
		{"begins_with(j, :v)", `":v":{"S":"日本"}`, true},
		{"contains(j, :v)", `":v":{"S":"本"}`, true},
		{"contains(s, :v)", `":v":{"S":"e"}`, false},
	} {
		got := f.ok("Scan", `{"TableName":"unicode","FilterExpression":"`+c.filter+`","ExpressionAttributeValues":{`+c.values+`}}`)
		if (got["Count"] == float64(1)) != c.match {
			t.Errorf("%s with %s: Count %v, want match %v", c.filter, c.values, got["Count"], c.match)
		}
	}
	// A condition on a write decides the same way.
	f.ok("PutItem", `{"TableName":"unicode","Item":{"pk":{"S":"a"},"s":{"S":"x"}},"ConditionExpression":"size(j) = :n","ExpressionAttributeValues":{":n":{"N":"3"}}}`)
}
