// Package engine is a node's storage: one Pebble instance holding item data,
// raft state and directory records in one LSM with one WAL.
//
// The key layout (keys.go) is the contract every other package relies on:
//
//	d | tableID(8) | hash(pk)(8) | enc(pk) | kind(1) | enc(sk)   item data
//	m | ...                                                   directory records
//	r | partitionID(8) | ...                                  per-replica local state
//
// Numbers are big-endian so byte order is numeric order. Items sort by the
// hash of their partition key first, so a table's partitions are contiguous
// ranges of a 64-bit hash space: a Query on one partition key is one byte
// range, and a split moves no data. enc is the order-preserving, self
// delimiting key encoding of package item; kind separates the base item
// (KindItem) from the local secondary index entries under the same
// partition key (KindLocal, local_keys.go).
//
// Typical use:
//
//	eng, err := engine.Open(engine.Options{Dir: dir, Logger: log})
//	b := eng.NewIndexedBatch() // reads see the batch's own writes
//	... b.Set(engine.DataKey(...), value) ...
//	err = eng.Commit(b)        // durable when it returns
package engine
