package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/doctor"
	"github.com/partitadb/partita/doctor/checker"
	"github.com/partitadb/partita/doctor/gate"
	"github.com/partitadb/partita/partitapb"
)

// TestDoctorResumesAfterTakeover: the active Doctor records an operation
// as running (a leader transfer of the meta partition) and dies before
// doing it, without releasing its lease. The Doctor that takes over finds
// the entry, runs the operation to its end and records it succeeded,
// though the Doctor is paused (pausing stops new operations, not those in
// flight).
func TestDoctorResumesAfterTakeover(t *testing.T) {
	const leaseLen = 1500 * time.Millisecond
	start := func(join ...string) *Node {
		n := startDoctorNode(t, true, leaseLen, join...)
		t.Cleanup(func() { _ = n.Close() })
		return n
	}
	n1 := start()
	n2, n3 := start(n1.PeerAddr()), start(n1.PeerAddr())
	nodes := []*Node{n1, n2, n3}
	waitFor(t, "meta on three voters", func() bool { return len(n1.MetaVoters()) == 3 })
	ctx := context.Background()
	if err := (doctorRecords{n: n1}).setPaused(ctx, true, "test", "resume only"); err != nil {
		t.Fatal(err)
	}
	first := waitActive(t, nodes...)
	lead := first.store.Replica(directory.MetaPartition)
	var leader uint64
	waitFor(t, "a meta leader", func() bool { leader = lead.Leader(); return leader != 0 })
	// The transfer's target: a voter that is neither the meta leader nor
	// the dying Doctor's node.
	var to uint64
	for _, n := range nodes {
		if n.ID() != leader && n != first {
			to = n.ID()
		}
	}
	if to == 0 {
		to = slices.DeleteFunc(slices.Clone(first.MetaVoters()), func(id uint64) bool { return id == leader })[0]
	}
	epoch := first.Doctor().Epoch()
	now := time.Now()
	e := doctor.Entry{Epoch: epoch, Op: checker.Op{Kind: checker.TransferLeader, Partition: directory.MetaPartition,
		Table: "(meta)", From: leader, To: to, Checker: "test", Reasons: []string{"a test's operation"}},
		Gate: gate.Green, State: doctor.Running, Created: now, Updated: now, Deadline: now.Add(time.Minute)}
	if err := (doctorRecords{n: first, epoch: epoch}).Put(ctx, &e); err != nil {
		t.Fatal(err)
	}
	first.stopDoctor(ctx, false) // dies with the lease held, the operation not started
	var second *Node
	waitFor(t, "another Doctor to take over", func() bool {
		for _, n := range nodes {
			if n != first && n.Doctor().IsActive() {
				second = n
			}
		}
		return second != nil
	})
	waitFor(t, "the operation to be finished by the new Doctor", func() bool {
		es, err := doctorRecords{n: second}.Entries(ctx, e.ID, 1)
		return err == nil && len(es) == 1 && es[0].State == doctor.Succeeded
	})
	es, _ := doctorRecords{n: second}.Entries(ctx, e.ID, 1)
	if len(es[0].Steps) == 0 || es[0].Epoch != epoch {
		t.Fatalf("the resumed entry: %+v", es[0])
	}
	if l := second.store.Replica(directory.MetaPartition); l == nil || l.Leader() != to {
		t.Fatalf("meta leader after the resumed transfer: %v, want %d", l.Leader(), to)
	}

	// The deposed Doctor's replica operations are refused by every node
	// that knows the new lease, over RPC or on its own node alike.
	stale := ctl{n: first, epoch: epoch}
	for _, n := range nodes {
		waitFor(t, fmt.Sprintf("node %d to refuse epoch %d", n.ID(), epoch), func() bool {
			_, err := stale.Node(n.ID()).TransferLeadership(ctx, directory.MetaPartition, 0)
			var pe *partitapb.Error
			return errors.As(err, &pe) && pe.GetCode() == partitapb.Error_STALE_EPOCH
		})
	}
	// An operator's call (no epoch) and the new Doctor's pass the fence.
	cur, _ := second.doctorCluster()
	for _, c := range []ctl{{n: first}, cur.(ctl)} {
		if _, err := c.Node(to).AddLearner(ctx, directory.MetaPartition, to); err != nil {
			t.Fatalf("AddLearner of a voter (a no-op) at epoch %d: %v", c.epoch, err)
		}
	}
}
