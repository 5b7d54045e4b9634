package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"go.etcd.io/raft/v3/tracker"

	"github.com/partitadb/partita/replica"
)

// Membership changes are single ConfChangeV2 steps proposed on the leader:
// a new replica joins as a learner (it catches up, by snapshot if need be,
// without counting toward quorum), is promoted to voter, and a replica
// leaves by removal. Removing the leader first hands leadership to the most
// caught-up follower, so the change costs one election and no more.

// AddLearner adds node as a learner of partition. The node must host an
// (empty) replica of the partition for the leader's messages to land.
func (s *Store) AddLearner(ctx context.Context, partition, node uint64) error {
	return s.changeReplicas(ctx, partition, raftpb.ConfChangeAddLearnerNode, node, func(cs raftpb.ConfState) bool {
		return slices.Contains(cs.Learners, node)
	})
}

// PromoteLearner makes learner node a voter of partition once it has caught
// up with the leader's log.
func (s *Store) PromoteLearner(ctx context.Context, partition, node uint64) error {
	if err := s.waitCaughtUp(ctx, partition, node); err != nil {
		return err
	}
	return s.changeReplicas(ctx, partition, raftpb.ConfChangeAddNode, node, func(cs raftpb.ConfState) bool {
		return slices.Contains(cs.Voters, node)
	})
}

// ErrLeadershipMoved is returned by RemoveReplica when the replica to
// remove was the leader: leadership has moved, and the caller retries the
// removal on the new leader.
var ErrLeadershipMoved = errors.New("store: leadership moved before removing the leader")

// RemoveReplica removes node from partition's replicas. If node is this
// leader, it transfers leadership first and returns ErrLeadershipMoved.
func (s *Store) RemoveReplica(ctx context.Context, partition, node uint64) error {
	if node == s.cfg.NodeID {
		if err := s.TransferLeadership(ctx, partition); err != nil {
			return err
		}
		return ErrLeadershipMoved
	}
	return s.changeReplicas(ctx, partition, raftpb.ConfChangeRemoveNode, node, func(cs raftpb.ConfState) bool {
		return !slices.Contains(cs.Voters, node) && !slices.Contains(cs.Learners, node)
	})
}

// transferRetryTicks is how long TransferLeadership waits for one transfer
// before it picks a target again: raft abandons a transfer that has not
// completed within an election timeout (the target was behind, or its
// messages were lost).
const transferRetryTicks = 20

// TransferLeadershipTo hands this node's leadership of partition to voter
// to, or, with to 0, does what TransferLeadership does.
func (s *Store) TransferLeadershipTo(ctx context.Context, partition, to uint64) error {
	if to == 0 {
		return s.TransferLeadership(ctx, partition)
	}
	if to == s.cfg.NodeID {
		return nil // leads already
	}
	r := s.Replica(partition)
	if r == nil {
		return fmt.Errorf("store: partition %d: %w", partition, ErrNoReplica)
	}
	if st := r.Status(); st.RaftState != raft.StateLeader {
		return fmt.Errorf("store: partition %d: not the leader", partition)
	} else if pr, ok := st.Progress[to]; !ok || pr.IsLearner {
		return fmt.Errorf("store: partition %d: node %d is no voter to take leadership", partition, to)
	}
	// One attempt: raft aborts a transfer the target does not take within
	// an election timeout, and a target that cannot take it now (down,
	// far behind) is the caller's to reconsider.
	if err := s.TransferLeader(partition, to); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, transferRetryTicks*s.cfg.TickInterval)
	defer cancel()
	err := s.waitFor(wctx, func() bool { return r.Leader() != s.cfg.NodeID && r.Leader() != 0 })
	switch {
	case err == nil && r.Leader() == to:
		return nil
	case err == nil:
		return fmt.Errorf("store: partition %d: leadership went to node %d, not %d", partition, r.Leader(), to)
	}
	return fmt.Errorf("store: partition %d: node %d did not take the leadership: %w", partition, to, err)
}

// TransferLeadership hands this node's leadership of partition to the
// voter with the most of the log, and waits until it has moved. A transfer
// that raft abandons is retried, to the then best target, until ctx ends.
func (s *Store) TransferLeadership(ctx context.Context, partition uint64) error {
	r := s.Replica(partition)
	if r == nil {
		return fmt.Errorf("store: partition %d: %w", partition, ErrNoReplica)
	}
	moved := func() bool { return r.Leader() != s.cfg.NodeID && r.Leader() != 0 }
	for {
		if err := s.transferOnce(r, partition); err != nil {
			if moved() {
				return nil
			}
			return err
		}
		wctx, cancel := context.WithTimeout(ctx, transferRetryTicks*s.cfg.TickInterval)
		err := s.waitFor(wctx, moved)
		cancel()
		if err == nil || ctx.Err() != nil {
			return err
		}
	}
}

// transferOnce asks raft to transfer partition's leadership to the live
// voter with the most of the log.
func (s *Store) transferOnce(r *replica.Replica, partition uint64) error {
	st := r.TopologyStatus()
	if st.State != raft.StateLeader {
		return fmt.Errorf("store: partition %d: not the leader", partition)
	}
	now := time.Now
	if s.cfg.Replica.Now != nil {
		now = s.cfg.Replica.Now
	}
	target := transferTarget(st.Followers, now(), s.electionTimeout(), s.cfg.AvoidLeading)
	if target == 0 {
		return fmt.Errorf("store: partition %d: no live voter to take leadership", partition)
	}
	return s.TransferLeader(partition, target)
}

// transferTarget is the voter among a leader's followers with the most of
// the log of those that are live: raft heard from it since its last
// quorum check (RecentActive), or it answered within the last election
// timeout. The second covers the moment after each quorum check, which
// clears every follower's RecentActive until its next answer (a tick
// later): a transfer asked for then would find no live voter. A voter
// avoid names (nil: none) is chosen only when no other is live.
func transferTarget(followers []replica.FollowerStatus, now time.Time, timeout time.Duration, avoid func(uint64) bool) uint64 {
	target, best, avoided := uint64(0), uint64(0), false
	for _, f := range followers {
		live := f.RecentActive || f.Heard && now.Sub(f.LastContact) < timeout
		if f.Learner || !live {
			continue
		}
		a := avoid != nil && avoid(f.Node)
		// Better: the first, one not avoided over one avoided, else the
		// most of the log.
		if target == 0 || avoided && !a || avoided == a && f.Match > best {
			target, best, avoided = f.Node, f.Match, a
		}
	}
	return target
}

func (s *Store) changeReplicas(ctx context.Context, partition uint64, typ raftpb.ConfChangeType, node uint64, done func(raftpb.ConfState) bool) error {
	r := s.Replica(partition)
	if r == nil {
		return fmt.Errorf("store: partition %d: %w", partition, ErrNoReplica)
	}
	cc := raftpb.ConfChangeV2{Changes: []raftpb.ConfChangeSingle{{Type: typ, NodeID: node}}}
	applied := func() bool { return done(r.ConfState()) }
	for !applied() {
		// Raft drops a conf change proposed while another is not yet
		// applied (a new leader's log counts as one until it applies
		// it), without a word: one not applied within two election
		// timeouts is proposed again. A second proposal of a change
		// still in flight is dropped the same way.
		if err := s.ProposeConfChange(partition, cc); err != nil {
			return err
		}
		wctx, cancel := context.WithTimeout(ctx, 2*s.electionTimeout())
		err := s.waitFor(wctx, applied)
		cancel()
		if err == nil || ctx.Err() != nil {
			return err
		}
	}
	return nil
}

// waitCaughtUp waits until node's replica has every entry the leader has.
func (s *Store) waitCaughtUp(ctx context.Context, partition, node uint64) error {
	r := s.Replica(partition)
	if r == nil {
		return fmt.Errorf("store: partition %d: %w", partition, ErrNoReplica)
	}
	return s.waitFor(ctx, func() bool {
		st := r.Status()
		pr, ok := st.Progress[node]
		return ok && pr.State == tracker.StateReplicate && pr.Match >= st.Commit
	})
}

// waitFor polls cond until it holds or ctx ends.
func (s *Store) waitFor(ctx context.Context, cond func() bool) error {
	t := time.NewTicker(s.cfg.TickInterval / 4)
	defer t.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.stop:
			return errors.New("store: stopped")
		case <-t.C:
		}
	}
	return nil
}
