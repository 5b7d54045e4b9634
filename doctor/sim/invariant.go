package sim

import (
	"fmt"
	"maps"
	"slices"

	"github.com/partitadb/partita/doctor/checker"
)

// checkOnePerPartition records a partition with two operations running.
func (s *Sim) checkOnePerPartition() {
	seen := map[uint64]bool{}
	for _, r := range s.running {
		if seen[r.Op.Partition] {
			s.violate("p%d has more than one operation running", r.Op.Partition)
		}
		seen[r.Op.Partition] = true
	}
}

// checkFlap records op as flapping when it undoes the last operation
// finished on its partition within FlapWindow. Flapping is a change of
// mind: repairs (a dead or down replica replaced, a configuration left
// half done, too few or too many voters) answer a failure, so neither
// a repair nor the move that follows one counts.
func (s *Sim) checkFlap(op checker.Op) {
	prev, ok := s.last[op.Partition]
	if !ok || s.Now.Sub(prev.at) >= s.cfg.FlapWindow || isRepair(prev.op) || isRepair(op) {
		return
	}
	if undoes(prev.op, op) {
		s.violate("p%d flaps: %s undoes %s of %v ago", op.Partition, op, prev.op, s.Now.Sub(prev.at))
	}
}

// undoes says b reverses a: a leadership moved back, a replica added
// then removed, or removed then added back.
func undoes(a, b checker.Op) bool {
	if a.Kind == checker.TransferLeader || b.Kind == checker.TransferLeader {
		return a.Kind == b.Kind && a.From == b.To && a.To == b.From
	}
	return (a.To != 0 && a.To == b.From) || (a.From != 0 && a.From == b.To)
}

// Unsettled lists what keeps the cluster from its intended layout at
// now: a partition without a leader, without RF serving voters, with a
// learner left, or, where the zones of live nodes with disk to spare
// allow, with two voters in a zone; and replicas down or out of their leader's contact.
// Where the other nodes can host every partition, a voter on a
// decommissioning node, and the node itself, are unsettled too.
func (s *Sim) Unsettled() []string {
	var out []string
	for _, p := range s.Model.Partitions {
		out = append(out, s.unsettled(p)...)
	}
	if s.stayers() < s.cfg.Checker(s.Now).ReplicationFactor {
		return out // the marked nodes cannot all leave
	}
	for _, n := range s.Model.Nodes {
		if n.leaving() {
			out = append(out, fmt.Sprintf("n%d is decommissioning and still a member", n.ID))
		}
	}
	return out
}

// stayers counts the reachable nodes not being decommissioned.
func (s *Sim) stayers() int {
	n := 0
	for _, m := range s.Model.Nodes {
		if !m.leaving() && s.Model.reachable(m.ID, s.Now) {
			n++
		}
	}
	return n
}

// hosts returns how many nodes can host p's voters (reachable, not
// decommissioning, and already holding one or with disk to spare), and
// in how many zones.
func (s *Sim) hosts(p *Partition, diskFull float64) (nodes, zones int) {
	zs := map[string]bool{}
	for _, n := range s.Model.Nodes {
		if s.Model.reachable(n.ID, s.Now) && !n.leaving() && (n.DiskUsed < diskFull || slices.Contains(p.Voters, n.ID)) {
			nodes++
			zs[n.Zone] = true
		}
	}
	return nodes, len(zs)
}

func (s *Sim) unsettled(p *Partition) []string {
	ccfg := s.cfg.Checker(s.Now)
	rf := ccfg.ReplicationFactor
	nodes, hostZones := s.hosts(p, ccfg.DiskFull)
	if nodes < rf {
		return nil // the nodes cannot host it
	}
	wantZones := min(rf, hostZones)
	var out []string
	serving, zones := 0, map[string]bool{}
	for _, v := range p.Voters {
		if s.Model.follows(p, v, s.Now) {
			serving++
		}
		zones[s.Model.node(v).Zone] = true
	}
	switch {
	case p.Leader == 0:
		out = append(out, fmt.Sprintf("p%d has no leader", p.ID))
	case serving != rf || len(p.Voters) != rf:
		out = append(out, fmt.Sprintf("p%d has %d serving voters of %d %v", p.ID, serving, len(p.Voters), p.Voters))
	case len(p.Learners) > 0:
		out = append(out, fmt.Sprintf("p%d has learners %v", p.ID, p.Learners))
	case len(zones) < wantZones:
		out = append(out, fmt.Sprintf("p%d voters %v span %d zones of %d", p.ID, p.Voters, len(zones), wantZones))
	}
	for _, v := range p.Voters {
		if s.Model.node(v).leaving() {
			out = append(out, fmt.Sprintf("p%d keeps a voter on decommissioning n%d", p.ID, v))
		}
	}
	for _, id := range slices.Sorted(maps.Keys(p.replicas)) {
		if !s.Model.follows(p, id, s.Now) && s.Model.node(id).Up {
			out = append(out, fmt.Sprintf("p%d replica on n%d down or out of its leader's reach", p.ID, id))
		}
	}
	return out
}

// isRepair says op answers a failure rather than improves the layout.
func isRepair(op checker.Op) bool { return op.Priority >= checker.PriorityReplicas }
