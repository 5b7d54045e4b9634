package store

import (
	"fmt"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

// Orphaned data: keys no replica on this store owns.
//
// A replica's destruction clears the data under its spans that no other
// replica here owns (replica_gc.go). Data can still be left behind with
// no owner: by a destruction that could not read its replica's
// descriptor or the others' ranges (it leaves the data and logs it), or
// by binaries older than replica GC, which left a removed replica's data.
// SweepOrphans finds it the way a destruction decides what to clear:
// under claimMu and createMu, the spans of the data and directory
// keyspaces (engine.DataRange, engine.MetaRange) that no replica owns or
// is about to own (otherClaims: the claims of the replicas in memory, the
// committed descriptors of those only in the engine) are orphaned, and
// those that hold keys are cleared, by range deletions in one batch.
// What the replicas own cannot change under the two mutexes but from one
// replica to another (a split, a merge), never onto an orphaned span.

// SweepOrphans clears the data that no replica on this store owns and
// returns the spans it cleared (none: nothing was orphaned).
func (s *Store) SweepOrphans() ([]*partitapb.Span, error) {
	s.claimMu.Lock()
	defer s.claimMu.Unlock()
	s.createMu.Lock()
	defer s.createMu.Unlock()
	if err := s.creating(0); err != nil {
		return nil, err // stopped: the engine may be closed
	}
	owned, err := s.otherClaims(0) // partition 0 is no partition: every replica counts
	if err != nil {
		return nil, fmt.Errorf("store: sweep orphaned data: %w", err)
	}
	dataStart, dataEnd := engine.DataRange()
	metaStart, metaEnd := engine.MetaRange()
	free := subtractSpans([]*partitapb.Span{{Start: dataStart, End: dataEnd}, {Start: metaStart, End: metaEnd}}, owned)
	var cleared []*partitapb.Span
	b := s.cfg.Engine.NewIndexedBatch()
	for _, sp := range free {
		first, found, err := s.firstKey(sp)
		if err != nil {
			b.Close()
			return nil, fmt.Errorf("store: sweep orphaned data: %w", err)
		}
		if !found {
			continue
		}
		if err := b.DeleteRange(sp.GetStart(), sp.GetEnd()); err != nil {
			b.Close()
			return nil, fmt.Errorf("store: sweep orphaned data: %w", err)
		}
		cleared = append(cleared, sp)
		s.cfg.Logger.Warn("clearing data no replica on this node owns", "start", fmt.Sprintf("%x", sp.GetStart()),
			"end", fmt.Sprintf("%x", sp.GetEnd()), "first_key", fmt.Sprintf("%x", first))
	}
	if len(cleared) == 0 {
		b.Close()
		return nil, nil
	}
	if err := s.cfg.Engine.Commit(b); err != nil {
		return nil, fmt.Errorf("store: sweep orphaned data: %w", err)
	}
	s.m.orphansCleared.Add(float64(len(cleared)))
	return cleared, nil
}

// firstKey returns the first key in sp, if any.
func (s *Store) firstKey(sp *partitapb.Span) ([]byte, bool, error) {
	it, err := s.cfg.Engine.NewIter(sp.GetStart(), sp.GetEnd())
	if err != nil {
		return nil, false, err
	}
	if !it.First() {
		return nil, false, it.Close()
	}
	k := append([]byte(nil), it.Key()...)
	return k, true, it.Close()
}
