package fsm_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

// TestAppliedStateCarriesAcrossBatches: an Applier told the state the
// previous batch's Applier ended with (as a replica does between its
// rounds) writes exactly what one reading that state from its batch
// writes: the lease state (with refusals), the statistics (through a
// range destruction) and the change log's state (records and a trim).
// A state two batches old does not, so the comparison can fail.
func TestAppliedStateCarriesAcrossBatches(t *testing.T) {
	d := rangeOf(part)
	v := func(pk string, n int) []byte {
		return item.EncodeItem(item.Item{"pk": item.S(pk), "n": item.N(item.MustNumber(fmt.Sprint(n)))})
	}
	lease := uint64(0)
	put := func(pk string, n int, trim uint64) *partitapb.Effects {
		lease++
		return &partitapb.Effects{Term: 1, LeaseIndex: lease, Key: key(t, pk), Value: v(pk, n), Items: 1,
			Bytes: int64(len(v(pk, n))), ChangeView: partitapb.ChangeView_NEW_IMAGE, ChangeUnixNanos: int64(lease),
			ChangeTrimTo: trim}
	}
	// A refused entry: its lease index is not above the applied one.
	stale := func() *partitapb.Effects {
		return &partitapb.Effects{Term: 1, LeaseIndex: 1, Key: key(t, "z"), Value: v("z", 0), Items: 1}
	}
	destroy := &partitapb.Command{Id: []byte("destroy"), Op: &partitapb.Command_DestroyRange{
		DestroyRange: &partitapb.DestroyRange{TableId: 1, HashStart: 0, HashEnd: 0}}}
	batches := [][]any{
		{put("a", 1, 0), put("b", 2, 0)},
		{put("a", 3, 0), stale(), put("c", 4, 0)},
		{put("d", 5, 2)},
		{put("e", 6, 0), destroy, put("f", 7, 0)},
		{put("g", 8, 4), put("a", 9, 0)},
		{stale(), put("h", 10, 0)},
	}

	// run applies the batches to a new engine; known returns the state to
	// tell the Applier of batch i, given the states batches 0..i-1 ended
	// with (nil: tell it nothing).
	run := func(known func(i int, ends []fsm.AppliedState) *fsm.AppliedState) *engine.Engine {
		eng := openEngine(t)
		var ends []fsm.AppliedState
		for i, entries := range batches {
			b := eng.NewIndexedBatch()
			a := fsm.NewApplier(b, d)
			if s := known(i, ends); s != nil {
				a.KnowState(*s)
			}
			for _, e := range entries {
				var err error
				switch e := e.(type) {
				case *partitapb.Effects:
					_, err = a.ApplyEffects(e, 1)
				case *partitapb.Command:
					_, err = a.Apply(e)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if err := a.Flush(); err != nil {
				t.Fatal(err)
			}
			ends = append(ends, a.State())
			if err := eng.Commit(b); err != nil {
				t.Fatal(err)
			}
		}
		return eng
	}
	read := run(func(int, []fsm.AppliedState) *fsm.AppliedState { return nil })
	carried := run(func(i int, ends []fsm.AppliedState) *fsm.AppliedState {
		if i == 0 {
			return nil
		}
		return &ends[i-1]
	})
	if diff := firstDifference(t, read, carried); diff != "" {
		t.Fatalf("carrying the state changed what was written: %s", diff)
	}
	if s, err := fsm.ReadStats(carried, part); err != nil || s.Items != 4 {
		t.Fatalf("stats %+v (%v), want the 4 items written since the destruction (f, g, a, h)", s, err)
	}
	if lai, err := fsm.ReadLeaseIndex(carried, part); err != nil || lai != lease {
		t.Fatalf("lease-applied index %d (%v), want %d", lai, err, lease)
	}
	staleState := run(func(i int, ends []fsm.AppliedState) *fsm.AppliedState {
		if i < 2 {
			return nil
		}
		return &ends[i-2]
	})
	if firstDifference(t, read, staleState) == "" {
		t.Fatal("an Applier told a stale state wrote what one reading it did: the comparison shows nothing")
	}
}

// firstDifference describes the first key at which two engines differ
// ("" when they hold the same keys and values).
func firstDifference(t *testing.T, x, y *engine.Engine) string {
	t.Helper()
	ix, err := x.NewIter(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	iy, err := y.NewIter(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer iy.Close()
	okx, oky := ix.First(), iy.First()
	for ; okx && oky; okx, oky = ix.Next(), iy.Next() {
		if !bytes.Equal(ix.Key(), iy.Key()) || !bytes.Equal(ix.Value(), iy.Value()) {
			return fmt.Sprintf("key %q: %x against key %q: %x", ix.Key(), ix.Value(), iy.Key(), iy.Value())
		}
	}
	if okx != oky {
		return fmt.Sprintf("one engine has more keys (%v, %v)", okx, oky)
	}
	return ""
}
