package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/partitadb/partita/admission"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/replica"
	"github.com/partitadb/partita/store"
)

// putIn writes item pk of table with value v (its command id is id).
func putIn(table uint64, id, pk string) *partitapb.Command {
	k, _ := engine.DataKey(nil, table, item.S(pk), item.Value{})
	return &partitapb.Command{Id: []byte(id), Op: &partitapb.Command_PutItem{PutItem: &partitapb.PutItem{
		Key: k, Item: item.EncodeItem(item.Item{"pk": item.S(pk), "v": item.S(id)}),
	}}}
}

// tableSpanOf is the span of every item of table.
func tableSpanOf(table uint64) *partitapb.Span {
	start, end := engine.HashSpan(table, 0, 0)
	return &partitapb.Span{Start: start, End: end}
}

// countKeys counts the keys of eng in [start, end).
func countKeys(t *testing.T, eng *engine.Engine, start, end []byte) int {
	t.Helper()
	it, err := eng.NewIter(start, end)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	n := 0
	for ok := it.First(); ok; ok = it.Next() {
		n++
	}
	if err := it.Error(); err != nil {
		t.Fatal(err)
	}
	return n
}

// localKeys counts partition's local keys on eng, its tombstone aside.
func localKeys(t *testing.T, eng *engine.Engine, partition uint64) int {
	n := countKeys(t, eng, engine.LocalKey(partition, ""), engine.LocalKey(partition+1, ""))
	if _, err := eng.Get(engine.LocalKey(partition, "tomb")); err == nil {
		n--
	}
	return n
}

// TestMovedReplicaLeavesNoData moves partition 2 (table 1) from node 1 to
// node 4, as the Doctor does (learner, promotion, removal, destruction):
// node 1 then holds no key of table 1 and no state of partition 2, while
// its replica of partition 5 (table 2) keeps every item, and the other
// nodes keep table 1's. A restart brings nothing back.
func TestMovedReplicaLeavesNoData(t *testing.T) {
	inBothLayouts(t, testMovedReplicaLeavesNoData)
}

func testMovedReplicaLeavesNoData(t *testing.T) {
	const moved, stays, items = 2, 5, 50
	c := newTestCluster(t, 4)
	for _, s := range c.stores[:3] {
		if err := s.Bootstrap(moved, []uint64{1, 2, 3}, tableSpanOf(1)); err != nil {
			t.Fatal(err)
		}
		if err := s.Bootstrap(stays, []uint64{1, 2, 3}, tableSpanOf(2)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range items {
		pk := fmt.Sprint("k", i)
		if res := c.propose(moved, putIn(1, "a"+pk, pk)); res.GetError() != nil {
			t.Fatal(res.GetError())
		}
		if res := c.propose(stays, putIn(2, "b"+pk, pk)); res.GetError() != nil {
			t.Fatal(res.GetError())
		}
	}
	t1, t2 := tableSpanOf(1), tableSpanOf(2)
	waitFor(t, "node 1 holds both tables", func() bool {
		return countKeys(t, c.engs[0], t1.Start, t1.End) == items && countKeys(t, c.engs[0], t2.Start, t2.End) == items
	})

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.stores[3].AddEmptyReplica(moved); err != nil {
		t.Fatal(err)
	}
	if err := c.stores[c.leader(moved)].AddLearner(ctx, moved, 4); err != nil {
		t.Fatal(err)
	}
	if err := c.stores[c.leader(moved)].PromoteLearner(ctx, moved, 4); err != nil {
		t.Fatal(err)
	}
	for {
		err := c.stores[c.leader(moved)].RemoveReplica(ctx, moved, 1)
		if err == nil {
			break
		}
		if !errors.Is(err, store.ErrLeadershipMoved) {
			t.Fatal(err)
		}
	}
	if err := c.stores[0].Destroy(moved); err != nil {
		t.Fatal(err)
	}

	check := func(when string) {
		t.Helper()
		if n := countKeys(t, c.engs[0], t1.Start, t1.End); n != 0 {
			t.Errorf("%s: node 1 keeps %d keys of the moved partition's span", when, n)
		}
		if n := localKeys(t, c.engs[0], moved); n != 0 {
			t.Errorf("%s: node 1 keeps %d local keys of the moved partition", when, n)
		}
		if n := countKeys(t, c.engs[0], t2.Start, t2.End); n != items {
			t.Errorf("%s: node 1 holds %d items of the other partition, want %d", when, n, items)
		}
		if !c.stores[0].Destroyed(moved) {
			t.Errorf("%s: node 1 has no tombstone of the moved partition", when)
		}
	}
	check("after the destruction")
	for i := 1; i < 4; i++ {
		waitFor(t, fmt.Sprintf("node %d holds the moved partition's items", i+1), func() bool {
			return countKeys(t, c.engs[i], t1.Start, t1.End) == items
		})
	}
	// The partition goes on without node 1, and its reopened store
	// neither opens the destroyed replica nor finds its data.
	if res := c.propose(moved, putIn(1, "after", "after")); res.GetError() != nil {
		t.Fatal(res.GetError())
	}
	c.stop(0)
	c.start(0)
	if c.stores[0].Replica(moved) != nil {
		t.Fatal("the destroyed replica was opened again")
	}
	check("after a restart")
	if res := c.propose(stays, putIn(2, "after", "after")); res.GetError() != nil {
		t.Fatal(res.GetError())
	}
}

// TestDestroyKeepsOverlappingReplicasData destroys a replica whose span
// overlaps that of another replica on the same store (as a stale replica
// of a partition that split or merged elsewhere may): the other keeps
// every item, its own writes included, and only the part of the
// destroyed span nobody else owns is cleared.
func TestDestroyKeepsOverlappingReplicasData(t *testing.T) {
	eng, s := openSingle(t, splitLeft) // the whole of table 1
	upperStart, upperEnd := engine.HashSpan(1, splitHash, 0)
	upper := &partitapb.Span{Start: upperStart, End: upperEnd}
	lowerStart, lowerEnd := engine.HashSpan(1, 0, splitHash)
	const items = 60
	upperItems := 0
	for i := range items {
		pk := fmt.Sprint("k", i)
		if res, err := s.Propose(context.Background(), splitLeft, putIn(1, "a"+pk, pk)); err != nil || res.GetError() != nil {
			t.Fatalf("put %s: %v %v", pk, res, err)
		}
		if item.Hash(item.S(pk)) >= splitHash {
			upperItems++
		}
	}
	if upperItems == 0 || upperItems == items {
		t.Fatalf("%d of %d keys in the upper half: the test needs both halves", upperItems, items)
	}
	if err := s.Bootstrap(splitRight, []uint64{1}, upper); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the overlapping replica leads", func() bool { return s.Replica(splitRight).Leader() == 1 })
	own := 0
	for i := items; own < 5; i++ {
		pk := fmt.Sprint("k", i)
		if item.Hash(item.S(pk)) < splitHash {
			continue
		}
		if res, err := s.Propose(context.Background(), splitRight, putIn(1, "b"+pk, pk)); err != nil || res.GetError() != nil {
			t.Fatalf("put %s: %v %v", pk, res, err)
		}
		own++
	}
	before := dump(t, eng, upperStart, upperEnd)

	if err := s.Destroy(splitLeft); err != nil {
		t.Fatal(err)
	}
	if got := dump(t, eng, upperStart, upperEnd); got != before {
		t.Errorf("the overlapping replica's items changed:\nbefore\n%s\nafter\n%s", before, got)
	}
	if n := countKeys(t, eng, upperStart, upperEnd); n != upperItems+own {
		t.Errorf("the overlapping replica's span holds %d keys, want %d", n, upperItems+own)
	}
	if n := countKeys(t, eng, lowerStart, lowerEnd); n != 0 {
		t.Errorf("the destroyed replica's own part keeps %d keys", n)
	}
	if n := localKeys(t, eng, splitLeft); n != 0 {
		t.Errorf("the destroyed replica keeps %d local keys", n)
	}
	for i := range items {
		pk := fmt.Sprint("k", i)
		if item.Hash(item.S(pk)) < splitHash {
			continue
		}
		k, _ := engine.DataKey(nil, 1, item.S(pk), item.Value{})
		if raw, err := s.Get(context.Background(), splitRight, k, true); err != nil || raw == nil {
			t.Errorf("read %s through the overlapping replica: %v", pk, err)
		}
		break
	}
}

// TestMergedRightHalfRemovedAtOpenKeepsItsItems stops a node between a
// merge's batch (the right half's tombstone naming the left, the left's
// widened descriptor) and the removal of the right half's replica: the
// reopened store finishes the removal before any replica is open, and
// the items of the right half's range, now the left half's, stay.
func TestMergedRightHalfRemovedAtOpenKeepsItsItems(t *testing.T) {
	dir := t.TempDir()
	eng, err := engine.Open(engine.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	s := startSingle(t, eng)
	lowerStart, lowerEnd := engine.HashSpan(1, 0, splitHash)
	upperStart, upperEnd := engine.HashSpan(1, splitHash, 0)
	halves := map[uint64]*partitapb.Span{
		splitLeft:  {Start: lowerStart, End: lowerEnd},
		splitRight: {Start: upperStart, End: upperEnd},
	}
	for p, sp := range halves {
		if err := s.Bootstrap(p, []uint64{1}, sp); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "a leader", func() bool { return s.Replica(p).Leader() == 1 })
	}
	const items = 40
	for i := range items {
		pk := fmt.Sprint("k", i)
		p := uint64(splitLeft)
		if item.Hash(item.S(pk)) >= splitHash {
			p = splitRight
		}
		if res, err := s.Propose(context.Background(), p, putIn(1, "a"+pk, pk)); err != nil || res.GetError() != nil {
			t.Fatalf("put %s: %v %v", pk, res, err)
		}
	}
	before := tableDump(t, eng)
	s.Stop()

	// What the left half's MergeRange commits on this node.
	b := eng.NewIndexedBatch()
	if err := b.Set(replica.TombstoneKey(splitRight), replica.MergedTombstone(splitLeft)); err != nil {
		t.Fatal(err)
	}
	widened := &partitapb.Descriptor{Partition: splitLeft, Spans: []*partitapb.Span{tableSpanOf(1)}, Generation: 2}
	if err := fsm.WriteDescriptor(b, widened); err != nil {
		t.Fatal(err)
	}
	if err := eng.Commit(b); err != nil {
		t.Fatal(err)
	}

	s = startSingle(t, eng)
	defer func() { s.Stop(); eng.Close() }()
	if s.Replica(splitRight) != nil || localKeys(t, eng, splitRight) != 0 {
		t.Fatal("the merged right half's replica was not removed at open")
	}
	if got := tableDump(t, eng); got != before {
		t.Fatalf("the merged range's items changed at open:\nbefore\n%s\nafter\n%s", before, got)
	}
	if n := countKeys(t, eng, upperStart, upperEnd); n == 0 {
		t.Fatal("no item in the right half's range: the test proves nothing")
	}
}

// TestReadsDuringDestroySeeNoClearedData holds an eventually consistent
// Get and a Walk of a partition (any replica serves those) in admission,
// past the replica's checks, while the replica is destroyed: released,
// they say the replica is gone, and do not answer from the cleared range
// that the item is missing, a state the partition never had.
func TestReadsDuringDestroySeeNoClearedData(t *testing.T) {
	eng, err := engine.Open(engine.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	var hold atomic.Bool
	entered, release := make(chan struct{}, 2), make(chan struct{})
	s := startSingleWith(t, eng, func(cfg *store.Config) {
		ac := admission.DefaultConfig()
		ac.Limits = func(uint64) (admission.Limits, bool) {
			if hold.Load() {
				entered <- struct{}{}
				<-release
			}
			return admission.Limits{}, false
		}
		var err error
		if cfg.Admission, err = admission.New(ac); err != nil {
			t.Fatal(err)
		}
	}, splitLeft)
	t.Cleanup(s.Stop)
	if res, err := s.Propose(context.Background(), splitLeft, putIn(1, "put", "k")); err != nil || res.GetError() != nil {
		t.Fatalf("put: %v %v", res, err)
	}
	k, _ := engine.DataKey(nil, 1, item.S("k"), item.Value{})
	span := tableSpanOf(1)

	hold.Store(true)
	type answer struct {
		found bool
		err   error
	}
	answers := make(chan answer, 2)
	go func() {
		v, err := s.Get(context.Background(), splitLeft, k, false)
		answers <- answer{v != nil, err}
	}()
	go func() {
		res, err := s.Walk(context.Background(), store.WalkRequest{Partition: splitLeft, Lo: span.Start, Hi: span.End})
		answers <- answer{len(res.Keys) > 0, err}
	}()
	<-entered
	<-entered
	hold.Store(false)
	if err := s.Destroy(splitLeft); err != nil {
		t.Fatal(err)
	}
	close(release)
	for range 2 {
		a := <-answers
		if a.err == nil && !a.found {
			t.Error("a read held across the destruction found the item missing")
		} else if a.err != nil && !errors.Is(a.err, store.ErrNoReplica) {
			t.Errorf("a read held across the destruction: %v, want ErrNoReplica", a.err)
		}
	}
}

// TestDestroyOfAReplicaAddedBackMeanwhile: a replica added back
// (AddEmptyReplica) after its destruction took it out of the store's map,
// but before the destruction cleared its state, takes that state over.
// The destruction leaves it (no tombstone; its raft state and items
// stay), and the replica goes on applying the partition's writes.
func TestDestroyOfAReplicaAddedBackMeanwhile(t *testing.T) {
	inBothLayouts(t, testDestroyOfAReplicaAddedBackMeanwhile)
}

func testDestroyOfAReplicaAddedBackMeanwhile(t *testing.T) {
	const p, items = 2, 20
	c := newTestCluster(t, 3)
	for _, s := range c.stores {
		if err := s.Bootstrap(p, []uint64{1, 2, 3}, tableSpanOf(1)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range items {
		pk := fmt.Sprint("k", i)
		if res := c.propose(p, putIn(1, "a"+pk, pk)); res.GetError() != nil {
			t.Fatal(res.GetError())
		}
	}
	span := tableSpanOf(1)
	eng, s := c.engs[2], c.stores[2]
	waitFor(t, "node 3 holds the items", func() bool { return countKeys(t, eng, span.Start, span.End) == items })

	var added atomic.Bool
	s.SetDestroying(func(partition uint64) {
		if err := s.AddEmptyReplica(partition); err != nil {
			t.Errorf("add the replica back: %v", err)
		}
		added.Store(s.Replica(partition) != nil)
	})
	if err := s.Destroy(p); err != nil {
		t.Fatal(err)
	}
	s.SetDestroying(nil)
	if !added.Load() {
		t.Fatal("the replica was not added back during its destruction")
	}
	if s.Replica(p) == nil {
		t.Error("the replica added back is not hosted")
	}
	if s.Destroyed(p) {
		t.Error("the replica added back has a tombstone")
	}
	if n := localKeys(t, eng, p); n == 0 {
		t.Error("the replica added back lost its local state")
	}
	if n := countKeys(t, eng, span.Start, span.End); n != items {
		t.Errorf("node 3 holds %d items after the destruction, want %d", n, items)
	}
	if res := c.propose(p, putIn(1, "late", "late")); res.GetError() != nil {
		t.Fatal(res.GetError())
	}
	waitFor(t, "node 3 applies a later write", func() bool { return countKeys(t, eng, span.Start, span.End) == items+1 })
}
