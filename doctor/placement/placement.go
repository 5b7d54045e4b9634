// Package placement is the cluster's one placement policy: which nodes
// hold a new partition's replicas, and which node takes over a replica
// moved off another. Its functions are pure: a directory snapshot, the
// time liveness is judged at, and the nodes' zones decide.
package placement

import (
	"cmp"
	"errors"
	"slices"
	"time"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/topology"
)

var (
	// ErrNoNodes is returned by Order when no node can hold a replica.
	ErrNoNodes = errors.New("placement: no nodes known for placement")
	// ErrNoTarget is returned by Target when no node can take a replica.
	ErrNoTarget = errors.New("placement: no live node outside the partition's group to take the replica")
)

// Order lists the nodes a new table's partitions are placed on, round
// robin over zones (zones by name, nodes by id within a zone), so that
// consecutive nodes are in different zones when the zones allow it. Dead
// nodes and decommissioning ones are left out; suspect ones stay (a slow
// heartbeat is no reason to fail a CreateTable). The caller takes replication-factor-long windows of
// the order, rotating per partition.
func Order(snap *directory.Snapshot, now time.Time) ([]uint64, error) {
	byZone := map[string][]uint64{}
	for _, rec := range sortedNodes(snap) {
		if directory.NodeLiveness(rec, now) == directory.Dead || directory.Decommissioning(rec) {
			continue
		}
		byZone[rec.GetZone()] = append(byZone[rec.GetZone()], rec.GetId())
	}
	zones := make([]string, 0, len(byZone))
	total := 0
	for z, ids := range byZone {
		zones = append(zones, z)
		total += len(ids)
	}
	slices.Sort(zones)
	order := make([]uint64, 0, total)
	for i := 0; len(order) < total; i++ {
		for _, z := range zones {
			if i < len(byZone[z]) {
				order = append(order, byZone[z][i])
			}
		}
	}
	if len(order) == 0 {
		return nil, ErrNoNodes
	}
	return order, nil
}

func sortedNodes(snap *directory.Snapshot) []*partitapb.Node {
	nodes := slices.Clone(snap.Nodes)
	slices.SortFunc(nodes, func(a, b *partitapb.Node) int { return cmp.Compare(a.GetId(), b.GetId()) })
	return nodes
}

// Target chooses the node to take over from's replica of p: an alive node
// with a peer address, not decommissioning, reachable (as the caller saw it), outside p's
// group (directory list and raft configuration), holding the fewest
// replicas of parts; ties go to the lowest id.
func Target(snap *directory.Snapshot, now time.Time, parts []topology.PartitionInfo, p topology.PartitionInfo,
	from uint64, reachable func(node uint64) bool) (uint64, error) {
	load := map[uint64]int{}
	for _, q := range parts {
		for _, id := range slices.Concat(q.Replicas, q.Voters) {
			load[id]++
		}
	}
	best := uint64(0)
	for _, rec := range sortedNodes(snap) {
		id := rec.GetId()
		if id == from || p.Hosts(id) || !reachable(id) || rec.GetPeerAddr() == "" ||
			directory.NodeLiveness(rec, now) != directory.Alive || directory.Decommissioning(rec) {
			continue
		}
		if best == 0 || load[id] < load[best] {
			best = id
		}
	}
	if best == 0 {
		return 0, ErrNoTarget
	}
	return best, nil
}
