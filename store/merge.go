package store

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/replica"
)

// Merges on a node's store.
//
// The left half's replica applies a merge and, in the same batch, leaves
// a tombstone naming itself on the right half (replica/merge.go); once
// the batch is committed the store removes the right half's replica and
// its raft state (destroyMerged). A request that reaches the right half
// then is refused with WRONG_RANGE, so the router re-reads the table and
// sends it to the left half, like a request that reaches a frozen right
// half.
//
// A left replica that missed the merge and whose log was trimmed past it
// is sent a snapshot of the widened range, which overlaps the right
// half's replica still here (frozen, never merged locally). The snapshot
// is at a higher range generation and covers all of the frozen right
// half's range: the merge happened, so the stale replica is destroyed
// and the snapshot installed (dropMergedClaimants).

// destroyMerged removes the replicas of merged partitions: their raft
// state and replicated state, keeping the tombstone their merge left.
// The caller holds no replica.
func (s *Store) destroyMerged(partitions []uint64) error {
	var errs []error
	for _, p := range partitions {
		into := s.MergedInto(p)
		errs = append(errs, s.destroy(p, replica.MergedTombstone(into), false))
		s.cfg.Logger.Info("merge: removed the right half's replica", "partition", p, "into", into)
	}
	return errors.Join(errs...)
}

// MergedInto returns the partition that partition's replica on this node
// was merged into (0: none, or not merged).
func (s *Store) MergedInto(partition uint64) uint64 {
	v, err := s.cfg.Engine.Get(tombstoneKey(partition))
	if err != nil {
		return 0
	}
	return replica.MergedInto(v)
}

// noReplica is the error of a request for a partition this node has no
// replica of: WRONG_RANGE when the partition was merged away here (the
// router then finds the range's new owner), else ErrNoReplica.
func (s *Store) noReplica(partition uint64) error {
	if into := s.MergedInto(partition); into != 0 {
		return wrongRangeMerged(partition, into)
	}
	return fmt.Errorf("store: partition %d: %w", partition, ErrNoReplica)
}

func wrongRangeMerged(partition, into uint64) *partitapb.Error {
	return partitapb.Errorf(partitapb.Error_WRONG_RANGE, "partition %d was merged into partition %d", partition, into)
}

// dropMergedClaimants destroys the replicas on this node that a snapshot
// of partition whose range is d shows merged away: frozen right halves of
// a merge, whose whole range d covers at a higher range generation. The
// caller holds claimMu.
func (s *Store) dropMergedClaimants(partition uint64, d *partitapb.Descriptor) error {
	var errs []error
	for _, r := range s.Replicas() {
		c := r.Descriptor()
		if r.Partition() == partition || !fsm.FrozenRight(c) || c.GetGeneration() >= d.GetGeneration() ||
			!replica.Overlaps(c.GetSpans(), d.GetSpans()) || !coversAll(d.GetSpans(), c.GetSpans()) {
			continue
		}
		s.cfg.Logger.Info("merge: a snapshot of the widened range replaces the right half's replica",
			"partition", r.Partition(), "into", partition)
		errs = append(errs, s.destroy(r.Partition(), replica.MergedTombstone(partition), false))
	}
	return errors.Join(errs...)
}

// coversAll says every span of inner lies inside a span of outer.
func coversAll(outer, inner []*partitapb.Span) bool {
	for _, in := range inner {
		ok := false
		for _, out := range outer {
			if bytes.Compare(out.GetStart(), in.GetStart()) <= 0 && bytes.Compare(in.GetEnd(), out.GetEnd()) <= 0 {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// removeTombstoned finishes the destruction of replicas whose tombstone
// was committed (a merge's batch) but whose raft state the store had not
// removed yet when the node stopped. It returns the partitions left to
// open.
func (s *Store) removeTombstoned(ids []uint64) ([]uint64, error) {
	open := ids[:0]
	for _, id := range ids {
		v, err := s.cfg.Engine.Get(tombstoneKey(id))
		switch {
		case errors.Is(err, engine.ErrNotFound):
			open = append(open, id)
		case err != nil:
			return nil, err
		default:
			if err := s.clearReplica(id, v); err != nil {
				return nil, err
			}
		}
	}
	return open, nil
}
