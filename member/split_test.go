package member_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/member"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/route"
)

// TestSplitFinishedByTheReconciler plays a split coordinator that dies
// after the partition split and before the directory recorded it: the
// directory still lists the old layout, a newer table's creation does not
// make the reconciler collect the unrecorded right half, and the next
// reconcile records the split from the left half's split record. A
// second split of the old generation is then refused, and a split
// through the member succeeds and is recorded at once.
func TestSplitFinishedByTheReconciler(t *testing.T) {
	h := newHarness(t)
	if _, err := h.m.Join(context.Background(), &partitapb.Node{Version: "test"}); err != nil {
		t.Fatal(err)
	}
	ids := h.createTable(t, "t")
	h.reconcile(t)
	left := ids[0]
	right := h.meta(t, &partitapb.Command{Op: &partitapb.Command_AllocatePartition{AllocatePartition: &partitapb.AllocatePartition{}}}).GetPartitionId()
	const at = uint64(1) << 62 // inside the first of two partitions
	split := &partitapb.SplitRange{TableId: 1, SplitHash: at, RightPartition: right, ExpectedGeneration: fsm.FirstRangeGeneration, Voters: []uint64{1}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := h.sender.Propose(ctx, left, &partitapb.Command{Id: []byte("split"), Op: &partitapb.Command_SplitRange{SplitRange: split}})
	if err != nil || res.GetError() != nil {
		t.Fatalf("split: %v %v", err, res.GetError())
	}
	for deadline := time.Now().Add(10 * time.Second); h.st.Replica(right) == nil; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the right half was not created")
		}
	}
	old := h.sender.Directory().Snapshot().Table("t")
	// The coordinator died here. A table created later has higher
	// partition ids: the unrecorded right half is not a deleted table's.
	h.createTable(t, "later")
	h.reconcile(t) // refreshes, then records the split
	if h.st.Replica(right) == nil {
		t.Fatal("the reconciler collected the unrecorded right half")
	}
	h.reconcile(t) // refreshes: the record is in its directory
	tbl := h.sender.Directory().Snapshot().Table("t")
	parts := tbl.GetPartitions()
	if len(parts) != 3 || parts[0].GetHashEnd() != at || parts[1].GetId() != right || parts[1].GetHashStart() != at ||
		parts[0].GetRangeGeneration() != 2 || parts[1].GetRangeGeneration() != 2 {
		t.Fatalf("the directory after reconcile: %v", parts)
	}

	// The old layout's split is refused by the partition: nothing changes.
	_, err = h.sender.Split(ctx, route.SplitRequest{Table: old, Partition: left, Hash: 1 << 61})
	if !partitapb.IsWrongRange(err) {
		t.Fatalf("split by the old layout: %v, want WRONG_RANGE", err)
	}
	// Splits through the member: at a partition key, and in the middle.
	after, err := h.m.Split(ctx, "t", right, "")
	if err != nil || len(after.GetPartitions()) != 4 {
		t.Fatalf("split in the middle: %v %v", after, err)
	}
	// The test's table has no key schema: no key can be hashed.
	if _, err := h.m.Split(ctx, "t", left, "some key"); !errors.Is(err, route.ErrSplit) {
		t.Fatalf("split at a key of a table without key schema: %v", err)
	}
	if _, err := h.m.Split(ctx, "nope", left, ""); !errors.Is(err, member.ErrNoTable) {
		t.Fatalf("split of an unknown table: %v", err)
	}
}
