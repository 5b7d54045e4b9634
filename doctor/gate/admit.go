package gate

import (
	"fmt"
	"slices"
	"time"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/doctor/checker"
)

// Admit judges whether op, from a plan made on an older view, may start
// now, given a fresh view of the cluster cur, the operations in flight,
// the recent starts, the gate colour of op's kind and whether an operator
// approved op. cfg supplies the contact timeout; its Now is replaced by
// now, the one time every rule judges at. The checks run in the order the
// package documentation lists; the first that objects decides, with all
// its reasons.
func Admit(op checker.Op, cur checker.View, cfg checker.Config, running []Running, starts []time.Time,
	color Color, approved bool, limits Limits, now time.Time) Verdict {
	cfg.Now = now
	if op.Kind == checker.RemoveNode {
		return admitRemoveNode(op, &cur, running, starts, color, approved, limits, now)
	}
	i := slices.IndexFunc(cur.Partitions, func(p checker.Partition) bool { return p.ID == op.Partition })
	if i < 0 {
		return verdict(Stale, fmt.Sprintf("p%d is no longer in the view", op.Partition))
	}
	p := cur.Partitions[i]
	if why := append(stale(op, &p), recommissioned(op, &cur)...); len(why) > 0 {
		return verdict(Stale, why...)
	}
	if why := busy(op, running, now); len(why) > 0 {
		return verdict(Hold, why...)
	}
	if p.Leader == 0 {
		return verdict(Hold, fmt.Sprintf("p%d has no known leader: the replicas' state is unknown", p.ID))
	}
	if why := unsafe(op, &cur, cfg, &p); len(why) > 0 {
		return verdict(Refuse, why...)
	}
	return gated(op, &cur, running, starts, color, approved, limits, now)
}

// stale says how p moved on since the plan saw it.
func stale(op checker.Op, p *checker.Partition) []string {
	var why []string
	if op.Generation != p.Generation {
		why = append(why, fmt.Sprintf("p%d generation %d, the plan saw %d", p.ID, p.Generation, op.Generation))
	}
	if !sameSet(op.Voters, p.Voters) {
		why = append(why, fmt.Sprintf("p%d voters %v, the plan saw %v", p.ID, p.Voters, op.Voters))
	}
	if !sameSet(op.Learners, p.Learners) {
		why = append(why, fmt.Sprintf("p%d learners %v, the plan saw %v", p.ID, p.Learners, op.Learners))
	}
	if op.Kind == checker.TransferLeader && p.Leader != op.From {
		why = append(why, fmt.Sprintf("p%d is led by n%d, the plan saw n%d", p.ID, p.Leader, op.From))
	}
	return why
}

// recommissioned says op moves a replica off a node that is no longer
// decommissioning: the plan that chose it is stale.
func recommissioned(op checker.Op, cur *checker.View) []string {
	if n, ok := cur.Node(op.From); op.Kind == checker.Decommission && ok && !n.Leaving() {
		return []string{fmt.Sprintf("n%d is no longer decommissioning", op.From)}
	}
	return nil
}

// busy says which operations in flight hold op's partition.
func busy(op checker.Op, running []Running, now time.Time) []string {
	var why []string
	for _, r := range running {
		if r.Op.Partition == op.Partition {
			why = append(why, fmt.Sprintf("p%d already has an operation in flight: %s, started %v ago",
				op.Partition, r.Op.Kind, now.Sub(r.Started)))
		}
	}
	return why
}

// unsafe says why op may not act on p whatever its colour: the quorum
// rule, the nodes it names, the zone rule.
func unsafe(op checker.Op, cur *checker.View, cfg checker.Config, p *checker.Partition) []string {
	var why []string
	if ok, reason := checker.Safe(*cur, cfg, *p, op); !ok {
		why = append(why, "it would cost the quorum: "+reason)
	}
	why = append(why, fromProblems(op, p)...)
	if op.To != 0 {
		why = append(why, targetProblems(op, cur, p)...)
	}
	if w := zoneProblem(op, cur, cfg, p); w != "" {
		why = append(why, w)
	}
	return why
}

// fromProblems says why op's From is not the member op must remove.
func fromProblems(op checker.Op, p *checker.Partition) []string {
	switch op.Kind {
	case checker.ReplaceReplica, checker.MoveReplica, checker.RemoveReplica, checker.Decommission:
		if !slices.Contains(p.Voters, op.From) {
			return []string{fmt.Sprintf("n%d is not a voter of p%d", op.From, p.ID)}
		}
		if op.From == op.To {
			return []string{fmt.Sprintf("n%d would replace itself", op.From)}
		}
	case checker.RollBackLearner:
		if !slices.Contains(p.Learners, op.From) {
			return []string{fmt.Sprintf("n%d is not a learner of p%d", op.From, p.ID)}
		}
	}
	return nil
}

// targetProblems says why op's To may not take what op gives it.
func targetProblems(op checker.Op, cur *checker.View, p *checker.Partition) []string {
	var why []string
	n, ok := cur.Node(op.To)
	switch {
	case !ok:
		return []string{fmt.Sprintf("target n%d is not in the view", op.To)}
	case n.Liveness != directory.Alive:
		why = append(why, fmt.Sprintf("target n%d is %s", op.To, n.Liveness))
	}
	if n.Leaving() {
		why = append(why, fmt.Sprintf("target n%d is decommissioning", op.To))
	}
	if n.PeerAddr == "" {
		why = append(why, fmt.Sprintf("target n%d has no peer address", op.To))
	}
	switch op.Kind {
	case checker.RollForwardLearner:
		if !slices.Contains(p.Learners, op.To) {
			why = append(why, fmt.Sprintf("target n%d is not a learner of p%d", op.To, p.ID))
		}
	case checker.TransferLeader:
		// checker.Safe wants a healthy voter.
		if n.IsDraining() {
			why = append(why, fmt.Sprintf("target n%d is draining: it takes no leadership", op.To))
		}
	default:
		if member(p, op.To) {
			why = append(why, fmt.Sprintf("target n%d already hosts p%d", op.To, p.ID))
		}
	}
	return why
}

// member says node is in p's raft configuration.
func member(p *checker.Partition, node uint64) bool {
	return slices.Contains(p.Voters, node) || slices.Contains(p.Learners, node) || slices.Contains(p.Outgoing, node)
}

// gated applies op's colour: approval for red, the rate limits for
// yellow (and approved red), the cluster's bound for every colour.
func gated(op checker.Op, cur *checker.View, running []Running, starts []time.Time,
	color Color, approved bool, l Limits, now time.Time) Verdict {
	switch color {
	case Green, Yellow:
	case Red:
		if !approved {
			return verdict(AwaitApproval, fmt.Sprintf("gate %s is red: waiting for an operator's approval", op.Kind))
		}
	default:
		return verdict(Refuse, fmt.Sprintf("gate %s has no colour (%v)", op.Kind, color))
	}
	var why []string
	if w := clusterLimit(running, l); w != "" {
		why = append(why, w)
	}
	if color != Green {
		why = append(why, rateLimits(op, cur, running, starts, l, now)...)
	}
	if len(why) > 0 {
		return verdict(Hold, why...)
	}
	reason := fmt.Sprintf("gate %s is %s", op.Kind, color)
	if color == Red {
		reason += ", approved"
	}
	return verdict(Run, reason)
}

func sameSet(a, b []uint64) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}
