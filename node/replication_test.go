package node_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/clusterversion"
	"github.com/partitadb/partita/node"
	"github.com/partitadb/partita/topology"
)

// TestDoctorPlansWithTheClusterReplicationFactor: of three nodes, the
// first (which records its --replication-factor 3 at bootstrap) and the
// third run no Doctor; the second, started with --replication-factor 1,
// runs the only one. A table created through the second gets three
// replicas per partition, and its Doctor removes none: both read the
// cluster's record, not the node's flag. The second node says once that
// its flag is ignored. Lowered to 2 through another node, every table
// partition loses a voter (the meta partition keeps three); raised to 3,
// each gets one back.
func TestDoctorPlansWithTheClusterReplicationFactor(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	n1 := startHealerWith(t, "", func(c *node.Config) { c.Doctor, c.ReplicationFactor = false, 3 })
	n2 := startHealerWith(t, "", func(c *node.Config) {
		c.ReplicationFactor = 1
		c.DoctorOptions.Settle = time.Second // the partitions lowered are raised again at once
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}, n1.PeerAddr())
	n3 := startHealerWith(t, "", func(c *node.Config) { c.Doctor = false }, n1.PeerAddr())
	waitFor(t, func() error {
		if v := n1.MetaVoters(); len(v) != 3 {
			return fmt.Errorf("meta voters %v", v)
		}
		return nil
	})
	var rep admin.Replication
	if code := adminDo(t, n2, http.MethodGet, "/doctor/replication", &rep); code != http.StatusOK || rep.Factor != 3 ||
		rep.Recorded != 3 || rep.Fallback || rep.ChangedBy != "bootstrap" {
		t.Fatalf("the replication factor seen from the node started with 1: %d %+v", code, rep)
	}

	createCapacityTable(t, client(n2), "rfx", 0, 0)
	table := partitions(t, n2, "rfx")
	for _, p := range table {
		if len(p.Replicas) != 3 {
			t.Fatalf("CreateTable through the node started with 1 placed partition %d on %v", p.ID, p.Replicas)
		}
	}
	all := func() []topology.PartitionInfo { return append(partitions(t, n3, ""), partitions(t, n3, "rfx")...) }
	waitFor(t, func() error { return healthy(all()) })
	if active := waitActiveDoctor(t, n1, n2, n3); active != n2 {
		t.Fatalf("the active Doctor is node %d's, not node %d's", active.ID(), n2.ID())
	}
	// The Doctor on the node started with 1 plans with the record's 3:
	// over several complete plans, it removes nothing.
	for range 5 {
		p := completePlan(t, n2)
		if r := p.Plan.Replication; r.Factor != 3 || r.Fallback {
			t.Fatalf("the Doctor plans with replication factor %+v", r)
		}
		for _, o := range p.Plan.Ops {
			if o.Op.Kind == "remove-replica" {
				t.Fatalf("the Doctor removes a voter under the record's factor 3: %+v", o)
			}
		}
		time.Sleep(300 * time.Millisecond) // a Doctor cycle
	}
	if err := healthy(all()); err != nil {
		t.Fatalf("a partition lost a voter: %v", err)
	}
	if es := timeline(t, n3, "kind=remove-replica"); len(es) > 0 {
		t.Fatalf("voters removed: %+v", es)
	}
	if !strings.Contains(logs.String(), "--replication-factor is ignored") {
		t.Fatalf("the node started with 1 did not say its flag is ignored:\n%s", logs.String())
	}

	// Lowered to 2, through a node without a Doctor.
	if code := adminDo(t, n3, http.MethodPost, "/doctor/replication?factor=2&reason=test", &rep); code != http.StatusOK ||
		rep.Recorded != 2 || rep.Previous != 3 || !strings.Contains(rep.ChangedBy, "admin@") || rep.Reason != "test" {
		t.Fatalf("set the replication factor to 2: %d %+v", code, rep)
	}
	waitFor(t, func() error { return replicated(all(), 2) })
	if es := timeline(t, n3, "kind=remove-replica&state=succeeded"); len(es) == 0 {
		t.Fatal("the partitions lost voters, and the timeline records no removal")
	}

	// Raised to 3: each table partition gets its third voter back.
	if code := adminDo(t, n1, http.MethodPost, "/doctor/replication?factor=3", &rep); code != http.StatusOK || rep.Recorded != 3 {
		t.Fatalf("set the replication factor to 3: %d %+v", code, rep)
	}
	waitFor(t, func() error { return healthy(all()) })
}

// TestReplicationFactorRecordedAtUpgrade: a cluster begun by a binary of
// cluster version 19 records no replication factor; its Doctor plans with
// its node's flag and says so, and an operator cannot set one. Once the
// node runs a binary of version 20 and the Doctor finalises it, the
// Doctor records its node's flag as the cluster's, once.
func TestReplicationFactorRecordedAtUpgrade(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	opts := func(maxVersion uint32) func(*node.Config) {
		return func(c *node.Config) {
			c.DataDir, c.MaxClusterVersion, c.UpgradeSoak, c.ReplicationFactor = dir, maxVersion, 500*time.Millisecond, 2
		}
	}
	n := startHealerWith(t, "", opts(uint32(clusterversion.ClusterReplication-1)))
	var rep admin.Replication
	if code := adminDo(t, n, http.MethodGet, "/doctor/replication", &rep); code != http.StatusOK || rep.Recorded != 0 ||
		!rep.Fallback || rep.Factor != 2 || rep.ClusterVersion != uint32(clusterversion.ClusterReplication-1) {
		t.Fatalf("the replication factor at version 19: %d %+v", code, rep)
	}
	if r := completePlan(t, n).Plan.Replication; r.Factor != 2 || !r.Fallback || !strings.Contains(r.Source, "--replication-factor") {
		t.Fatalf("the Doctor's plan at version 19: %+v", r)
	}
	if code := adminDo(t, n, http.MethodPost, "/doctor/replication?factor=3", &rep); code != http.StatusConflict {
		t.Fatalf("set the replication factor at version 19: %d, want 409", code)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}

	n = startHealerWith(t, "", opts(0))
	waitFor(t, func() error {
		rep = admin.Replication{}
		if code := adminDo(t, n, http.MethodGet, "/doctor/replication", &rep); code != http.StatusOK || rep.Recorded == 0 {
			return fmt.Errorf("no record yet: %d %+v", code, rep)
		}
		return nil
	})
	if rep.Recorded != 2 || rep.Fallback || rep.ClusterVersion < uint32(clusterversion.ClusterReplication) ||
		!strings.HasPrefix(rep.ChangedBy, "doctor on node 1") {
		t.Fatalf("the replication factor after the upgrade: %+v", rep)
	}
	waitFor(t, func() error {
		if r := completePlan(t, n).Plan.Replication; r.Factor != 2 || r.Fallback {
			return fmt.Errorf("the Doctor's plan after the upgrade: %+v", r)
		}
		return nil
	})
}

// replicated says every table partition (the meta partition: three) has
// a leader and want caught-up voters, which the directory lists.
func replicated(parts []topology.PartitionInfo, want int) error {
	for _, p := range parts {
		w := want
		if p.Table == topology.MetaTable {
			w = max(want, 3)
		}
		switch {
		case p.Leader == 0:
			return fmt.Errorf("partition %d has no leader", p.ID)
		case len(p.Voters) != w || len(p.Learners) > 0:
			return fmt.Errorf("partition %d: voters %v, learners %v, want %d voters", p.ID, p.Voters, p.Learners, w)
		case !slices.Equal(sorted(p.Replicas), sorted(p.Voters)):
			return fmt.Errorf("partition %d: directory %v, voters %v", p.ID, p.Replicas, p.Voters)
		}
	}
	return nil
}

// waitActiveDoctor returns the node of nodes whose Doctor is active.
func waitActiveDoctor(t *testing.T, nodes ...*node.Node) *node.Node {
	t.Helper()
	var active *node.Node
	waitFor(t, func() error {
		for _, n := range nodes {
			if e := n.Doctor(); e != nil && e.IsActive() {
				active = n
				return nil
			}
		}
		return fmt.Errorf("no active Doctor")
	})
	return active
}

// completePlan waits for a plan the active Doctor made from a complete
// view, asked of via.
func completePlan(t *testing.T, via *node.Node) admin.DoctorPlan {
	t.Helper()
	var p admin.DoctorPlan
	waitFor(t, func() error {
		p = admin.DoctorPlan{}
		if code := adminDo(t, via, http.MethodGet, "/doctor/plan", &p); code != http.StatusOK {
			return fmt.Errorf("plan: status %d", code)
		}
		if !p.Plan.Active || p.Plan.Waiting != "" {
			return fmt.Errorf("no complete plan: %+v", p.Plan)
		}
		return nil
	})
	return p
}
