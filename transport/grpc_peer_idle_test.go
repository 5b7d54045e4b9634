package transport

import (
	"errors"
	"testing"
	"time"

	"go.etcd.io/raft/v3/raftpb"
)

// TestIdlePeerRetires: the sender to a node nothing was sent to for
// PeerIdle stops and leaves the transport (a removed node's sender and
// queue would otherwise stay for ever); the next message to the node
// starts a new one.
func TestIdlePeerRetires(t *testing.T) {
	cfg := DefaultConfig()
	cfg.NodeID, cfg.PeerIdle, cfg.BackoffMin, cfg.BackoffMax = 1, 100*time.Millisecond, 10*time.Millisecond, 10*time.Millisecond
	cfg.Resolve = func(uint64) (string, error) { return "", errors.New("no such node") }
	tr, err := NewGRPC(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	peers := func() int {
		tr.mu.Lock()
		defer tr.mu.Unlock()
		return len(tr.peers)
	}
	tr.Send(2, []Message{{Partition: 1, Raft: raftpb.Message{To: 2, From: 1, Type: raftpb.MsgHeartbeat}}})
	if n := peers(); n != 1 {
		t.Fatalf("%d senders after a send, want 1", n)
	}
	deadline := time.Now().Add(10 * time.Second)
	for peers() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the idle sender did not stop")
		}
		time.Sleep(10 * time.Millisecond)
	}
	tr.Send(2, []Message{{Partition: 1, Raft: raftpb.Message{To: 2, From: 1, Type: raftpb.MsgHeartbeat}}})
	if n := peers(); n != 1 {
		t.Fatalf("%d senders after a new send, want 1", n)
	}
}
