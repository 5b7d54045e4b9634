package store_test

import (
	"errors"
	"testing"

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
