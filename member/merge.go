package member

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/partitadb/partita/clusterversion"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/topology"
)

// Merging two adjacent partitions of a table, the operation behind
// `partita ctl partition merge` and the Doctor's merge checker. The
// directory is the arbiter (docs/splits.md, "Merges"):
//
//  1. BeginMerge (meta) records the intent on the right partition's
//     record: both partitions at the range generations read, adjacent,
//     on the same nodes, neither merging.
//  2. FreezeRange on the right partition: from its log index on it takes
//     no item write (WRONG_RANGE, which the router retries). FreezeRange
//     on the left: it takes no split or other merge. Neither applies a
//     membership change while frozen (replica.applyConfChange).
//  3. The coordinator waits until every node's replicas of both show the
//     freeze (a frozen right replica has applied everything the right
//     half ever accepted) and the membership is still the merge's.
//  4. CommitMerge (meta), the commit point, a compare-and-set on the
//     intent: the left record widens, the right one goes.
//  5. MergeRange on the left: every replica widens its range and removes
//     the right half's replica on its node.
//
// A merge that fails before 4 is aborted (AbortMerge, the same
// compare-and-set) and both halves unfreeze. The reconciler finishes what
// a dead coordinator left (finishMerges): it proposes step 5 for a
// committed merge the left half has not applied, aborts an intent older
// than MergeAbandonAfter, and unfreezes a half whose merge the directory
// no longer has pending, after making sure, by an AbortMerge of its own,
// that it is not about to be committed.

// ErrMerge marks a merge request that cannot be carried out as asked (no
// right neighbour, not on the same nodes, a merge in flight).
var ErrMerge = errors.New("member: cannot merge")

const (
	// mergeFreezeWait bounds step 3: a node down or behind makes the
	// merge abort rather than wait for it.
	mergeFreezeWait = 10 * time.Second
	// MergeAbandonAfter is the age past which the reconciler aborts a
	// merge intent still pending: its coordinator is gone.
	MergeAbandonAfter = 30 * time.Second
)

// Merge merges partition of table with its right neighbour (the
// partition whose range starts where partition's ends), from a fresh
// directory, and returns the table's record afterwards and the right
// neighbour's id.
func (m *Member) Merge(ctx context.Context, table string, partition uint64) (*partitapb.Table, uint64, error) {
	return m.MergeWith(ctx, table, partition, 0)
}

// MergeWith is Merge, refused (ErrMerge) unless partition's right
// neighbour is with (0: any): what the Doctor planned.
func (m *Member) MergeWith(ctx context.Context, table string, partition, with uint64) (*partitapb.Table, uint64, error) {
	if err := m.Refresh(ctx); err != nil {
		return nil, 0, err
	}
	t := m.dir.Snapshot().Table(table)
	if t == nil {
		return nil, 0, fmt.Errorf("%w: no table %s", ErrNoTable, table)
	}
	intent, hashEnd, err := m.mergeIntent(t, partition)
	if err != nil {
		return nil, 0, err
	}
	if with != 0 && intent.GetRight() != with {
		return nil, 0, fmt.Errorf("%w: partition %d's right neighbour is %d now, not %d", ErrMerge, partition, intent.GetRight(), with)
	}
	right := intent.GetRight()
	if _, err := m.proposeMeta(ctx, &partitapb.Command{UnixNanos: m.cfg.Now().UnixNano(),
		Op: &partitapb.Command_BeginMerge{BeginMerge: &partitapb.BeginMerge{Table: table, Merge: intent}}}); err != nil {
		return nil, right, fmt.Errorf("%w: %w", ErrMerge, err)
	}
	m.cfg.Logger.Info("merge begun", "table", table, "left", intent.GetLeft(), "right", right)
	if err := m.freezeAndCommit(ctx, table, intent); err != nil {
		committed, aerr := m.abortMerge(ctx, table, intent)
		if !committed {
			return nil, right, fmt.Errorf("%w: partitions %d and %d: %w", ErrMerge, intent.GetLeft(), right, errors.Join(err, aerr))
		}
	}
	if err := m.applyMerge(ctx, intent, hashEnd); err != nil {
		return nil, right, err
	}
	if err := m.Refresh(ctx); err != nil {
		return nil, right, err
	}
	return m.dir.Snapshot().Table(table), right, nil
}

// mergeIntent checks that partition of t can merge with its right
// neighbour and describes the merge; hashEnd is the merged range's end.
func (m *Member) mergeIntent(t *partitapb.Table, partition uint64) (*partitapb.MergeIntent, uint64, error) {
	parts := t.GetPartitions()
	i := slices.IndexFunc(parts, func(p *partitapb.Partition) bool { return p.GetId() == partition })
	switch {
	case i < 0:
		return nil, 0, fmt.Errorf("%w: table %s has no partition %d", ErrMerge, t.GetName(), partition)
	case i+1 >= len(parts) || parts[i].GetHashEnd() == 0:
		return nil, 0, fmt.Errorf("%w: partition %d of table %s ends the hash space: it has no right neighbour", ErrMerge, partition, t.GetName())
	}
	l, r := parts[i], parts[i+1]
	if !slices.Equal(sortedIDs(l.GetReplicas()), sortedIDs(r.GetReplicas())) {
		return nil, 0, fmt.Errorf("%w: partitions %d and %d are not on the same nodes (%v and %v); move their replicas together first",
			ErrMerge, l.GetId(), r.GetId(), l.GetReplicas(), r.GetReplicas())
	}
	if l.GetMerge() != nil || r.GetMerge() != nil {
		return nil, 0, fmt.Errorf("%w: partitions %d and %d: a merge is in flight", ErrMerge, l.GetId(), r.GetId())
	}
	voters := l.GetReplicas()
	if len(voters) == 0 {
		voters = m.voters(l.GetId())
	}
	return &partitapb.MergeIntent{
		Id: m.cfg.NewID(), TableId: t.GetId(), Left: l.GetId(), Right: r.GetId(),
		LeftGeneration: l.GetRangeGeneration(), RightGeneration: r.GetRangeGeneration(), Voters: sortedIDs(voters),
	}, r.GetHashEnd(), nil
}

// freezeAndCommit freezes both halves, waits for every replica to show
// it, and commits the merge in the directory.
func (m *Member) freezeAndCommit(ctx context.Context, table string, intent *partitapb.MergeIntent) error {
	for _, left := range []bool{false, true} {
		p := intent.GetRight()
		if left {
			p = intent.GetLeft()
		}
		if err := m.proposeRange(ctx, p, &partitapb.Command{Op: &partitapb.Command_FreezeRange{
			FreezeRange: &partitapb.FreezeRange{Merge: intent, Left: left}}}); err != nil {
			return fmt.Errorf("freeze partition %d: %w", p, err)
		}
	}
	if err := m.waitFrozen(ctx, intent); err != nil {
		return err
	}
	_, err := m.proposeMeta(ctx, &partitapb.Command{Op: &partitapb.Command_CommitMerge{CommitMerge: &partitapb.CommitMerge{
		Table: table, MergeId: intent.GetId()}}})
	return err
}

// waitFrozen waits until every voter's replicas of both halves are frozen
// for intent with the merge's voters and no learner.
func (m *Member) waitFrozen(ctx context.Context, intent *partitapb.MergeIntent) error {
	ctx, cancel := context.WithTimeout(ctx, mergeFreezeWait)
	defer cancel()
	var last error
	for {
		last = m.frozenEverywhere(ctx, intent)
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for every replica to freeze: %w", errors.Join(last, ctx.Err()))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// frozenEverywhere checks intent's voters once.
func (m *Member) frozenEverywhere(ctx context.Context, intent *partitapb.MergeIntent) error {
	for _, node := range intent.GetVoters() {
		st, err := m.replicaStatus(ctx, node)
		if err != nil {
			return err
		}
		for _, p := range []uint64{intent.GetLeft(), intent.GetRight()} {
			r, ok := st.Replica(p)
			switch {
			case !ok:
				return fmt.Errorf("node %d has no replica of partition %d", node, p)
			case !bytes.Equal(r.FrozenFor, intent.GetId()) || r.FrozenLeft != (p == intent.GetLeft()):
				return fmt.Errorf("node %d's replica of partition %d is not frozen for the merge yet", node, p)
			case len(r.Learners) > 0 || !slices.Equal(r.Voters, intent.GetVoters()):
				return fmt.Errorf("node %d's replica of partition %d has voters %v and learners %v, not %v",
					node, p, r.Voters, r.Learners, intent.GetVoters())
			}
		}
	}
	return nil
}

// replicaStatus lists node's replicas.
func (m *Member) replicaStatus(ctx context.Context, node uint64) (topology.LocalReplicas, error) {
	if node == m.cfg.Self || m.cfg.Client == nil {
		return peer{m}.ReplicaStatus(ctx)
	}
	return m.cfg.Client.ReplicaStatus(ctx, node)
}

// abortMerge aborts intent in the directory and unfreezes both halves;
// committed says the directory had committed it already (the merge must
// then be finished, not undone).
func (m *Member) abortMerge(ctx context.Context, table string, intent *partitapb.MergeIntent) (committed bool, err error) {
	if committed, err := m.abortIntent(ctx, table, intent.GetId()); committed || err != nil {
		return committed, err
	}
	var errs []error
	for _, p := range []uint64{intent.GetRight(), intent.GetLeft()} {
		errs = append(errs, m.unfreeze(ctx, p, intent.GetId()))
	}
	return false, errors.Join(errs...)
}

// abortIntent proposes AbortMerge; committed says the directory refused
// because the merge is committed.
func (m *Member) abortIntent(ctx context.Context, table string, id []byte) (committed bool, err error) {
	_, err = m.proposeMeta(ctx, &partitapb.Command{Op: &partitapb.Command_AbortMerge{AbortMerge: &partitapb.AbortMerge{
		Table: table, MergeId: id}}})
	var pe *partitapb.Error
	if errors.As(err, &pe) && pe.GetCode() == partitapb.Error_VALIDATION {
		return true, nil
	}
	return false, err
}

func (m *Member) unfreeze(ctx context.Context, partition uint64, id []byte) error {
	return m.proposeRange(ctx, partition, &partitapb.Command{Op: &partitapb.Command_UnfreezeRange{
		UnfreezeRange: &partitapb.UnfreezeRange{MergeId: id}}})
}

// applyMerge proposes the committed merge intent to its left half.
func (m *Member) applyMerge(ctx context.Context, intent *partitapb.MergeIntent, hashEnd uint64) error {
	err := m.proposeRange(ctx, intent.GetLeft(), &partitapb.Command{Op: &partitapb.Command_MergeRange{
		MergeRange: &partitapb.MergeRange{Merge: intent, RightHashEnd: hashEnd,
			KeepSegments: m.dir.Snapshot().ActiveVersion() >= clusterversion.LocalIndexTransactions}}})
	if err != nil {
		return fmt.Errorf("member: merge committed, not yet applied by partition %d (the reconciler finishes it): %w", intent.GetLeft(), err)
	}
	m.cfg.Logger.Info("merged", "left", intent.GetLeft(), "right", intent.GetRight())
	return nil
}

// proposeRange proposes a merge's range command to partition and returns
// its rejection as the error.
func (m *Member) proposeRange(ctx context.Context, partition uint64, cmd *partitapb.Command) error {
	cmd.Id = m.cfg.NewID()
	res, err := m.cfg.Sender.Propose(ctx, partition, cmd)
	if err != nil {
		return err
	}
	if e := res.GetError(); e != nil {
		return e
	}
	return nil
}

// proposeMeta proposes a directory command and returns its result, or
// its rejection as the error.
func (m *Member) proposeMeta(ctx context.Context, cmd *partitapb.Command) (*partitapb.Result, error) {
	cmd.Id = m.cfg.NewID()
	res, err := m.cfg.Sender.Propose(ctx, directory.MetaPartition, cmd)
	if err != nil {
		return nil, err
	}
	if e := res.GetError(); e != nil {
		return nil, e
	}
	return res, nil
}

// finishMerges carries on the merges whose coordinator is gone, for the
// partitions this node leads (see the top of this file).
func (m *Member) finishMerges(ctx context.Context) error {
	snap := m.dir.Snapshot()
	var errs []error
	for _, t := range snap.Tables {
		for _, p := range t.GetPartitions() {
			r := m.cfg.Store.Replica(p.GetId())
			if r == nil || r.Leader() != m.cfg.Self {
				continue
			}
			d := r.Descriptor()
			switch {
			case p.GetMerged() != nil && bytes.Equal(d.GetFrozen().GetId(), p.GetMerged().GetId()) && d.GetFrozenLeft():
				m.cfg.Logger.Info("finishing a committed merge", "table", t.GetName(), "left", p.GetId())
				errs = append(errs, m.applyMerge(ctx, p.GetMerged(), p.GetHashEnd()))
			case p.GetMerge() != nil && m.cfg.Now().Sub(time.Unix(0, p.GetMerge().GetStartedUnixNanos())) > MergeAbandonAfter:
				m.cfg.Logger.Warn("aborting an abandoned merge", "table", t.GetName(), "right", p.GetId())
				_, err := m.abortIntent(ctx, t.GetName(), p.GetMerge().GetId())
				errs = append(errs, err)
			case d.GetFrozen() != nil && !mergeListed(t, d.GetFrozen().GetId()):
				errs = append(errs, m.unfreezeAborted(ctx, t.GetName(), p.GetId(), d.GetFrozen().GetId()))
			}
		}
	}
	return errors.Join(errs...)
}

// mergeListed says t lists merge id pending or committed.
func mergeListed(t *partitapb.Table, id []byte) bool {
	return slices.ContainsFunc(t.GetPartitions(), func(p *partitapb.Partition) bool {
		return bytes.Equal(p.GetMerge().GetId(), id) || bytes.Equal(p.GetMerged().GetId(), id)
	})
}

// unfreezeAborted unfreezes partition, frozen for a merge the directory
// copy lists neither pending nor committed: once the directory itself
// says it is aborted (the copy may lag a merge just begun, which this
// aborts), the freeze can go.
func (m *Member) unfreezeAborted(ctx context.Context, table string, partition uint64, id []byte) error {
	committed, err := m.abortIntent(ctx, table, id)
	if committed || err != nil {
		return err
	}
	m.cfg.Logger.Info("unfreezing a partition whose merge was aborted", "table", table, "partition", partition)
	return m.unfreeze(ctx, partition, id)
}
