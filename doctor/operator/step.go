package operator

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/partitadb/partita/cluster"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/partitapb"
)

// Step is one small change to the cluster. Run is idempotent: a step that
// is done already succeeds without changing anything, so an operator that
// stopped half way is resumed by running it again from its first step.
type Step interface {
	Run(ctx context.Context, e *Env) error
	// String describes the step, stably (tests compare it).
	String() string
}

// CreateReplica makes Node host an empty replica of Partition, to be
// added as a learner.
type CreateReplica struct{ Node, Partition uint64 }

func (s CreateReplica) String() string {
	return fmt.Sprintf("create-replica node=%d partition=%d", s.Node, s.Partition)
}

// Run creates the replica; one there already is kept.
func (s CreateReplica) Run(ctx context.Context, e *Env) error {
	return e.c.Node(s.Node).CreateReplica(ctx, s.Partition)
}

// AddLearner adds Node to Partition's group as a learner, on the leader.
type AddLearner struct{ Partition, Node uint64 }

func (s AddLearner) String() string {
	return fmt.Sprintf("add-learner partition=%d node=%d", s.Partition, s.Node)
}

// Run adds the learner unless Node is a member already.
func (s AddLearner) Run(ctx context.Context, e *Env) error {
	return changeOnLeader(ctx, e, s.Partition, s.Node, Replicas.AddLearner)
}

// PromoteLearner makes learner Node a voter of Partition once caught up.
type PromoteLearner struct{ Partition, Node uint64 }

func (s PromoteLearner) String() string {
	return fmt.Sprintf("promote-learner partition=%d node=%d", s.Partition, s.Node)
}

// Run promotes the learner unless Node is a voter already.
func (s PromoteLearner) Run(ctx context.Context, e *Env) error {
	return changeOnLeader(ctx, e, s.Partition, s.Node, Replicas.PromoteLearner)
}

// TransferLeader moves Partition's leadership off From, if From leads it,
// to Target (0: the voter From chooses). To is the new leader once Run
// succeeded (0: From did not lead).
type TransferLeader struct {
	Partition, From uint64
	Target          uint64
	To              uint64
}

func (s *TransferLeader) String() string {
	if s.Target != 0 {
		return fmt.Sprintf("transfer-leader partition=%d from=%d to=%d", s.Partition, s.From, s.Target)
	}
	return fmt.Sprintf("transfer-leader partition=%d from=%d", s.Partition, s.From)
}

// Run asks From to hand its leadership over; a From that does not lead
// is done already, and so is an unreachable From that the last view did
// not show leading (the steps on the leader go to the one that does).
func (s *TransferLeader) Run(ctx context.Context, e *Env) error {
	to, err := e.c.Node(s.From).TransferLeadership(ctx, s.Partition, s.Target)
	if notLeader(err) || errors.Is(err, cluster.ErrUnreachable) && e.knownLeader(s.Partition) != s.From {
		return nil
	}
	if err != nil {
		return err
	}
	s.To = to
	e.setLeader(s.Partition, to)
	return nil
}

// membershipChange is one of the leader's membership operations.
type membershipChange func(r Replicas, ctx context.Context, partition, node uint64) (cluster.Membership, error)

// changeOnLeader runs change for node on partition's leader, following
// leadership as it moves.
func changeOnLeader(ctx context.Context, e *Env, partition, node uint64, change membershipChange) error {
	return e.onLeader(ctx, partition, func(r Replicas) error {
		_, err := change(r, ctx, partition, node)
		return err
	})
}

// notLeader says err is a node's answer that it does not lead the
// partition, or hosts none of it.
func notLeader(err error) bool {
	return isNotLeader(err) || errors.Is(err, cluster.ErrNoReplica)
}

// RemoveVoter removes Node from Partition's group, on the leader.
type RemoveVoter struct{ Partition, Node uint64 }

func (s RemoveVoter) String() string {
	return fmt.Sprintf("remove-voter partition=%d node=%d", s.Partition, s.Node)
}

// Run removes Node unless it is no member; a leader asked to remove
// itself hands over first, and the removal follows the new leader.
func (s RemoveVoter) Run(ctx context.Context, e *Env) error {
	return changeOnLeader(ctx, e, s.Partition, s.Node, Replicas.RemoveVoter)
}

// RemoveLearner removes Node's learner from Partition: a rollback's undo
// of a learner its operation added. It runs as RemoveVoter does (raft
// removes a learner with the same change); the step check tells them
// apart: a learner promoted since the undo was planned is left in place.
type RemoveLearner struct{ Partition, Node uint64 }

func (s RemoveLearner) String() string {
	return fmt.Sprintf("remove-learner partition=%d node=%d", s.Partition, s.Node)
}

// Run removes Node unless it is no member.
func (s RemoveLearner) Run(ctx context.Context, e *Env) error {
	return changeOnLeader(ctx, e, s.Partition, s.Node, Replicas.RemoveVoter)
}

// SetReplicas replaces Remove by Add in the directory record of Table's
// Partition (a compare-and-set on its generation, retried when the record
// moved on meanwhile).
type SetReplicas struct {
	Table       string
	Partition   uint64
	Remove, Add uint64
}

func (s SetReplicas) String() string {
	return fmt.Sprintf("set-replicas table=%s partition=%d remove=%d add=%d", s.Table, s.Partition, s.Remove, s.Add)
}

// setReplicasAttempts bounds SetReplicas's compare-and-set attempts.
const setReplicasAttempts = 5

// Run updates the record unless it lists the new replicas already.
func (s SetReplicas) Run(ctx context.Context, e *Env) error {
	var err error
	for attempt := 0; attempt < setReplicasAttempts && ctx.Err() == nil; attempt++ {
		if attempt > 0 {
			sleep(ctx, 200*time.Millisecond)
		}
		cur, gone := currentRecord(ctx, e, s.Table, s.Partition)
		if gone != nil {
			return gone
		}
		replicas := slices.DeleteFunc(slices.Clone(cur.GetReplicas()), func(id uint64) bool { return id == s.Remove })
		if !slices.Contains(replicas, s.Add) {
			replicas = append(replicas, s.Add)
		}
		if slices.Equal(replicas, cur.GetReplicas()) {
			return nil
		}
		if err = e.c.SetReplicas(ctx, s.Table, s.Partition, replicas, cur.GetGeneration()); err == nil {
			return nil
		}
	}
	return errors.Join(err, ctx.Err())
}

// ErrGone is returned by steps on a partition or node the directory no
// longer lists.
var ErrGone = errors.New("operator: no longer in the directory")

// currentRecord is partition's record in the directory as it is now;
// ErrGone when its table no longer lists it.
func currentRecord(ctx context.Context, e *Env, table string, partition uint64) (*partitapb.Partition, error) {
	cur := partitionRecord(e.c.Directory(ctx), table, partition)
	if cur == nil {
		return nil, fmt.Errorf("%w: table %s has no partition %d", ErrGone, table, partition)
	}
	return cur, nil
}

func partitionRecord(snap *directory.Snapshot, table string, partition uint64) *partitapb.Partition {
	for _, p := range snap.Table(table).GetPartitions() {
		if p.GetId() == partition {
			return p
		}
	}
	return nil
}

// DestroyReplica removes Node's replica of Partition, once Node's
// directory no longer lists it there.
type DestroyReplica struct{ Node, Partition uint64 }

func (s DestroyReplica) String() string {
	return fmt.Sprintf("destroy-replica node=%d partition=%d", s.Node, s.Partition)
}

// destroyAttempts bounds the wait for Node's directory to catch up.
const destroyAttempts = 10

// Run destroys the replica, retrying while Node's directory lists it; no
// replica is done already.
func (s DestroyReplica) Run(ctx context.Context, e *Env) error {
	var err error
	for attempt := 0; attempt < destroyAttempts && ctx.Err() == nil; attempt++ {
		if attempt > 0 {
			sleep(ctx, 300*time.Millisecond)
		}
		err = e.c.Node(s.Node).DestroyReplica(ctx, s.Partition)
		if !errors.Is(err, cluster.ErrStillListed) {
			return err
		}
	}
	return err
}

// RemoveNode deletes Node's directory record: it is no member any more.
type RemoveNode struct{ Node uint64 }

func (s RemoveNode) String() string { return fmt.Sprintf("remove-node node=%d", s.Node) }

// Run deletes the record (absent already: done).
func (s RemoveNode) Run(ctx context.Context, e *Env) error {
	if e.c.Directory(ctx).Node(s.Node) == nil {
		return nil
	}
	return e.c.RemoveNode(ctx, s.Node)
}

// SyncReplicas makes the directory record of Table's Partition list
// Replicas (raft's configuration), a compare-and-set on the generation
// the caller saw: a record that moved on since is not overwritten.
type SyncReplicas struct {
	Table      string
	Partition  uint64
	Replicas   []uint64
	Generation uint64
}

func (s SyncReplicas) String() string {
	return fmt.Sprintf("sync-replicas table=%s partition=%d replicas=%v", s.Table, s.Partition, s.Replicas)
}

// Run writes the list unless the record lists it already.
func (s SyncReplicas) Run(ctx context.Context, e *Env) error {
	cur, err := currentRecord(ctx, e, s.Table, s.Partition)
	if err != nil {
		return err
	}
	if sameMembers(cur.GetReplicas(), s.Replicas) {
		return nil
	}
	return e.c.SetReplicas(ctx, s.Table, s.Partition, slices.Clone(s.Replicas), s.Generation)
}

func sameMembers(a, b []uint64) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// SplitPartition splits a partition of table at Hash, provided its record is still at Generation (the plan's): a
// record that moved on was split already (by this step, before a
// takeover) or changed otherwise, and the step has nothing to do; the
// next plan judges the partition afresh.
type SplitPartition struct {
	Table      string
	Partition  uint64
	Generation uint64
	// Hash is the first hash of the right half (0: the middle).
	Hash uint64
}

func (s SplitPartition) String() string {
	return fmt.Sprintf("split table=%s partition=%d at=%#x", s.Table, s.Partition, s.Hash)
}

// Run splits the partition unless its record moved on.
func (s SplitPartition) Run(ctx context.Context, e *Env) error {
	cur, err := currentRecord(ctx, e, s.Table, s.Partition)
	if err != nil {
		return err
	}
	if cur.GetGeneration() != s.Generation {
		return nil
	}
	return e.c.Split(ctx, s.Table, s.Partition, s.Hash)
}

// MergePartition merges a partition of table with its right neighbour
// With, provided both records are still at the plan's generations: a
// record that moved on was merged already (by this step, before a
// takeover) or changed otherwise, and the step has nothing to do.
type MergePartition struct {
	Table      string
	Partition  uint64
	Generation uint64
	With       uint64
}

func (s MergePartition) String() string {
	return fmt.Sprintf("merge table=%s partition=%d with=%d", s.Table, s.Partition, s.With)
}

// Run merges the partitions unless the left one's record moved on; the
// merge is refused if With is no longer its right neighbour.
func (s MergePartition) Run(ctx context.Context, e *Env) error {
	cur, err := currentRecord(ctx, e, s.Table, s.Partition)
	if err != nil {
		return err
	}
	if cur.GetGeneration() != s.Generation {
		return nil
	}
	return e.c.Merge(ctx, s.Table, s.Partition, s.With)
}
