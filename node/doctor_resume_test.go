package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
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
	t.Parallel()
	start := func(join ...string) *Node { return startClosingDoctorNode(t, join...) }
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
	second := killDoctor(t, first, nodes) // dies with the lease held, the operation not started
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

// TestDoctorRollsBackAnOverdueOperation: the active Doctor dies in the
// middle of adding a replica (the learner added, never promoted), and the
// operation's deadline passes before another Doctor takes over. The new
// Doctor does not run it on: it removes the learner, destroys its
// replica, and records the entry rolled back.
func TestDoctorRollsBackAnOverdueOperation(t *testing.T) {
	t.Parallel()
	start := func(join ...string) *Node { return startClosingDoctorNode(t, join...) }
	n1 := start()
	nodes := []*Node{n1, start(n1.PeerAddr()), start(n1.PeerAddr()), start(n1.PeerAddr())}
	waitFor(t, "meta on three voters", func() bool { return len(n1.MetaVoters()) == 3 })
	ctx := context.Background()
	// Paused, the Doctors start nothing of their own (removing the learner
	// as a replica too many, say): only the resumed operation runs.
	if err := (doctorRecords{n: n1}).setPaused(ctx, true, "test", "rollback only"); err != nil {
		t.Fatal(err)
	}
	first := waitActive(t, nodes...)
	var spare *Node
	for _, n := range nodes {
		if !slices.Contains(n1.MetaVoters(), n.ID()) {
			spare = n
		}
	}
	// What the dying Doctor did: the replica created on the spare node and
	// added as a learner, on the meta leader.
	c := ctl{n: first}
	// The spare may have joined after the Doctor's node last read the
	// directory: its address comes with the next read.
	waitFor(t, "the replica created on the spare node", func() bool {
		err := c.Node(spare.ID()).CreateReplica(ctx, directory.MetaPartition)
		if err != nil && !errors.Is(err, directory.ErrUnknownNode) {
			t.Fatal(err)
		}
		return err == nil
	})
	waitFor(t, "the learner added", func() bool {
		lead := first.store.Replica(directory.MetaPartition).Leader()
		_, err := c.Node(lead).AddLearner(ctx, directory.MetaPartition, spare.ID())
		return err == nil
	})
	waitFor(t, "the spare node to hold a meta learner", func() bool {
		r := spare.store.Replica(directory.MetaPartition)
		return r != nil && slices.Contains(r.TopologyStatus().Learners, spare.ID())
	})
	epoch := first.Doctor().Epoch()
	op := checker.Op{Kind: checker.AddReplica, Partition: directory.MetaPartition, Table: "(meta)", To: spare.ID(),
		Checker: "test", Reasons: []string{"a test's operation"}}
	o, err := doctor.Steps(op, false)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var steps []doctor.StepRecord
	for _, s := range o.Steps[:2] { // create-replica, add-learner: done
		steps = append(steps, doctor.StepRecord{Name: s.String(), Start: now.Add(-11 * time.Minute), End: now.Add(-11 * time.Minute), Attempts: 1})
	}
	e := doctor.Entry{Epoch: epoch, Op: op, Gate: gate.Green, State: doctor.Running, Steps: steps,
		Created: now.Add(-11 * time.Minute), Updated: now.Add(-11 * time.Minute), Deadline: now.Add(-time.Minute)}
	if err := (doctorRecords{n: first, epoch: epoch}).Put(ctx, &e); err != nil {
		t.Fatal(err)
	}
	second := killDoctor(t, first, nodes) // dies with the lease held
	var got doctor.Entry
	waitFor(t, "the overdue operation to end", func() bool {
		es, err := doctorRecords{n: second}.Entries(ctx, e.ID, 1)
		if err == nil && len(es) == 1 {
			got = es[0]
		}
		return got.State != "" && got.State != doctor.Running
	})
	if got.State != doctor.RolledBack {
		t.Fatalf("the overdue operation ended %s (%s) by epoch %d, steps %+v, want rolled back", got.State, got.Outcome, got.Epoch, got.Steps)
	}
	// Past the two done before: the rollback's, recorded as such (each
	// checked against a fresh view), and none of the operation's own.
	var undo []string
	for _, s := range got.Steps[2:] {
		if !strings.HasPrefix(s.Name, "rollback: ") {
			t.Fatalf("the overdue operation ran steps of its own: %+v", got.Steps)
		}
		undo = append(undo, strings.TrimPrefix(s.Name, "rollback: "))
	}
	if want := []string{fmt.Sprintf("remove-learner partition=1 node=%d", spare.ID()), fmt.Sprintf("destroy-replica node=%d partition=1", spare.ID())}; !slices.Equal(undo, want) {
		t.Fatalf("the rollback's steps %v, want %v", undo, want)
	}
	waitFor(t, "the learner gone from meta and its replica destroyed", func() bool {
		for _, n := range nodes {
			if r := n.store.Replica(directory.MetaPartition); r != nil && r.Leader() == n.ID() {
				st := r.TopologyStatus()
				if slices.Contains(st.Learners, spare.ID()) || slices.Contains(st.Voters, spare.ID()) {
					return false
				}
			}
		}
		return spare.store.Replica(directory.MetaPartition) == nil
	})
}

// killDoctor stops first's Doctor without releasing its lease, as a crash
// would, and returns the node of nodes whose Doctor takes over.
func killDoctor(t *testing.T, first *Node, nodes []*Node) *Node {
	t.Helper()
	first.stopDoctor(context.Background(), false)
	var second *Node
	waitFor(t, "another Doctor to take over", func() bool {
		for _, n := range nodes {
			if n != first && n.Doctor().IsActive() {
				second = n
			}
		}
		return second != nil
	})
	return second
}
