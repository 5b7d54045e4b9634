package dynamo

import (
	"regexp"
	"testing"
)

// FuzzTableNameMatchesPattern: the table name check accepts exactly the
// names DynamoDB's pattern does.
func FuzzTableNameMatchesPattern(f *testing.F) {
	re := regexp.MustCompile("^" + tableNamePattern + "$")
	for _, s := range []string{"", "a", "Orders_2026.v-1", "a b", "é", "tab\n", "x/y", "..."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := tableNameRE.MatchString(s), re.MatchString(s); got != want {
			t.Fatalf("%q: matched %v, the pattern says %v", s, got, want)
		}
	})
}
