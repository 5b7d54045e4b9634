// Package fsm is a partition's state machine: the deterministic function that
// applies one replicated command to the partition's state.
//
// Apply reads and writes through a Pebble indexed batch, so several commands
// applied into one batch see each other's writes, and the batch commits them
// atomically. Apply never consults a clock or a random source: every input it
// needs (the command's id, its timestamp, the expressions) is carried in the
// command, so every replica that applies the same log computes the same
// state and the same Result.
//
// Rejections (a failed condition, an update that does not type-check against
// the stored item, an item grown past 400 KB, a table name in use) are part
// of the Result, not Go errors: they are as deterministic as a write. A Go
// error from Apply means the storage failed and the replica must stop.
//
// Commands for table records (CreateTable, DeleteTable, ...) are applied by
// the meta partition; item commands by the partition owning the key.
package fsm
