package ingest

import (
	"fmt"
	"maps"
	"slices"
	"time"
)

// ChangeKind names a change between two views.
type ChangeKind string

// The changes Diff reports.
const (
	NodeAppeared    ChangeKind = "node_appeared"
	NodeGone        ChangeKind = "node_gone" // left the view: forgotten, or out of the lookback
	NodeLiveness    ChangeKind = "node_liveness"
	NodeRestarted   ChangeKind = "node_restarted"
	LeaderMoved     ChangeKind = "leader_moved"
	PartitionNew    ChangeKind = "partition_appeared"
	PartitionGone   ChangeKind = "partition_gone"
	LagGrowing      ChangeKind = "lag_growing"
	LagGrowingFloor            = 100 // the smallest lag reported as growing
)

// Change is one difference between two views.
type Change struct {
	At        time.Time  `json:"at"`
	Kind      ChangeKind `json:"kind"`
	Node      uint64     `json:"node,omitempty"`
	Partition uint64     `json:"partition,omitempty"`
	From      string     `json:"from,omitempty"`
	To        string     `json:"to,omitempty"`
}

func (c Change) String() string {
	subject := fmt.Sprintf("node %d", c.Node)
	if c.Partition != 0 {
		subject = fmt.Sprintf("partition %d", c.Partition)
		if c.Node != 0 {
			subject += fmt.Sprintf(" replica on node %d", c.Node)
		}
	}
	s := fmt.Sprintf("%s %s %s", c.At.UTC().Format(time.RFC3339), subject, c.Kind)
	if c.From != "" || c.To != "" {
		s += fmt.Sprintf(": %s -> %s", dashIfEmpty(c.From), dashIfEmpty(c.To))
	}
	return s
}

func dashIfEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Diff lists what changed from a to b: nodes appearing, going, changing
// liveness or restarting; partitions appearing or going; leaders moving;
// a replica's lag growing past LagGrowingFloor.
func Diff(a, b *ClusterView) []Change {
	var out []Change
	at := b.At
	for _, n := range b.Nodes {
		old, ok := a.Node(n.ID)
		switch {
		case !ok:
			out = append(out, Change{At: at, Kind: NodeAppeared, Node: n.ID, To: string(n.Liveness)})
		case old.Liveness != n.Liveness:
			out = append(out, Change{At: at, Kind: NodeLiveness, Node: n.ID, From: string(old.Liveness), To: string(n.Liveness)})
		}
		if ok && !old.Started.Equal(n.Started) {
			out = append(out, Change{At: at, Kind: NodeRestarted, Node: n.ID,
				From: old.Started.Format(time.RFC3339), To: n.Started.Format(time.RFC3339)})
		}
	}
	for _, n := range a.Nodes {
		if _, ok := b.Node(n.ID); !ok {
			out = append(out, Change{At: at, Kind: NodeGone, Node: n.ID, From: string(n.Liveness)})
		}
	}
	return append(out, diffPartitions(a, b)...)
}

func diffPartitions(a, b *ClusterView) []Change {
	var out []Change
	at := b.At
	olds := map[uint64]PartitionView{}
	for _, p := range a.Partitions {
		olds[p.ID] = p
	}
	for _, p := range b.Partitions {
		old, ok := olds[p.ID]
		delete(olds, p.ID)
		if !ok {
			out = append(out, Change{At: at, Kind: PartitionNew, Partition: p.ID, To: leaderName(p.Leader)})
			continue
		}
		if old.Leader != p.Leader {
			out = append(out, Change{At: at, Kind: LeaderMoved, Partition: p.ID, From: leaderName(old.Leader), To: leaderName(p.Leader)})
		}
		out = append(out, lagChanges(at, old, p)...)
	}
	for _, id := range slices.Sorted(maps.Keys(olds)) {
		out = append(out, Change{At: at, Kind: PartitionGone, Partition: id})
	}
	return out
}

func lagChanges(at time.Time, old, p PartitionView) []Change {
	var out []Change
	for _, r := range p.Replicas {
		for _, o := range old.Replicas {
			if o.Node == r.Node && r.Lag > o.Lag && r.Lag >= LagGrowingFloor {
				out = append(out, Change{At: at, Kind: LagGrowing, Partition: p.ID, Node: r.Node,
					From: fmt.Sprint(o.Lag), To: fmt.Sprint(r.Lag)})
			}
		}
	}
	return out
}

func leaderName(id uint64) string {
	if id == 0 {
		return "none"
	}
	return fmt.Sprintf("node %d", id)
}
