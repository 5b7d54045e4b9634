package node

import (
	"context"
	"slices"
	"testing"

	"github.com/partitadb/partita/doctor"
	"github.com/partitadb/partita/partitapb"
)

// TestDoctorRunsTheApprovedTarget: an operator approves an addition whose
// target the checker no longer picks (it now proposes another node for
// the same partition, still under-replicated). The approved operation
// runs as approved; it used to wait, approved, for a plan that proposed
// it again (the console's end-to-end test saw it under load, when the
// nodes' replica counts moved between two cycles).
func TestDoctorRunsTheApprovedTarget(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	n1 := startClosingDoctorNode(t)
	records := doctorRecords{n: n1}
	if err := records.setGate(ctx, "add-replica", partitapb.GateColor_RED, "test", "approve by hand"); err != nil {
		t.Fatal(err)
	}
	if _, err := n1.router.CreateTable(ctx, &partitapb.Table{Name: "approved", BillingMode: "PAY_PER_REQUEST",
		KeySchema:            []*partitapb.KeyElement{{AttributeName: "pk", KeyType: "HASH"}},
		AttributeDefinitions: []*partitapb.AttributeDefinition{{AttributeName: "pk", AttributeType: "S"}}}); err != nil {
		t.Fatal(err)
	}
	nodes := []*Node{n1, startClosingDoctorNode(t, n1.PeerAddr()), startClosingDoctorNode(t, n1.PeerAddr())}
	active := waitActive(t, nodes...)

	// An addition awaiting approval, to the node the checker picks.
	var planned doctor.Entry
	waitFor(t, "an addition awaiting approval", func() bool {
		found := false
		if err := doctor.EachEntry(ctx, records, func(e doctor.Entry) {
			if !found && e.State == doctor.AwaitingApproval && e.Op.Kind == "add-replica" && e.Op.Table == "approved" {
				planned, found = e, true
			}
		}); err != nil {
			t.Fatal(err)
		}
		return found
	})
	// The same addition to the other node, as a plan of another moment
	// would have proposed it; the operator approves that one.
	other := doctor.Entry{Epoch: planned.Epoch, Op: planned.Op, Inputs: planned.Inputs, Gate: planned.Gate,
		State: doctor.AwaitingApproval, Created: planned.Created, Updated: planned.Updated}
	other.Op.To = 0
	for _, n := range nodes {
		if id := n.ID(); id != planned.Op.To && !slices.Contains(planned.Op.Voters, id) && !slices.Contains(planned.Op.Learners, id) {
			other.Op.To = id
		}
	}
	if other.Op.To == 0 {
		t.Fatalf("no node left for %s", planned.Op)
	}
	if err := records.Put(ctx, &other); err != nil {
		t.Fatal(err)
	}
	if err := records.decide(ctx, other.ID, true, "test", ""); err != nil {
		t.Fatal(err)
	}
	// The checker keeps picking its own node meanwhile (both nodes hold no
	// replica of the table); the approved addition runs all the same.
	waitFor(t, "the approved addition to succeed", func() bool {
		var state doctor.State
		if err := doctor.EachEntry(ctx, records, func(e doctor.Entry) {
			if e.ID == other.ID {
				state = e.State
			}
		}); err != nil {
			t.Fatal(err)
		}
		if state.Terminal() && state != doctor.Succeeded {
			t.Fatalf("the approved addition ended %s", state)
		}
		return state == doctor.Succeeded
	})
	ps, err := ctl{n: active}.Partitions(ctx, "approved")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if p.ID == other.Op.Partition && !slices.Contains(p.Replicas, other.Op.To) {
			t.Fatalf("partition %d has replicas %v after adding one on node %d", p.ID, p.Replicas, other.Op.To)
		}
	}
	// The planned addition to the checker's node is still awaiting: the
	// operator decides it apart.
	if err := doctor.EachEntry(ctx, records, func(e doctor.Entry) {
		if e.ID == planned.ID && e.State != doctor.AwaitingApproval {
			t.Errorf("the planned addition is %s, want still awaiting approval", e.State)
		}
	}); err != nil {
		t.Fatal(err)
	}
}
