package checker_test

import (
	"slices"

	"github.com/partitadb/partita/doctor/checker"
)

// apply returns v as it is once plan's operations have all completed,
// the way the operator's steps leave a partition: new replicas caught up
// and in contact, the generation moved on, a removed node gone from the
// view. Scripts and the convergence test use it to run plan after plan.
func apply(v checker.View, plan checker.Plan) checker.View {
	out := checker.View{Nodes: slices.Clone(v.Nodes)}
	ops := map[uint64]checker.Op{}
	for _, op := range plan.Ops {
		if op.Kind == checker.RemoveNode {
			out.Nodes = slices.DeleteFunc(out.Nodes, func(n checker.Node) bool { return n.ID == op.From })
			continue
		}
		ops[op.Partition] = op
	}
	for _, p := range v.Partitions {
		if op, ok := ops[p.ID]; ok {
			p = applyOp(p, op)
		}
		out.Partitions = append(out.Partitions, p)
	}
	return out
}

func applyOp(p checker.Partition, op checker.Op) checker.Partition {
	p.Voters, p.Learners, p.Replicas = slices.Clone(p.Voters), slices.Clone(p.Learners), slices.Clone(p.Replicas)
	p.Status = slices.Clone(p.Status)
	drop := func(ids []uint64, id uint64) []uint64 {
		return slices.DeleteFunc(ids, func(x uint64) bool { return x == id })
	}
	switch op.Kind {
	case checker.ReplaceReplica, checker.MoveReplica, checker.AddReplica, checker.RemoveReplica, checker.Decommission:
		if op.To != 0 {
			p.Voters = append(p.Voters, op.To)
			p.Status = append(drop2(p.Status, op.To), checker.Replica{Node: op.To, LastContact: epoch})
		}
		if op.From != 0 {
			p.Voters = drop(p.Voters, op.From)
			p.Status = drop2(p.Status, op.From)
			if p.Leader == op.From {
				p.Leader = p.Voters[0]
			}
		}
		p.Replicas = slices.Clone(p.Voters)
	case checker.TransferLeader:
		p.Leader = op.To
	case checker.RollForwardLearner:
		p.Learners, p.Voters = drop(p.Learners, op.To), append(p.Voters, op.To)
	case checker.RollBackLearner:
		p.Learners, p.Status = drop(p.Learners, op.From), drop2(p.Status, op.From)
	case checker.LeaveJoint:
		p.Outgoing = nil
	case checker.SetReplicas:
		p.Replicas = slices.Clone(p.Voters)
	}
	p.Generation++
	return p
}

func drop2(rs []checker.Replica, node uint64) []checker.Replica {
	return slices.DeleteFunc(rs, func(r checker.Replica) bool { return r.Node == node })
}
