package fsm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

// applyIndexCursor raises a base partition's index cursor; a cursor never
// moves back, so a stale maintainer's late write changes nothing.
func applyIndexCursor(b *engine.Batch, op *partitapb.IndexCursor) (*partitapb.Result, error) {
	if ix := op.GetBackfilledIndex(); ix != "" {
		if err := b.Set(directory.IndexBackfillKey(op.GetPartition(), ix), []byte{1}); err != nil {
			return nil, fmt.Errorf("fsm: write index backfill: %w", err)
		}
		return &partitapb.Result{}, nil
	}
	key := directory.IndexCursorKey(op.GetPartition())
	raw, err := engine.Get(b, key)
	if err != nil && !errors.Is(err, engine.ErrNotFound) {
		return nil, fmt.Errorf("fsm: read index cursor: %w", err)
	}
	cur, err := directory.DecodeIndexCursor(raw)
	if err != nil {
		return nil, err
	}
	if op.GetSeq() <= cur {
		return &partitapb.Result{}, nil
	}
	if err := b.Set(key, binary.BigEndian.AppendUint64(nil, op.GetSeq())); err != nil {
		return nil, fmt.Errorf("fsm: write index cursor: %w", err)
	}
	return &partitapb.Result{}, nil
}

// applyIndexWrite applies a batch of global secondary index entry writes
// in order (docs/indexes.md, "Maintenance"). Every key must be in the
// partition's range, or nothing is written (WRONG_RANGE: the router routes
// the batch again). A delete leaves a tombstone with its version, unless
// the partition keeps none (IndexRound.Swept); a backfill's write writes
// nothing over a live entry or a newer tombstone.
func applyIndexWrite(a *Applier, op *partitapb.IndexWrite) (*partitapb.Result, error) {
	for _, e := range op.GetEntries() {
		if !covers(a.desc.GetSpans(), e.GetKey(), nil) {
			return reject(partitapb.Error_WRONG_RANGE, "partition %d: an index entry's key is outside its range", a.partition), nil
		}
	}
	round, err := ReadIndexRound(a.b, a.partition)
	if err != nil {
		return nil, err
	}
	for _, e := range op.GetEntries() {
		raw, err := engine.Get(a.b, e.GetKey())
		if err != nil && !errors.Is(err, engine.ErrNotFound) {
			return nil, fmt.Errorf("fsm: read index entry: %w", err)
		}
		var oldSize int64
		live := err == nil && !engine.IsLocalEntry(raw)
		if live {
			old, err := item.DecodeItem(raw)
			if err != nil {
				return nil, fmt.Errorf("fsm: stored index entry %x is corrupt: %w", e.GetKey(), err)
			}
			oldSize = int64(old.Size())
		}
		if e.GetBackfill() {
			if live && !(e.GetDelete() && len(e.GetValue()) > 0 && bytes.Equal(raw, e.GetValue())) {
				// A write of the item's log is there: as new or newer (a
				// rebuild's delete names the entry it removes).
				continue
			}
			if g, s, ok := engine.DecodeGlobalTombstone(raw); ok && versionBefore(e.GetVersionGeneration(), e.GetVersionSeq(), g, s) {
				continue // deleted by a newer state of the item
			}
		}
		if e.GetDelete() && round.Swept() {
			// No backfill write can come that a tombstone would refuse.
			if err := a.b.Delete(e.GetKey()); err != nil {
				return nil, fmt.Errorf("fsm: delete index entry: %w", err)
			}
			if live {
				a.addStats(-1, -oldSize)
			}
			continue
		}
		if e.GetDelete() {
			if err := a.b.Set(e.GetKey(), engine.GlobalTombstoneValue(e.GetVersionGeneration(), e.GetVersionSeq())); err != nil {
				return nil, fmt.Errorf("fsm: write index tombstone: %w", err)
			}
			if live {
				a.addStats(-1, -oldSize)
			}
			continue
		}
		v, err := item.DecodeItem(e.GetValue())
		if err != nil {
			return nil, fmt.Errorf("fsm: index entry %x is corrupt: %w", e.GetKey(), err)
		}
		if err := a.b.Set(e.GetKey(), e.GetValue()); err != nil {
			return nil, fmt.Errorf("fsm: write index entry: %w", err)
		}
		if live {
			a.addStats(0, int64(v.Size())-oldSize)
		} else {
			a.addStats(1, int64(v.Size()))
		}
	}
	return &partitapb.Result{}, nil
}

// versionBefore reports whether version (g1, s1) is older than (g2, s2).
func versionBefore(g1, s1, g2, s2 uint64) bool {
	return g1 < g2 || (g1 == g2 && s1 < s2)
}
