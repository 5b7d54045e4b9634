package checker

import (
	"fmt"
	"slices"
	"time"

	"github.com/partitadb/partita/directory"
)

// checkDecommission moves a voter of p off a node being decommissioned,
// to a node placement picks (never a decommissioning one): one voter per
// plan, the others in later plans. A partition with too many voters is
// the replica-count checker's, which removes the decommissioning voter;
// a learner there is the membership checker's, which removes it. The
// meta partition moves last: its replica on the node keeps the node's
// directory current while the node's other replicas move.
func checkDecommission(pl *planner, p *Partition) (*Op, []string) {
	i := slices.IndexFunc(p.Voters, pl.leaving)
	if i < 0 || len(p.Voters) > pl.factor(p) {
		return nil, nil
	}
	from := p.Voters[i]
	if p.ID == directory.MetaPartition {
		if others := pl.hostedBy(from, true); len(others) > 0 {
			return nil, []string{fmt.Sprintf("n%d is decommissioning: the meta partition moves last, after %s", from, partitionList(others))}
		}
	}
	why := pl.decommissionedWhy(from)
	// As a repair's, the move may go to a node still in its recovery
	// period after being sick (its fsyncs no longer slow) when no other
	// node can take it: a decommission should not wait ten minutes and
	// more for a node that healed.
	to, err := pl.repairTarget(p, from)
	if err != nil {
		return nil, []string{fmt.Sprintf("%s, but no node can take its replica: %v%s", why, err, pl.noTargetWhy(p))}
	}
	return &Op{Kind: Decommission, From: from, To: to, Priority: PriorityDecommission,
		Reasons: []string{fmt.Sprintf("%s: its replica moves to n%d", why, to)}}, nil
}

// decommissionedWhy says since when, by whom and why node is
// decommissioning.
func (pl *planner) decommissionedWhy(node uint64) string {
	n := pl.nodes[node]
	s := fmt.Sprintf("n%d is decommissioning (for %v)", node, pl.cfg.Now.Sub(n.Decommissioning).Round(time.Second))
	if n.DecommissionBy != "" {
		s += " by " + n.DecommissionBy
	}
	if n.DecommissionReason != "" {
		s += ": " + n.DecommissionReason
	}
	return s
}

// hostedBy lists the partitions of the view that node is in (directory
// list or raft configuration), but the meta partition with butMeta.
func (pl *planner) hostedBy(node uint64, butMeta bool) []uint64 {
	var out []uint64
	for i := range pl.view.Partitions {
		p := &pl.view.Partitions[i]
		if p.Hosts(node) && !(butMeta && p.ID == directory.MetaPartition) {
			out = append(out, p.ID)
		}
	}
	return out
}

// retireNodes proposes the removal of the record of a decommissioning
// node that holds no replica any more: in no partition's directory list
// or raft configuration, with every partition's leader known (a
// partition without one may have the node in a configuration the view
// cannot see). One node per plan, lowest id first.
func (pl *planner) retireNodes() {
	unknown := slices.IndexFunc(pl.view.Partitions, func(p Partition) bool { return p.Leader == 0 })
	for _, n := range pl.view.Nodes {
		if !n.Leaving() {
			continue
		}
		why := pl.decommissionedWhy(n.ID)
		if held := pl.hostedBy(n.ID, false); len(held) > 0 {
			pl.whyNot(0, n.ID, "decommission", fmt.Sprintf("%s; it still holds %s", why, partitionList(held)))
			continue
		}
		if unknown >= 0 {
			pl.whyNot(0, n.ID, "decommission", fmt.Sprintf("%s and holds no replica the view shows, but p%d has no known leader: "+
				"its record stays until every partition's configuration is known", why, pl.view.Partitions[unknown].ID))
			continue
		}
		if pl.nodeOp != nil {
			pl.whyNot(0, n.ID, "decommission", fmt.Sprintf("%s and holds no replica; n%d's record goes first", why, pl.nodeOp.From))
			continue
		}
		pl.nodeOp = &Op{Kind: RemoveNode, From: n.ID, Priority: PriorityDecommission, Checker: "decommission",
			Reasons: []string{fmt.Sprintf("%s and holds no replica any more: its record is removed", why)}}
	}
}

// partitionList shows ids as "p1", "2 partitions: p1, p2", or beyond
// five "7 partitions: p1, p2, p3, p4, p5, ...".
func partitionList(ids []uint64) string {
	s := ""
	for i, id := range ids {
		switch {
		case i == 5:
			return fmt.Sprintf("%d partitions: %s, ...", len(ids), s)
		case i > 0:
			s += ", "
		}
		s += fmt.Sprintf("p%d", id)
	}
	if len(ids) > 1 {
		return fmt.Sprintf("%d partitions: %s", len(ids), s)
	}
	return s
}
