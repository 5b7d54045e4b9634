package node

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/doctor"
)

// startDrainNode starts a node of cfg's data directory (a fresh one when
// empty) with a Doctor that plans every 200 ms.
func startDrainNode(t *testing.T, dataDir string, join ...string) (*Node, Config) {
	t.Helper()
	cfg := DefaultConfig()
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	cfg.DataDir, cfg.APIAddr, cfg.PeerAddr, cfg.AdminAddr = dataDir, "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.Join, cfg.ReconcileInterval = join, 100*time.Millisecond
	cfg.Doctor, cfg.DoctorLease = true, 4*time.Second
	cfg.DoctorOptions = DoctorConfig{Interval: 200 * time.Millisecond, OpDeadline: time.Minute}
	n, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return n, cfg
}

// metaLeader is the node that leads the meta partition, as nodes' replicas
// say (nil: none known).
func metaLeader(nodes []*Node) *Node {
	for _, n := range nodes {
		if r := n.store.Replica(directory.MetaPartition); r != nil && r.Leader() == n.replicaID() {
			return n
		}
	}
	return nil
}

// drainMark is node id's drain mark as via's directory shows it.
func drainMark(t *testing.T, via *Node, id uint64) (time.Time, string) {
	t.Helper()
	c := ctl{n: via}
	rec := c.Directory(context.Background()).Node(id)
	if rec == nil {
		t.Fatalf("node %d is not in the directory", id)
	}
	return unixTime(rec.GetDrainingUnixNanos()), rec.GetDrainBy()
}

// drainTransfers counts the leadership transfers off node the Doctor's
// drain checker made and finished, as the timeline records them.
func drainTransfers(t *testing.T, via *Node, node uint64) int {
	t.Helper()
	es, err := doctorRecords{n: via}.Entries(context.Background(), 1, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return len(slices.DeleteFunc(es, func(e doctor.Entry) bool {
		return e.Op.Checker != "drain" || e.Op.From != node || e.State != doctor.Succeeded
	}))
}

// TestDrainIsKept: three nodes with Doctors. The meta partition's leader
// is drained: its leadership moves at once and its record is marked.
// Handed back its leadership (as an election would), it loses it again
// to the Doctor's drain checker. Undrained, the mark is gone. Drained
// again and restarted, its first heartbeat clears the mark.
func TestDrainIsKept(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("restarts a node of a three-node cluster")
	}
	n1, _ := startDrainNode(t, "")
	n2, _ := startDrainNode(t, "", n1.PeerAddr())
	n3, cfg3 := startDrainNode(t, "", n1.PeerAddr())
	nodes := []*Node{n1, n2, n3}
	defer func() {
		for _, n := range nodes {
			n.Close()
		}
	}()
	waitFor(t, "meta on three voters", func() bool { return len(n1.MetaVoters()) == 3 })
	var leader *Node
	waitFor(t, "a meta leader", func() bool { leader = metaLeader(nodes); return leader != nil })
	ctx := context.Background()

	// Drain n3, made the leader first: its node restarts at the end.
	if leader != n3 {
		if err := leader.store.TransferLeadershipTo(ctx, directory.MetaPartition, n3.ID()); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "n3 to lead meta", func() bool { return metaLeader(nodes) == n3 })
	}
	res, err := ctl{n: n1}.Drain(ctx, n3.ID(), "test")
	if err != nil || res.Led != 1 || res.Moved != 1 || res.Draining.IsZero() || res.DrainBy != "test" {
		t.Fatalf("drain: %+v, %v", res, err)
	}
	// A node's directory follows its own meta replica, which may apply
	// the mark after the answer.
	waitFor(t, "n3's mark in n1's directory", func() bool {
		at, by := drainMark(t, n1, n3.ID())
		return !at.IsZero() && by == "test"
	})
	waitFor(t, "a leader other than n3", func() bool { l := metaLeader(nodes); return l != nil && l != n3 })

	// An election's work, done by hand: n3 leads again. The Doctor takes
	// it away.
	leader = metaLeader(nodes)
	if err := leader.store.TransferLeadershipTo(ctx, directory.MetaPartition, n3.ID()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "n3 to lead meta again", func() bool { return metaLeader(nodes) == n3 })
	waitFor(t, "the Doctor to move the leadership off drained n3", func() bool {
		l := metaLeader(nodes)
		return l != nil && l != n3 && drainTransfers(t, n1, n3.ID()) > 0
	})

	// Undrained: no mark.
	if res, err := (ctl{n: n2}).Undrain(ctx, n3.ID(), "test"); err != nil || !res.Draining.IsZero() {
		t.Fatalf("undrain: %+v, %v", res, err)
	}
	waitFor(t, "the undrain in n2's directory", func() bool {
		at, _ := drainMark(t, n2, n3.ID())
		return at.IsZero()
	})

	// Drained again, then restarted: its first heartbeat clears the mark.
	if _, err := (ctl{n: n1}).Drain(ctx, n3.ID(), "test"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the second drain in n1's directory", func() bool {
		at, _ := drainMark(t, n1, n3.ID())
		return !at.IsZero()
	})
	if err := n3.Close(); err != nil {
		t.Fatal(err)
	}
	restarted, err := Start(ctx, cfg3)
	if err != nil {
		t.Fatal(err)
	}
	nodes[2] = restarted
	waitFor(t, "the restart to clear n3's mark", func() bool {
		rec := ctl{n: n1}.Directory(ctx).Node(restarted.ID())
		return rec != nil && rec.GetDrainingUnixNanos() == 0 && rec.GetStartedUnixNanos() == restarted.started.UnixNano()
	})
	t.Logf("the drain checker moved %d leaderships off n3", drainTransfers(t, n1, n3.ID()))
}
