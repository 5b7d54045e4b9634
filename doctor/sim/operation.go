package sim

import (
	"fmt"
	"slices"
	"time"

	"github.com/partitadb/partita/doctor/checker"
)

// The steps operations are made of, named as doctor/operator names
// them where it has them.
const (
	StepAddLearner     = "add-learner"
	StepCatchUp        = "catch-up" // a wait, not an action: not checked
	StepPromote        = "promote-learner"
	StepTransferLeader = "transfer-leader"
	// StepLeaveLeader transfers the leadership away from From when it
	// leads; CheckStep sees it as transfer-leader to the successor.
	StepLeaveLeader   = "leave-leader"
	StepRemoveVoter   = "remove-voter"
	StepRemoveLearner = "remove-learner"
	StepSetReplicas   = "set-replicas"
)

// Running is an operation in progress.
type Running struct {
	Op      checker.Op
	Started time.Time
	// Steps are the operation's steps, Next the index of the one to run,
	// Since when it has waited to.
	Steps []string
	Next  int
	Since time.Time
}

// steps lists the steps of an operation of kind.
func steps(k checker.Kind) []string {
	switch k {
	case checker.ReplaceReplica, checker.MoveReplica, checker.Decommission:
		return []string{StepAddLearner, StepCatchUp, StepPromote, StepLeaveLeader, StepRemoveVoter}
	case checker.AddReplica:
		return []string{StepAddLearner, StepCatchUp, StepPromote}
	case checker.RemoveReplica:
		return []string{StepLeaveLeader, StepRemoveVoter}
	case checker.TransferLeader:
		return []string{StepTransferLeader}
	case checker.RollForwardLearner:
		return []string{StepPromote}
	case checker.RollBackLearner:
		return []string{StepRemoveLearner}
	case checker.SetReplicas:
		return []string{StepSetReplicas}
	}
	return nil // leave-joint: the model has no joint configurations
}

// checked is how CheckStep sees step of op on p: its name and the node
// it acts on; ok is false for a step not checked.
func (m *Model) checked(step string, op checker.Op, p *Partition, now time.Time) (name string, node uint64, ok bool) {
	switch step {
	case StepCatchUp:
		return "", 0, false
	case StepLeaveLeader:
		if p.Leader != op.From {
			return "", 0, false
		}
		return StepTransferLeader, m.successor(p, op, now), true
	case StepRemoveVoter, StepRemoveLearner:
		return step, op.From, true
	}
	return step, op.To, true
}

// outcome is what one attempt at a step did.
type outcome int

const (
	stepWait outcome = iota // not possible yet: try again next tick
	stepDone                // done, took the tick
	stepSkip                // nothing to do: the next step may run at once
)

// doStep attempts step of op on p at now.
func (m *Model) doStep(step string, op checker.Op, p *Partition, now time.Time) (outcome, string) {
	if step == StepCatchUp {
		r := p.replicas[op.To]
		if r == nil {
			return stepWait, fmt.Sprintf("no learner on n%d", op.To)
		}
		if r.lag > 0 || !m.follows(p, op.To, now) {
			return stepWait, fmt.Sprintf("learner on n%d %d behind", op.To, r.lag)
		}
		return stepDone, ""
	}
	if step == StepLeaveLeader && p.Leader != op.From {
		return stepSkip, ""
	}
	if p.Leader == 0 || !m.hasQuorum(p, now) {
		return stepWait, "no leader with a quorum to commit"
	}
	switch step {
	case StepAddLearner:
		return m.addLearner(p, op.To, now)
	case StepPromote:
		return m.promote(p, op.To)
	case StepTransferLeader:
		return m.transfer(p, op.To, now)
	case StepLeaveLeader:
		return m.transfer(p, m.successor(p, op, now), now)
	case StepRemoveVoter:
		return m.removeVoter(p, op.From)
	case StepRemoveLearner:
		return m.removeLearner(p, op.From)
	case StepSetReplicas:
		p.Replicas = slices.Clone(p.Voters)
		return stepDone, ""
	}
	return stepWait, "unknown step " + step
}

func (m *Model) addLearner(p *Partition, to uint64, now time.Time) (outcome, string) {
	if p.replicas[to] != nil {
		return stepWait, fmt.Sprintf("n%d already holds a replica", to)
	}
	if m.node(to) == nil {
		return stepWait, fmt.Sprintf("no node n%d", to)
	}
	p.Learners = append(p.Learners, to)
	p.replicas[to] = &replica{lag: m.size, lagSince: now}
	p.Generation++
	return stepDone, ""
}

func (m *Model) promote(p *Partition, to uint64) (outcome, string) {
	if !slices.Contains(p.Learners, to) {
		return stepWait, fmt.Sprintf("n%d is no learner", to)
	}
	p.Learners = without(p.Learners, to)
	p.Voters = append(p.Voters, to)
	p.Replicas = slices.Clone(p.Voters)
	p.Generation++
	return stepDone, ""
}

func (m *Model) transfer(p *Partition, to uint64, now time.Time) (outcome, string) {
	if to == 0 || !slices.Contains(p.Voters, to) || !m.follows(p, to, now) || p.replicas[to].lag > 0 {
		return stepWait, fmt.Sprintf("n%d cannot take the leadership", to)
	}
	p.Leader = to
	return stepDone, ""
}

// successor is where the leadership goes before From's voter is removed:
// the operation's new voter if it can, else the serving voter least
// behind, lowest id first.
func (m *Model) successor(p *Partition, op checker.Op, now time.Time) uint64 {
	best := uint64(0)
	for _, v := range p.Voters {
		if v == op.From || !m.follows(p, v, now) {
			continue
		}
		if v == op.To {
			return v
		}
		if best == 0 || p.replicas[v].lag < p.replicas[best].lag {
			best = v
		}
	}
	return best
}

func (m *Model) removeVoter(p *Partition, from uint64) (outcome, string) {
	switch {
	case !slices.Contains(p.Voters, from):
		return stepWait, fmt.Sprintf("n%d is no voter", from)
	case p.Leader == from:
		return stepWait, fmt.Sprintf("n%d leads", from)
	}
	p.Voters = without(p.Voters, from)
	p.Replicas = slices.Clone(p.Voters)
	delete(p.replicas, from)
	p.Generation++
	return stepDone, ""
}

func (m *Model) removeLearner(p *Partition, from uint64) (outcome, string) {
	if !slices.Contains(p.Learners, from) {
		return stepWait, fmt.Sprintf("n%d is no learner", from)
	}
	p.Learners = without(p.Learners, from)
	delete(p.replicas, from)
	p.Generation++
	return stepDone, ""
}

func without(ids []uint64, id uint64) []uint64 {
	return slices.DeleteFunc(slices.Clone(ids), func(x uint64) bool { return x == id })
}
