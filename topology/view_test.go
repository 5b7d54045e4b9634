package topology_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/topology"
)

func snapshot(now time.Time) *directory.Snapshot {
	return &directory.Snapshot{
		Tables: []*partitapb.Table{
			{Name: "b", Id: 2, Status: "ACTIVE", Partitions: []*partitapb.Partition{{Id: 3, TableId: 2, Replicas: []uint64{1, 2, 3}, Generation: 1}}},
			{Name: "a", Id: 1, Status: "CREATING", Partitions: []*partitapb.Partition{{Id: 2, TableId: 1, Replicas: []uint64{2, 3, 4}}}},
		},
		Nodes: []*partitapb.Node{
			{Id: 2, Zone: "z2", HeartbeatUnixNanos: now.UnixNano()},
			{Id: 1, Zone: "z1", HeartbeatUnixNanos: now.UnixNano()},
		},
		MetaReplicas: []uint64{1},
	}
}

// TestPartitions: the view takes raft's configuration from the leader
// of the highest term, marks learners, lag, unreachable nodes and nodes
// without their replica, and lists the meta partition first.
func TestPartitions(t *testing.T) {
	now := time.Unix(1000, 0)
	a := topology.NewAnswers()
	a.Replicas[1] = topology.LocalReplicas{Node: 1, Replicas: []topology.LocalReplica{
		{Partition: 1, Leader: true, Term: 1, Applied: 9, Voters: []uint64{1}},
		{Partition: 3, Leader: true, Term: 4, Applied: 50, Voters: []uint64{1, 2, 3}, Learners: []uint64{5}},
	}}
	a.Replicas[2] = topology.LocalReplicas{Node: 2, Replicas: []topology.LocalReplica{
		// A deposed leader of an older term.
		{Partition: 3, Leader: true, Term: 3, Applied: 40, Voters: []uint64{1, 2}},
		{Partition: 2, Term: 2, Applied: 7, Voters: []uint64{2, 3, 4}},
	}}
	a.Replicas[5] = topology.LocalReplicas{Node: 5, Replicas: []topology.LocalReplica{{Partition: 3, Term: 4, Applied: 45}}}
	a.Errs[3] = errors.New("connection refused")

	parts, err := topology.Partitions(snapshot(now), "", a)
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 3 || parts[0].Table != topology.MetaTable || parts[1].Table != "a" || parts[2].Table != "b" {
		t.Fatalf("partitions %+v", parts)
	}
	b := parts[2]
	if b.Leader != 1 || !reflect.DeepEqual(b.Voters, []uint64{1, 2, 3}) || !reflect.DeepEqual(b.Learners, []uint64{5}) {
		t.Fatalf("partition of b: %+v", b)
	}
	want := []topology.ReplicaInfo{
		{Node: 1, Role: topology.RoleLeader, Term: 4, Applied: 50},
		{Node: 2, Role: topology.RoleFollower, Term: 3, Applied: 40, Lag: 10},
		{Node: 3, Role: topology.RoleUnreachable, Error: "connection refused"},
		{Node: 5, Role: topology.RoleLearner, Term: 4, Applied: 45, Lag: 5},
	}
	if !reflect.DeepEqual(b.Status, want) {
		t.Fatalf("status of b:\n got %+v\nwant %+v", b.Status, want)
	}
	// Without a leader, the configuration of the replica that answered.
	aa := parts[1]
	if aa.Leader != 0 || !reflect.DeepEqual(aa.Voters, []uint64{2, 3, 4}) || aa.Status[2].Role != topology.RoleUnreachable ||
		aa.Status[0].Role != topology.RoleFollower || aa.Status[0].Lag != 0 {
		t.Fatalf("partition of a: %+v", aa)
	}
	if !b.Hosts(5) || b.Hosts(4) {
		t.Fatalf("Hosts of %+v", b)
	}

	if _, err := topology.Partitions(snapshot(now), "nope", a); !errors.Is(err, topology.ErrNoTable) {
		t.Fatalf("unknown table: %v", err)
	}
	if only, err := topology.Partitions(snapshot(now), "a", a); err != nil || len(only) != 1 || only[0].ID != 2 {
		t.Fatalf("partitions of a: %+v, %v", only, err)
	}
}

func TestNodesAndTables(t *testing.T) {
	now := time.Unix(1000, 0)
	nodes := topology.Nodes(snapshot(now), now)
	if len(nodes) != 2 || nodes[0].ID != 1 || !nodes[0].MetaVoter || nodes[1].MetaVoter || nodes[0].Status != directory.Alive {
		t.Fatalf("nodes %+v", nodes)
	}
	tables := topology.Tables(snapshot(now))
	if len(tables) != 2 || tables[0].Name != "a" || tables[1].Partitions != 1 || tables[0].Status != "CREATING" {
		t.Fatalf("tables %+v", tables)
	}
}

// A replica that claims to lead at a term below another replica's is
// deposed, even when its successor did not answer: the view shows no
// leader, and the configuration of the replica with the most applied.
// Taken for the leader, the deposed one's older configuration let a
// Doctor's operation planned on it pass as current.
func TestPartitionsDeposedLeader(t *testing.T) {
	now := time.Unix(1000, 0)
	a := topology.NewAnswers()
	a.Errs[1] = errors.New("deadline exceeded") // the new leader, of term 4
	a.Replicas[2] = topology.LocalReplicas{Node: 2, Replicas: []topology.LocalReplica{
		{Partition: 3, Leader: true, Term: 3, Applied: 40, Voters: []uint64{1, 2}},
	}}
	a.Replicas[5] = topology.LocalReplicas{Node: 5, Replicas: []topology.LocalReplica{
		{Partition: 3, Term: 4, Applied: 45, Voters: []uint64{1, 2, 3}, Learners: []uint64{5}},
	}}
	parts, err := topology.Partitions(snapshot(now), "b", a)
	if err != nil {
		t.Fatal(err)
	}
	b := parts[0]
	if b.Leader != 0 || !reflect.DeepEqual(b.Voters, []uint64{1, 2, 3}) {
		t.Fatalf("partition of b: leader %d voters %v, want no leader and the voters of the most applied", b.Leader, b.Voters)
	}
	for _, r := range b.Status {
		if r.Role == topology.RoleLeader {
			t.Fatalf("a leader in %+v", b.Status)
		}
	}
}
