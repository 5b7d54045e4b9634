package engine

import (
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// Batch is a set of writes that Commit applies atomically. A batch from
// NewIndexedBatch also reads: Get and NewIter see its own writes over the
// state committed when the batch was created. A Batch is the Pebble batch
// itself under a narrower method set, so it costs nothing to wrap.
type Batch pebble.Batch

func (b *Batch) pebble() *pebble.Batch { return (*pebble.Batch)(b) }

func (b *Batch) reader() pebble.Reader { return b.pebble() }

// Set writes value under key.
func (b *Batch) Set(key, value []byte) error {
	if err := b.pebble().Set(key, value, nil); err != nil {
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
