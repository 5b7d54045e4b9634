package checker_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/doctor/checker"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/topology"
)

// topologyCluster is a directory of four nodes (zones a, b, c, b) and a
// table of two partitions on nodes 1-3, whose heartbeats are at hb.
func topologyCluster(hb map[uint64]time.Time) *directory.Snapshot {
	snap := &directory.Snapshot{}
	for id, zone := range map[uint64]string{1: "a", 2: "b", 3: "c", 4: "b"} {
		snap.Nodes = append(snap.Nodes, &partitapb.Node{Id: id, Zone: zone, PeerAddr: fmt.Sprintf("n%d:7000", id),
			HeartbeatUnixNanos: hb[id].UnixNano()})
	}
	snap.Tables = []*partitapb.Table{{Id: 1, Name: "orders", Partitions: []*partitapb.Partition{
		{Id: 10, TableId: 1, Generation: 2, Replicas: []uint64{1, 2, 3}},
		{Id: 11, TableId: 1, Generation: 2, Replicas: []uint64{1, 2, 3}},
	}}}
	return snap
}

// answers has n1 lead both partitions, n2 follow both, n3 hold only
// p11 (its p10 is gone: missing on a live node), n4 hold nothing; the
// nodes in unreachable do not answer.
func answers(unreachable ...uint64) topology.Answers {
	a := topology.NewAnswers()
	conf := func(p uint64, leader bool) topology.LocalReplica {
		return topology.LocalReplica{Partition: p, Leader: leader, Lead: 1, Term: 3, Applied: 100, Voters: []uint64{1, 2, 3}}
	}
	a.Replicas[1] = topology.LocalReplicas{Node: 1, Replicas: []topology.LocalReplica{conf(10, true), conf(11, true)}}
	a.Replicas[2] = topology.LocalReplicas{Node: 2, Replicas: []topology.LocalReplica{conf(10, false), conf(11, false)}}
	a.Replicas[3] = topology.LocalReplicas{Node: 3, Replicas: []topology.LocalReplica{conf(11, false)}}
	a.Replicas[4] = topology.LocalReplicas{Node: 4}
	for _, n := range unreachable {
		delete(a.Replicas, n)
		a.Errs[n] = errors.New("connection refused")
	}
	return a
}

func viewAt(t *testing.T, snap *directory.Snapshot, a topology.Answers, now time.Time, prev *checker.View) checker.View {
	t.Helper()
	parts, err := topology.Partitions(snap, "orders", a)
	if err != nil {
		t.Fatal(err)
	}
	return checker.FromTopology(topology.Nodes(snap, now), parts, now, prev)
}

func planString(t *testing.T, v checker.View, now time.Time) string {
	t.Helper()
	cfg := checker.DefaultConfig(now)
	cfg.DryRun = true
	plan, err := checker.Compute(v, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return formatPlan(plan)
}

// TestFromTopology plans over the topology package's view: a replica
// missing on a live node is judged from when it was first seen missing,
// which the previous round's view carries.
func TestFromTopology(t *testing.T) {
	t0 := epoch
	beat := func(at time.Time) map[uint64]time.Time {
		return map[uint64]time.Time{1: at, 2: at, 3: at, 4: at}
	}
	first := viewAt(t, topologyCluster(beat(t0)), answers(), t0, nil)
	assertContains(t, planString(t, first, t0), "p10 [replica]: replica on live n3 down (missing, broken or not applying) for 0s: replaced after 30s")

	t1 := t0.Add(40 * time.Second)
	second := viewAt(t, topologyCluster(beat(t1)), answers(), t1, &first)
	got := planString(t, second, t1)
	assertContains(t, got, "replace-replica p10 from=3 to=4 prio=100 gen=2 voters=[1 2 3] [replica]")
	assertContains(t, got, "replica on live n3 down (missing, broken or not applying) for 40s (down-after 30s)")
	assertContains(t, got, "p11 [all]: nothing to do")

	// Without the previous round, the missing replica's clock starts again.
	assertContains(t, planString(t, viewAt(t, topologyCluster(beat(t1)), answers(), t1, nil), t1), "for 0s: replaced after 30s")
}

// TestFromTopologyDeadNode: a node whose heartbeats stopped 100 s ago and
// that does not answer is dead for 70 s with no contact since its last
// heartbeat; p11 replaces it, p10, whose n3 is missing too, holds.
func TestFromTopologyDeadNode(t *testing.T) {
	t0 := epoch
	now := t0.Add(100 * time.Second)
	hb := map[uint64]time.Time{1: now, 2: t0, 3: now, 4: now}
	v := viewAt(t, topologyCluster(hb), answers(2), now, nil)
	n2, _ := v.Node(2)
	if n2.Liveness != directory.Dead || !n2.Since.Equal(t0.Add(15*directory.HeartbeatInterval)) {
		t.Fatalf("n2 = %+v, want dead since its heartbeat plus 30s", n2)
	}
	got := planString(t, v, now)
	assertContains(t, got, "replace-replica p11 from=2 to=4 prio=100 gen=2 voters=[1 2 3] [replica]")
	assertContains(t, got, "n2 dead for 1m10s (dead-after 30s)")
	assertContains(t, got, "p10 [replica]: replace-replica p10 from=2 to=4 prio=100 gen=2 voters=[1 2 3] [replica] held: it would cost the quorum (1 of 3 voters healthy)")
}

func assertContains(t *testing.T, got, want string) {
	t.Helper()
	if !strings.Contains(got, want) {
		t.Fatalf("plan lacks %q:\n%s", want, got)
	}
}
