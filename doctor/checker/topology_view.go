package checker

import (
	"slices"
	"time"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/topology"
)

// FromTopology builds a View from the topology package's view: nodes
// with their heartbeat liveness, partitions with raft's configuration and
// each replica's answer. prev, the view of the round before (nil for the
// first), carries the times a state began: since when a replica has been
// missing, lagging or out of contact.
//
// topology's view has no leader-side contact times: a replica whose node
// answered counts as in contact at now; one whose node did not keeps the
// contact time prev had, or, without prev, its node's last heartbeat. It
// has no health signals either: the sick-node checker stays idle on it.
func FromTopology(nodes []topology.NodeInfo, parts []topology.PartitionInfo, now time.Time, prev *View) View {
	v := View{}
	hb := map[uint64]time.Time{}
	for _, n := range nodes {
		hb[n.ID] = n.Heartbeat
		v.Nodes = append(v.Nodes, Node{ID: n.ID, Zone: n.Zone, PeerAddr: n.PeerAddr, Liveness: n.Status,
			Since: livenessSince(n.Status, n.Heartbeat), Decommissioning: n.Decommissioning,
			DecommissionBy: n.DecommissionBy, DecommissionReason: n.DecommissionReason, Draining: n.Draining, DrainBy: n.DrainBy})
	}
	for _, tp := range parts {
		p := Partition{ID: tp.ID, Table: tp.Table, Generation: tp.Generation, Replicas: slices.Clone(tp.Replicas),
			Voters: slices.Clone(tp.Voters), Learners: slices.Clone(tp.Learners), Leader: tp.Leader}
		var before Replica
		for _, ri := range tp.Status {
			had := false
			if prev != nil {
				before, had = prev.replica(tp.ID, ri.Node)
			}
			p.Status = append(p.Status, fromReplicaInfo(ri, now, hb[ri.Node], before, had))
		}
		v.Partitions = append(v.Partitions, p)
	}
	return v
}

// livenessSince is when a node whose last heartbeat was at hb entered
// state, by directory.NodeLiveness's thresholds.
func livenessSince(state directory.Liveness, hb time.Time) time.Time {
	switch state {
	case directory.Suspect:
		return hb.Add(3 * directory.HeartbeatInterval)
	case directory.Dead:
		return hb.Add(15 * directory.HeartbeatInterval)
	}
	return hb
}

func fromReplicaInfo(ri topology.ReplicaInfo, now, heartbeat time.Time, before Replica, had bool) Replica {
	r := Replica{Node: ri.Node, Lag: ri.Lag, LastContact: now}
	switch ri.Role {
	case topology.RoleUnreachable:
		r.LastContact, r.Lag = heartbeat, before.Lag
		if had {
			r.LastContact = before.LastContact
		}
	case topology.RoleMissing:
		r.DownSince = now
		if had && !before.DownSince.IsZero() {
			r.DownSince = before.DownSince
		}
	}
	if r.Lag > 0 {
		r.LagSince = now
		if had && !before.LagSince.IsZero() {
			r.LagSince = before.LagSince
		}
	}
	return r
}

// replica returns node's replica status of partition in v.
func (v *View) replica(partition, node uint64) (Replica, bool) {
	for i := range v.Partitions {
		if v.Partitions[i].ID == partition {
			return v.Partitions[i].Replica(node)
		}
	}
	return Replica{}, false
}
