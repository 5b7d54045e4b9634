package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/store"
	"github.com/partitadb/partita/transport"
)

// The merge tests split partition splitLeft at splitHash first, then
// merge the two halves back: the right half (splitRight) into the left.

var testMerge = &partitapb.MergeIntent{
	Id: []byte("merge-1"), TableId: 1, Left: splitLeft, Right: splitRight,
	LeftGeneration: 2, RightGeneration: 2, Voters: []uint64{1, 2, 3},
}

func freezeCommand(left bool) *partitapb.Command {
	return &partitapb.Command{Id: fmt.Appendf(nil, "freeze %v", left), Op: &partitapb.Command_FreezeRange{FreezeRange: &partitapb.FreezeRange{
		Merge: testMerge, Left: left,
	}}}
}

func mergeCommand() *partitapb.Command {
	return &partitapb.Command{Id: []byte("merge"), Op: &partitapb.Command_MergeRange{MergeRange: &partitapb.MergeRange{Merge: testMerge, KeepSegments: true}}}
}

// splitThenFreeze splits the table's partition on every node, writes
// keys to both halves, and freezes both for testMerge, waiting until
// every live node's right half applied its freeze.
func (c *testCluster) splitThenFreeze(t *testing.T) {
	t.Helper()
	for _, s := range c.stores {
		if err := s.Bootstrap(splitLeft, []uint64{1, 2, 3}, tableSpan()); err != nil {
			t.Fatal(err)
		}
	}
	if res := c.propose(splitLeft, splitCommand()); res.GetError() != nil {
		t.Fatalf("split: %v", res.GetError())
	}
	c.writeKeys(t, "a", 0, 40, true)
	for _, left := range []bool{false, true} {
		p := uint64(splitRight)
		if left {
			p = splitLeft
		}
		if res := c.propose(p, freezeCommand(left)); res.GetError() != nil {
			t.Fatalf("freeze %d: %v", p, res.GetError())
		}
	}
	waitFor(t, "the right half frozen on every node", func() bool {
		for _, s := range c.stores {
			if r := s.Replica(splitRight); s != nil && (r == nil || !fsm.FrozenRight(r.Descriptor())) {
				return false
			}
		}
		return true
	})
}

// mergedOn says node i holds the merged layout: no right half (its local
// state gone but for its tombstone naming the left), the left over the
// whole table at generation 3.
func (c *testCluster) mergedOn(t *testing.T, i int) error {
	s, eng := c.stores[i], c.engs[i]
	if s.Replica(splitRight) != nil {
		return fmt.Errorf("node %d still has the right half", i+1)
	}
	if into := s.MergedInto(splitRight); into != splitLeft {
		return fmt.Errorf("node %d: right half merged into %d", i+1, into)
	}
	lo := engine.LocalKey(splitRight, "")
	if left := dump(t, eng, lo, engine.LocalKey(splitRight+1, "")); strings.Count(left, "\n") != 1 {
		return fmt.Errorf("node %d keeps local state of the right half:\n%s", i+1, left)
	}
	d, err := s.Descriptor(splitLeft)
	if err != nil {
		return err
	}
	if _, lo, hi, ok := fsm.ParseHashSpan(d.GetSpans()[0]); !ok || lo != 0 || hi != 0 || d.GetGeneration() != 3 || d.GetFrozen() != nil {
		return fmt.Errorf("node %d: left half at %v", i+1, d)
	}
	return nil
}

// waitMerged waits until every node holds the merged layout and the same
// items and left half's replicated state, whose statistics count every
// item.
func (c *testCluster) waitMerged(t *testing.T) {
	t.Helper()
	check := func() error {
		want := tableDump(t, c.engs[0])
		lo := engine.LocalKey(splitLeft, engine.ReplicatedLocal)
		hi := engine.LocalKey(splitLeft, string(rune(engine.ReplicatedLocal[0]+1)))
		wantRep := dump(t, c.engs[0], lo, hi)
		for i := range c.stores {
			// Apply determinism: the left half's replicated state
			// (descriptor, statistics, merge record, command ids) is the
			// same on every node, whichever way it got there.
			if got := dump(t, c.engs[i], lo, hi); got != wantRep {
				return fmt.Errorf("node %d holds another replicated state of the left half", i+1)
			}
			if err := c.mergedOn(t, i); err != nil {
				return err
			}
			if tableDump(t, c.engs[i]) != want {
				return fmt.Errorf("node %d holds other items", i+1)
			}
			st, err := fsm.ReadStats(c.engs[i].Reader(), splitLeft)
			if err != nil {
				return err
			}
			if n := int64(strings.Count(want, "\n")); st.Items != n {
				return fmt.Errorf("node %d: the left counts %d items of %d", i+1, st.Items, n)
			}
		}
		return nil
	}
	var err error
	waitFor(t, "the merged layout on every node", func() bool { err = check(); return err == nil })
}

// TestMergeOnThreeStores merges two halves on three nodes: the left
// widens over the right, whose replica goes on every node; requests to
// the right half get WRONG_RANGE; a retry of a command the right half
// applied is answered from its record, not applied again.
func TestMergeOnThreeStores(t *testing.T) {
	c := newTestCluster(t, 3)
	c.splitThenFreeze(t)
	var right string
	for i := range 40 {
		if pk := fmt.Sprint("k", i); item.Hash(item.S(pk)) >= splitHash {
			right = pk
			break
		}
	}
	if res := c.propose(splitRight, putCommand("frozen", right)); !partitapb.IsWrongRange(res.GetError()) {
		t.Fatalf("a frozen right half took a write: %v", res)
	}
	k, _ := engine.DataKey(nil, 1, item.S(right), item.Value{})
	if _, err := c.stores[c.leader(splitRight)].Get(context.Background(), splitRight, k, true); !partitapb.IsWrongRange(err) {
		t.Fatalf("consistent read of a frozen right half: %v, want WRONG_RANGE", err)
	}
	// A membership change of a frozen half is rejected at apply.
	actx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := c.stores[c.leader(splitLeft)].AddLearner(actx, splitLeft, 4); err == nil {
		t.Fatal("a learner joined a partition frozen for a merge")
	}
	if cs := c.stores[c.leader(splitLeft)].Replica(splitLeft).ConfState(); len(cs.Learners) != 0 || len(cs.Voters) != 3 {
		t.Fatalf("the frozen left half's membership changed: %v", cs)
	}
	if res := c.propose(splitLeft, mergeCommand()); res.GetError() != nil || !res.GetMerge().GetMerged() {
		t.Fatalf("merge: %v", res)
	}
	c.waitMerged(t)
	for i, s := range c.stores {
		res, err := s.Propose(context.Background(), splitRight, putCommand("late", right))
		if err != nil || !partitapb.IsWrongRange(res.GetError()) {
			t.Fatalf("node %d: write to the merged right half: %v %v, want WRONG_RANGE", i+1, res, err)
		}
		if _, err := s.Get(context.Background(), splitRight, k, false); !partitapb.IsWrongRange(err) {
			t.Fatalf("node %d: read of the merged right half: %v, want WRONG_RANGE", i+1, err)
		}
	}
	// The put "a<right>" applied on the right half; its retry, now routed
	// to the left, must find its record rather than apply again.
	retry := putCommand("a"+right, right)
	retry.GetPutItem().Condition = &partitapb.Expression{Text: "attribute_not_exists(pk)"}
	if res := c.propose(splitLeft, retry); res.GetError() != nil {
		t.Fatalf("retry of a command the right half applied: %v", res.GetError())
	}
	c.writeKeys(t, "b", 0, 40, false)
	c.waitMerged(t)
}

// TestMergeWhileReplicaDown merges while one node, whose right half had
// applied its freeze, is down. Restarted with its log holding the merge,
// its left half applies it and removes its right half; restarted after
// the left half trimmed its log past the merge, it is sent a snapshot of
// the widened range, which replaces its frozen right half: no range is
// left orphaned.
func TestMergeWhileReplicaDown(t *testing.T) {
	for _, trimmed := range []bool{false, true} {
		t.Run(fmt.Sprintf("trimmed=%v", trimmed), func(t *testing.T) { testMergeWhileReplicaDown(t, trimmed) })
	}
}

func testMergeWhileReplicaDown(t *testing.T, trimmed bool) {
	gates := make([]*gate, 3)
	c := newTestCluster(t, 3, func(cfg *store.Config) {
		if trimmed {
			cfg.Replica.MaxLogEntries, cfg.Replica.TruncateStep = 40, 8
		}
	})
	c.handler = func(i int, s *store.Store) transport.Handler {
		gates[i] = &gate{s: s}
		return gates[i]
	}
	c.splitThenFreeze(t)
	down := (c.leader(splitLeft) + 1) % 3
	c.stop(down)
	if res := c.propose(splitLeft, mergeCommand()); res.GetError() != nil {
		t.Fatalf("merge: %v", res.GetError())
	}
	writes := 10
	if trimmed {
		writes = 150 // the left's log moves past the merge by more than its bound
	}
	c.writeKeys(t, "b", 0, writes, false)
	c.start(down)
	c.waitMerged(t)
	if got := gates[down].received.Load(); trimmed != (got > 0) {
		t.Fatalf("the restarted node received %d snapshots (trimmed %v)", got, trimmed)
	}
	c.writeKeys(t, "c", 0, 20, false)
	c.waitMerged(t)
	// Restarted again, it opens no replica of the right half.
	c.stop(down)
	c.start(down)
	if err := c.mergedOn(t, down); err != nil {
		t.Fatal(err)
	}
}
