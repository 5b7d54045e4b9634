package fsm

import (
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// A test may read the clock but not import Pebble.
func TestNow(t *testing.T) {
	var _ pebble.DB
	if time.Since(time.Unix(0, Now())) < 0 {
		t.Fatal("clock went back")
	}
}
