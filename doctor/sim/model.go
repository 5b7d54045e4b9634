package sim

import (
	"fmt"
	"slices"
	"time"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/doctor/checker"
	"github.com/partitadb/partita/partitapb"
)

// Node is a simulated node.
type Node struct {
	ID   uint64
	Zone string
	// Up is false once the process is killed; PausedUntil and a zone
	// outage make an up node unreachable for a while.
	Up          bool
	PausedUntil time.Time
	Heartbeat   time.Time
	// Liveness is the directory's judgement of the heartbeat, Since
	// when it began.
	Liveness directory.Liveness
	Since    time.Time
	Fsync    time.Duration
	DiskUsed float64
	// SickSince and HealedAt are carried from the plans' Sick lists.
	SickSince, HealedAt time.Time
	// Decommissioning is when an operator marked the node (zero: a full
	// member); the Doctor's remove-node takes it out of Model.Nodes.
	Decommissioning time.Time
}

// leaving says the node is being decommissioned.
func (n *Node) leaving() bool { return !n.Decommissioning.IsZero() }

// replica is one replica of a partition.
type replica struct {
	lag         uint64
	lagSince    time.Time
	lastContact time.Time
	// brokenSince is when the replica became unusable on its node
	// (zero: it works).
	brokenSince time.Time
}

// Partition is a simulated partition.
type Partition struct {
	ID         uint64
	Table      string
	Generation uint64
	Replicas   []uint64 // the directory's list
	Voters     []uint64
	Learners   []uint64
	Leader     uint64
	// LeaderLost is when the partition lost its leader (zero while it
	// has one).
	LeaderLost   time.Time
	formerLeader uint64
	replicas     map[uint64]*replica
	// balanced is when the Doctor's leader balancer last moved its
	// leader, as the real Doctor remembers it.
	balanced checker.Balanced
}

// Model is the cluster: nodes and partitions, and zones out of reach.
type Model struct {
	Nodes      []*Node
	Partitions []*Partition
	// ZoneOut holds the zones cut off, until when.
	ZoneOut map[string]time.Time
	// Cuts holds the one-way links cut (messages from [0] to [1] lost),
	// until when.
	Cuts map[[2]uint64]time.Time
	// size is how many entries a new replica must receive.
	size uint64
}

// node returns the node with id, or nil.
func (m *Model) node(id uint64) *Node {
	i := slices.IndexFunc(m.Nodes, func(n *Node) bool { return n.ID == id })
	if i < 0 {
		return nil
	}
	return m.Nodes[i]
}

// partition returns the partition with id, or nil.
func (m *Model) partition(id uint64) *Partition {
	i := slices.IndexFunc(m.Partitions, func(p *Partition) bool { return p.ID == id })
	if i < 0 {
		return nil
	}
	return m.Partitions[i]
}

// reachable says the node runs and can talk at now: up, not paused, its
// zone not cut off.
func (m *Model) reachable(id uint64, now time.Time) bool {
	n := m.node(id)
	if n == nil || !n.Up || now.Before(n.PausedUntil) {
		return false
	}
	until, out := m.ZoneOut[n.Zone]
	return !out || !now.Before(until)
}

// serving says node's replica of p works at now: reachable and not broken.
func (m *Model) serving(p *Partition, node uint64, now time.Time) bool {
	r := p.replicas[node]
	return r != nil && r.brokenSince.IsZero() && m.reachable(node, now)
}

// linked says a and b hear each other at now: a raft exchange needs
// both directions.
func (m *Model) linked(a, b uint64, now time.Time) bool {
	cut := func(from, to uint64) bool {
		until, ok := m.Cuts[[2]uint64{from, to}]
		return ok && now.Before(until)
	}
	return a == b || (!cut(a, b) && !cut(b, a))
}

// follows says node's replica of p works and, when p has a leader, is
// linked to it.
func (m *Model) follows(p *Partition, node uint64, now time.Time) bool {
	return m.serving(p, node, now) && (p.Leader == 0 || m.linked(p.Leader, node, now))
}

// hasQuorum says the voters that follow p's leader (without a leader:
// the serving voters) make a majority.
func (m *Model) hasQuorum(p *Partition, now time.Time) bool {
	n := 0
	for _, v := range p.Voters {
		if m.follows(p, v, now) {
			n++
		}
	}
	return n >= len(p.Voters)/2+1
}

// View builds what the checkers read at now: each node as its heartbeat
// shows it, each partition as its leader reports it (no leader: no
// report of the replicas).
func (m *Model) View(now time.Time) checker.View {
	var v checker.View
	for _, n := range m.Nodes {
		v.Nodes = append(v.Nodes, checker.Node{ID: n.ID, Zone: n.Zone, PeerAddr: fmt.Sprintf("sim-n%d", n.ID),
			Liveness: n.Liveness, Since: n.Since, Decommissioning: n.Decommissioning, DecommissionBy: "sim",
			Health: checker.Health{FsyncP99: n.Fsync, DiskUsed: n.DiskUsed, SickSince: n.SickSince, HealedAt: n.HealedAt}})
	}
	for _, p := range m.Partitions {
		v.Partitions = append(v.Partitions, p.view(m))
	}
	return v
}

func (p *Partition) view(m *Model) checker.Partition {
	out := checker.Partition{ID: p.ID, Table: p.Table, Generation: p.Generation, Replicas: slices.Clone(p.Replicas),
		Voters: slices.Clone(p.Voters), Learners: slices.Clone(p.Learners), Leader: p.Leader, LeaderBalanced: p.balanced}
	if p.Leader == 0 {
		return out
	}
	for _, id := range slices.Concat(p.Voters, p.Learners) {
		r := p.replicas[id]
		st := checker.Replica{Node: id, Lag: r.lag, LagSince: r.lagSince,
			LastContact: r.lastContact, DownSince: r.brokenSince}
		if n := m.node(id); id != p.Leader && n != nil {
			st.AckLatency = n.Fsync // a follower acknowledges once its fsync is done
		}
		out.Status = append(out.Status, st)
	}
	return out
}

// updateLiveness refreshes the heartbeats of reachable nodes and judges
// every node's liveness by the directory's thresholds.
func (m *Model) updateLiveness(now time.Time) {
	for _, n := range m.Nodes {
		if m.reachable(n.ID, now) {
			n.Heartbeat = now
		}
		l := directory.NodeLiveness(&partitapb.Node{HeartbeatUnixNanos: n.Heartbeat.UnixNano()}, now)
		if l != n.Liveness {
			n.Liveness, n.Since = l, now
		}
	}
}
