package replica

import (
	"bytes"
	"errors"
	"fmt"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/partitapb"
)

// A split (fsm's SplitRange) is applied by every replica of the partition
// at the same log index. The state machine narrows the range and divides
// the statistics; the replica then creates, in the same batch, the right
// half's raft group on this node: its raft state bootstrapped as a new
// group's is (index 10, term 5, the partition's voters), its descriptor,
// and the applied index. The right half's items are already on disk under
// their keys: nothing is copied. The store opens the new replica once the
// batch is committed (Ready.Created).
//
// The right half is not created when this node already has raft state
// for it (it was given a snapshot of the right half, which is newer than
// the split), nor when its tombstone is here (the right half was moved
// away from this node before this replica caught up): then its items are
// cleared, as the right half's destroyed replica's would have been.

// TombstoneKey is the key marking partition's replica as destroyed on
// this node: partition ids are never reused, so a stale view of the
// placement must not bring it back.
func TombstoneKey(partition uint64) []byte { return engine.LocalKey(partition, "tomb") }

// members returns the partition's membership as the state machine sees
// it at the entry being applied.
func (r *Replica) members() fsm.Members {
	cs := r.st.conf
	return fsm.Members{Voters: cs.Voters, Learners: cs.Learners, Joint: len(cs.VotersOutgoing) > 0}
}

// applySplit creates the right half of an applied split on this node, if
// it should exist here, and reports whether it was created.
func (r *Replica) applySplit(b *engine.Batch, s *partitapb.SplitOutcome) (bool, error) {
	right := s.GetRight()
	id := right.GetPartition()
	if has, err := hasRaftState(b, id); err != nil {
		return false, err
	} else if has {
		r.cfg.Logger.Warn("the right half of a split exists here already", "partition", r.cfg.Partition, "right", id)
		return false, r.keepStats(b, id)
	}
	if _, err := engine.Get(b, TombstoneKey(id)); err == nil {
		return false, clearRange(b, id, right.GetSpans())
	} else if !errors.Is(err, engine.ErrNotFound) {
		return false, err
	}
	if err := bootstrapRange(b, right, s.GetSplit().GetVoters()); err != nil {
		return false, err
	}
	return true, nil
}

// keepStats undoes, in b, the split's writes of the right half's
// replicated state (its statistics, the start of its change log) when
// the right half exists here already: its own state, newer than the
// split, is what counts.
func (r *Replica) keepStats(b *engine.Batch, partition uint64) error {
	for _, k := range fsm.SplitRightKeys(partition) {
		raw, err := r.cfg.Engine.Get(k)
		switch {
		case errors.Is(err, engine.ErrNotFound):
			err = b.Delete(k)
		case err != nil:
			return fmt.Errorf("replica: read the state of partition %d: %w", partition, err)
		default:
			err = b.Set(k, raw)
		}
		if err != nil {
			return fmt.Errorf("replica: keep the state of partition %d: %w", partition, err)
		}
	}
	return nil
}

// clearRange removes the items of spans and the replicated state of
// partition, which has no replica on this node.
func clearRange(b *engine.Batch, partition uint64, spans []*partitapb.Span) error {
	for _, sp := range append(spans, replicatedLocalSpan(partition)) {
		if err := b.DeleteRange(sp.GetStart(), sp.GetEnd()); err != nil {
			return fmt.Errorf("replica: clear partition %d: %w", partition, err)
		}
	}
	return nil
}

// Descriptor returns the range of the replica as of its committed applied
// state.
func (r *Replica) Descriptor() *partitapb.Descriptor {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.published
}

// Claims returns the key spans this replica owns or is about to own: its
// committed range, the range applied into a batch not yet committed, and
// the range of a snapshot staged for installation. A snapshot of another
// partition overlapping them must not be installed on this node.
func (r *Replica) Claims() []*partitapb.Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := append([]*partitapb.Span(nil), r.published.GetSpans()...)
	out = append(out, r.desc.GetSpans()...)
	if r.staged != nil {
		out = append(out, r.staged.desc.GetSpans()...)
	}
	return out
}

// Overlaps reports whether a span of a overlaps a span of b.
func Overlaps(a, b []*partitapb.Span) bool {
	for _, x := range a {
		for _, y := range b {
			if bytes.Compare(x.GetStart(), y.GetEnd()) < 0 && bytes.Compare(y.GetStart(), x.GetEnd()) < 0 {
				return true
			}
		}
	}
	return false
}

// bootstrapRange writes the initial raft state of a group with voters
// owning d's range into b (see Bootstrap).
func bootstrapRange(b *engine.Batch, d *partitapb.Descriptor, voters []uint64) error {
	p := d.GetPartition()
	if err := writeInitialRaftState(b, p, raftpb.ConfState{Voters: voters}); err != nil {
		return err
	}
	if err := fsm.WriteDescriptor(b, d); err != nil {
		return err
	}
	return writeApplied(b, p, initialIndex, initialTerm)
}

// CountItems counts the partition's items in one committed state of the
// replica (between two of its rounds): it returns that state's applied
// index, the statistics the state held and what the count found there
// (fsm.CountItems), what a RecountStats carries.
func (r *Replica) CountItems() (applied uint64, seen, found fsm.Stats, err error) {
	r.Lock()
	snap := r.cfg.Engine.NewSnapshot()
	applied, desc := r.Applied(), r.Descriptor()
	r.Unlock()
	defer snap.Close()
	if seen, err = fsm.ReadStats(snap, r.cfg.Partition); err != nil {
		return 0, fsm.Stats{}, fsm.Stats{}, err
	}
	if found, err = fsm.CountItems(snap, desc); err != nil {
		return 0, fsm.Stats{}, fsm.Stats{}, fmt.Errorf("replica: partition %d: %w", r.cfg.Partition, err)
	}
	return applied, seen, found, nil
}
