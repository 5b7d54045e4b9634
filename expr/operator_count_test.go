package expr

import (
	"fmt"
	"strings"
	"testing"
)

// sums is an update of n actions "SET x0=b+c,x1=b+c,...".
func sums(n int) string {
	actions := make([]string, n)
	for i := range actions {
		actions[i] = fmt.Sprintf("x%d=b+c", i)
	}
	return "SET " + strings.Join(actions, ",")
}

// TestOperatorLimit: more than 300 operators or functions in one
// expression is an error, counted as DynamoDB is reported to count them.
func TestOperatorLimit(t *testing.T) {
	chain := func(depth int) string { // 1 + 2*depth operators: each < and each OR
		return "a<b " + strings.Repeat("OR (a<b ", depth) + strings.Repeat(")", depth)
	}
	nest := func(fn string, depth int) string {
		return "a < " + strings.Repeat(fn+"(", depth) + "b" + strings.Repeat(")", depth)
	}
	for _, c := range []struct {
		kind, expr, want string
	}{
		{KindCondition, chain(149), ""},
		{KindCondition, chain(150), "Invalid ConditionExpression: The expression contains too many operators; operator count: 301"},
		{KindFilter, strings.Repeat("NOT ", 300) + "a<b", "Invalid FilterExpression: The expression contains too many operators; operator count: 301"},
		{KindCondition, nest("size", 300), "Invalid ConditionExpression: The expression contains too many operators; operator count: 301"},
		{KindCondition, nest("f", 400), "Invalid ConditionExpression: Invalid function name; function: f"},
		{KindCondition, strings.Repeat("attribute_exists(a) AND ", 150) + "a<b", "Invalid ConditionExpression: The expression contains too many operators; operator count: 301"},
		{KindUpdate, sums(300), ""},
		{KindUpdate, sums(301), "Invalid UpdateExpression: The expression contains too many operators; operator count: 301"},
	} {
		var err error
		if c.kind == KindUpdate {
			_, err = ParseUpdate(c.expr, NewEnv(nil, nil))
		} else {
			_, err = ParseCondition(c.kind, c.expr, NewEnv(nil, nil))
		}
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != c.want {
			t.Errorf("%s %.60q...:\n got %q\nwant %q", c.kind, c.expr, got, c.want)
		}
	}
}

// TestOperatorLimitExemptions: expressions translated from legacy
// parameters, and writes applied by replicas, have no operator limit.
func TestOperatorLimitExemptions(t *testing.T) {
	long := "a<b " + strings.Repeat("OR (a<b ", 200) + strings.Repeat(")", 200)
	env := NewEnv(nil, nil)
	env.MarkTranslated(KindFilter)
	if _, err := ParseCondition(KindFilter, long, env); err != nil {
		t.Errorf("translated filter: %v", err)
	}
	if _, err := ParseCondition(KindCondition, long, NewEnv(nil, nil).WithoutLimits()); err != nil {
		t.Errorf("condition without limits: %v", err)
	}
}
