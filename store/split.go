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

// Splits on a node's store.
//
// A replica that applies a split creates the right half's replica in the
// same batch (replica/split.go); the store opens it once the batch is
// committed, and it campaigns at once if the left half's leader applied
// the split here.
//
// A slow replica may hear of the right half before it has applied the
// split itself: the right half's leader, finding this node behind, sends
// it a snapshot. Installing it would give this node two replicas owning
// the keys between the split point and the end of the left half's old
// range, and the left half, still applying its old log, would write keys
// the right half owns. So the store refuses a snapshot whose range
// overlaps what another replica here owns, is applying, or has staged
// (ErrRangeClaimed); the sender retries later, and by then the local left
// half has applied the split (creating the right half from its own state,
// so the snapshot is no longer needed) or has been given a snapshot taken
// after the split (which leaves the right half's range free). An empty
// replica of a partition born of a split is created only when no replica
// here claims its range (AddEmptyReplicaUnclaimed), for the same reason.

// ErrRangeClaimed is returned for a snapshot, or an empty replica, whose
// range overlaps a range another replica on this node owns or is about to
// own.
var ErrRangeClaimed = errors.New("store: the range is claimed by another replica on this node")

// claimant returns a replica other than partition claiming a span that
// overlaps spans (0: none). The caller holds claimMu.
func (s *Store) claimant(partition uint64, spans []*partitapb.Span) uint64 {
	if len(spans) == 0 {
		return 0
	}
	for _, r := range s.Replicas() {
		if r.Partition() != partition && replica.Overlaps(r.Claims(), spans) {
			return r.Partition()
		}
	}
	return 0
}

// AddEmptyReplicaUnclaimed creates an empty replica of partition, which
// will own spans once its leader sends it a snapshot, unless another
// replica on this node claims part of spans (ErrRangeClaimed) or one
// exists already.
func (s *Store) AddEmptyReplicaUnclaimed(partition uint64, spans []*partitapb.Span) error {
	s.claimMu.Lock()
	defer s.claimMu.Unlock()
	if s.Replica(partition) != nil {
		return nil
	}
	if other := s.claimant(partition, spans); other != 0 {
		return fmt.Errorf("store: partition %d overlaps partition %d: %w", partition, other, ErrRangeClaimed)
	}
	return s.AddEmptyReplica(partition)
}

// openSplits opens the replicas the round's splits created.
func (s *Store) openSplits(rd replica.Ready) error {
	var errs []error
	for _, id := range rd.Created {
		r, err := s.openCreated(id)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if rd.Campaign {
			if err := r.Campaign(); err != nil {
				s.cfg.Logger.Debug("campaign after split", "partition", id, "err", err)
			}
		}
		s.cfg.Logger.Info("split: opened the right half", "partition", id)
	}
	return errors.Join(errs...)
}

func (s *Store) openCreated(partition uint64) (*replica.Replica, error) {
	s.createMu.Lock()
	defer s.createMu.Unlock()
	if err := s.creating(partition); err != nil {
		return nil, err
	}
	return s.openReplica(partition)
}

// Descriptor returns the range of this node's replica of partition as of
// its committed state.
func (s *Store) Descriptor(partition uint64) (*partitapb.Descriptor, error) {
	r := s.Replica(partition)
	if r == nil {
		return nil, fmt.Errorf("store: partition %d: %w", partition, ErrNoReplica)
	}
	return r.Descriptor(), nil
}

// fenceRead refuses, with WRONG_RANGE, a read of [lo, hi) (hi nil: the key
// lo) that this node's replica of partition does not own as of its
// committed state: the reader's layout is older than a split; and a
// consistent read of the frozen right half of a merge. Only item
// keys are fenced (a partition's own local state, its statistics, is read
// through its id), and not on a replica that owns no span yet (an empty
// one).
func (s *Store) fenceRead(partition uint64, lo, hi []byte, consistent bool) error {
	r := s.Replica(partition)
	if r == nil {
		return s.noReplica(partition)
	}
	d := r.Descriptor()
	if consistent && fsm.FrozenRight(d) {
		// Once the merge commits, the left half takes writes to these
		// keys that this replica never sees.
		return partitapb.Errorf(partitapb.Error_WRONG_RANGE, "partition %d is frozen for a merge into partition %d",
			partition, d.GetFrozen().GetLeft())
	}
	if !engine.IsDataKey(lo) || len(d.GetSpans()) == 0 || owns(d.GetSpans(), lo, hi) {
		return nil
	}
	return partitapb.Errorf(partitapb.Error_WRONG_RANGE, "partition %d (range generation %d): the read's keys are outside its range",
		partition, d.GetGeneration())
}

// owns reports whether one of spans holds the key lo (hi nil) or all of
// [lo, hi).
func owns(spans []*partitapb.Span, lo, hi []byte) bool {
	for _, sp := range spans {
		if bytes.Compare(sp.GetStart(), lo) > 0 {
			continue
		}
		if hi == nil && bytes.Compare(lo, sp.GetEnd()) < 0 {
			return true
		}
		if hi != nil && bytes.Compare(hi, sp.GetEnd()) <= 0 {
			return true
		}
	}
	return false
}

// Destroyed says partition's replica was destroyed on this node.
func (s *Store) Destroyed(partition uint64) bool {
	_, err := s.cfg.Engine.Get(tombstoneKey(partition))
	return err == nil
}
