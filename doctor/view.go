package doctor

import (
	"slices"
	"time"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/doctor/checker"
	"github.com/partitadb/partita/topology"
	"github.com/partitadb/partita/topology/ingest"
)

// aliveFor is how long after its last heartbeat a node counts as alive
// (directory.NodeLiveness's bound).
const aliveFor = 3 * directory.HeartbeatInterval

// History is what the Doctor remembers of its earlier cycles, by node or
// partition: since when each node has been sick, when each healed, and
// when the leader balancer last moved each partition's leader. Lost with
// the Doctor: a new one starts sick and healed clocks afresh (and is
// slower to act, never quicker), and rebuilds the balance memory from
// the timeline.
type History struct {
	SickSince, HealedAt map[uint64]time.Time
	LeaderBalanced      map[uint64]checker.Balanced
}

// ViewOf builds what the checkers read from the topology pipeline's
// cluster view and the directory: the directory lists the nodes (with
// their heartbeat liveness) and the partitions (with the replicas it
// intends and their generation); the pipeline adds what the nodes report:
// raft's actual configuration and leader, each replica's lag, the
// leaders' contact times with their followers, and each node's health.
// prev, the view of the cycle before (nil for the first), carries the
// times a state began (lagging since, down since); sickSince the nodes
// judged sick in an unbroken run of plans, healedAt when the nodes that
// were last left that list.
//
// A node whose heartbeats stopped is dead from the time it stopped being
// alive (the directory's suspect state does not delay the Doctor:
// --dead-after counts from there). A node alive by its heartbeats whose
// topology reports stopped (the pipeline's view of it is not alive) is
// suspect: it takes nothing and loses nothing.
//
// A replica's last contact is its leader's (the leader's snapshot time
// less the time since it last heard from it); a replica its leader does
// not list has none. A replica counts as down on a live node when the
// node reported a snapshot without it while raft's configuration has it.
//
// A partition's size and rates are its leader's; since when its rates
// have been above a split threshold (cfg's), or below the merge ones,
// carries over from prev, and so does since when its range has been what
// it is (a partition first seen, or whose range changed, starts now).
func ViewOf(cv *ingest.ClusterView, snap *directory.Snapshot, prev *checker.View, h History, cfg checker.Config) checker.View {
	now, contactTimeout := cfg.Now, cfg.ContactTimeout
	v := checker.View{}
	for _, ni := range topology.Nodes(snap, now) {
		n := checker.Node{ID: ni.ID, Zone: ni.Zone, PeerAddr: ni.PeerAddr, Liveness: directory.Alive, Since: ni.Heartbeat,
			Stopped: ni.Stopped, Decommissioning: ni.Decommissioning, DecommissionBy: ni.DecommissionBy,
			DecommissionReason: ni.DecommissionReason, Draining: ni.Draining, DrainBy: ni.DrainBy}
		nv, reporting := cv.Node(n.ID)
		switch {
		case ni.Status != directory.Alive && reporting && nv.Liveness == directory.Alive:
			// Its heartbeats stopped, but its topology reports still
			// reach this node: the path to the meta leader is broken (a
			// network partition between the two), not the node.
			// Suspect: it takes nothing and loses nothing.
			n.Liveness, n.Since = directory.Suspect, ni.Heartbeat.Add(aliveFor)
		case ni.Status != directory.Alive:
			// Not alive: dead, to the Doctor, since its heartbeats
			// stopped; the checkers replace its replicas once it stays
			// so for DeadAfter and its leaders agree.
			n.Liveness, n.Since = directory.Dead, ni.Heartbeat.Add(aliveFor)
		}
		n.Health.SickSince, n.Health.HealedAt = h.SickSince[n.ID], h.HealedAt[n.ID]
		if reporting {
			// The worst p99 of the recent window, not the last
			// interval's: an interval in which no fsync finished (they
			// take longer than it, on a slow disk) reports none.
			n.Health.FsyncP99 = max(nv.Health.FsyncP99, nv.Trend.FsyncP99Max)
			n.Health.DiskUsed = nv.Health.DiskUse
		}
		if n.Liveness == directory.Alive && (!reporting || nv.Liveness != directory.Alive) {
			// Heartbeats are younger than its last topology report: it
			// may have just died. Suspect takes no replicas or leaders,
			// and loses none, until one signal or the other settles.
			n.Liveness, n.Since = directory.Suspect, nv.Taken
		}
		v.Nodes = append(v.Nodes, n)
	}
	parts, _ := topology.Partitions(snap, "", topology.NewAnswers()) // every table: no ErrNoTable
	for _, dp := range parts {
		p := checker.Partition{ID: dp.ID, Table: dp.Table, Generation: dp.Generation, Replicas: slices.Clone(dp.Replicas),
			LeaderBalanced: h.LeaderBalanced[dp.ID], HashStart: dp.HashStart, HashEnd: dp.HashEnd}
		if pv, ok := cv.Partition(dp.ID); ok {
			p.Voters, p.Learners, p.Leader = slices.Clone(pv.Voters), slices.Clone(pv.Learners), pv.Leader
			p.Status = replicaStatus(cv, pv, &p, now, prev, contactTimeout)
			p.WritesPerSec, p.ReadsPerSec = pv.Load.WritesPerSec, pv.Load.ReadsPerSec
			p.KeySamples, p.TopKeyShare, p.MedianKeyHash = pv.Load.KeySamples, pv.Load.TopKeyShare, pv.Load.MedianKeyHash
			p.Bytes = int64(min(pv.Load.SizeBytes, 1<<62))
			if checker.Hot(cfg, p) {
				p.HotSince = now
				if before, ok := prevPartition(prev, p.ID); ok && !before.HotSince.IsZero() {
					p.HotSince = before.HotSince
				}
			}
			if checker.Cold(cfg, p) {
				p.ColdSince = now
				if before, ok := prevPartition(prev, p.ID); ok && !before.ColdSince.IsZero() {
					p.ColdSince = before.ColdSince
				}
			}
		}
		p.RangeSince = now
		if before, ok := prevPartition(prev, p.ID); ok && before.HashStart == p.HashStart && before.HashEnd == p.HashEnd {
			p.RangeSince = before.RangeSince
		}
		v.Partitions = append(v.Partitions, p)
	}
	return v
}

// replicaStatus is the status of every replica of p (its configuration
// and the directory's list), from the nodes' reports in pv.
//
// Contact comes from the leader's snapshot. A replica the leader does not
// list (its snapshot predates the replica, or no leader is known) keeps
// the contact time the previous view gave it; without one its clock
// starts now: a replica the Doctor has not heard of yet is unknown, not
// out of contact since forever. A replica counts as down when its node,
// alive and reporting, reports no such replica while raft's
// configuration has it and its leader has not heard from it within
// contactTimeout.
func replicaStatus(cv *ingest.ClusterView, pv ingest.PartitionView, p *checker.Partition, now time.Time,
	prev *checker.View, contactTimeout time.Duration) []checker.Replica {
	nodes := slices.Concat(p.Voters, p.Learners, p.Replicas)
	slices.Sort(nodes)
	nodes = slices.Compact(nodes)
	leader, _ := cv.Node(pv.Leader)
	out := make([]checker.Replica, 0, len(nodes))
	for _, id := range nodes {
		r := checker.Replica{Node: id}
		before, had := prevReplica(prev, p.ID, id)
		since, listed := pv.Contact[id]
		switch {
		case id == pv.Leader:
			r.LastContact = leader.Taken
		case pv.Leader != 0 && listed:
			r.LastContact = leader.Taken.Add(-since)
		case had && !before.LastContact.IsZero():
			r.LastContact = before.LastContact
		default:
			r.LastContact = now
		}
		rv, reported := replicaOf(pv, id)
		if reported {
			r.Lag, r.AckLatency = rv.Lag, rv.AckLatency
		} else if had {
			r.Lag, r.AckLatency = before.Lag, before.AckLatency
		}
		if r.Lag > 0 {
			r.LagSince = now
			if had && !before.LagSince.IsZero() {
				r.LagSince = before.LagSince
			}
		}
		if nv, ok := cv.Node(id); ok && !reported && nv.Liveness == directory.Alive && inConfig(p, id) &&
			now.Sub(r.LastContact) > contactTimeout {
			r.DownSince = now
			if had && !before.DownSince.IsZero() {
				r.DownSince = before.DownSince
			}
		}
		out = append(out, r)
	}
	return out
}

// replicaOf returns node's replica of pv, if the node reported one.
func replicaOf(pv ingest.PartitionView, node uint64) (ingest.ReplicaView, bool) {
	i := slices.IndexFunc(pv.Replicas, func(r ingest.ReplicaView) bool { return r.Node == node })
	if i < 0 {
		return ingest.ReplicaView{}, false
	}
	return pv.Replicas[i], true
}

func inConfig(p *checker.Partition, node uint64) bool {
	return slices.Contains(p.Voters, node) || slices.Contains(p.Learners, node)
}

func prevReplica(v *checker.View, partition, node uint64) (checker.Replica, bool) {
	if p, ok := prevPartition(v, partition); ok {
		return p.Replica(node)
	}
	return checker.Replica{}, false
}

// prevPartition returns partition as v saw it (v may be nil).
func prevPartition(v *checker.View, partition uint64) (checker.Partition, bool) {
	if v == nil {
		return checker.Partition{}, false
	}
	for _, p := range v.Partitions {
		if p.ID == partition {
			return p, true
		}
	}
	return checker.Partition{}, false
}
