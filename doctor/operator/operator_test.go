package operator_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/partitadb/partita/doctor/operator"
)

// TestDecommission: every replica of node 1 (which leads both
// partitions) moves to node 4, leadership goes first, the directory
// follows, the old replicas go, and the node's record last. A second run
// finds nothing left to do.
func TestDecommission(t *testing.T) {
	c := newMemCluster(4, map[uint64][]uint64{2: {1, 2, 3}, 3: {1, 2, 3}})
	e := operator.NewEnv(c, nil)
	res, err := operator.Decommission(context.Background(), e, 1)
	if err != nil || !res.Done || !res.Removed || len(res.Partitions) != 2 {
		t.Fatalf("decommission: %+v, %v", res, err)
	}
	for _, p := range res.Partitions {
		if p.State != operator.StepMoved || p.To != 4 || !p.Destroyed || p.Directory != "updated" || p.Error != "" {
			t.Fatalf("step %+v", p)
		}
	}
	want := []string{
		"create 2 on 4", "add-learner 2 4", "promote 2 4", "leader 2 2", "remove-voter 2 1", "set-replicas 2 [2 3 4]", "destroy 2 on 1",
		"create 3 on 4", "add-learner 3 4", "promote 3 4", "leader 3 2", "remove-voter 3 1", "set-replicas 3 [2 3 4]", "destroy 3 on 1",
		"remove-node 1",
	}
	if !slices.Equal(c.changes, want) {
		t.Fatalf("changes:\n%s\nwant:\n%s", strings.Join(c.changes, "\n"), strings.Join(want, "\n"))
	}
	if _, err := operator.Decommission(context.Background(), e, 1); err == nil || !strings.Contains(err.Error(), "no such node") {
		t.Fatalf("decommission of a removed node: %v", err)
	}
}

// TestMoveReplicaResumes: an operator stopped half way (here: after its
// learner was added, with leadership moved meanwhile) is resumed by
// running it again; steps done already change nothing, and the steps on
// the leader follow its hints.
func TestMoveReplicaResumes(t *testing.T) {
	c := newMemCluster(4, map[uint64][]uint64{2: {1, 2, 3}})
	e := operator.NewEnv(c, nil)
	_, parts, answers := e.View(context.Background())
	op := operator.MoveReplica(parts[1], 3, 4, answers.Reachable(3))
	// The first two steps, then an election elsewhere.
	partial := &operator.Operator{Name: op.Name, Steps: op.Steps[:2]}
	if err := operator.Run(context.Background(), e, partial); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	c.leader[2] = 2
	c.mu.Unlock()
	if err := operator.Run(context.Background(), e, op); err != nil {
		t.Fatal(err)
	}
	want := []string{"create 2 on 4", "add-learner 2 4", "promote 2 4", "remove-voter 2 3", "set-replicas 2 [1 2 4]", "destroy 2 on 3"}
	if !slices.Equal(c.changes, want) {
		t.Fatalf("changes:\n%s\nwant:\n%s", strings.Join(c.changes, "\n"), strings.Join(want, "\n"))
	}
	c.changes = nil
	if err := operator.Run(context.Background(), e, op); err != nil || len(c.changes) != 0 {
		t.Fatalf("a finished operator run again: %v, changes %v", err, c.changes)
	}
}

// TestDrain: a node hands over the leaderships it holds, and only those.
func TestDrain(t *testing.T) {
	c := newMemCluster(3, map[uint64][]uint64{2: {1, 2, 3}, 3: {2, 1, 3}, 4: {1, 3, 2}})
	res, err := operator.Drain(context.Background(), operator.NewEnv(c, nil), 1)
	if err != nil || res.Led != 2 || res.Moved != 2 || len(res.Partitions) != 2 {
		t.Fatalf("drain: %+v, %v", res, err)
	}
	for _, p := range res.Partitions {
		if p.To == 0 || p.To == 1 || p.Error != "" {
			t.Fatalf("transfer %+v", p)
		}
	}
	if _, err := operator.Drain(context.Background(), operator.NewEnv(c, nil), 9); err == nil {
		t.Fatal("drain of an unknown node succeeded")
	}
}

// TestDecommissionUnreachable: the replicas of a node that cannot be
// reached move all the same (through the leaders), and its old replicas
// stay until it is wiped.
func TestDecommissionUnreachable(t *testing.T) {
	c := newMemCluster(4, map[uint64][]uint64{2: {1, 2, 3}})
	c.down = map[uint64]bool{3: true}
	res, err := operator.Decommission(context.Background(), operator.NewEnv(c, nil), 3)
	if err != nil || !res.Done || !res.Removed || len(res.Partitions) != 1 {
		t.Fatalf("decommission: %+v, %v", res, err)
	}
	if p := res.Partitions[0]; p.State != operator.StepMoved || p.To != 4 || p.Destroyed || !strings.Contains(p.Error, "unreachable") {
		t.Fatalf("step %+v", p)
	}
	want := []string{"create 2 on 4", "add-learner 2 4", "promote 2 4", "remove-voter 2 3", "set-replicas 2 [1 2 4]", "remove-node 3"}
	if !slices.Equal(c.changes, want) {
		t.Fatalf("changes:\n%s\nwant:\n%s", strings.Join(c.changes, "\n"), strings.Join(want, "\n"))
	}
}
