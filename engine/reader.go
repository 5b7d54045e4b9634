package engine

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// Reader is a read view of the engine: the latest committed state (an
// *Engine), an indexed batch (its own writes over the committed state) or a
// Snapshot. Only this package implements it.
type Reader interface {
	// NewIter returns an iterator over [lower, upper); a nil bound is open.
	// The caller closes it.
	NewIter(lower, upper []byte) (*Iterator, error)

	reader() pebble.Reader
}

var (
	_ Reader = (*Engine)(nil)
	_ Reader = (*Batch)(nil)
	_ Reader = (*Snapshot)(nil)
)

// Get reads key from r, returning a copy of the value or ErrNotFound.
func Get(r Reader, key []byte) ([]byte, error) { return get(r.reader(), key) }

func get(r pebble.Reader, key []byte) ([]byte, error) {
	v, closer, err := r.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("engine: get: %w", err)
	}
	out := append([]byte(nil), v...)
	if err := closer.Close(); err != nil {
		return nil, fmt.Errorf("engine: get: %w", err)
	}
	return out, nil
}

// Probe reads key from r like Get, for a key that is likely absent: the
// old item of an insert, the at-most-once record of a new request. It
// asks the bloom filters of every level, the last one included. Pebble's
// Get skips the last level's filters (there, most looked-up keys exist,
// and its filter blocks are the largest), so a Get of an absent key reads
// a data block of the bottom level: after a compaction, from disk.
func Probe(r Reader, key []byte) ([]byte, error) {
	_, v, err := ProbeFirst(r, key)
	return v, err
}

// ProbeFirst probes keys in order, as Probe does, through one iterator,
// and returns the index and a copy of the value of the first one present;
// ErrNotFound if none is. Several likely absent keys cost one iterator's
// set-up instead of one each (the at-most-once record of a retried write
// has two possible keys).
func ProbeFirst(r Reader, keys ...[]byte) (int, []byte, error) {
	it, err := r.reader().NewIter(&pebble.IterOptions{UseL6Filters: true})
	if err != nil {
		return 0, nil, fmt.Errorf("engine: probe: %w", err)
	}
	at, out := -1, []byte(nil)
	for i, key := range keys {
		if it.SeekPrefixGE(key) && bytes.Equal(it.Key(), key) {
			v, verr := it.ValueAndErr()
			if verr != nil {
				_ = it.Close()
				return 0, nil, fmt.Errorf("engine: probe: %w", verr)
			}
			at, out = i, append([]byte(nil), v...)
			break
		}
	}
	if err := it.Close(); err != nil {
		return 0, nil, fmt.Errorf("engine: probe: %w", err)
	}
	if at < 0 {
		return 0, nil, ErrNotFound
	}
	return at, out, nil
}

func newIter(r pebble.Reader, lower, upper []byte) (*Iterator, error) {
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, fmt.Errorf("engine: new iterator: %w", err)
	}
	return (*Iterator)(it), nil
}

// Snapshot is a consistent, point-in-time view of the engine.
type Snapshot pebble.Snapshot

func (s *Snapshot) pebble() *pebble.Snapshot { return (*pebble.Snapshot)(s) }

func (s *Snapshot) reader() pebble.Reader { return s.pebble() }

// NewIter returns an iterator over [lower, upper) of the snapshot; a nil
// bound is open. The caller closes it.
func (s *Snapshot) NewIter(lower, upper []byte) (*Iterator, error) {
	return newIter(s.pebble(), lower, upper)
}

// Close releases the snapshot.
func (s *Snapshot) Close() error {
	if err := s.pebble().Close(); err != nil {
		return fmt.Errorf("engine: close snapshot: %w", err)
	}
	return nil
}
