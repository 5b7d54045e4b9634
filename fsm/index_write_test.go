package fsm_test

import (
	"errors"
	"testing"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

func indexWrite(ws ...*partitapb.IndexEntryWrite) *partitapb.Command {
	return &partitapb.Command{Id: []byte("iw"), Op: &partitapb.Command_IndexWrite{IndexWrite: &partitapb.IndexWrite{Entries: ws}}}
}

// TestIndexWrite: a batch of index entry writes applies in order; a
// delete leaves a tombstone with its version that reads skip and that
// statistics do not count; a backfill's write passes neither a live
// entry nor a newer tombstone, but passes an older one; a batch with a key
// outside the range writes nothing.
func TestIndexWrite(t *testing.T) {
	eng := openEngine(t)
	a, b, c := key(t, "a"), key(t, "b"), key(t, "c")
	va := item.EncodeItem(item.Item{"pk": item.S("a"), "x": item.S("1")})
	vb := item.EncodeItem(item.Item{"pk": item.S("b")})
	stale := item.EncodeItem(item.Item{"pk": item.S("a"), "x": item.S("stale")})
	get := func(k []byte) []byte {
		t.Helper()
		v, err := engine.Get(eng.Reader(), k)
		if errors.Is(err, engine.ErrNotFound) {
			return nil
		}
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	ok := func(cmd *partitapb.Command) {
		t.Helper()
		if res := apply(t, eng, part, cmd); res.GetError() != nil {
			t.Fatal(res.GetError())
		}
	}

	// In order: put a, put b, delete b (tombstone at version 1/5), put a again.
	ok(indexWrite(
		&partitapb.IndexEntryWrite{Key: a, Value: stale, VersionGeneration: 1, VersionSeq: 2},
		&partitapb.IndexEntryWrite{Key: b, Value: vb, VersionGeneration: 1, VersionSeq: 3},
		&partitapb.IndexEntryWrite{Key: b, Delete: true, VersionGeneration: 1, VersionSeq: 5},
		&partitapb.IndexEntryWrite{Key: a, Value: va, VersionGeneration: 1, VersionSeq: 6},
	))
	if string(get(a)) != string(va) {
		t.Fatalf("a holds %x", get(a))
	}
	if g, s, isTomb := engine.DecodeGlobalTombstone(get(b)); !isTomb || g != 1 || s != 5 {
		t.Fatalf("b holds %x, want a tombstone of 1/5", get(b))
	}
	if st, _ := fsm.ReadStats(eng.Reader(), part); st.Items != 1 || st.Bytes != int64(item.Item{"pk": item.S("a"), "x": item.S("1")}.Size()) {
		t.Fatalf("stats %+v: the tombstone counts, or a's rewrite counted twice", st)
	}

	// Backfill writes: over a live entry, nothing; over a newer tombstone,
	// nothing; where nothing is, the entry; over an older tombstone, the
	// entry.
	ok(indexWrite(
		&partitapb.IndexEntryWrite{Key: a, Value: stale, VersionGeneration: 2, VersionSeq: 1, Backfill: true},
		&partitapb.IndexEntryWrite{Key: b, Value: vb, VersionGeneration: 1, VersionSeq: 4, Backfill: true},
		&partitapb.IndexEntryWrite{Key: c, Value: vb, VersionGeneration: 1, VersionSeq: 4, Backfill: true},
	))
	if string(get(a)) != string(va) {
		t.Fatal("a backfill write replaced a live entry")
	}
	if _, _, isTomb := engine.DecodeGlobalTombstone(get(b)); !isTomb {
		t.Fatal("a backfill write older than b's tombstone replaced it")
	}
	if string(get(c)) != string(vb) {
		t.Fatal("a backfill write where nothing was wrote nothing")
	}
	ok(indexWrite(&partitapb.IndexEntryWrite{Key: b, Value: vb, VersionGeneration: 2, VersionSeq: 1, Backfill: true}))
	if string(get(b)) != string(vb) {
		t.Fatal("a backfill write newer than b's tombstone (a higher generation) wrote nothing")
	}

	// A key outside the range refuses the whole batch.
	out, err := engine.DataKey(nil, 2, item.S("z"), item.Value{})
	if err != nil {
		t.Fatal(err)
	}
	res := apply(t, eng, part, indexWrite(
		&partitapb.IndexEntryWrite{Key: a, Delete: true, VersionGeneration: 3, VersionSeq: 1},
		&partitapb.IndexEntryWrite{Key: out, Value: vb},
	))
	if !partitapb.IsWrongRange(res.GetError()) || string(get(a)) != string(va) {
		t.Fatalf("a batch with a key outside the range: %v, a holds %x", res.GetError(), get(a))
	}
}
