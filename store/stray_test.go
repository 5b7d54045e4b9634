package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/partitadb/partita/store"
	"github.com/partitadb/partita/transport"
)

// TestMessagesForAnotherNodeAreDropped: a peer that reaches this node at
// an address another node had (a port reused by another cluster's node,
// a member moved) sends it raft traffic meant for that node. Stepped, a
// heartbeat of a later term promising a commit index beyond this
// replica's log would crash it (raft checks no recipient); the store
// drops such messages and refuses such snapshots.
func TestMessagesForAnotherNodeAreDropped(t *testing.T) {
	_, s := openSingle(t, 2)
	hb := raftpb.Message{Type: raftpb.MsgHeartbeat, To: 3, From: 5, Term: 1000, Commit: 1000}
	s.HandleRaft([]transport.Message{{Partition: 2, Raft: hb}})
	if l := s.Replica(2).Leader(); l != 1 {
		t.Fatalf("partition 2's leader is %d after a message for node 3, want 1", l)
	}
	err := s.HandleSnapshot(transport.Snapshot{Partition: 2, Raft: raftpb.Message{Type: raftpb.MsgSnap, To: 3, From: 5, Term: 1000}})
	if !errors.Is(err, store.ErrMisaddressed) {
		t.Fatalf("a snapshot for node 3: %v, want ErrMisaddressed", err)
	}
	// The same heartbeat for this node (without the commit index its log
	// does not reach) is stepped: node 5's later term deposes node 1.
	hb.To, hb.Commit = 1, 0
	s.HandleRaft([]transport.Message{{Partition: 2, Raft: hb}})
	waitFor(t, "partition 2 follows node 5", func() bool { return s.Replica(2).Leader() == 5 })
}

// TestSnapshotDoesNotRecreateADestroyedReplica: a replica destroyed on a
// node (moved away) leaves a tombstone, and a snapshot its leader sent
// before it applied the removal, arriving after the destruction, must not
// bring the replica back: the node would keep a replica no configuration
// lists. Only an explicit creation (the step before a learner is added)
// clears the tombstone.
func TestSnapshotDoesNotRecreateADestroyedReplica(t *testing.T) {
	c := newTestCluster(t, 4, func(cfg *store.Config) {
		cfg.Replica.MaxLogEntries, cfg.Replica.TruncateStep = 20, 5
	})
	const p = 2
	held := &heldSnapshot{partition: p, arrived: make(chan struct{}), release: make(chan struct{}), outcome: make(chan error, 1)}
	c.handler = func(i int, s *store.Store) transport.Handler {
		if i != 3 {
			return s
		}
		held.s = s
		return held
	}
	c.stop(3)
	c.start(3)
	for _, s := range c.stores[:3] {
		if err := s.Bootstrap(p, []uint64{1, 2, 3}, tableSpan()); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 60 {
		c.propose(p, addCommand(t, fmt.Sprint("m", i)))
	}
	if err := c.stores[3].AddEmptyReplica(p); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.stores[c.leader(p)].AddLearner(ctx, p, 4); err != nil {
		t.Fatal(err)
	}
	select {
	case <-held.arrived:
	case <-ctx.Done():
		t.Fatal("no snapshot reached node 4")
	}
	if err := c.stores[3].Destroy(p); err != nil {
		t.Fatal(err)
	}
	close(held.release)
	if err := <-held.outcome; !errors.Is(err, store.ErrDestroyed) {
		t.Fatalf("the snapshot arriving after the destruction: %v, want ErrDestroyed", err)
	}
	if c.stores[3].Replica(p) != nil {
		t.Fatal("a snapshot recreated the destroyed replica")
	}
	if err := c.stores[3].AddEmptyReplica(p); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the recreated learner has the data", func() bool { return counterOn(t, c.engs[3]) == "60" })
}

// heldSnapshot holds the first snapshot of one partition until released,
// and reports the store's answer to it.
type heldSnapshot struct {
	s         *store.Store
	partition uint64
	once      sync.Once
	arrived   chan struct{}
	release   chan struct{}
	outcome   chan error
}

func (h *heldSnapshot) HandleRaft(msgs []transport.Message) { h.s.HandleRaft(msgs) }

func (h *heldSnapshot) HandleSnapshot(snap transport.Snapshot) error {
	first := false
	if snap.Partition == h.partition {
		h.once.Do(func() { first = true })
	}
	if !first {
		return h.s.HandleSnapshot(snap)
	}
	close(h.arrived)
	<-h.release
	err := h.s.HandleSnapshot(snap)
	h.outcome <- err
	return err
}
