// Package fsm imports Pebble, reads the clock and formats errors without
// wrapping them: four violations.
package fsm

import (
	"errors"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// DB is Pebble's.
type DB = pebble.DB

var errFixture = errors.New("fsm: fixture")

// Now reads the clock.
func Now() int64 { return time.Now().UnixNano() }

// Wrap formats errors, twice badly and twice well.
func Wrap(n int) []error {
	return []error{
		fmt.Errorf("fsm: %v", errFixture),
		fmt.Errorf("fsm: %d%% %*d: %s", n, 3, n, errFixture),
		fmt.Errorf("fsm: %w", errFixture),
		fmt.Errorf("fsm: %[1]v", errFixture), // indexed: not judged
	}
}
