package fsm

import (
	"fmt"
	"slices"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

// Retention of the Doctor's timeline. The bookkeeping record
// (directory.DoctorTimeline) counts the records, so a create looks for
// records to delete only when the count passes the bound, and keeps a
// floor below which no record is terminal: the search starts there and
// steps neither over the records it deleted before (whose tombstones pile
// up at the front of the span until a compaction) nor, twice, over
// records stuck in flight.

// retainDoctorOps counts the record newID just created and, when more
// than kept records exist, deletes the oldest terminal ones (never newID)
// until kept remain or none older is terminal.
func retainDoctorOps(b *engine.Batch, newID uint64, kept int) error {
	tl, err := directory.ReadDoctorTimeline(b)
	if err != nil {
		return err
	}
	tl.Count++
	if tl.Count > uint64(kept) {
		if tl, err = deleteOldestTerminal(b, tl, newID, uint64(kept)); err != nil {
			return err
		}
	}
	return writeDoctorTimeline(b, tl)
}

// deleteOldestTerminal deletes terminal records from tl.Floor up to
// newID, oldest first, while more than kept remain, and returns the
// bookkeeping after it.
func deleteOldestTerminal(b *engine.Batch, tl directory.DoctorTimeline, newID, kept uint64) (directory.DoctorTimeline, error) {
	doomed, next, err := oldestTerminal(b, tl.Floor, newID, tl.Count-kept)
	if err != nil {
		return tl, err
	}
	for _, key := range doomed {
		if err := b.Delete(key); err != nil {
			return tl, fmt.Errorf("fsm: doctor op retention: %w", err)
		}
	}
	return directory.DoctorTimeline{Count: tl.Count - uint64(len(doomed)), Floor: next}, nil
}

// oldestTerminal returns the keys of the at most max oldest terminal
// records with ids in [floor, newID), and the id where a later search
// may start: every record below it is in flight or among the keys.
func oldestTerminal(b *engine.Batch, floor, newID, max uint64) (keys [][]byte, next uint64, err error) {
	it, err := b.NewIter(directory.DoctorOpKey(floor), directory.DoctorOpKey(newID))
	if err != nil {
		return nil, 0, fmt.Errorf("fsm: doctor op retention: %w", err)
	}
	defer it.Close()
	next = floor
	for ok := it.First(); ok && uint64(len(keys)) < max; ok = it.Next() {
		op, err := directory.DecodeDoctorOp(it.Value())
		if err != nil {
			return nil, 0, fmt.Errorf("fsm: doctor op retention: key %q: %w", it.Key(), err)
		}
		if directory.DoctorOpTerminal(op.GetState()) {
			keys = append(keys, slices.Clone(it.Key()))
		}
		next = op.GetId() + 1
	}
	if err := it.Error(); err != nil {
		return nil, 0, fmt.Errorf("fsm: doctor op retention: %w", err)
	}
	if uint64(len(keys)) < max {
		next = newID // nothing older is terminal
	}
	return keys, next, nil
}

// lowerDoctorFloor records that op, which just became terminal, is a
// candidate for retention again if the floor had passed it.
func lowerDoctorFloor(b *engine.Batch, op *partitapb.DoctorOp) error {
	tl, err := directory.ReadDoctorTimeline(b)
	if err != nil {
		return err
	}
	if op.GetId() >= tl.Floor {
		return nil
	}
	tl.Floor = op.GetId()
	return writeDoctorTimeline(b, tl)
}

func writeDoctorTimeline(b *engine.Batch, tl directory.DoctorTimeline) error {
	if err := b.Set(directory.DoctorTimelineKey(), directory.EncodeDoctorTimeline(tl)); err != nil {
		return fmt.Errorf("fsm: write doctor timeline: %w", err)
	}
	return nil
}
