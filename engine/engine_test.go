package engine_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/item"
)

func TestCommitSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	eng, err := engine.Open(engine.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	b := eng.NewIndexedBatch()
	if err := b.Set([]byte("k"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	if v, err := engine.Get(b, []byte("k")); err != nil || string(v) != "v" {
		t.Fatalf("indexed batch must see its own write: %q %v", v, err)
	}
	if _, err := eng.Get([]byte("k")); !errors.Is(err, engine.ErrNotFound) {
		t.Fatalf("uncommitted write visible: %v", err)
	}
	if err := eng.Commit(b); err != nil {
		t.Fatal(err)
	}
	if err := eng.Close(); err != nil {
		t.Fatal(err)
	}
	eng, err = engine.Open(engine.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	if v, err := eng.Get([]byte("k")); err != nil || string(v) != "v" {
		t.Fatalf("after reopen: %q %v", v, err)
	}
}

func TestDataKeysOfOnePartitionKeyAreContiguousAndOrderedBySortKey(t *testing.T) {
	pk := item.S("user#1")
	var prev []byte
	for _, sk := range []string{"", "a", "a\x00", "ab", "b"} {
		k, err := engine.DataKey(nil, 9, pk, item.S(sk))
		if err != nil {
			t.Fatal(err)
		}
		if prev != nil && bytes.Compare(prev, k) >= 0 {
			t.Fatalf("sort key %q does not sort after its predecessor", sk)
		}
		prefix := engine.PartitionKeyPrefix(nil, 9, item.Hash(pk))
		if !bytes.HasPrefix(k, prefix) {
			t.Fatalf("key of %q lacks its partition key prefix", sk)
		}
		start, end := engine.HashSpan(9, item.Hash(pk), item.Hash(pk)+1)
		if bytes.Compare(k, start) < 0 || bytes.Compare(k, end) >= 0 {
			t.Fatalf("key outside its hash span")
		}
		prev = k
	}
	// The whole table sits inside its span with an open end.
	start, end := engine.HashSpan(9, 0, 0)
	if bytes.Compare(prev, start) < 0 || bytes.Compare(prev, end) >= 0 {
		t.Fatal("key outside the table span")
	}
	other, _ := engine.DataKey(nil, 10, pk, item.S("a"))
	if bytes.Compare(other, end) < 0 {
		t.Fatal("another table's key falls in the span")
	}
}

func TestMetaSpan(t *testing.T) {
	lo, hi := engine.MetaSpan("table")
	for _, name := range []string{"", "a", "zzz\xff"} {
		k := engine.MetaKey("table", name)
		if bytes.Compare(k, lo) < 0 || bytes.Compare(k, hi) >= 0 {
			t.Fatalf("MetaKey(table, %q) outside MetaSpan(table)", name)
		}
	}
	if k := engine.MetaKey("tables", "x"); bytes.Compare(k, lo) >= 0 && bytes.Compare(k, hi) < 0 {
		t.Fatal("another kind's key inside the span")
	}
}

func TestLocalRangeHoldsEveryLocalKeyAndNoOther(t *testing.T) {
	lo, hi := engine.LocalRange()
	in := func(k []byte) bool { return bytes.Compare(k, lo) >= 0 && bytes.Compare(k, hi) < 0 }
	for _, k := range [][]byte{engine.LocalKey(0, ""), engine.LocalKey(1<<64-1, "\xff\xff")} {
		if !in(k) {
			t.Fatalf("local key %q outside LocalRange", k)
		}
	}
	data, _ := engine.DataKey(nil, 1<<64-1, item.S("k"), item.Value{})
	if in(engine.MetaKey("table", "\xff")) || in(data) {
		t.Fatal("a directory or data key inside LocalRange")
	}
}
