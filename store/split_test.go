package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/store"
	"github.com/partitadb/partita/transport"
)

const (
	splitLeft  = 2
	splitRight = 3
	splitHash  = uint64(1) << 63
)

func putCommand(id, pk string) *partitapb.Command {
	k, _ := engine.DataKey(nil, 1, item.S(pk), item.Value{})
	return &partitapb.Command{Id: []byte(id), Op: &partitapb.Command_PutItem{PutItem: &partitapb.PutItem{
		Key: k, Item: item.EncodeItem(item.Item{"pk": item.S(pk), "v": item.S(id)}),
	}}}
}

func splitCommand() *partitapb.Command {
	return &partitapb.Command{Id: []byte("split"), Op: &partitapb.Command_SplitRange{SplitRange: &partitapb.SplitRange{
		TableId: 1, SplitHash: splitHash, RightPartition: splitRight, ExpectedGeneration: fsm.FirstRangeGeneration,
		Voters: []uint64{1, 2, 3},
	}}}
}

// writeKeys writes keys k<from>..k<to-1>, each to the partition owning it
// (split: the split is done).
func (c *testCluster) writeKeys(t *testing.T, round string, from, to int, split bool) {
	t.Helper()
	for i := from; i < to; i++ {
		pk := fmt.Sprint("k", i)
		p := uint64(splitLeft)
		if split && item.Hash(item.S(pk)) >= splitHash {
			p = splitRight
		}
		if res := c.propose(p, putCommand(round+pk, pk)); res.GetError() != nil {
			t.Fatalf("put %s to %d: %v", pk, p, res.GetError())
		}
	}
}

// tableDump lists table 1's items on eng.
func tableDump(t *testing.T, eng *engine.Engine) string {
	start, end := engine.HashSpan(1, 0, 0)
	return dump(t, eng, start, end)
}

// replicatedDump lists the replicated state of both halves on eng
// (descriptors, statistics, split record, applied command ids): the
// apply-determinism check of a split.
func replicatedDump(t *testing.T, eng *engine.Engine) string {
	var b strings.Builder
	for _, p := range []uint64{splitLeft, splitRight} {
		lo := engine.LocalKey(p, engine.ReplicatedLocal)
		b.WriteString(dump(t, eng, lo, append(lo[:len(lo):len(lo)], 0xff)))
	}
	return b.String()
}

func dump(t *testing.T, eng *engine.Engine, start, end []byte) string {
	it, err := eng.NewIter(start, end)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	var b strings.Builder
	for ok := it.First(); ok; ok = it.Next() {
		fmt.Fprintf(&b, "%x=%x\n", it.Key(), it.Value())
	}
	return b.String()
}

// converged says every node holds the same items and the same ranges of
// both halves, the left at [0, splitHash) and the right after it.
func (c *testCluster) converged(t *testing.T) error {
	want, wantRep := tableDump(t, c.engs[0]), replicatedDump(t, c.engs[0])
	for i, s := range c.stores {
		if got := tableDump(t, c.engs[i]); got != want {
			return fmt.Errorf("node %d holds other items", i+1)
		}
		if got := replicatedDump(t, c.engs[i]); got != wantRep {
			return fmt.Errorf("node %d holds another replicated state", i+1)
		}
		for _, p := range []uint64{splitLeft, splitRight} {
			d, err := s.Descriptor(p)
			if err != nil {
				return fmt.Errorf("node %d: %w", i+1, err)
			}
			if len(d.GetSpans()) != 1 {
				return fmt.Errorf("node %d: partition %d at %v", i+1, p, d)
			}
			_, lo, hi, ok := fsm.ParseHashSpan(d.GetSpans()[0])
			if !ok || d.GetGeneration() != 2 ||
				(p == splitLeft && (lo != 0 || hi != splitHash)) || (p == splitRight && (lo != splitHash || hi != 0)) {
				return fmt.Errorf("node %d: partition %d at %v", i+1, p, d)
			}
		}
	}
	return nil
}

func (c *testCluster) waitConverged(t *testing.T) {
	t.Helper()
	var err error
	deadline := time.Now().Add(10 * time.Second)
	for err = c.converged(t); err != nil && time.Now().Before(deadline); err = c.converged(t) {
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("not converged: %v", err)
	}
}

// TestSplitOnThreeStores splits a partition on three nodes: every node
// creates the right half at the same index without copying, the halves
// refuse each other's keys (writes and reads), and both go on.
func TestSplitOnThreeStores(t *testing.T) {
	c := newTestCluster(t, 3)
	for _, s := range c.stores {
		if err := s.Bootstrap(splitLeft, []uint64{1, 2, 3}, tableSpan()); err != nil {
			t.Fatal(err)
		}
	}
	c.writeKeys(t, "a", 0, 40, false)
	res := c.propose(splitLeft, splitCommand())
	if res.GetError() != nil || res.GetSplit() == nil {
		t.Fatalf("split: %v", res)
	}
	// A retried split (same id) answers from the record; a new one is
	// refused: the range moved on.
	if res := c.propose(splitLeft, splitCommand()); res.GetError() != nil {
		t.Fatalf("retried split: %v", res.GetError())
	}
	again := splitCommand()
	again.Id = []byte("split again")
	if res := c.propose(splitLeft, again); res.GetError() == nil {
		t.Fatal("a second split of the same generation applied")
	}
	waitFor(t, "the right half on every node", func() bool {
		for _, s := range c.stores {
			if s.Replica(splitRight) == nil {
				return false
			}
		}
		return true
	})
	c.leader(splitRight)
	c.writeKeys(t, "b", 0, 60, true)
	var right string
	for i := range 40 {
		if pk := fmt.Sprint("k", i); item.Hash(item.S(pk)) >= splitHash {
			right = pk
			break
		}
	}
	if res := c.propose(splitLeft, putCommand("misrouted", right)); !partitapb.IsWrongRange(res.GetError()) {
		t.Fatalf("the left half took a key of the right: %v", res)
	}
	k, _ := engine.DataKey(nil, 1, item.S(right), item.Value{})
	ctx := context.Background()
	l := c.stores[c.leader(splitLeft)]
	if _, err := l.Get(ctx, splitLeft, k, true); !partitapb.IsWrongRange(err) {
		t.Fatalf("read of a right key from the left: %v, want WRONG_RANGE", err)
	}
	start, end := engine.HashSpan(1, 0, 0)
	if _, err := l.Walk(ctx, store.WalkRequest{Partition: splitLeft, Lo: start, Hi: end}); !partitapb.IsWrongRange(err) {
		t.Fatalf("walk of the whole table on the left: %v, want WRONG_RANGE", err)
	}
	if v, err := c.stores[c.leader(splitRight)].Get(ctx, splitRight, k, true); err != nil || v == nil {
		t.Fatalf("read of a right key from the right: %v %v", v, err)
	}
	c.waitConverged(t)
	checkSplitStats(t, c)
}

// checkSplitStats checks the halves' statistics add up to the table's
// items on every node.
func checkSplitStats(t *testing.T, c *testCluster) {
	t.Helper()
	for i, eng := range c.engs {
		l, err := fsm.ReadStats(eng.Reader(), splitLeft)
		if err != nil {
			t.Fatal(err)
		}
		r, err := fsm.ReadStats(eng.Reader(), splitRight)
		if err != nil {
			t.Fatal(err)
		}
		if n := int64(strings.Count(tableDump(t, eng), "\n")); l.Items+r.Items != n || l.Items == 0 || r.Items == 0 {
			t.Fatalf("node %d: stats %+v + %+v, %d items", i+1, l, r, n)
		}
	}
}

// gate is a node's endpoint that can hold back everything of one
// partition: raft messages are dropped and snapshots refused while it is
// closed.
type gate struct {
	s         *store.Store
	partition uint64
	closed    atomic.Bool
	refused   atomic.Int64 // snapshots the store refused
	received  atomic.Int64 // snapshots delivered to the store
}

func (g *gate) HandleRaft(msgs []transport.Message) {
	if g.closed.Load() {
		msgs = slices.DeleteFunc(slices.Clone(msgs), func(m transport.Message) bool { return m.Partition == g.partition })
	}
	g.s.HandleRaft(msgs)
}

func (g *gate) HandleSnapshot(s transport.Snapshot) error {
	if g.closed.Load() && s.Partition == g.partition {
		return errors.New("gate closed")
	}
	g.received.Add(1)
	err := g.s.HandleSnapshot(s)
	if errors.Is(err, store.ErrRangeClaimed) {
		g.refused.Add(1)
	}
	return err
}

// TestSplitWhileReplicaDown splits a partition while one replica is down.
// Restarted with its log still holding the split, the replica applies it
// and creates the right half itself. Restarted after both halves trimmed
// their logs past the split, it catches up through snapshots; and while
// its left half has not caught up, it refuses the right half's snapshot,
// whose range its stale left half still owns.
func TestSplitWhileReplicaDown(t *testing.T) {
	for _, trimmed := range []bool{false, true} {
		t.Run(fmt.Sprintf("trimmed=%v", trimmed), func(t *testing.T) {
			inBothLayouts(t, func(t *testing.T) { testSplitWhileReplicaDown(t, trimmed) })
		})
	}
}

func testSplitWhileReplicaDown(t *testing.T, trimmed bool) {
	gates := make([]*gate, 3)
	c := newTestCluster(t, 3, func(cfg *store.Config) {
		if trimmed {
			cfg.Replica.MaxLogEntries, cfg.Replica.TruncateStep = 40, 8
		}
	})
	for _, s := range c.stores {
		if err := s.Bootstrap(splitLeft, []uint64{1, 2, 3}, tableSpan()); err != nil {
			t.Fatal(err)
		}
	}
	c.writeKeys(t, "a", 0, 30, false)
	down := (c.leader(splitLeft) + 1) % 3
	c.stop(down)
	if res := c.propose(splitLeft, splitCommand()); res.GetError() != nil {
		t.Fatalf("split: %v", res.GetError())
	}
	writes := 10
	if trimmed {
		writes = 150 // both halves' logs move past the split by more than their bound
	}
	c.writeKeys(t, "b", 0, writes, true)
	c.handler = func(i int, s *store.Store) transport.Handler {
		gates[i] = &gate{s: s, partition: splitLeft}
		gates[i].closed.Store(i == down && trimmed)
		return gates[i]
	}
	c.start(down)
	if trimmed {
		refuseRightSnapshot(t, c, down, gates[down])
	}
	c.waitConverged(t)
	checkSplitStats(t, c)
	c.writeKeys(t, "c", 0, 20, true)
	c.waitConverged(t)
}

// refuseRightSnapshot checks that the restarted node, its left half held
// back before the split, neither creates the right half nor takes its
// snapshot, then lets the left half catch up.
func refuseRightSnapshot(t *testing.T, c *testCluster, down int, g *gate) {
	t.Helper()
	s := c.stores[down]
	right := fsmRightSpans()
	if err := s.AddEmptyReplicaUnclaimed(splitRight, right); !errors.Is(err, store.ErrRangeClaimed) {
		t.Fatalf("empty right half beside the stale left: %v, want ErrRangeClaimed", err)
	}
	// As a control plane adding it would: the right half's leader now
	// sends it a snapshot, which the node must refuse.
	if err := s.AddEmptyReplica(splitRight); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a refused snapshot of the right half", func() bool { return g.refused.Load() > 0 })
	if d, _ := s.Descriptor(splitRight); len(d.GetSpans()) != 0 {
		t.Fatalf("the right half took a snapshot beside the stale left: %v", d)
	}
	if d, _ := s.Descriptor(splitLeft); d.GetGeneration() != fsm.FirstRangeGeneration {
		t.Fatalf("the held-back left half moved to %v", d)
	}
	g.closed.Store(false)
}

func fsmRightSpans() []*partitapb.Span {
	start, end := engine.HashSpan(1, splitHash, 0)
	return []*partitapb.Span{{Start: start, End: end}}
}

// TestSplitRefusedDuringMembershipChange: while a learner is being added
// the partition refuses to split, and it splits once the learner is a
// voter and the split lists it.
func TestSplitRefusedDuringMembershipChange(t *testing.T) {
	c := newTestCluster(t, 3)
	for _, s := range c.stores[:2] {
		if err := s.Bootstrap(splitLeft, []uint64{1, 2}, tableSpan()); err != nil {
			t.Fatal(err)
		}
	}
	c.writeKeys(t, "a", 0, 10, false)
	if err := c.stores[2].AddEmptyReplica(splitLeft); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.stores[c.leader(splitLeft)].AddLearner(ctx, splitLeft, 3); err != nil {
		t.Fatal(err)
	}
	cmd := splitCommand()
	cmd.GetSplitRange().Voters = []uint64{1, 2}
	if res := c.propose(splitLeft, cmd); res.GetError().GetCode() != partitapb.Error_VALIDATION {
		t.Fatalf("split beside a learner: %v, want VALIDATION", res)
	}
	if err := c.stores[c.leader(splitLeft)].PromoteLearner(ctx, splitLeft, 3); err != nil {
		t.Fatal(err)
	}
	stale := splitCommand()
	stale.Id, stale.GetSplitRange().Voters = []byte("stale voters"), []uint64{1, 2}
	if res := c.propose(splitLeft, stale); res.GetError().GetCode() != partitapb.Error_VALIDATION {
		t.Fatalf("split listing the old voters: %v, want VALIDATION", res)
	}
	ok := splitCommand()
	ok.Id = []byte("split with three")
	if res := c.propose(splitLeft, ok); res.GetError() != nil {
		t.Fatalf("split after the change: %v", res.GetError())
	}
	c.waitConverged(t)
}

// TestBackToBackSplitsSendNoSnapshot splits a partition, then its right
// half, and so on, twenty times in a row with writes between, on three
// healthy nodes: every node creates every right half from its own split,
// so no snapshot is sent.
func TestBackToBackSplitsSendNoSnapshot(t *testing.T) {
	gates := make([]*gate, 3)
	c := &testCluster{t: t, net: transport.NewInmem(1)}
	c.handler = func(i int, s *store.Store) transport.Handler {
		gates[i] = &gate{s: s}
		return gates[i]
	}
	for i := range 3 {
		c.dirs, c.engs, c.stores = append(c.dirs, t.TempDir()), append(c.engs, nil), append(c.stores, nil)
		c.start(i)
	}
	t.Cleanup(func() {
		for i := range c.stores {
			c.stop(i)
		}
	})
	for _, s := range c.stores {
		if err := s.Bootstrap(splitLeft, []uint64{1, 2, 3}, tableSpan()); err != nil {
			t.Fatal(err)
		}
	}
	p, lo, gen := uint64(splitLeft), uint64(0), fsm.FirstRangeGeneration
	for i := range 20 {
		right, h := uint64(100+i), lo+(-lo)/2
		if lo == 0 {
			h = splitHash
		}
		cmd := &partitapb.Command{Id: fmt.Appendf(nil, "split %d", i), Op: &partitapb.Command_SplitRange{SplitRange: &partitapb.SplitRange{
			TableId: 1, SplitHash: h, RightPartition: right, ExpectedGeneration: gen, Voters: []uint64{1, 2, 3},
		}}}
		if res := c.propose(p, cmd); res.GetError() != nil {
			t.Fatalf("split %d: %v", i, res.GetError())
		}
		start, _ := engine.HashSpan(1, h, 0)
		k := append(start, 'k')
		put := &partitapb.Command{Id: fmt.Appendf(nil, "put %d", i), Op: &partitapb.Command_PutItem{PutItem: &partitapb.PutItem{
			Key: k, Item: item.EncodeItem(item.Item{"pk": item.S(fmt.Sprint(i))})}}}
		if res := c.propose(right, put); res.GetError() != nil {
			t.Fatalf("put after split %d: %v", i, res.GetError())
		}
		p, lo, gen = right, h, gen+1
	}
	var sent int64
	for _, g := range gates {
		sent += g.received.Load()
	}
	t.Logf("snapshots during 20 back-to-back splits: %d", sent)
	if sent != 0 {
		t.Fatalf("%d snapshots sent during back-to-back splits, want 0", sent)
	}
}
