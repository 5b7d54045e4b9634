package store_test

import (
	"fmt"
	"slices"
	"sync/atomic"
	"testing"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/partitadb/partita/store"
	"github.com/partitadb/partita/transport"
)

// slowLink is a node's endpoint that, while closed, drops the appends of
// one partition sent to the node and lets everything else through: the
// node answers heartbeats (its leader sees it recently active) but falls
// behind. It counts the snapshots the node is sent.
type slowLink struct {
	s         *store.Store
	partition uint64
	closed    atomic.Bool
	snapshots atomic.Int64
}

func (l *slowLink) HandleRaft(msgs []transport.Message) {
	if l.closed.Load() {
		msgs = slices.DeleteFunc(slices.Clone(msgs), func(m transport.Message) bool {
			return m.Partition == l.partition && m.Raft.Type == raftpb.MsgApp
		})
	}
	l.s.HandleRaft(msgs)
}

func (l *slowLink) HandleSnapshot(s transport.Snapshot) error {
	l.snapshots.Add(1)
	return l.s.HandleSnapshot(s)
}

// TestSlowFollowerAppliesSplitFromItsLog: a live node falls behind its
// partition's leader just before a split, while both halves take many
// more writes than their entry bound (40). The left half keeps its log
// from the slow follower's match (it has not appended the split), and
// the right half keeps its log whole for the replica the slow node will
// create when it applies the split: the node catches up on both halves
// from their logs, and is sent no snapshot. Until it has, neither half
// is ready to split again.
func TestSlowFollowerAppliesSplitFromItsLog(t *testing.T) {
	links := make([]*slowLink, 3)
	c := &testCluster{t: t, net: transport.NewInmem(1), tweak: func(cfg *store.Config) {
		cfg.Replica.MaxLogEntries, cfg.Replica.TruncateStep = 40, 8
	}}
	c.handler = func(i int, s *store.Store) transport.Handler {
		links[i] = &slowLink{s: s, partition: splitLeft}
		return links[i]
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
	c.writeKeys(t, "a", 0, 20, false)
	leader := c.leader(splitLeft)
	slow := (leader + 1) % 3
	links[slow].closed.Store(true)
	if res := c.propose(splitLeft, splitCommand()); res.GetError() != nil {
		t.Fatalf("split: %v", res.GetError())
	}
	c.writeKeys(t, "b", 0, 200, true)
	if n := logEntries(t, c.engs[leader], splitLeft); n <= 40 {
		t.Errorf("the left half's leader keeps %d entries: it trimmed past its slow follower's match", n)
	}
	// Neither half would split again yet: the slow node has not appended
	// the split, nor created its right half.
	for _, p := range []uint64{splitLeft, splitRight} {
		if c.stores[c.leader(p)].Replica(p).SplitReady() {
			t.Errorf("partition %d is ready to split with a follower behind its birth or its last split", p)
		}
	}
	links[slow].closed.Store(false)
	for _, p := range []uint64{splitLeft, splitRight} {
		waitFor(t, fmt.Sprintf("partition %d ready to split", p), func() bool { return c.stores[c.leader(p)].Replica(p).SplitReady() })
	}
	c.waitConverged(t)
	c.writeKeys(t, "c", 0, 20, true)
	c.waitConverged(t)
	if n := links[slow].snapshots.Load(); n != 0 {
		t.Fatalf("the slow node was sent %d snapshots, want 0", n)
	}
}
