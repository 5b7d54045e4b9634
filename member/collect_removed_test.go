package member_test

import (
	"testing"
	"time"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/transport"
)

// TestReconcilerCollectsRemovedReplicas: a replica whose configuration
// no longer lists this node (it applied its own removal, and the step
// that should have destroyed it never ran) is destroyed once seen so for
// the grace period; a member replica stays.
func TestReconcilerCollectsRemovedReplicas(t *testing.T) {
	h := newHarness(t)
	span := func(table uint64) *partitapb.Span {
		start, end := engine.HashSpan(table, 0, 0)
		return &partitapb.Span{Start: start, End: end}
	}
	const removed, kept = 7, 8
	if err := h.st.Bootstrap(removed, []uint64{2, 3, 4}, span(100)); err != nil {
		t.Fatal(err)
	}
	if err := h.st.Bootstrap(kept, []uint64{1}, span(101)); err != nil {
		t.Fatal(err)
	}
	collect := func(after time.Duration, want int) {
		t.Helper()
		h.skew.Store(int64(after))
		n, err := h.m.CollectRemoved()
		if err != nil || n != want {
			t.Fatalf("after %v: collected %d (%v), want %d", after, n, err, want)
		}
	}
	collect(0, 0)             // first seen removed
	collect(5*time.Second, 0) // within the grace
	// The replica applies an entry (as one being added back does, before
	// it applied the entry listing it again): it is seen afresh.
	app := raftpb.Message{Type: raftpb.MsgApp, To: 1, From: 2, Term: 6, Index: 10, LogTerm: 5, Commit: 11,
		Entries: []raftpb.Entry{{Term: 6, Index: 11, Type: raftpb.EntryNormal}}}
	h.st.HandleRaft([]transport.Message{{Partition: removed, Raft: app}})
	for deadline := time.Now().Add(10 * time.Second); h.st.Replica(removed).Applied() != 11; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("partition %d applied %d, want 11", removed, h.st.Replica(removed).Applied())
		}
	}
	collect(11*time.Second, 0) // seen applying: the grace starts again
	collect(20*time.Second, 0) // within it
	collect(22*time.Second, 1) // past it
	collect(40*time.Second, 0) // nothing left to collect
	if h.st.Replica(removed) != nil || !h.st.Destroyed(removed) {
		t.Fatalf("partition %d: replica %v, destroyed %v", removed, h.st.Replica(removed), h.st.Destroyed(removed))
	}
	if h.st.Replica(kept) == nil {
		t.Fatalf("partition %d, a member here, was collected", kept)
	}
}
