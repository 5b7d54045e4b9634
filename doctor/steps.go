package doctor

import (
	"errors"
	"fmt"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/doctor/checker"
	"github.com/partitadb/partita/doctor/gate"
	"github.com/partitadb/partita/doctor/operator"
	"github.com/partitadb/partita/topology"
)

// ErrUnsupported is returned for an operation kind the Doctor cannot run.
var ErrUnsupported = errors.New("doctor: operation kind not supported")

// Steps returns the operator that carries op out. fromReachable says
// op.From's node can be asked to destroy its old replica.
func Steps(op checker.Op, fromReachable bool) (*operator.Operator, error) {
	p := topology.PartitionInfo{ID: op.Partition, Table: op.Table}
	meta := op.Partition == directory.MetaPartition
	o := &operator.Operator{Name: fmt.Sprintf("%s partition=%d", op.Kind, op.Partition)}
	switch op.Kind {
	case checker.ReplaceReplica, checker.MoveReplica, checker.Decommission:
		o = operator.MoveReplica(p, op.From, op.To, fromReachable)
		o.Name = fmt.Sprintf("%s partition=%d from=%d to=%d", op.Kind, op.Partition, op.From, op.To)
	case checker.AddReplica:
		o.Steps = []operator.Step{
			operator.CreateReplica{Node: op.To, Partition: op.Partition},
			operator.AddLearner{Partition: op.Partition, Node: op.To},
			operator.PromoteLearner{Partition: op.Partition, Node: op.To},
		}
		if !meta {
			o.Steps = append(o.Steps, operator.SetReplicas{Table: op.Table, Partition: op.Partition, Add: op.To})
		}
	case checker.RemoveReplica:
		o.Steps = []operator.Step{
			&operator.TransferLeader{Partition: op.Partition, From: op.From},
			operator.RemoveVoter{Partition: op.Partition, Node: op.From},
		}
		if !meta {
			o.Steps = append(o.Steps, operator.SetReplicas{Table: op.Table, Partition: op.Partition, Remove: op.From})
		}
		if fromReachable {
			o.Steps = append(o.Steps, operator.DestroyReplica{Node: op.From, Partition: op.Partition})
		}
	case checker.RemoveNode:
		o.Name = fmt.Sprintf("%s node=%d", op.Kind, op.From)
		o.Steps = []operator.Step{operator.RemoveNode{Node: op.From}}
	case checker.TransferLeader:
		o.Steps = []operator.Step{&operator.TransferLeader{Partition: op.Partition, From: op.From, Target: op.To}}
	case checker.RollForwardLearner:
		o.Steps = []operator.Step{operator.PromoteLearner{Partition: op.Partition, Node: op.To}}
	case checker.RollBackLearner:
		o.Steps = []operator.Step{operator.RemoveVoter{Partition: op.Partition, Node: op.From}}
		if fromReachable {
			o.Steps = append(o.Steps, operator.DestroyReplica{Node: op.From, Partition: op.Partition})
		}
	case checker.Split:
		if meta {
			return nil, fmt.Errorf("%w: the meta partition does not split", ErrUnsupported)
		}
		o.Steps = []operator.Step{operator.SplitPartition{Table: op.Table, Partition: op.Partition, Generation: op.Generation,
			Hash: op.At}}
	case checker.Merge:
		if meta {
			return nil, fmt.Errorf("%w: the meta partition does not merge", ErrUnsupported)
		}
		o.Steps = []operator.Step{operator.MergePartition{Table: op.Table, Partition: op.Partition, Generation: op.Generation,
			With: op.With}}
	case checker.SetReplicas:
		if meta {
			return nil, fmt.Errorf("%w: the meta partition's replicas are its configuration", ErrUnsupported)
		}
		o.Steps = []operator.Step{operator.SyncReplicas{Table: op.Table, Partition: op.Partition,
			Replicas: op.Voters, Generation: op.Generation}}
	default:
		// leave-joint: the store changes membership one voter at a time
		// and never enters a joint configuration.
		return nil, fmt.Errorf("%w: %s", ErrUnsupported, op.Kind)
	}
	return o, nil
}

// Rollback returns the steps that undo what a failed op may have left
// half done: a learner added for it and never promoted is removed. A
// promoted one stays (the replica-count checker removes the extra voter
// if the old one was never removed). nil: nothing to undo. The steps run
// checked as the operation's own do (Doctor.fail): cur may be
// outdated by the time they run.
func Rollback(op checker.Op, cur checker.Partition) []operator.Step {
	switch op.Kind {
	case checker.ReplaceReplica, checker.MoveReplica, checker.AddReplica, checker.Decommission:
	default:
		return nil
	}
	for _, l := range cur.Learners {
		if l == op.To {
			return []operator.Step{operator.RemoveLearner{Partition: op.Partition, Node: op.To},
				operator.DestroyReplica{Node: op.To, Partition: op.Partition}}
		}
	}
	return nil
}

// stepKind is the gate's name for an operator step (empty: the step
// needs no check against the view, e.g. a directory write that is a
// compare-and-set already).
func stepKind(s operator.Step) (gate.StepKind, uint64, uint64) {
	switch s := s.(type) {
	case operator.CreateReplica:
		return "create-replica", s.Partition, s.Node
	case operator.AddLearner:
		return "add-learner", s.Partition, s.Node
	case operator.PromoteLearner:
		return "promote-learner", s.Partition, s.Node
	case operator.RemoveVoter:
		return "remove-voter", s.Partition, s.Node
	case operator.RemoveLearner:
		return gate.StepRemoveLearner, s.Partition, s.Node
	case *operator.TransferLeader:
		if s.Target == 0 {
			return gate.StepTransferAway, s.Partition, s.From // the leader picks the voter
		}
		return "transfer-leader", s.Partition, s.Target
	case operator.DestroyReplica:
		return "destroy-replica", s.Partition, s.Node
	case operator.RemoveNode:
		return gate.StepRemoveNode, 0, s.Node
	}
	return "", 0, 0
}
