package auth

import (
	"fmt"
	"testing"
)

// TestKeyCacheBounded fills the cache past its size: it never holds more
// than size keys, keeps the recent ones, and derives the same keys as an
// uncached derivation.
func TestKeyCacheBounded(t *testing.T) {
	c := newKeyCache(8)
	for i := range 100 {
		id := fmt.Sprintf("AKID%d", i)
		if got, want := c.get(id, "secret", "20261204", "us-east-1", "dynamodb"), deriveKey("secret", "20261204", "us-east-1", "dynamodb"); got != want {
			t.Fatalf("key %d: cached derivation differs", i)
		}
		if n := c.len(); n > 8 {
			t.Fatalf("after %d keys the cache holds %d, bound 8", i+1, n)
		}
	}
	c.get("AKID99", "other", "20261204", "us-east-1", "dynamodb")
	if e := c.cur[cacheKey{"AKID99", "20261204", "us-east-1"}]; e.secret != "other" || e.key != deriveKey("other", "20261204", "us-east-1", "dynamodb") {
		t.Fatal("a changed secret did not replace the cached key")
	}
}
