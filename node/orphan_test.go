package node

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/topology"
)

// TestOrphanReplicaCollected: a replica removed from its partition while
// it received nothing (its node cut off from the partition's raft
// traffic) never learns its removal and counts itself a member. The
// directory lists the partition without its node, and it knows no
// leader; the node's reconciler asks the partition's leader, whose
// configuration no longer has the node, and destroys the replica. The
// node's other replicas stay.
func TestOrphanReplicaCollected(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var drop [4]atomic.Uint64
	var nodes []*Node
	for i := range 4 {
		cfg := DefaultConfig()
		cfg.DataDir, cfg.APIAddr, cfg.PeerAddr, cfg.AdminAddr = t.TempDir(), "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
		cfg.ReconcileInterval, cfg.OrphanGrace, cfg.Doctor = 100*time.Millisecond, time.Second, false
		cfg.DropRaft = func(p uint64) bool { return p == drop[i].Load() }
		if i > 0 {
			cfg.Join = []string{nodes[0].PeerAddr()}
		}
		n, err := Start(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = n.Close() })
		nodes = append(nodes, n)
	}
	n1 := nodes[0]
	waitFor(t, "meta on three voters", func() bool { return len(n1.MetaVoters()) == 3 })
	table := &partitapb.Table{Name: "orphan", BillingMode: "PAY_PER_REQUEST",
		KeySchema:            []*partitapb.KeyElement{{AttributeName: "pk", KeyType: "HASH"}},
		AttributeDefinitions: []*partitapb.AttributeDefinition{{AttributeName: "pk", AttributeType: "S"}}}
	if _, err := n1.router.CreateTable(ctx, table); err != nil {
		t.Fatal(err)
	}
	var p topology.PartitionInfo
	waitFor(t, "the table's partitions led, on three voters", func() bool {
		ps, err := ctl{n: n1}.Partitions(ctx, "orphan")
		if err != nil || len(ps) == 0 {
			return false
		}
		for _, q := range ps {
			if q.Leader == 0 || len(q.Voters) != 3 {
				return false
			}
		}
		p = ps[0]
		return true
	})
	byID := func(id uint64) *Node {
		return nodes[slices.IndexFunc(nodes, func(n *Node) bool { return n.ID() == id })]
	}
	var x, y uint64 // x: a follower to cut off and remove; y: the node without a replica
	for _, n := range nodes {
		switch id := n.ID(); {
		case !slices.Contains(p.Voters, id):
			y = id
		case id != p.Leader && x == 0:
			x = id
		}
	}
	if x == 0 || y == 0 {
		t.Fatalf("partition %d: voters %v, leader %d", p.ID, p.Voters, p.Leader)
	}
	others := byID(x).store.Replicas()
	drop[slices.IndexFunc(nodes, func(n *Node) bool { return n.ID() == x })].Store(p.ID)

	// Y replaces X, raft's configuration first (X hears nothing of it),
	// then the directory's record.
	c := n1.client
	step := func(what string, f func(leader uint64) error) {
		t.Helper()
		waitFor(t, what, func() bool {
			ps, err := ctl{n: n1}.Partitions(ctx, "orphan")
			if err != nil {
				return false
			}
			for _, q := range ps {
				if q.ID == p.ID && q.Leader != 0 {
					return f(q.Leader) == nil
				}
			}
			return false
		})
	}
	if err := c.CreateReplica(ctx, y, p.ID); err != nil {
		t.Fatal(err)
	}
	step("y a learner", func(l uint64) error { _, err := c.AddLearner(ctx, l, p.ID, y); return err })
	step("y a voter", func(l uint64) error { _, err := c.PromoteLearner(ctx, l, p.ID, y); return err })
	var rec *partitapb.Partition
	for _, q := range n1.dir.Snapshot().Table("orphan").GetPartitions() {
		if q.GetId() == p.ID {
			rec = q
		}
	}
	replicas := append(slices.DeleteFunc(slices.Clone(rec.GetReplicas()), func(id uint64) bool { return id == x }), y)
	if err := (ctl{n: n1}).SetReplicas(ctx, "orphan", p.ID, replicas, rec.GetGeneration()); err != nil {
		t.Fatal(err)
	}
	// The directory no longer lists X, but the leader's configuration
	// does: X's replica, leaderless and idle, stays (the leader is asked,
	// not the directory). Three graces are ample for its reconciler.
	time.Sleep(3 * time.Second)
	if byID(x).store.Replica(p.ID) == nil {
		t.Fatalf("node %d's replica of partition %d went while the leader still counted it", x, p.ID)
	}
	step("x removed", func(l uint64) error { _, err := c.RemoveVoter(ctx, l, p.ID, x); return err })
	// Cut off, it never heard of its removal: it counts itself a voter
	// until it goes. (On a loaded machine its reconciler may have
	// destroyed it already, a grace after the removal applied.)
	if r := byID(x).store.Replica(p.ID); r != nil && !slices.Contains(r.ConfState().Voters, x) {
		t.Fatalf("node %d's replica of partition %d should count itself a voter still", x, p.ID)
	}
	waitFor(t, fmt.Sprintf("node %d's orphaned replica of partition %d destroyed", x, p.ID), func() bool {
		return byID(x).store.Replica(p.ID) == nil
	})
	if got, want := len(byID(x).store.Replicas()), len(others)-1; got != want {
		t.Fatalf("node %d hosts %d replicas, want %d: only the orphan goes", x, got, want)
	}
}
