package checker

import (
	"fmt"
	"slices"
)

// checkMembership finds a configuration change left half done: a joint
// configuration is rolled forward to its incoming voters; a learner is
// promoted when caught up and wanted, removed when it never caught up,
// sits on a node that is not alive, or is not wanted.
func checkMembership(pl *planner, p *Partition) (*Op, []string) {
	if len(p.Outgoing) > 0 {
		return &Op{Kind: LeaveJoint, Priority: PriorityStuck, Reasons: []string{
			fmt.Sprintf("joint configuration left behind: incoming %v, outgoing %v", p.Voters, p.Outgoing)}}, nil
	}
	var why []string
	for _, l := range p.Learners {
		op, w := pl.judgeLearner(p, l)
		if op != nil {
			return op, why
		}
		why = append(why, w...)
	}
	return nil, why
}

func (pl *planner) judgeLearner(p *Partition, l uint64) (*Op, []string) {
	r, _ := p.Replica(l)
	back := func(reason string) (*Op, []string) {
		return &Op{Kind: RollBackLearner, From: l, Priority: PriorityStuck, Reasons: []string{reason}}, nil
	}
	switch {
	case !pl.healthy(p, l):
		return back(fmt.Sprintf("learner on n%d is not healthy (node %s, %s)", l, pl.nodes[l].Liveness,
			describeContact(pl.sinceContact(r))))
	case pl.leaving(l):
		return back(fmt.Sprintf("learner on n%d: the node is decommissioning", l))
	case r.LagSince.IsZero() && len(p.Voters) < pl.factor(p) && !slices.Contains(p.Voters, l):
		return &Op{Kind: RollForwardLearner, To: l, Priority: PriorityStuck, Reasons: []string{
			fmt.Sprintf("learner on n%d caught up; raft has %d voters of %d", l, len(p.Voters), pl.factor(p))}}, nil
	case r.LagSince.IsZero():
		return back(fmt.Sprintf("learner on n%d caught up but not needed: %d voters of %d", l, len(p.Voters), pl.factor(p)))
	case pl.cfg.Now.Sub(r.LagSince) >= pl.cfg.LearnerTimeout:
		return back(fmt.Sprintf("learner on n%d never caught up: %d behind for %v (learner timeout %v)",
			l, r.Lag, pl.cfg.Now.Sub(r.LagSince), pl.cfg.LearnerTimeout))
	}
	return nil, []string{fmt.Sprintf("learner on n%d catching up: %d behind for %v", l, r.Lag, pl.cfg.Now.Sub(r.LagSince))}
}
