package replica

import (
	"testing"

	"go.etcd.io/raft/v3/raftpb"
)

func ents(lo, hi uint64, term uint64) []raftpb.Entry {
	var out []raftpb.Entry
	for i := lo; i < hi; i++ {
		out = append(out, raftpb.Entry{Index: i, Term: term, Data: make([]byte, 10)})
	}
	return out
}

func TestEntryCacheReplacesAndBounds(t *testing.T) {
	c := entryCache{maxBytes: 1 << 20}
	c.add(ents(1, 11, 1))
	if e, ok := c.get(5); !ok || e.Term != 1 {
		t.Fatalf("get(5) = %v %v", e, ok)
	}
	// A new leader's entries from index 6 replace the tail.
	c.add(ents(6, 8, 2))
	if e, _ := c.get(6); e.Term != 2 {
		t.Fatalf("entry 6 not replaced: term %d", e.Term)
	}
	if _, ok := c.get(8); ok {
		t.Fatal("entries after the replacement must be gone")
	}
	got, ok := c.slice(3, 8, 0)
	if !ok || len(got) != 5 || got[0].Index != 3 || got[4].Term != 2 {
		t.Fatalf("slice(3,8) = %v %v", got, ok)
	}
	// maxSize returns at least one entry and stops before exceeding.
	one := uint64(got[0].Size())
	if got, _ := c.slice(3, 8, one+1); len(got) != 1 {
		t.Fatalf("size-limited slice has %d entries, want 1", len(got))
	}
	// A non-contiguous append restarts the cache.
	c.add(ents(20, 22, 3))
	if _, ok := c.get(5); ok {
		t.Fatal("stale entries survived a non-contiguous append")
	}
	c.dropTo(20)
	if _, ok := c.get(20); ok {
		t.Fatal("dropTo kept the dropped entry")
	}
	if _, ok := c.get(21); !ok {
		t.Fatal("dropTo dropped too much")
	}
	small := entryCache{maxBytes: 3 * ents(1, 2, 1)[0].Size()}
	small.add(ents(1, 10, 1))
	if len(small.ents) > 3 || small.ents[len(small.ents)-1].Index != 9 {
		t.Fatalf("bounded cache keeps %d entries ending at %d", len(small.ents), small.ents[len(small.ents)-1].Index)
	}
}
