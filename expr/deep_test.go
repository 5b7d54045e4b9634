package expr

import (
	"strings"
	"testing"
	"time"
)

// Deeply nested input stays within the size limit and parses quickly.
func TestDeepNesting(t *testing.T) {
	const depth = 2040
	inputs := []string{
		strings.Repeat("(", depth) + "a = :s" + strings.Repeat(")", depth),
		"a = " + strings.Repeat("(", depth) + ":s" + strings.Repeat(")", depth),
		strings.Repeat("NOT ", 1000) + "a = :s",
		strings.Repeat("size(", 680) + "a" + strings.Repeat(")", 680) + " = :n",
		strings.Repeat("(", 580) + "a" + strings.Repeat(" = :s)", 580),
	}
	for _, s := range inputs {
		start := time.Now()
		_, err := ParseCondition(KindCondition, s, testEnv())
		if err == nil && !strings.HasPrefix(s, "NOT") {
			t.Errorf("%.20s...: want an error", s)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("%.20s... took %v", s, d)
		}
	}
	s := "SET a = " + strings.Repeat("(", 2000) + ":s" + strings.Repeat(")", 2000)
	if _, err := ParseUpdate(s, testEnv()); err == nil {
		t.Errorf("redundant parentheses in SET: want an error")
	}
}
