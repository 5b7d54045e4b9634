package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/partitadb/partita/clusterversion"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/node"
	"github.com/partitadb/partita/topology"
)

// ctlCluster starts four nodes, each edited by edit, and a table "ctl" of
// four partitions with a few items; it returns once every partition is
// caught up.
func ctlCluster(t *testing.T, edit func(*node.Config)) []*node.Node {
	t.Helper()
	n1 := startCtlMemberWith(t, edit)
	nodes := []*node.Node{n1}
	for range 3 {
		nodes = append(nodes, startCtlMemberWith(t, edit, n1.PeerAddr()))
	}
	eventually(t, func() error {
		var listed []topology.NodeInfo
		ctlJSON(t, n1, &listed, "nodes")
		if len(listed) != 4 || len(n1.MetaVoters()) != 3 {
			return fmt.Errorf("nodes %+v, meta voters %v", listed, n1.MetaVoters())
		}
		return nil
	})
	createCtlTable(t, n1, 20)
	eventually(t, func() error {
		var parts []topology.PartitionInfo
		ctlJSON(t, n1, &parts, "partitions")
		return caughtUp(parts)
	})
	return nodes
}

// doctorCtlCluster is ctlCluster with every node running a Doctor, its
// cycles and topology reports quick.
func doctorCtlCluster(t *testing.T) []*node.Node {
	t.Helper()
	return ctlCluster(t, func(cfg *node.Config) {
		cfg.TopologyInterval = 200 * time.Millisecond
		cfg.Doctor, cfg.DoctorLease = true, 4*time.Second // see node's startHealerWith
		cfg.DoctorOptions = node.DoctorConfig{Interval: 300 * time.Millisecond, OpDeadline: time.Minute}
	})
}

// hosting returns a node of nodes, not the first, that holds a voter.
func hosting(t *testing.T, nodes []*node.Node) *node.Node {
	t.Helper()
	var parts []topology.PartitionInfo
	ctlJSON(t, nodes[0], &parts, "partitions")
	for _, n := range nodes[1:] {
		if slices.ContainsFunc(parts, func(p topology.PartitionInfo) bool { return slices.Contains(p.Voters, n.ID()) }) {
			return n
		}
	}
	t.Fatal("no node holds a voter")
	return nil
}

// TestCtlDecommissionWaits: with Doctors running, ctl node decommission
// waits, printing the partitions left on the node, until the Doctor
// removed its record; ctl nodes then lists the three others.
func TestCtlDecommissionWaits(t *testing.T) {
	t.Parallel()
	nodes := doctorCtlCluster(t)
	gone := hosting(t, nodes)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	text, err := ctlContext(ctx, nodes[0], "node", "decommission", fmt.Sprint(gone.ID()))
	if err != nil || !strings.Contains(text, fmt.Sprintf("node %d decommissioning since", gone.ID())) ||
		!strings.Contains(text, "partitions left:") || !strings.Contains(text, fmt.Sprintf("node %d decommissioned", gone.ID())) {
		// What the Doctor did meanwhile, and who held its lease.
		status, _ := ctl(t, nodes[0], "doctor", "status")
		timeline, _ := ctl(t, nodes[0], "doctor", "timeline", "--limit", "60")
		t.Fatalf("ctl node decommission: %v\n%s\nctl doctor status:\n%s\nctl doctor timeline:\n%s", err, text, status, timeline)
	}
	var listed []topology.NodeInfo
	ctlJSON(t, nodes[1], &listed, "nodes")
	if len(listed) != 3 || slices.ContainsFunc(listed, func(n topology.NodeInfo) bool { return n.ID == gone.ID() }) {
		t.Fatalf("nodes after the decommission: %+v", listed)
	}
	var parts []topology.PartitionInfo
	ctlJSON(t, nodes[0], &parts, "partitions")
	for _, p := range parts {
		if p.Hosts(gone.ID()) || len(p.Voters) != 3 {
			t.Fatalf("partition %d after the decommission: %+v", p.ID, p)
		}
	}
	// Again: the node is no member any more; nothing happens.
	if text, err := ctl(t, nodes[0], "node", "decommission", fmt.Sprint(gone.ID())); err == nil || !strings.Contains(text+err.Error(), "no such node") {
		t.Fatalf("decommission of a removed node: %v\n%s", err, text)
	}
}

// TestCtlDecommissionSaysWhyItWaits: with two of four nodes
// decommissioning, no node can take the second one's replicas; ctl node
// decommission, waiting, shows what the Doctor says of them once nothing
// moves.
func TestCtlDecommissionSaysWhyItWaits(t *testing.T) {
	t.Parallel()
	nodes := doctorCtlCluster(t)
	first := hosting(t, nodes)
	second := nodes[1]
	if second == first {
		second = nodes[2]
	}
	if text, err := ctl(t, nodes[0], "node", "decommission", "--wait=false", fmt.Sprint(first.ID())); err != nil {
		t.Fatalf("ctl node decommission --wait=false: %v\n%s", err, text)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*decommissionStall)
	defer cancel()
	text, err := ctlContext(ctx, nodes[0], "node", "decommission", fmt.Sprint(second.ID()))
	if err == nil || !strings.Contains(err.Error(), "still decommissioning") {
		t.Fatalf("ctl node decommission with no node to move to: %v\n%s", err, text)
	}
	for _, want := range []string{"nothing moved for", "the Doctor's plan of",
		fmt.Sprintf("n%d is decommissioning", second.ID()), "no node can take its replica"} {
		if !strings.Contains(text, want) {
			t.Fatalf("ctl node decommission's output lacks %q:\n%s", want, text)
		}
	}
}

// TestCtlDecommissionBeforeMarks: on a cluster whose binaries claim the
// version before decommission marks, ctl node decommission moves every
// replica within its request, as older releases did, and prints each move.
func TestCtlDecommissionBeforeMarks(t *testing.T) {
	t.Parallel()
	nodes := ctlCluster(t, func(cfg *node.Config) { cfg.MaxClusterVersion = uint32(clusterversion.DecommissionMarks - 1) })
	gone := hosting(t, nodes)
	text, err := ctl(t, nodes[0], "node", "decommission", fmt.Sprint(gone.ID()))
	if err != nil || strings.Count(text, " moved ") < 1 || !strings.Contains(text, "holds no replica any more") {
		t.Fatalf("ctl node decommission: %v\n%s", err, text)
	}
	eventually(t, func() error {
		var parts []topology.PartitionInfo
		ctlJSON(t, nodes[1], &parts, "partitions")
		for _, p := range parts {
			if p.Hosts(gone.ID()) {
				return fmt.Errorf("partition %d: %+v", p.ID, p)
			}
		}
		return caughtUp(parts)
	})
	var listed []topology.NodeInfo
	ctlJSON(t, nodes[1], &listed, "nodes")
	for _, n := range listed {
		if n.ID == gone.ID() || n.Status != directory.Alive {
			t.Fatalf("nodes after the decommission: %+v", listed)
		}
	}
}
