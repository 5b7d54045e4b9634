package store_test

import (
	"context"
	"fmt"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

// TestSweepOrphansClearsWhatNoReplicaOwns: data left on a store with no
// replica owning it (the lower half of a table whose upper half a replica
// here owns, another table, a directory record), as a removal by an older
// binary leaves it, is cleared by SweepOrphans; the replica's items stay,
// and so does the data of a partition known only by its committed
// descriptor (a split's right half not yet opened). A second sweep finds
// nothing.
func TestSweepOrphansClearsWhatNoReplicaOwns(t *testing.T) {
	eng, s := openSingle(t)
	upperStart, upperEnd := engine.HashSpan(1, splitHash, 0)
	if err := s.Bootstrap(splitRight, []uint64{1}, &partitapb.Span{Start: upperStart, End: upperEnd}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the replica leads", func() bool { return s.Replica(splitRight).Leader() == 1 })

	leaked := eng.NewIndexedBatch()
	set := func(k []byte) {
		t.Helper()
		if err := leaked.Set(k, []byte("left behind")); err != nil {
			t.Fatal(err)
		}
	}
	owned, lower := 0, 0
	for i := 0; owned < 20 || lower < 20; i++ {
		pk := fmt.Sprint("k", i)
		if item.Hash(item.S(pk)) >= splitHash {
			if owned < 20 {
				if res, err := s.Propose(context.Background(), splitRight, putIn(1, "a"+pk, pk)); err != nil || res.GetError() != nil {
					t.Fatalf("put %s: %v %v", pk, res, err)
				}
				owned++
			}
			continue
		}
		k, _ := engine.DataKey(nil, 1, item.S(pk), item.Value{})
		set(k)
		lower++
	}
	for i := range 10 {
		k, _ := engine.DataKey(nil, 7, item.S(fmt.Sprint("t7-", i)), item.Value{})
		set(k)
		k, _ = engine.DataKey(nil, 8, item.S(fmt.Sprint("t8-", i)), item.Value{})
		set(k)
	}
	set(engine.MetaKey("table", "gone"))
	t8Start, t8End := engine.HashSpan(8, 0, 0)
	desc, err := proto.Marshal(&partitapb.Descriptor{Partition: 9, Spans: []*partitapb.Span{{Start: t8Start, End: t8End}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := leaked.Set(fsm.DescriptorKey(9), desc); err != nil {
		t.Fatal(err)
	}
	if err := eng.Commit(leaked); err != nil {
		t.Fatal(err)
	}
	before := dump(t, eng, upperStart, upperEnd)
	t7Start, t7End := engine.HashSpan(7, 0, 0)
	metaStart, metaEnd := engine.MetaRange()
	lowerStart, lowerEnd := engine.HashSpan(1, 0, splitHash)
	if countKeys(t, eng, lowerStart, lowerEnd) != lower || countKeys(t, eng, upperStart, upperEnd) != owned {
		t.Fatal("the setup wrote the wrong keys")
	}

	cleared, err := s.SweepOrphans()
	if err != nil {
		t.Fatal(err)
	}
	if len(cleared) != 3 {
		t.Errorf("cleared %d spans, want 3 (table 1's lower half, table 7, the directory): %v", len(cleared), cleared)
	}
	for _, c := range []struct {
		what       string
		start, end []byte
		want       int
	}{
		{"table 1's lower half, which no replica owns", lowerStart, lowerEnd, 0},
		{"table 7, which no replica owns", t7Start, t7End, 0},
		{"the directory, with no meta replica here", metaStart, metaEnd, 0},
		{"table 8, partition 9's by its descriptor", t8Start, t8End, 10},
		{"table 1's upper half, the replica's", upperStart, upperEnd, owned},
	} {
		if n := countKeys(t, eng, c.start, c.end); n != c.want {
			t.Errorf("%s: %d keys after the sweep, want %d", c.what, n, c.want)
		}
	}
	if got := dump(t, eng, upperStart, upperEnd); got != before {
		t.Errorf("the replica's items changed:\nbefore %s\nafter  %s", before, got)
	}
	if again, err := s.SweepOrphans(); err != nil || len(again) != 0 {
		t.Errorf("a second sweep cleared %v (err %v)", again, err)
	}
}
