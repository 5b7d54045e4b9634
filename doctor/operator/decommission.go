package operator

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/doctor/placement"
	"github.com/partitadb/partita/topology"
)

// MoveReplica is the operator that moves from's replica of p to node to:
// to gets an empty replica, joins as a learner and is promoted once caught
// up; from hands over its leadership if it leads and is removed; the
// directory record lists to instead of from (a table's partition: the
// meta partition's replicas are its configuration); from's old replica is
// destroyed (when from can be reached: an unreachable node keeps it until
// it is wiped).
func MoveReplica(p topology.PartitionInfo, from, to uint64, fromReachable bool) *Operator {
	o := &Operator{
		Name: fmt.Sprintf("move-replica partition=%d from=%d to=%d", p.ID, from, to),
		Steps: []Step{
			CreateReplica{Node: to, Partition: p.ID},
			AddLearner{Partition: p.ID, Node: to},
			PromoteLearner{Partition: p.ID, Node: to},
			&TransferLeader{Partition: p.ID, From: from},
			RemoveVoter{Partition: p.ID, Node: from},
		},
	}
	if p.ID != directory.MetaPartition {
		o.Steps = append(o.Steps, SetReplicas{Table: p.Table, Partition: p.ID, Remove: from, Add: to})
	}
	if fromReachable {
		o.Steps = append(o.Steps, DestroyReplica{Node: from, Partition: p.ID})
	}
	return o
}

// Decommission moves every replica of node gone to other nodes, one
// partition at a time (a MoveReplica each, to the node placement.Target
// picks), table partitions first and the meta partition last (gone's
// meta replica keeps its directory current meanwhile); once none is left,
// it removes gone's directory record. Running it again resumes it.
//
// It acts outside the Doctor (no gate, no busy mark on the partitions, so
// an active Doctor may act on the same partition meanwhile): it is the
// decommission of clusters below the version
// clusterversion.DecommissionMarks, whose binaries cannot apply a
// decommissioning mark. From that version on, the node is marked instead
// and the Doctor moves its replicas (checker's decommission checker).
func Decommission(ctx context.Context, e *Env, gone uint64) (DecommissionResult, error) {
	res := DecommissionResult{Node: gone, Mode: DecommissionByOperator, Partitions: []DecommissionPartition{}}
	if e.c.Directory(ctx).Node(gone) == nil {
		return res, fmt.Errorf("%w: node %d", ErrNoNode, gone)
	}
	_, parts, _ := e.View(ctx)
	slices.SortStableFunc(parts, func(a, b topology.PartitionInfo) int {
		return boolInt(a.ID == directory.MetaPartition) - boolInt(b.ID == directory.MetaPartition)
	})
	res.Done = true
	for _, p := range parts {
		if !p.Hosts(gone) {
			continue
		}
		step := moveOff(ctx, e, p.ID, gone)
		if step.State != StepMoved {
			res.Done = false
		}
		res.Partitions = append(res.Partitions, step)
		e.log.Info("decommission step", "node", gone, "partition", p.ID, "state", step.State, "to", step.To, "err", step.Error)
		if ctx.Err() != nil {
			res.Done = false
			break
		}
	}
	if res.Done {
		if err := runStep(ctx, e, RemoveNode{Node: gone}); err != nil {
			return res, fmt.Errorf("operator: remove node %d: %w", gone, err)
		}
		res.Removed = true
	}
	return res, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// moveOff moves gone's replica of partition to the node placement picks,
// from a fresh view, and reports how far it went.
func moveOff(ctx context.Context, e *Env, partition, gone uint64) DecommissionPartition {
	out := DecommissionPartition{Partition: partition, State: StepFailed}
	snap, parts, answers := e.View(ctx)
	i := slices.IndexFunc(parts, func(p topology.PartitionInfo) bool { return p.ID == partition })
	if i < 0 {
		out.Error = fmt.Sprintf("partition %d: %v", partition, ErrGone)
		return out
	}
	p := parts[i]
	out.Table = p.Table
	to, err := placement.Target(snap, e.c.Now(), parts, p, gone, answers.Reachable)
	if err != nil {
		out.Error = err.Error()
		return out
	}
	out.To = to
	err = Run(ctx, e, MoveReplica(p, gone, to, answers.Reachable(gone)))
	var se *StepError
	switch {
	case err == nil:
	case errors.As(err, &se) && isDestroy(se.Step):
		err = fmt.Errorf("old replica not destroyed: %w", se.Err)
	default:
		out.Error = err.Error()
		return out
	}
	out.State, out.Directory = StepMoved, "updated"
	if partition == directory.MetaPartition {
		out.Directory = "n/a"
	}
	switch {
	case err != nil:
		out.Error = err.Error()
	case !answers.Reachable(gone):
		out.Error = "node unreachable: its old replica stays until it is wiped"
	default:
		out.Destroyed = true
	}
	return out
}

func isDestroy(s Step) bool {
	_, ok := s.(DestroyReplica)
	return ok
}
