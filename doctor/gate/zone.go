package gate

import (
	"fmt"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/doctor/checker"
)

// zoneProblem says why op's target would break p's zone spread: it would
// be a second voter in its zone while another zone, holding none of p's
// voters, has a node that could take the replica instead. It judges the
// kinds that choose a new node (replace, add, move); a learner promoted
// or a leader moved keeps the nodes it has.
func zoneProblem(op checker.Op, cur *checker.View, cfg checker.Config, p *checker.Partition) string {
	switch op.Kind {
	case checker.ReplaceReplica, checker.AddReplica, checker.MoveReplica, checker.Decommission:
	default:
		return ""
	}
	to, ok := cur.Node(op.To)
	if !ok || to.Zone == "" {
		return ""
	}
	used := map[string][]uint64{}
	for _, v := range p.Voters {
		if v == op.From {
			continue
		}
		if n, ok := cur.Node(v); ok {
			used[n.Zone] = append(used[n.Zone], v)
		}
	}
	if len(used[to.Zone]) == 0 {
		return ""
	}
	for _, n := range cur.Nodes {
		if n.Zone == "" || len(used[n.Zone]) > 0 || n.Zone == to.Zone || !roomFor(n, cfg, p) {
			continue
		}
		return fmt.Sprintf("target n%d would share zone %q with voters %v while zone %q has room on n%d",
			op.To, to.Zone, used[to.Zone], n.Zone, n.ID)
	}
	return ""
}

// roomFor says n could take a replica of p: alive, reachable, not sick,
// not decommissioning, its disk not full, not a member already.
func roomFor(n checker.Node, cfg checker.Config, p *checker.Partition) bool {
	full := cfg.DiskFull > 0 && n.Health.DiskUsed >= cfg.DiskFull
	return n.Liveness == directory.Alive && n.PeerAddr != "" && n.Health.SickSince.IsZero() && !full &&
		!n.Leaving() && !member(p, n.ID)
}
