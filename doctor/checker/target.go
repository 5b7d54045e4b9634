package checker

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/doctor/placement"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/topology"
)

// placementInput is the view as doctor/placement reads it: directory
// records whose heartbeats say alive for alive nodes only, and the
// partitions' raft members with the plan's additions so far, so that one
// plan spreads its new replicas instead of piling them on one node. The
// directory's lists are left out: a node the directory lists but raft
// does not hold may take the replica back.
type placementInput struct {
	snap  *directory.Snapshot
	parts []topology.PartitionInfo
	index map[uint64]int // partition id -> parts index
}

func newPlacementInput(v View, cfg Config) placementInput {
	in := placementInput{snap: &directory.Snapshot{}, index: map[uint64]int{}}
	for _, n := range v.Nodes {
		rec := &partitapb.Node{Id: n.ID, Zone: n.Zone, PeerAddr: n.PeerAddr}
		if n.Liveness == directory.Alive {
			rec.HeartbeatUnixNanos = cfg.Now.UnixNano()
		}
		if n.Leaving() {
			rec.DecommissioningUnixNanos = n.Decommissioning.UnixNano()
		}
		in.snap.Nodes = append(in.snap.Nodes, rec)
	}
	for _, p := range v.Partitions {
		in.index[p.ID] = len(in.parts)
		in.parts = append(in.parts, topology.PartitionInfo{ID: p.ID, Table: p.Table,
			Voters:   slices.Concat(p.Voters, p.Outgoing),
			Learners: slices.Clone(p.Learners)})
	}
	return in
}

// added records that partition gains a replica on node.
func (in *placementInput) added(partition, node uint64) {
	if i, ok := in.index[partition]; ok && node != 0 {
		in.parts[i].Voters = append(in.parts[i].Voters, node)
	}
}

// target picks the node to take from's replica of p (from is 0 for a new
// replica) through placement.Target: a healthy node outside p, in a zone
// none of p's other voters uses when one has room, else in any zone.
func (pl *planner) target(p *Partition, from uint64) (uint64, error) {
	return pl.targetAmong(p, from, pl.candidate)
}

// targetAmong is target among the nodes ok accepts.
func (pl *planner) targetAmong(p *Partition, from uint64, ok func(uint64) bool) (uint64, error) {
	used := map[string]bool{}
	for _, v := range p.Voters {
		if v != from {
			used[pl.nodes[v].Zone] = true
		}
	}
	info := pl.place.parts[pl.place.index[p.ID]]
	spread := func(id uint64) bool { return ok(id) && !used[pl.nodes[id].Zone] }
	if to, err := placement.Target(pl.place.snap, pl.cfg.Now, pl.place.parts, info, from, spread); err == nil {
		return to, nil
	}
	return placement.Target(pl.place.snap, pl.cfg.Now, pl.place.parts, info, from, ok)
}

// repairTarget is target for a replica that restores a partition's
// replication (a down replica replaced, a missing one added): where no
// other node can take it, a node still in its recovery period after
// being sick may, its fsyncs no longer slow. Staying a replica short for
// the rest of a recovery period (10 minutes and more) risks more than
// the load on a node that has healed.
func (pl *planner) repairTarget(p *Partition, from uint64) (uint64, error) {
	to, err := pl.target(p, from)
	if err == nil {
		return to, nil
	}
	if to, rerr := pl.targetAmong(p, from, pl.recoveredCandidate); rerr == nil {
		return to, nil
	}
	return 0, err
}

// noTargetWhy says, for a target refused for p, why each node outside
// p's raft configuration may not take the replica: "" when there is no
// such node.
func (pl *planner) noTargetWhy(p *Partition) string {
	var out []string
	for _, n := range pl.view.Nodes {
		if slices.Contains(p.Voters, n.ID) || slices.Contains(p.Learners, n.ID) || slices.Contains(p.Outgoing, n.ID) {
			continue
		}
		why := pl.refusal(n.ID, false)
		if why == "" {
			why = "is refused by placement"
		}
		out = append(out, fmt.Sprintf("n%d %s", n.ID, why))
	}
	if len(out) == 0 {
		return ""
	}
	return " (outside the partition: " + strings.Join(out, ", ") + ")"
}

// refusal says why node may not take a replica, "" if it may: it must be
// alive, not decommissioning, not sick, its fsyncs not slow, its disk not
// full, and, unless recovering is set, not in its recovery period
// either (pl.slow holds the slow and the recovering). The one place the
// conditions are written: the candidates below and the reasons a plan
// gives (noTargetWhy) come from it.
func (pl *planner) refusal(node uint64, recovering bool) string {
	n, ok := pl.nodes[node]
	switch {
	case !ok:
		return "is unknown"
	case n.Liveness != directory.Alive:
		return "is " + string(n.Liveness)
	case n.Leaving():
		return "is decommissioning"
	case pl.sick[node]:
		return "is sick"
	case pl.fsyncSlow[node]:
		return "has slow fsyncs"
	case n.Health.DiskUsed >= pl.cfg.DiskFull:
		return "has a full disk"
	case !recovering && pl.slow[node]:
		return fmt.Sprintf("is recovering (healed %v ago)", pl.cfg.Now.Sub(n.Health.HealedAt).Round(time.Second))
	}
	return ""
}

// recoveredCandidate says node may take a repair's replica: it may still
// be recovering.
func (pl *planner) recoveredCandidate(node uint64) bool { return pl.refusal(node, true) == "" }

// candidate says node may take a replica.
func (pl *planner) candidate(node uint64) bool { return pl.refusal(node, false) == "" }

// leaving says node is being decommissioned: it takes no replica and no
// leadership.
func (pl *planner) leaving(node uint64) bool { return pl.nodes[node].Leaving() }

// avoidsLeading says node should lead nothing while another voter can:
// it is decommissioning or draining.
func (pl *planner) avoidsLeading(node uint64) bool {
	n := pl.nodes[node]
	return n.Leaving() || n.IsDraining()
}
