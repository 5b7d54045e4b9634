package gate

import (
	"fmt"
	"slices"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/doctor/checker"
)

// StepKind names a step of a running operation, as doctor/operator runs
// it.
type StepKind string

// The step kinds CheckStep judges.
const (
	StepCreateReplica  StepKind = "create-replica"
	StepAddLearner     StepKind = "add-learner"
	StepPromoteLearner StepKind = "promote-learner"
	StepRemoveVoter    StepKind = "remove-voter"
	StepRemoveLearner  StepKind = "remove-learner" // a rollback's: a learner, never a voter
	StepTransferLeader StepKind = "transfer-leader"
	StepTransferAway   StepKind = "transfer-leader-away" // off node, to a voter its leader picks
	StepSetReplicas    StepKind = "set-replicas"
	StepDestroyReplica StepKind = "destroy-replica"
	StepRemoveNode     StepKind = "remove-node" // of node's directory record; partition 0
)

// CheckStep judges one step on node of partition against cur, a view
// read right before the step (cfg.Now its time; cfg.ContactTimeout and
// cfg.CaughtUpLag the bounds). Steps are idempotent, so a step already
// done (the learner there, the voter gone) runs: it changes nothing. A
// condition that may pass by itself (a node suspect, a learner catching
// up, no leader known, the partition missing from the view) holds; a dead
// or unknown node, a step that is no step of this partition, and a step
// that would cost the quorum refuse, even when the quorum may come back:
// the operation's deadline and rollback decide what follows.
func CheckStep(kind StepKind, partition, node uint64, cur checker.View, cfg checker.Config) Verdict {
	if kind == StepRemoveNode {
		return checkRemoveNode(node, &cur)
	}
	i := slices.IndexFunc(cur.Partitions, func(p checker.Partition) bool { return p.ID == partition })
	if i < 0 {
		return verdict(Hold, fmt.Sprintf("p%d is not in the view", partition))
	}
	p := cur.Partitions[i]
	switch kind {
	case StepCreateReplica, StepAddLearner:
		return checkNewMember(kind, &p, node, &cur)
	case StepPromoteLearner:
		return checkPromote(&p, node, &cur, cfg)
	case StepRemoveVoter:
		return checkRemove(&p, node, &cur, cfg)
	case StepRemoveLearner:
		if slices.Contains(p.Voters, node) || slices.Contains(p.Outgoing, node) {
			return verdict(Refuse, fmt.Sprintf("n%d is a voter of p%d: promoted since its removal as a learner was planned", node, p.ID))
		}
		if !slices.Contains(p.Learners, node) {
			return verdict(Run, fmt.Sprintf("n%d is no learner of p%d: nothing to do", node, p.ID))
		}
		if p.Leader == 0 {
			return verdict(Hold, fmt.Sprintf("p%d has no known leader", p.ID))
		}
		return verdict(Run, fmt.Sprintf("n%d is a learner of p%d: no vote lost", node, p.ID))
	case StepTransferLeader:
		return checkTransfer(&p, node, &cur, cfg)
	case StepTransferAway:
		return checkTransferAway(&p, node, &cur, cfg)
	case StepSetReplicas:
		return verdict(Run, fmt.Sprintf("p%d is in the view; the directory's compare-and-set guards the rest", p.ID))
	case StepDestroyReplica:
		if p.Hosts(node) {
			return verdict(Refuse, fmt.Sprintf("n%d is still in p%d: voters %v, learners %v, outgoing %v, directory %v",
				node, p.ID, p.Voters, p.Learners, p.Outgoing, p.Replicas))
		}
		return verdict(Run, fmt.Sprintf("n%d is no longer in p%d", node, p.ID))
	}
	return verdict(Refuse, fmt.Sprintf("unknown step kind %q", kind))
}

// checkNewMember judges a node about to join p: alive, reachable, not a
// voter; a learner already is done.
func checkNewMember(kind StepKind, p *checker.Partition, node uint64, cur *checker.View) Verdict {
	if why := nodeProblem(node, cur); why.Decision != 0 {
		return why
	}
	n, _ := cur.Node(node)
	switch {
	case n.PeerAddr == "":
		return verdict(Refuse, fmt.Sprintf("n%d has no peer address", node))
	case slices.Contains(p.Voters, node) || slices.Contains(p.Outgoing, node):
		return verdict(Refuse, fmt.Sprintf("n%d is a voter of p%d already", node, p.ID))
	case slices.Contains(p.Learners, node):
		return verdict(Run, fmt.Sprintf("n%d is a learner of p%d already: nothing to do", node, p.ID))
	case n.Leaving():
		return verdict(Refuse, fmt.Sprintf("n%d is decommissioning", node))
	}
	return verdict(Run, fmt.Sprintf("n%d is alive and no member of p%d", node, p.ID))
}

// nodeProblem holds for a suspect node and refuses a dead or unknown
// one; the zero Verdict for an alive one.
func nodeProblem(node uint64, cur *checker.View) Verdict {
	n, ok := cur.Node(node)
	switch {
	case !ok:
		return verdict(Refuse, fmt.Sprintf("n%d is not in the view", node))
	case n.Liveness == directory.Suspect:
		return verdict(Hold, fmt.Sprintf("n%d is suspect", node))
	case n.Liveness != directory.Alive:
		return verdict(Refuse, fmt.Sprintf("n%d is %s", node, n.Liveness))
	}
	return Verdict{}
}

// checkPromote judges the promotion of node's learner: caught up, in its
// leader's contact, and p's quorum kept.
func checkPromote(p *checker.Partition, node uint64, cur *checker.View, cfg checker.Config) Verdict {
	switch {
	case slices.Contains(p.Voters, node):
		return verdict(Run, fmt.Sprintf("n%d is a voter of p%d already: nothing to do", node, p.ID))
	case !slices.Contains(p.Learners, node):
		return verdict(Refuse, fmt.Sprintf("n%d is not a learner of p%d", node, p.ID))
	case p.Leader == 0:
		return verdict(Hold, fmt.Sprintf("p%d has no known leader", p.ID))
	}
	if why := nodeProblem(node, cur); why.Decision != 0 {
		return why
	}
	r, _ := p.Replica(node)
	if n, _ := cur.Node(node); n.Leaving() {
		return verdict(Refuse, fmt.Sprintf("learner n%d is decommissioning", node))
	}
	if !checker.Healthy(*cur, cfg, *p, node) {
		return verdict(Hold, fmt.Sprintf("learner n%d is down or out of leader n%d's contact", node, p.Leader))
	}
	if r.Lag > cfg.CaughtUpLag {
		return verdict(Hold, fmt.Sprintf("learner n%d trails by %d entries, caught up at %d", node, r.Lag, cfg.CaughtUpLag))
	}
	op := checker.Op{Kind: checker.RollForwardLearner, Partition: p.ID, To: node}
	if ok, why := checker.Safe(*cur, cfg, *p, op); !ok {
		return verdict(Refuse, "it would cost the quorum: "+why)
	}
	return verdict(Run, fmt.Sprintf("learner n%d caught up (lag %d)", node, r.Lag))
}

// checkRemove judges the removal of node from p: the current
// configuration and the one after keep a healthy quorum.
func checkRemove(p *checker.Partition, node uint64, cur *checker.View, cfg checker.Config) Verdict {
	if !member(p, node) {
		return verdict(Run, fmt.Sprintf("n%d is no member of p%d: nothing to do", node, p.ID))
	}
	if p.Leader == 0 {
		return verdict(Hold, fmt.Sprintf("p%d has no known leader", p.ID))
	}
	if slices.Contains(p.Voters, node) && len(p.Voters) == 1 {
		return verdict(Refuse, fmt.Sprintf("n%d is p%d's last voter", node, p.ID))
	}
	op := checker.Op{Kind: checker.RemoveReplica, Partition: p.ID, From: node}
	if ok, why := checker.Safe(*cur, cfg, *p, op); !ok {
		return verdict(Refuse, "it would cost the quorum: "+why)
	}
	return verdict(Run, fmt.Sprintf("p%d keeps a healthy quorum without n%d", p.ID, node))
}

// checkTransferAway judges moving p's leadership off node to a voter its
// leader picks: done when node does not lead; else some other voter must
// be healthy to take it, which may come by itself (a voter just
// promoted, catching up), so it holds. A decommissioning voter counts:
// the leader picks one only when no other is live (store.Config's
// AvoidLeading), and a lead on it is moved again by its decommission.
func checkTransferAway(p *checker.Partition, node uint64, cur *checker.View, cfg checker.Config) Verdict {
	switch {
	case p.Leader == 0:
		return verdict(Hold, fmt.Sprintf("p%d has no known leader", p.ID))
	case p.Leader != node:
		return verdict(Run, fmt.Sprintf("n%d does not lead p%d: nothing to do", node, p.ID))
	}
	for _, v := range p.Voters {
		if v != node && checker.Healthy(*cur, cfg, *p, v) {
			return verdict(Run, fmt.Sprintf("p%d has healthy voters to take the lead from n%d", p.ID, node))
		}
	}
	return verdict(Hold, fmt.Sprintf("no voter of p%d but n%d is healthy to take the lead: voters %v", p.ID, node, p.Voters))
}

// checkTransfer judges moving p's leadership to node: a healthy voter.
func checkTransfer(p *checker.Partition, node uint64, cur *checker.View, cfg checker.Config) Verdict {
	switch {
	case p.Leader == node:
		return verdict(Run, fmt.Sprintf("n%d leads p%d already: nothing to do", node, p.ID))
	case p.Leader == 0:
		return verdict(Hold, fmt.Sprintf("p%d has no known leader", p.ID))
	}
	if n, _ := cur.Node(node); n.Leaving() {
		return verdict(Refuse, fmt.Sprintf("n%d is decommissioning", node))
	}
	op := checker.Op{Kind: checker.TransferLeader, Partition: p.ID, To: node}
	if ok, why := checker.Safe(*cur, cfg, *p, op); !ok {
		return verdict(Refuse, why)
	}
	return verdict(Run, fmt.Sprintf("n%d is a healthy voter of p%d", node, p.ID))
}
