package checker

import (
	"cmp"
	"slices"
	"time"

	"github.com/partitadb/partita/directory"
)

// View is what the checkers read: the cluster's nodes and partitions as
// one moment's snapshot. The checkers never change a View; a source (the
// topology pipeline's cluster view, or FromTopology) builds a new one for
// every plan.
type View struct {
	Nodes      []Node
	Partitions []Partition
}

// Node is a node as its heartbeats and its own health report show it.
type Node struct {
	ID   uint64
	Zone string
	// PeerAddr is where peers reach the node; a node without one cannot
	// take a replica.
	PeerAddr string
	// Liveness is alive, suspect or dead from the heartbeats, and Since
	// is when the node entered that state.
	Liveness directory.Liveness
	Since    time.Time
	// Stopped is when the node last stopped cleanly (drained), zero if it
	// runs or died: its silence since is a restart, given RestartGrace.
	Stopped time.Time
	// Decommissioning is when an operator marked the node for
	// decommissioning (zero: a full member): it takes no replica and no
	// leadership, its replicas move away, and once it holds none its
	// record is removed. DecommissionBy and DecommissionReason are who
	// marked it and why, for the plan's reasons.
	Decommissioning                    time.Time
	DecommissionBy, DecommissionReason string
	// Draining is when an operator drained the node (zero: it is not
	// draining): until it restarts or is undrained it takes no
	// leadership, and any it gains moves away. DrainBy is who drained it.
	Draining time.Time
	DrainBy  string
	Health   Health
}

// Leaving says n is being decommissioned.
func (n Node) Leaving() bool { return !n.Decommissioning.IsZero() }

// IsDraining says n was drained and takes no leadership.
func (n Node) IsDraining() bool { return !n.Draining.IsZero() }

// Health is what a node reports about itself. Zero fields are unknown.
type Health struct {
	// FsyncP99 is the 99th percentile of the node's log fsyncs.
	FsyncP99 time.Duration
	// DiskUsed is the fraction of the node's data disk in use, 0 to 1.
	DiskUsed float64
	// HealedAt is when the node last left Plan.Sick, as the caller
	// remembers it (zero: never sick, or long ago): within
	// Config.RecoveryPeriod it takes no replicas or leaders.
	HealedAt time.Time
	// SickSince is when the node was first in Plan.Sick of an unbroken
	// run of plans, as the caller remembers it (zero: not sick before).
	SickSince time.Time
}

// Partition is a partition as the directory intends it and as raft, by
// its leader's report, actually has it.
type Partition struct {
	ID         uint64
	Table      string
	Generation uint64
	// Replicas is the directory's intended list of replica nodes.
	Replicas []uint64
	// Voters and Learners are raft's configuration as the leader applied
	// it; Outgoing is the old voter set of a joint configuration (empty
	// outside one).
	Voters   []uint64
	Learners []uint64
	Outgoing []uint64
	// Leader is the leading node, 0 when none is known: without a
	// leader the checkers have no view of the replicas' progress.
	Leader uint64
	// Status is each replica's state as the leader sees it, one per
	// voter, learner and outgoing voter.
	Status []Replica
	// LeaderBalanced is the Doctor's last move of this partition's leader
	// to balance leaders (zero: none, as far as it remembers).
	LeaderBalanced Balanced
	// HashStart and HashEnd bound the partition's range (HashEnd 0: the
	// end of the hash space).
	HashStart, HashEnd uint64
	// WritesPerSec and ReadsPerSec are its leader's rates over the last
	// interval; HotSince since when a rate has been above a split
	// threshold without a break (zero: it is not).
	WritesPerSec, ReadsPerSec float64
	HotSince                  time.Time
	// KeySamples recent writes' partition key hashes were sampled by its
	// leader; the most frequent took TopKeyShare of them; MedianKeyHash
	// is their median (where a split balances the sampled load).
	KeySamples    uint32
	TopKeyShare   float64
	MedianKeyHash uint64
	// Bytes is the size of its items, as its leader counts them.
	Bytes int64
	// ColdSince is since when its rates have stayed below the merge
	// thresholds (MergeLoad of the split ones) without a break (zero: they
	// are not). RangeSince is since when its range has been what it is,
	// as far as the caller knows (zero: long ago): no merge follows a
	// split or merge closer than MergeCooldown.
	ColdSince, RangeSince time.Time
}

// Balanced is a leader move the balancer made: when it ended, and the
// node it moved the leader from.
type Balanced struct {
	At   time.Time
	From uint64
}

// Replica is one replica of a partition as its leader sees it.
type Replica struct {
	Node uint64
	// Lag is how many entries the replica's applied index trails the
	// leader's; LagSince is since when it has trailed (zero: caught up).
	Lag      uint64
	LagSince time.Time
	// LastContact is when the leader last heard from the replica (zero:
	// never).
	LastContact time.Time
	// AckLatency is the leader's moving average of the time the replica
	// takes to acknowledge entries (0: not measured). A follower on a
	// slow disk acknowledges late at any load, where its Lag shows only
	// under heavy load.
	AckLatency time.Duration
	// DownSince is when the replica was first seen unusable on its node
	// (missing, broken, not applying); zero while it is up.
	DownSince time.Time
}

// Node returns the node with id, if the view has it.
func (v *View) Node(id uint64) (Node, bool) {
	i := slices.IndexFunc(v.Nodes, func(n Node) bool { return n.ID == id })
	if i < 0 {
		return Node{}, false
	}
	return v.Nodes[i], true
}

// Replica returns node's replica status, if the leader reported one.
func (p *Partition) Replica(node uint64) (Replica, bool) {
	i := slices.IndexFunc(p.Status, func(r Replica) bool { return r.Node == node })
	if i < 0 {
		return Replica{}, false
	}
	return p.Status[i], true
}

// Hosts says node is in p's directory list or raft configuration.
func (p *Partition) Hosts(node uint64) bool {
	return slices.Contains(p.Replicas, node) || slices.Contains(p.Voters, node) ||
		slices.Contains(p.Learners, node) || slices.Contains(p.Outgoing, node)
}

// Count is a node's share of the cluster's partitions.
type Count struct {
	Replicas int // voters and learners the node holds
	Leaders  int
}

// Counts returns every node's share, from raft's configurations; nodes
// without a replica are listed with zero.
func (v *View) Counts() map[uint64]Count {
	out := make(map[uint64]Count, len(v.Nodes))
	for _, n := range v.Nodes {
		out[n.ID] = Count{}
	}
	for _, p := range v.Partitions {
		for _, id := range slices.Concat(p.Voters, p.Learners) {
			c := out[id]
			c.Replicas++
			out[id] = c
		}
		if p.Leader != 0 {
			c := out[p.Leader]
			c.Leaders++
			out[p.Leader] = c
		}
	}
	return out
}

// sorted returns a copy of v with nodes and partitions by id, so that the
// plan does not depend on the source's order.
func (v *View) sorted() View {
	out := View{Nodes: slices.Clone(v.Nodes), Partitions: slices.Clone(v.Partitions)}
	slices.SortFunc(out.Nodes, func(a, b Node) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(out.Partitions, func(a, b Partition) int { return cmp.Compare(a.ID, b.ID) })
	return out
}
