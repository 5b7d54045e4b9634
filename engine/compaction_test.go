package engine

import (
	"testing"
)

// SetCompactionConcurrency reaches Pebble's scheduler while the engine
// runs: after the next flush, Pebble allows that many compactions.
func TestCompactionConcurrencyChangesLive(t *testing.T) {
	eng, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	flush := func() {
		b := eng.NewIndexedBatch()
		if err := b.Set([]byte("k"), []byte("v")); err != nil {
			t.Fatal(err)
		}
		if err := eng.Commit(b); err != nil {
			t.Fatal(err)
		}
		if err := eng.db.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if got := eng.CompactionConcurrency(); got != 1 {
		t.Fatalf("compactions at once %d, want Pebble's default 1", got)
	}
	eng.SetCompactionConcurrency(4)
	flush()
	if got := eng.CompactionConcurrency(); got != 4 {
		t.Fatalf("after SetCompactionConcurrency(4) and a flush: %d", got)
	}
	eng.SetCompactionConcurrency(0)
	flush()
	if got := eng.CompactionConcurrency(); got != 1 {
		t.Fatalf("after SetCompactionConcurrency(0) and a flush: %d, want 1", got)
	}
}
