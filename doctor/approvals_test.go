package doctor

import (
	"testing"

	"github.com/partitadb/partita/doctor/checker"
)

// TestStrandedApprovals: an approved operation the plan no longer
// proposes as it was is judged apart only while the plan still proposes
// the same kind of operation on the same partition at the same
// generation (the need stands); an awaiting or rejected one never is.
func TestStrandedApprovals(t *testing.T) {
	add := func(partition, to, gen uint64) checker.Op {
		return checker.Op{Kind: checker.AddReplica, Partition: partition, To: to, Generation: gen}
	}
	entry := func(id uint64, st State, op checker.Op) Entry { return Entry{ID: id, State: st, Op: op} }
	approvals := map[string]Entry{}
	for _, e := range []Entry{
		entry(7, Approved, add(4, 3, 1)),         // the plan now adds to node 2: stranded
		entry(5, Approved, add(5, 3, 1)),         // proposed as it is: consider runs it
		entry(6, Approved, add(6, 3, 1)),         // the plan proposes nothing for partition 6
		entry(8, Approved, add(7, 3, 1)),         // the plan's partition 7 is at generation 2
		entry(9, AwaitingApproval, add(8, 3, 1)), // not approved
		entry(3, Approved, add(9, 2, 1)),         // stranded, and older than 7
		entry(10, Rejected, add(10, 3, 1)),       // rejected
	} {
		approvals[opKey(e.Op)] = e
	}
	plan := []checker.Op{add(4, 2, 1), add(5, 3, 1), add(7, 2, 2), add(8, 2, 1), add(9, 3, 1), add(10, 2, 1),
		{Kind: checker.TransferLeader, Partition: 6, From: 1, To: 2, Generation: 1}}
	got := strandedApprovals(plan, approvals)
	var ids []uint64
	for _, e := range got {
		ids = append(ids, e.ID)
	}
	if len(ids) != 2 || ids[0] != 3 || ids[1] != 7 {
		t.Fatalf("stranded approvals %v, want [3 7]", ids)
	}
}
