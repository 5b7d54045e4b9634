package replica

import (
	"bytes"
	"encoding/binary"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

// A merge (fsm's MergeRange) is applied by every replica of the left half
// at the same log index, after the directory committed it. The state
// machine widens the range over the right half's and takes over its
// statistics and command ids from the right half's replica on this node,
// which the merge's coordinator saw frozen (applied up to its freeze, so
// holding every item the right half ever accepted) on every node before
// committing. The replica then marks the right half's replica destroyed,
// in the same batch: a tombstone naming the left half, so that it is
// never created again and requests that reach it learn where its range
// went. The store removes its raft state once the batch is committed
// (Ready.Merged). Its items stay where they are: they are the left
// half's now (the store clears none of a destroyed replica's range that
// another replica here owns).

// applyMerge marks m's right half destroyed on this node, merged into
// this replica's partition.
func (r *Replica) applyMerge(b *engine.Batch, m *partitapb.MergeIntent) error {
	right := m.GetRight()
	d, err := readDescriptor(b, right)
	if err != nil {
		return err
	}
	if f := d.GetFrozen(); f == nil || !bytes.Equal(f.GetId(), m.GetId()) || d.GetFrozenLeft() {
		// The coordinator commits only once every node's right replica is
		// frozen for the merge; this one is not (or is gone): its items,
		// if any, are whatever this node last had.
		r.cfg.Logger.Error("merge: the right half's replica here is not frozen for the merge",
			"partition", r.cfg.Partition, "right", right)
	}
	return b.Set(TombstoneKey(right), MergedTombstone(r.cfg.Partition))
}

// MergedTombstone is the value of the tombstone of a partition merged
// into partition into (a destroyed replica's tombstone is empty).
func MergedTombstone(into uint64) []byte { return binary.BigEndian.AppendUint64(nil, into) }

// MergedInto returns the partition a tombstone's value says its
// partition was merged into (0: destroyed otherwise).
func MergedInto(tombstone []byte) uint64 {
	if len(tombstone) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(tombstone)
}

// Frozen returns the merge this replica's range is frozen for as of its
// committed state (nil: none), and whether it is that merge's left half.
func (r *Replica) Frozen() (*partitapb.MergeIntent, bool) {
	d := r.Descriptor()
	return d.GetFrozen(), d.GetFrozenLeft()
}
