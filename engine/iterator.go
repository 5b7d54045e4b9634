package engine

import "github.com/cockroachdb/pebble/v2"

// Iterator walks the keys of a Reader between the bounds it was created
// with, in byte order. Positioning methods report whether the iterator is
// at a key; Key and Value are valid until the next positioning call. After
// the walk, Error tells an exhausted range from a failed read. Like Batch,
// it is the Pebble iterator under a narrower method set.
type Iterator pebble.Iterator

func (it *Iterator) pebble() *pebble.Iterator { return (*pebble.Iterator)(it) }

// First moves to the first key.
func (it *Iterator) First() bool { return it.pebble().First() }

// Last moves to the last key.
func (it *Iterator) Last() bool { return it.pebble().Last() }

// Next moves to the next key.
func (it *Iterator) Next() bool { return it.pebble().Next() }

// Prev moves to the previous key.
func (it *Iterator) Prev() bool { return it.pebble().Prev() }

// SeekGE moves to the first key at or after key.
func (it *Iterator) SeekGE(key []byte) bool { return it.pebble().SeekGE(key) }

// Valid reports whether the iterator is at a key.
func (it *Iterator) Valid() bool { return it.pebble().Valid() }

// Key returns the current key.
func (it *Iterator) Key() []byte { return it.pebble().Key() }

// Value returns the current value.
func (it *Iterator) Value() []byte { return it.pebble().Value() }

// Error returns the error that ended the walk, if any.
func (it *Iterator) Error() error { return it.pebble().Error() }

// Close releases the iterator and returns Error.
func (it *Iterator) Close() error { return it.pebble().Close() }
