package member

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/partitadb/partita/cluster"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/replica"
	"github.com/partitadb/partita/topology"
)

// The replica operations this node does for its peers (cluster.Local):
// the steps of the control plane's operators, each idempotent so that a
// retried step is safe.

// ReplicaStatus lists this node's replicas, by partition.
func (p peer) ReplicaStatus(context.Context) (topology.LocalReplicas, error) {
	out := topology.LocalReplicas{Node: p.m.cfg.Self, Replicas: []topology.LocalReplica{}}
	for _, r := range p.m.cfg.Store.Replicas() {
		st, cs, d := r.Stats(), r.ConfState(), r.Descriptor()
		out.Replicas = append(out.Replicas, topology.LocalReplica{
			Partition: r.Partition(), Leader: st.Leader, Lead: st.Lead, Term: st.Term, Applied: st.Applied,
			LogEntries: st.LogEntries, LogBytes: st.LogBytes,
			Voters: sortedIDs(cs.Voters), Learners: sortedIDs(cs.Learners),
			RangeGeneration: d.GetGeneration(), FrozenFor: d.GetFrozen().GetId(), FrozenLeft: d.GetFrozenLeft(),
		})
	}
	slices.SortFunc(out.Replicas, func(a, b topology.LocalReplica) int { return cmp.Compare(a.Partition, b.Partition) })
	return out, nil
}

// leading returns this node's replica of partition if it leads it.
func (p peer) leading(partition uint64) (*replica.Replica, error) {
	r := p.m.cfg.Store.Replica(partition)
	if r == nil {
		return nil, fmt.Errorf("node %d: partition %d: %w", p.m.cfg.Self, partition, cluster.ErrNoReplica)
	}
	if l := r.Leader(); l != p.m.cfg.Self {
		return nil, &replica.NotLeaderError{Partition: partition, Leader: l}
	}
	return r, nil
}

// notFrozen refuses a membership change of a partition frozen for a
// merge: the merge's coordinator checked its voters on every node, and a
// replica added now would miss the right half's items.
func notFrozen(r *replica.Replica) error {
	if f, _ := r.Frozen(); f != nil {
		return partitapb.Errorf(partitapb.Error_VALIDATION, "partition %d is frozen for a merge of partitions %d and %d",
			r.Partition(), f.GetLeft(), f.GetRight())
	}
	return nil
}

func membership(r *replica.Replica) cluster.Membership {
	cs := r.ConfState()
	return cluster.Membership{Voters: sortedIDs(cs.Voters), Learners: sortedIDs(cs.Learners)}
}

// AddLearner adds node as a learner unless it is a member already.
func (p peer) AddLearner(ctx context.Context, partition, node uint64) (cluster.Membership, error) {
	if err := p.fence(ctx); err != nil {
		return cluster.Membership{}, err
	}
	r, err := p.leading(partition)
	if err != nil {
		return cluster.Membership{}, err
	}
	if err := notFrozen(r); err != nil {
		return cluster.Membership{}, err
	}
	if cs := r.ConfState(); !slices.Contains(cs.Voters, node) && !slices.Contains(cs.Learners, node) {
		if err := p.m.cfg.Store.AddLearner(ctx, partition, node); err != nil {
			return cluster.Membership{}, fmt.Errorf("member: add node %d as learner of partition %d: %w", node, partition, err)
		}
	}
	return membership(r), nil
}

// PromoteLearner makes learner node a voter once caught up.
func (p peer) PromoteLearner(ctx context.Context, partition, node uint64) (cluster.Membership, error) {
	if err := p.fence(ctx); err != nil {
		return cluster.Membership{}, err
	}
	r, err := p.leading(partition)
	if err != nil {
		return cluster.Membership{}, err
	}
	if err := notFrozen(r); err != nil {
		return cluster.Membership{}, err
	}
	if !slices.Contains(r.ConfState().Voters, node) {
		if err := p.m.cfg.Store.PromoteLearner(ctx, partition, node); err != nil {
			return cluster.Membership{}, fmt.Errorf("member: promote node %d in partition %d: %w", node, partition, err)
		}
	}
	return membership(r), nil
}

// RemoveVoter removes node from partition; this leader hands leadership
// over first (cluster.ErrLeadershipMoved).
func (p peer) RemoveVoter(ctx context.Context, partition, node uint64) (cluster.Membership, error) {
	if err := p.fence(ctx); err != nil {
		return cluster.Membership{}, err
	}
	r, err := p.leading(partition)
	if err != nil {
		return cluster.Membership{}, err
	}
	if err := notFrozen(r); err != nil {
		return cluster.Membership{}, err
	}
	if err := p.m.cfg.Store.RemoveReplica(ctx, partition, node); err != nil {
		return cluster.Membership{}, fmt.Errorf("member: remove node %d from partition %d (leader now %d): %w", node, partition, r.Leader(), err)
	}
	return membership(r), nil
}

// TransferLeadership hands this node's leadership of partition to voter
// to (0: the store's choice).
func (p peer) TransferLeadership(ctx context.Context, partition, to uint64) (uint64, error) {
	if err := p.fence(ctx); err != nil {
		return 0, err
	}
	r, err := p.leading(partition)
	if err != nil {
		return 0, err
	}
	if err := p.m.cfg.Store.TransferLeadershipTo(ctx, partition, to); err != nil {
		return 0, err
	}
	return r.Leader(), nil
}

// DestroyReplica removes this node's replica of partition once the
// directory, refreshed first, no longer lists it there (else the
// reconciler would create it again); for the meta partition, the caller
// has seen its removal committed. Its data goes with it (store.Destroy).
func (p peer) DestroyReplica(ctx context.Context, partition uint64) error {
	if err := p.fence(ctx); err != nil {
		return err
	}
	if partition != directory.MetaPartition {
		rctx, cancel := context.WithTimeout(ctx, refreshTimeout)
		if err := p.m.Refresh(rctx); err != nil {
			p.m.cfg.Logger.Debug("destroying against a cached directory", "err", err)
		}
		cancel()
	}
	return p.m.DestroyReplica(partition)
}

// refreshTimeout bounds the directory refresh before a destroy.
const refreshTimeout = 2 * time.Second

func sortedIDs(ids []uint64) []uint64 {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

// fence refuses a replica operation of a Doctor whose epoch is older than
// the Doctor lease this node knows: that Doctor was taken over, and its
// operations in flight must stop (the directory refuses its commands the
// same way). An operator's call carries no epoch. The node's directory
// may lag the lease: a stale Doctor can pass here until it catches up,
// which is why every step is also validated against the partition's
// current configuration.
func (p peer) fence(ctx context.Context) error {
	e := cluster.DoctorEpochFrom(ctx)
	if e == 0 {
		return nil
	}
	if cur := p.m.dir.Snapshot().DoctorLease; e < cur.GetEpoch() {
		return partitapb.Errorf(partitapb.Error_STALE_EPOCH, "doctor epoch %d is older than the lease's epoch %d (holder %d)",
			e, cur.GetEpoch(), cur.GetHolder())
	}
	return nil
}
