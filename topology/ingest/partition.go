package ingest

import (
	"cmp"
	"slices"
	"time"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/topology/topologypb"
)

// hosted is one node's replica as its snapshot reports it.
type hosted struct {
	node     uint64
	liveness directory.Liveness
	r        *topologypb.Replica
}

// partitions groups the nodes' replicas by partition, finds each
// partition's leader and computes the replicas' lag.
func partitions(v *ClusterView, nodes []nodeInput) []PartitionView {
	byID := map[uint64][]hosted{}
	for _, n := range nodes {
		nv, _ := v.Node(n.latest.GetNode().GetId())
		for _, r := range n.latest.GetReplicas() {
			byID[r.GetPartition()] = append(byID[r.GetPartition()], hosted{node: nv.ID, liveness: nv.Liveness, r: r})
		}
	}
	out := make([]PartitionView, 0, len(byID))
	for id, hs := range byID {
		out = append(out, partitionView(id, hs))
	}
	slices.SortFunc(out, func(a, b PartitionView) int {
		return cmp.Or(cmp.Compare(a.Table, b.Table), cmp.Compare(a.ID, b.ID))
	})
	return out
}

func partitionView(id uint64, hs []hosted) PartitionView {
	slices.SortFunc(hs, func(a, b hosted) int { return cmp.Compare(a.node, b.node) })
	p := PartitionView{ID: id}
	lead, newest := leaderOf(hs), hs[0]
	for _, h := range hs {
		if h.r.GetGeneration() > newest.r.GetGeneration() ||
			(h.r.GetGeneration() == newest.r.GetGeneration() && h.r.GetApplied() > newest.r.GetApplied()) {
			newest = h
		}
	}
	ref := newest // the configuration and the lag's reference
	if lead != nil {
		ref = *lead
		p.Leader, p.Term = lead.node, lead.r.GetTerm()
	}
	p.Table, p.TableID = newest.r.GetTable(), newest.r.GetTableId()
	p.HashStart, p.HashEnd, p.Generation = newest.r.GetHashStart(), newest.r.GetHashEnd(), newest.r.GetGeneration()
	p.Voters, p.Learners = slices.Clone(ref.r.GetVoters()), slices.Clone(ref.r.GetLearners())
	contact, acks := map[uint64]time.Duration{}, map[uint64]time.Duration{}
	for _, f := range ref.r.GetFollowers() {
		contact[f.GetNode()] = time.Duration(f.GetSinceContactNanos())
		acks[f.GetNode()] = time.Duration(f.GetAckLatencyNanos())
	}
	if lead != nil && len(contact) > 0 {
		p.Contact = contact
	}
	busiest := Load{}
	for _, h := range hs {
		rv := replicaView(h, ref.r.GetApplied())
		rv.SinceContact = contact[h.node]
		if lead != nil {
			rv.AckLatency = acks[h.node]
		}
		p.MaxLag = max(p.MaxLag, rv.Lag)
		if rv.Load.ReadsPerSec+rv.Load.WritesPerSec >= busiest.ReadsPerSec+busiest.WritesPerSec {
			busiest = rv.Load
		}
		p.Replicas = append(p.Replicas, rv)
	}
	p.Load = busiest
	if lead != nil {
		p.Load = loadOf(lead.r.GetLoad())
		p.IndexLag = time.Duration(lead.r.GetIndexLagNanos())
	}
	return p
}

// leaderOf is the replica leading at the highest term among those of
// nodes not dead (nil: none).
func leaderOf(hs []hosted) *hosted {
	var lead *hosted
	for i, h := range hs {
		if h.r.GetRole() != topologypb.Role_ROLE_LEADER || h.liveness == directory.Dead {
			continue
		}
		if lead == nil || h.r.GetTerm() > lead.r.GetTerm() {
			lead = &hs[i]
		}
	}
	return lead
}

func replicaView(h hosted, refApplied uint64) ReplicaView {
	r := h.r
	rv := ReplicaView{
		Node: h.node, Liveness: h.liveness, Role: RoleName(r.GetRole()), Term: r.GetTerm(),
		Commit: r.GetCommit(), Applied: r.GetApplied(), Generation: r.GetGeneration(),
		LogEntries: r.GetLogEntries(), LogBytes: r.GetLogBytes(), PendingSnapshot: r.GetPendingSnapshot(),
		Load: loadOf(r.GetLoad()),
	}
	if refApplied > r.GetApplied() {
		rv.Lag = refApplied - r.GetApplied()
	}
	return rv
}
