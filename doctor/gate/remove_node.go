package gate

import (
	"fmt"
	"slices"
	"time"

	"github.com/partitadb/partita/doctor/checker"
)

// admitRemoveNode judges the removal of a decommissioned node's record
// (op.From), which acts on no partition: stale once the node is gone or
// no longer decommissioning, or a partition holds it again; held while
// an operation on the node, or another removal, is in flight, or a
// partition's leader is unknown (its configuration may hold the node);
// then the gate.
func admitRemoveNode(op checker.Op, cur *checker.View, running []Running, starts []time.Time,
	color Color, approved bool, l Limits, now time.Time) Verdict {
	node := op.From
	n, ok := cur.Node(node)
	switch {
	case !ok:
		return verdict(Stale, fmt.Sprintf("n%d is no longer in the directory", node))
	case !n.Leaving():
		return verdict(Stale, fmt.Sprintf("n%d is no longer decommissioning", node))
	}
	if held := holders(node, cur); len(held) > 0 {
		return verdict(Stale, held...)
	}
	var why []string
	for _, r := range running {
		switch {
		case r.Op.Kind == checker.RemoveNode:
			why = append(why, fmt.Sprintf("the removal of n%d's record is in flight, started %v ago", r.Op.From, now.Sub(r.Started)))
		case slices.Contains(involved(r.Op), node):
			why = append(why, fmt.Sprintf("%s of p%d involves n%d, in flight, started %v ago", r.Op.Kind, r.Op.Partition, node,
				now.Sub(r.Started)))
		}
	}
	why = append(why, unknownLeaders(cur)...)
	if len(why) > 0 {
		return verdict(Hold, why...)
	}
	return gated(op, cur, running, starts, color, approved, l, now)
}

// checkRemoveNode judges the step that removes node's record: run when
// the node is gone already (nothing to do), or decommissioning and held
// by no partition whose configuration is known; refuse when it is not
// decommissioning or a partition holds it; hold while a partition's
// leader is unknown.
func checkRemoveNode(node uint64, cur *checker.View) Verdict {
	n, ok := cur.Node(node)
	switch {
	case !ok:
		return verdict(Run, fmt.Sprintf("n%d is no longer in the directory: nothing to do", node))
	case !n.Leaving():
		return verdict(Refuse, fmt.Sprintf("n%d is not decommissioning", node))
	}
	if held := holders(node, cur); len(held) > 0 {
		return verdict(Refuse, held...)
	}
	if why := unknownLeaders(cur); len(why) > 0 {
		return verdict(Hold, why...)
	}
	return verdict(Run, fmt.Sprintf("n%d is decommissioning and no partition holds it", node))
}

// holders says which partitions of cur still hold node, in their
// directory list or raft configuration.
func holders(node uint64, cur *checker.View) []string {
	var why []string
	for _, p := range cur.Partitions {
		if p.Hosts(node) {
			why = append(why, fmt.Sprintf("p%d holds n%d: voters %v, learners %v, outgoing %v, directory %v",
				p.ID, node, p.Voters, p.Learners, p.Outgoing, p.Replicas))
		}
	}
	return why
}

// unknownLeaders names the partitions of cur without a known leader.
func unknownLeaders(cur *checker.View) []string {
	var why []string
	for _, p := range cur.Partitions {
		if p.Leader == 0 {
			why = append(why, fmt.Sprintf("p%d has no known leader: its configuration is unknown", p.ID))
		}
	}
	return why
}
