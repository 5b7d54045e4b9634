// Package raftlog is a node's raft log: the entries and hard states of every
// partition replica on the node, in one append-only sequence of segment
// files, outside the LSM that holds the data. Entries are short-lived (raft
// truncates them soon after they apply), so an LSM spends memtable inserts,
// WAL bytes, flushes and compactions on data it deletes; here a write is one
// record appended to a file, and one fdatasync makes a whole store round of
// every partition durable.
//
// # Use
//
//	l, err := raftlog.Open(raftlog.Options{FS: vfs.Default, Dir: dir, Logger: log})
//	var b raftlog.Batch
//	b.Append(p, rd.Entries)      // for every partition with a Ready
//	b.SetHardState(p, rd.HardState)
//	err = l.Write(&b, true)      // durable when it returns
//	ents, err := l.Entries(p, lo, hi, maxSize)
//	b.Clear()
//	b.Truncate(p, applied, term) // once the entries are no longer needed
//
// State, Term and Entries answer raft.Storage's questions; the caller keeps
// its own entry cache and its ConfState. A snapshot installed is
// Batch.Reset, a replica gone Batch.Remove.
//
// # Format
//
// A segment is named by its number (0000000000000007.log) and is a
// sequence of records, each one Write's batch, or a record the log writes
// itself:
//
//	crc32c(4) | length(4) | payload
//
// The payload is a sequence of operations (codec.go): append, hardstate,
// truncate, reset, remove, and two the log writes itself, checkpoint and
// rewrite. An appended entry is kept in its raftpb encoding, with its term
// and length in front of it, so that recovery indexes it without decoding
// it and a read is one ReadAt. Every segment starts with a checkpoint: the
// hard state, truncated state and last index of every partition, so that a
// segment is needed only for the live entries in it.
//
// In memory, each partition has its states and, per live entry, its term,
// segment, offset and length (24 bytes); reads go to the files.
//
// # Durability and recovery
//
// Write appends a record with one positioned write; with sync it then
// fdatasyncs the current segment, unless another writer's sync already
// covered the record. A file's writes and syncs never overlap (vfs.File
// asks so): writers that arrive while one syncs write their records after
// it, and the first of them to sync covers the records of all that wrote
// before it. When the current segment passes Options.SegmentBytes it is
// synced and closed, and the next one starts with its checkpoint, synced
// too; the directory is synced after a segment is created, so syncing the
// current segment makes everything written durable.
//
// Open replays every segment in order, starting from the first segment's
// checkpoint and checking every later checkpoint against the state replay
// reached. A record cut short or failing its checksum at the end of the
// last segment is what a crash leaves: the tail from there is cut off (by
// copying the good prefix to a file that replaces the segment, as vfs has
// no truncate), and recovery keeps every record before it: every batch
// written with sync, and each batch whole or not at all. Such a record
// anywhere else, a record that decodes wrong, a checkpoint that disagrees,
// or a gap in the segment numbers fails Open with ErrCorrupt. Writing
// resumes at the end of the last segment.
//
// A write or sync error fails the log: it refuses further writes, since
// what reached the disk is unknown; reopening finds out.
//
// # Garbage collection
//
// A segment may go once no live entry is in it: entries die when truncated,
// replaced by an append, or when their partition is reset or removed. GC
// runs after every rotation (and at Open), deleting the oldest segments
// only, so the segments on disk are always consecutive and the first one's
// checkpoint holds every state the deleted ones held. A quiet partition
// whose few live entries sit in an old segment would pin it and every
// segment after it; so when the closed segments hold more dead bytes than
// two segments plus half the live bytes, GC copies the live entries of the
// oldest segments into the current one as rewrite records, syncs them, and
// deletes the segments. It copies at most twice the bytes of the segment
// just closed per rotation: enough to keep up, and a bounded delay for the
// write that rotates. Disk use stays near 1.5 times the live bytes plus a
// few segments (as of a few rotations ago: a mass truncation frees space
// as writes go on).
//
// A segment is deleted only once the records that make it unnecessary are
// durable, and the directory is synced after. Should a crash bring deleted
// segments back, they are the oldest, and replaying them first is
// harmless: every later checkpoint must, and does, agree.
package raftlog
