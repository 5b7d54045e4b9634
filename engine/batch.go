package engine

import (
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/partitadb/partita/engine/raftlog"
)

// Batch is a set of writes that Commit applies atomically. A batch from
// NewIndexedBatch also reads: Get and NewIter see its own writes over the
// state committed when the batch was created.
//
// On an engine with a raft log of its own (Options.SeparateRaftLog), a batch also
// carries raft log records, in two groups that Commit orders around the
// Pebble writes: Log's before them (entries and hard states, whose
// application the Pebble writes may hold), LogAfter's once they are
// durable (truncations, resets and removals, which may drop what only the
// Pebble writes make unnecessary).
type Batch struct {
	pb     *pebble.Batch
	log    *raftlog.Log
	before *raftlog.Batch
	after  *raftlog.Batch
}

func (b *Batch) pebble() *pebble.Batch { return b.pb }

// RaftLog returns the engine's raft log of its own, whose state the
// batch's records will change; nil if the engine keeps its raft logs in
// Pebble.
func (b *Batch) RaftLog() *raftlog.Log { return b.log }

// Log returns the raft log records written before the batch's Pebble
// writes; nil if the engine keeps its raft logs in Pebble.
func (b *Batch) Log() *raftlog.Batch {
	if b.log == nil {
		return nil
	}
	if b.before == nil {
		b.before = b.log.NewBatch()
	}
	return b.before
}

// LogAfter returns the raft log records written once the batch's Pebble
// writes are durable (Commit then syncs them, whatever its kind); nil if
// the engine keeps its raft logs in Pebble.
func (b *Batch) LogAfter() *raftlog.Batch {
	if b.log == nil {
		return nil
	}
	if b.after == nil {
		b.after = b.log.NewBatch()
	}
	return b.after
}

func (b *Batch) reader() pebble.Reader { return b.pebble() }

// Set writes value under key.
func (b *Batch) Set(key, value []byte) error {
	if err := b.pebble().Set(key, value, nil); err != nil {
		return fmt.Errorf("engine: set: %w", err)
	}
	return nil
}

// SetWith writes under key a value of n bytes that fill writes in place,
// into the batch's own buffer: the value is neither allocated nor copied
// (a raft entry, marshalled straight into the batch).
func (b *Batch) SetWith(key []byte, n int, fill func(value []byte) error) error {
	op := b.pebble().SetDeferred(len(key), n)
	copy(op.Key, key)
	if err := fill(op.Value); err != nil {
		return fmt.Errorf("engine: set: %w", err)
	}
	if err := op.Finish(); err != nil {
		return fmt.Errorf("engine: set: %w", err)
	}
	return nil
}

// Delete removes key.
func (b *Batch) Delete(key []byte) error {
	if err := b.pebble().Delete(key, nil); err != nil {
		return fmt.Errorf("engine: delete: %w", err)
	}
	return nil
}

// DeleteRange removes every key in [start, end).
func (b *Batch) DeleteRange(start, end []byte) error {
	if err := b.pebble().DeleteRange(start, end, nil); err != nil {
		return fmt.Errorf("engine: delete range: %w", err)
	}
	return nil
}

// Apply adds the writes of other to b, in order; other is unchanged.
func (b *Batch) Apply(other *Batch) error {
	if err := b.pebble().Apply(other.pebble(), nil); err != nil {
		return fmt.Errorf("engine: apply batch: %w", err)
	}
	return nil
}

// NewIter returns an iterator over [lower, upper) of an indexed batch: its
// own writes over the committed state. A nil bound is open. The caller
// closes it.
func (b *Batch) NewIter(lower, upper []byte) (*Iterator, error) {
	return newIter(b.pebble(), lower, upper)
}

// Close releases an uncommitted batch, dropping its writes. Commit closes
// the batches it commits.
func (b *Batch) Close() error {
	if err := b.pebble().Close(); err != nil {
		return fmt.Errorf("engine: close batch: %w", err)
	}
	return nil
}
