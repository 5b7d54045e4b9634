package fsm_test

import (
	"errors"
	"testing"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

func indexCmd(op any) *partitapb.Command {
	cmd := &partitapb.Command{Id: []byte("ir")}
	switch op := op.(type) {
	case *partitapb.IndexSeal:
		cmd.Op = &partitapb.Command_IndexSeal{IndexSeal: op}
	case *partitapb.IndexOpen:
		cmd.Op = &partitapb.Command_IndexOpen{IndexOpen: op}
	case *partitapb.IndexSweep:
		cmd.Op = &partitapb.Command_IndexSweep{IndexSweep: op}
	case *partitapb.IndexBackfill:
		cmd.Op = &partitapb.Command_IndexBackfill{IndexBackfill: op}
	}
	return cmd
}

// TestIndexRounds: tombstones stay while the partition is not sealed or a
// round is open, and a sweep then refuses to run; once sealed with no
// round open, a paged sweep deletes every tombstone and nothing else,
// deletes leave none, and a backfill write of a finished round writes
// nothing even where no tombstone is left; a new round keeps tombstones
// again until it is sealed.
func TestIndexRounds(t *testing.T) {
	eng := openEngine(t)
	keys := make([][]byte, 6)
	for i := range keys {
		keys[i] = key(t, string(rune('a'+i)))
	}
	v := item.EncodeItem(item.Item{"pk": item.S("x")})
	get := func(k []byte) []byte {
		t.Helper()
		raw, err := engine.Get(eng.Reader(), k)
		if errors.Is(err, engine.ErrNotFound) {
			return nil
		}
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	tombstones := func() int {
		n := 0
		for _, k := range keys {
			if _, _, ok := engine.DecodeGlobalTombstone(get(k)); ok {
				n++
			}
		}
		return n
	}
	ok := func(cmd *partitapb.Command) *partitapb.Result {
		t.Helper()
		res := apply(t, eng, part, cmd)
		if res.GetError() != nil {
			t.Fatal(res.GetError())
		}
		return res
	}
	refuse := func(cmd *partitapb.Command) {
		t.Helper()
		if res := apply(t, eng, part, cmd); res.GetError() == nil {
			t.Fatal("a backfill write of a sealed round was not refused")
		}
	}
	sweep := func() (collected uint64, refused bool) {
		t.Helper()
		var from []byte
		for pages := 0; ; pages++ {
			out := ok(indexCmd(&partitapb.IndexSweep{From: from, Limit: 2})).GetIndexSweep()
			if out.GetRefused() {
				return collected, true
			}
			collected += out.GetCollected()
			if from = out.GetNext(); from == nil {
				return collected, false
			}
			if pages > 10 {
				t.Fatal("the sweep does not end")
			}
		}
	}

	// Round 0 (the creation's backfill) is open: entries come and go.
	ok(indexCmd(&partitapb.IndexOpen{Epoch: 0}))
	for _, k := range keys {
		ok(indexWrite(&partitapb.IndexEntryWrite{Key: k, Value: v, VersionGeneration: 1, VersionSeq: 1}))
	}
	for _, k := range keys[:4] {
		ok(indexWrite(&partitapb.IndexEntryWrite{Key: k, Delete: true, VersionGeneration: 1, VersionSeq: 5}))
	}
	if n := tombstones(); n != 4 {
		t.Fatalf("%d tombstones, want 4", n)
	}
	if _, refused := sweep(); !refused {
		t.Fatal("a sweep ran while round 0 is open")
	}
	// An older backfill write of round 0 is refused by the tombstone.
	ok(indexCmd(&partitapb.IndexBackfill{Epoch: 0, Entries: []*partitapb.IndexEntryWrite{
		{Key: keys[0], Value: v, VersionGeneration: 1, VersionSeq: 3, Backfill: true}}}))
	if get(keys[0]) == nil || !engine.IsLocalEntry(get(keys[0])) {
		t.Fatal("a backfill write older than the tombstone brought the entry back")
	}

	// Round 0 ends: the sweep collects the four tombstones, in pages.
	ok(indexCmd(&partitapb.IndexSeal{Epoch: 1}))
	if got, refused := sweep(); refused || got != 4 || tombstones() != 0 {
		t.Fatalf("sweep after the seal: collected %d (refused %v), %d tombstones left", got, refused, tombstones())
	}
	for _, k := range keys[4:] {
		if string(get(k)) != string(v) {
			t.Fatalf("the sweep touched the live entry %x", k)
		}
	}
	if st, _ := fsm.ReadStats(eng.Reader(), part); st.Items != 2 {
		t.Fatalf("stats count %d entries, want 2", st.Items)
	}
	// A stalled backfill write of round 0 lands: it is refused, though no
	// tombstone is there any more.
	refuse(indexCmd(&partitapb.IndexBackfill{Epoch: 0, Entries: []*partitapb.IndexEntryWrite{
		{Key: keys[0], Value: v, VersionGeneration: 1, VersionSeq: 3, Backfill: true}}}))
	if get(keys[0]) != nil {
		t.Fatal("a backfill write of a sealed round brought an entry back")
	}
	// A stalled opener of round 0 changes nothing; deletes leave no tombstone.
	ok(indexCmd(&partitapb.IndexOpen{Epoch: 0}))
	ok(indexWrite(&partitapb.IndexEntryWrite{Key: keys[4], Delete: true, VersionGeneration: 1, VersionSeq: 9}))
	if get(keys[4]) != nil {
		t.Fatalf("a delete in a sealed partition left %x", get(keys[4]))
	}

	// Round 1 (a rebuild) opens: tombstones are kept until it is sealed;
	// its writes pass, round 0's still do not.
	ok(indexCmd(&partitapb.IndexOpen{Epoch: 1}))
	ok(indexWrite(&partitapb.IndexEntryWrite{Key: keys[5], Delete: true, VersionGeneration: 1, VersionSeq: 10}))
	if n := tombstones(); n != 1 {
		t.Fatalf("%d tombstones in an open round, want 1", n)
	}
	if _, refused := sweep(); !refused {
		t.Fatal("a sweep ran while round 1 is open")
	}
	ok(indexCmd(&partitapb.IndexBackfill{Epoch: 1, Entries: []*partitapb.IndexEntryWrite{
		{Key: keys[0], Value: v, VersionGeneration: 1, VersionSeq: 11, Backfill: true},
		{Key: keys[5], Value: v, VersionGeneration: 1, VersionSeq: 9, Backfill: true}}}))
	if string(get(keys[0])) != string(v) {
		t.Fatal("a backfill write of the open round wrote nothing")
	}
	if _, _, isTomb := engine.DecodeGlobalTombstone(get(keys[5])); !isTomb {
		t.Fatal("a backfill write of the open round, older than a tombstone, replaced it")
	}
	ok(indexCmd(&partitapb.IndexSeal{Epoch: 2}))
	if got, refused := sweep(); refused || got != 1 {
		t.Fatalf("sweep after round 1's seal: collected %d (refused %v)", got, refused)
	}
	if r, _ := fsm.ReadIndexRound(eng.Reader(), part); r != (fsm.IndexRound{Sealed: 2}) {
		t.Fatalf("round state %+v, want sealed 2, none open", r)
	}
}
