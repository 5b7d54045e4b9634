package raftlog

import (
	"encoding/binary"
	"fmt"

	"go.etcd.io/raft/v3/raftpb"
)

// A Batch collects operations on any number of partitions to write
// together: Log.Write writes them as one record, so that recovery finds
// either all of them or none. Operations apply in the order they were
// added. The zero value is an empty batch; Clear empties a written one for
// reuse. A Batch is not safe for concurrent use.
type Batch struct {
	rec   []byte // headerSize bytes of room for the frame, then the payload
	count int    // operations
	err   error  // the first malformed operation
}

// NewBatch returns an empty batch (a zero Batch is as good).
func (l *Log) NewBatch() *Batch { return new(Batch) }

// Empty reports whether b holds no operation.
func (b *Batch) Empty() bool { return b.count == 0 }

// Clear empties b, keeping its memory for the next batch. A batch must be
// cleared before it is filled again after a Write.
func (b *Batch) Clear() {
	b.rec, b.count, b.err = b.rec[:0], 0, nil
}

// start begins an operation of kind on partition.
func (b *Batch) start(kind opKind, partition uint64) {
	if len(b.rec) == 0 {
		b.rec = append(b.rec, make([]byte, headerSize)...)
	}
	b.rec = append(b.rec, byte(kind))
	b.rec = binary.AppendUvarint(b.rec, partition)
	b.count++
}

// Append adds raft entries to the partition's log: ents are consecutive,
// and any entry at or after ents[0].Index already there is replaced (the
// conflicting suffix goes). Write fails, writing nothing, unless
// ents[0].Index is in [first, last+1] of the partition's log as the
// operations before it in the batch leave it (a partition the log does not
// know has first 1 and last 0), and unless the log then holds at most
// MaxEntries entries. Append copies ents.
func (b *Batch) Append(partition uint64, ents []raftpb.Entry) {
	if len(ents) == 0 || b.err != nil {
		return
	}
	for i := range ents {
		if ents[i].Index != ents[0].Index+uint64(i) || ents[i].Index == 0 {
			b.err = fmt.Errorf("%w: partition %d: entry %d of an append has index %d after %d",
				ErrInvalidBatch, partition, i, ents[i].Index, ents[0].Index)
			return
		}
	}
	b.start(opAppend, partition)
	b.rec = binary.AppendUvarint(b.rec, ents[0].Index)
	b.rec = binary.AppendUvarint(b.rec, uint64(len(ents)))
	for i := range ents {
		var err error
		if b.rec, err = appendEntry(b.rec, &ents[i]); err != nil {
			b.err = err
			return
		}
	}
}

// SetHardState records the partition's raft hard state.
func (b *Batch) SetHardState(partition uint64, hs raftpb.HardState) {
	if b.err != nil {
		return
	}
	b.start(opHardState, partition)
	b.rec = appendHardState(b.rec, hs)
}

// Truncate says the partition's entries up to and including index are no
// longer needed: its truncated state becomes (index, term), term being the
// entry's term (as raft.Storage.Term gives it). Truncating to or below the
// current truncated index does nothing. An index beyond the last entry
// empties the log and makes index the last index, with term its term.
func (b *Batch) Truncate(partition uint64, index, term uint64) {
	b.indexOp(opTruncate, partition, index, term)
}

// Reset makes the partition's log start after (index, term), as when a
// snapshot at that index is installed: every entry goes, and the truncated
// state and last index become (index, term). The hard state stays.
func (b *Batch) Reset(partition uint64, index, term uint64) {
	b.indexOp(opReset, partition, index, term)
}

func (b *Batch) indexOp(kind opKind, partition, index, term uint64) {
	if b.err != nil {
		return
	}
	b.start(kind, partition)
	b.rec = binary.AppendUvarint(b.rec, index)
	b.rec = binary.AppendUvarint(b.rec, term)
}

// Remove forgets the partition, entries and states: its replica is gone.
// Operations on the same id after it start a new, empty log.
func (b *Batch) Remove(partition uint64) {
	if b.err != nil {
		return
	}
	b.start(opRemove, partition)
}
