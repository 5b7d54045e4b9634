package expr

import (
	"testing"

	"github.com/partitadb/partita/item"
)

func TestCheckUnused(t *testing.T) {
	names := map[string]string{"#a": "a", "#b": "b", "#c": "c"}
	values := item.Item{":a": str("a"), ":b": str("b"), ":c": str("c")}
	tests := []struct {
		cond, update, proj string
		want               string
	}{
		{"#a = :a", "SET #b = :b, #c = :c", "", ""},
		{"#a = :a OR #b = :b", "SET x = :c", "#c", ""},
		{"#a = :a", "SET x = :b", "", "Value provided in ExpressionAttributeNames unused in expressions: keys: {#b, #c}"},
		{"#a = :a", "SET #b = :b, #c = #a", "", "Value provided in ExpressionAttributeValues unused in expressions: keys: {:c}"},
		{"a = b", "", "", "Value provided in ExpressionAttributeNames unused in expressions: keys: {#a, #b, #c}"},
	}
	for _, tt := range tests {
		env := NewEnv(names, values)
		if _, err := ParseCondition(KindCondition, tt.cond, env); err != nil {
			t.Fatal(err)
		}
		if tt.update != "" {
			if _, err := ParseUpdate(tt.update, env); err != nil {
				t.Fatal(err)
			}
		}
		if tt.proj != "" {
			if _, err := ParseProjection(tt.proj, env); err != nil {
				t.Fatal(err)
			}
		}
		if got := errString(env.CheckUnused()); got != tt.want {
			t.Errorf("%s / %s / %s: got %q, want %q", tt.cond, tt.update, tt.proj, got, tt.want)
		}
	}
	if err := NewEnv(nil, nil).CheckUnused(); err != nil {
		t.Errorf("empty env: %v", err)
	}
}

// A nil Env resolves nothing.
func TestNilEnv(t *testing.T) {
	if _, err := ParseCondition(KindCondition, "a = b", nil); err != nil {
		t.Errorf("no placeholders: %v", err)
	}
	_, err := ParseCondition(KindCondition, "a = :v", nil)
	if want := "Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :v"; errString(err) != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

func TestValidateParams(t *testing.T) {
	tests := []struct {
		names  map[string]string
		values item.Item
		want   string
	}{
		{nil, nil, ""},
		{map[string]string{"#a": "a", "#A_1": "b"}, item.Item{":v": str("x"), ":1_": str("y")}, ""},
		{map[string]string{}, nil, "ExpressionAttributeNames must not be empty"},
		{nil, item.Item{}, "ExpressionAttributeValues must not be empty"},
		{map[string]string{}, item.Item{}, "ExpressionAttributeNames must not be empty"},
		{map[string]string{"#a": "a", "b": "b"}, nil, `ExpressionAttributeNames contains invalid key: Syntax error; key: "b"`},
		{map[string]string{"#": "a"}, nil, `ExpressionAttributeNames contains invalid key: Syntax error; key: "#"`},
		{map[string]string{"#a-b": "a"}, nil, `ExpressionAttributeNames contains invalid key: Syntax error; key: "#a-b"`},
		{nil, item.Item{":b": str("x"), "b": str("a")}, `ExpressionAttributeValues contains invalid key: Syntax error; key: "b"`},
		{nil, item.Item{"#b": str("x")}, `ExpressionAttributeValues contains invalid key: Syntax error; key: "#b"`},
	}
	for _, tt := range tests {
		if got := errString(ValidateParams(tt.names, tt.values)); got != tt.want {
			t.Errorf("ValidateParams(%v, %v) = %q, want %q", tt.names, tt.values, got, tt.want)
		}
	}
}

func TestIsReserved(t *testing.T) {
	for _, w := range []string{"status", "STATUS", "Name", "size", "ttl", "zone", "abort"} {
		if !IsReserved(w) {
			t.Errorf("IsReserved(%q) = false", w)
		}
	}
	for _, w := range []string{"pk", "fresh", "statuses", "", "attribute_exists"} {
		if IsReserved(w) {
			t.Errorf("IsReserved(%q) = true", w)
		}
	}
	if len(reserved) != 573 {
		t.Errorf("%d reserved words, want 573", len(reserved))
	}
}
