package doctor

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/doctor/checker"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/topology/ingest"
)

var t0 = time.Unix(1_800_000_000, 0)

// cluster is three nodes: n1 heartbeats now and reports, n2 heartbeats
// now but its last report is old (ingest: suspect), n3 stopped 40 s ago.
// One table partition p7, voters 1, 2, 3, led by n1, which heard from n2
// 1 s before its report and never from n3; n3's replica is not reported.
func cluster() (*ingest.ClusterView, *directory.Snapshot) {
	node := func(id uint64, hbAgo time.Duration) *partitapb.Node {
		return &partitapb.Node{Id: id, PeerAddr: "127.0.0.1:1", HeartbeatUnixNanos: t0.Add(-hbAgo).UnixNano()}
	}
	snap := &directory.Snapshot{
		Nodes:        []*partitapb.Node{node(1, 0), node(2, 0), node(3, 40*time.Second)},
		MetaReplicas: []uint64{1},
		Tables: []*partitapb.Table{{Name: "t", Partitions: []*partitapb.Partition{
			{Id: 7, Generation: 4, Replicas: []uint64{1, 2, 3}}}}},
	}
	cv := &ingest.ClusterView{At: t0,
		Nodes: []ingest.NodeView{
			{ID: 1, Liveness: directory.Alive, Taken: t0.Add(-time.Second), Health: ingest.Health{FsyncP99: 3 * time.Millisecond}},
			{ID: 2, Liveness: directory.Suspect, Taken: t0.Add(-20 * time.Second)},
		},
		Partitions: []ingest.PartitionView{{ID: 7, Table: "t", Generation: 4, Leader: 1, Voters: []uint64{1, 2, 3},
			Replicas: []ingest.ReplicaView{{Node: 1}, {Node: 2, Lag: 5}},
			Contact:  map[uint64]time.Duration{2: time.Second}}},
	}
	return cv, snap
}

func TestViewOf(t *testing.T) {
	cv, snap := cluster()
	v := ViewOf(cv, snap, nil, History{}, viewConfig(t0))
	n1, _ := v.Node(1)
	n2, _ := v.Node(2)
	n3, _ := v.Node(3)
	if n1.Liveness != directory.Alive || n1.Health.FsyncP99 != 3*time.Millisecond {
		t.Errorf("n1: %+v", n1)
	}
	if n2.Liveness != directory.Suspect {
		t.Errorf("n2 heartbeats but stopped reporting: %+v, want suspect", n2)
	}
	if n3.Liveness != directory.Dead || !n3.Since.Equal(t0.Add(-40*time.Second).Add(aliveFor)) {
		t.Errorf("n3 stopped heartbeating 40s ago: %+v, want dead since %v", n3, t0.Add(-40*time.Second).Add(aliveFor))
	}
	i := slices.IndexFunc(v.Partitions, func(p checker.Partition) bool { return p.ID == 7 })
	if i < 0 {
		t.Fatalf("no partition 7 in %+v", v.Partitions)
	}
	p := v.Partitions[i]
	if p.Leader != 1 || p.Generation != 4 || !slices.Equal(p.Voters, []uint64{1, 2, 3}) || p.Table != "t" {
		t.Fatalf("p7: %+v", p)
	}
	r1, _ := p.Replica(1)
	r2, _ := p.Replica(2)
	r3, _ := p.Replica(3)
	if !r1.LastContact.Equal(t0.Add(-time.Second)) {
		t.Errorf("the leader's own contact: %v", r1.LastContact)
	}
	if !r2.LastContact.Equal(t0.Add(-2*time.Second)) || r2.Lag != 5 || !r2.LagSince.Equal(t0) {
		t.Errorf("n2 as its leader saw it: %+v", r2)
	}
	// Never heard of: its clock starts now, it is not out of contact since
	// forever; and its node is dead, so it is not "down on a live node".
	if !r3.LastContact.Equal(t0) || !r3.DownSince.IsZero() {
		t.Errorf("n3's replica: %+v", r3)
	}

	// A cycle later, carried times do not restart.
	later := t0.Add(5 * time.Second)
	v2 := ViewOf(cv, snap, &v, History{}, viewConfig(later))
	q := v2.Partitions[slices.IndexFunc(v2.Partitions, func(p checker.Partition) bool { return p.ID == 7 })]
	r3b, _ := q.Replica(3)
	r2b, _ := q.Replica(2)
	if !r3b.LastContact.Equal(t0) || !r2b.LagSince.Equal(t0) {
		t.Errorf("carried times restarted: n3 %+v, n2 %+v", r3b, r2b)
	}
}

// A replica its live, reporting node does not have, and its leader has
// not heard from for longer than the contact timeout, is down since the
// view first saw it so.
func TestViewOfDownReplica(t *testing.T) {
	cv, snap := cluster()
	cv.Nodes = append(cv.Nodes, ingest.NodeView{ID: 4, Liveness: directory.Alive, Taken: t0})
	snap.Nodes = append(snap.Nodes, &partitapb.Node{Id: 4, PeerAddr: "x", HeartbeatUnixNanos: t0.UnixNano()})
	cv.Partitions[0].Voters = append(cv.Partitions[0].Voters, 4)
	cv.Partitions[0].Contact[4] = time.Minute
	v := ViewOf(cv, snap, nil, History{}, viewConfig(t0))
	r4, _ := v.Partitions[slices.IndexFunc(v.Partitions, func(p checker.Partition) bool { return p.ID == 7 })].Replica(4)
	if !r4.DownSince.Equal(t0) {
		t.Fatalf("n4's missing replica: %+v, want down since %v", r4, t0)
	}
	cv.Partitions[0].Contact[4] = time.Second // answering raft: not down
	v = ViewOf(cv, snap, nil, History{}, viewConfig(t0))
	r4, _ = v.Partitions[slices.IndexFunc(v.Partitions, func(p checker.Partition) bool { return p.ID == 7 })].Replica(4)
	if !r4.DownSince.IsZero() {
		t.Fatalf("n4 answers its leader, yet down: %+v", r4)
	}
}

func TestSteps(t *testing.T) {
	for _, c := range []struct {
		op        checker.Op
		reachable bool
		want      string // the steps, joined
	}{
		{checker.Op{Kind: checker.ReplaceReplica, Partition: 7, Table: "t", From: 3, To: 4}, false,
			"create-replica node=4 partition=7|add-learner partition=7 node=4|promote-learner partition=7 node=4|transfer-leader partition=7 from=3|remove-voter partition=7 node=3|set-replicas table=t partition=7 remove=3 add=4"},
		{checker.Op{Kind: checker.AddReplica, Partition: 1, Table: "(meta)", To: 2}, true,
			"create-replica node=2 partition=1|add-learner partition=1 node=2|promote-learner partition=1 node=2"},
		{checker.Op{Kind: checker.RemoveReplica, Partition: 7, Table: "t", From: 3}, true,
			"transfer-leader partition=7 from=3|remove-voter partition=7 node=3|set-replicas table=t partition=7 remove=3 add=0|destroy-replica node=3 partition=7"},
		{checker.Op{Kind: checker.TransferLeader, Partition: 7, From: 1, To: 2}, true, "transfer-leader partition=7 from=1 to=2"},
		{checker.Op{Kind: checker.RollBackLearner, Partition: 7, From: 5}, false, "remove-voter partition=7 node=5"},
		{checker.Op{Kind: checker.SetReplicas, Partition: 7, Table: "t", Voters: []uint64{1, 2, 4}, Generation: 3}, true,
			"sync-replicas table=t partition=7 replicas=[1 2 4]"},
	} {
		o, err := Steps(c.op, c.reachable)
		if err != nil {
			t.Fatalf("%s: %v", c.op, err)
		}
		var got []string
		for _, s := range o.Steps {
			got = append(got, s.String())
		}
		if strings.Join(got, "|") != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.op, strings.Join(got, "|"), c.want)
		}
	}
	if _, err := Steps(checker.Op{Kind: checker.LeaveJoint, Partition: 7}, true); err == nil {
		t.Error("leave-joint has steps, though the store never enters a joint configuration")
	}
}

func TestMemRecordsKeepsUnfinished(t *testing.T) {
	ctx := context.Background()
	m := &MemRecords{Keep: 3}
	running := &Entry{State: Running}
	if err := m.Put(ctx, running); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if err := m.Put(ctx, &Entry{State: Succeeded}); err != nil {
			t.Fatal(err)
		}
	}
	es, _ := m.Entries(ctx, 0, 0)
	if len(es) != 3 || es[0].ID != running.ID || es[0].State != Running {
		t.Fatalf("kept %+v", es)
	}
	if err := m.Decide(running.ID, true, "op", ""); err == nil {
		t.Fatal("approved an operation that was not awaiting approval")
	}
}

// A node whose heartbeats stopped but whose topology reports still
// arrive is cut off from the meta leader, not dead: suspect.
func TestViewOfHeartbeatsCutReportsArrive(t *testing.T) {
	cv, snap := cluster()
	cv.Nodes = append(cv.Nodes, ingest.NodeView{ID: 3, Liveness: directory.Alive, Taken: t0.Add(-time.Second)})
	v := ViewOf(cv, snap, nil, History{}, viewConfig(t0))
	if n3, _ := v.Node(3); n3.Liveness != directory.Suspect {
		t.Errorf("n3 reports but does not heartbeat: %+v, want suspect", n3)
	}
	cv.Nodes[len(cv.Nodes)-1].Liveness = directory.Suspect // its reports stopped too
	v = ViewOf(cv, snap, nil, History{}, viewConfig(t0))
	if n3, _ := v.Node(3); n3.Liveness != directory.Dead {
		t.Errorf("n3 neither reports nor heartbeats: %+v, want dead", n3)
	}
}

// viewConfig is the checkers' default configuration at now, with a 10 s
// contact timeout.
func viewConfig(now time.Time) checker.Config {
	cfg := checker.DefaultConfig(now)
	cfg.ContactTimeout = 10 * time.Second
	return cfg
}
