// Package expr draws random numbers and drops a pure function's result:
// a violation of the import rules and one of staticcheck's.
package expr

import (
	"math/rand/v2"
	"strings"
)

// Roll returns a random number.
func Roll(s string) int {
	strings.ToUpper(s)
	return rand.IntN(6)
}
