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
//
// # Effects
//
// Item writes are evaluated once, by the partition's leader (Evaluate,
// under the item's latch, against its applied state), and replicated as
// Effects: the item written or deleted, the statistics delta and the
// recorded rejection. Applier.ApplyEffects applies them without reading
// the item, after two checks that keep a stale evaluation from applying:
// the entry's raft term must be the term its evaluation was made in, and
// its lease index must be above the partition's lease-applied index,
// which it then becomes (a reordered or repeated entry is refused with
// STALE_EVALUATION, and evaluated again by its proposer). A write the
// leader evaluated over an earlier write of the item still in flight
// (Prior) depends on that write's lease index, and is refused as stale
// when an entry at or after it was refused. A raft entry
// starting with EffectsFormat holds Effects; any other holds a Command,
// which Apply still evaluates as it always did. The at-most-once records
// of Effects are kept by command time and collected a retry window behind
// the leader's clock (records.go). docs/replication.md tells the whole
// write path.
//
// # The range fence
//
// Apply is given the replica's Descriptor: the key spans its partition owns
// and the generation of that range. Before anything else it refuses, with
// Error_WRONG_RANGE in the Result, a command that does not belong there:
//
//   - an item command (PutItem, UpdateItem, DeleteItem) whose key is in
//     none of the spans;
//   - a DestroyRange whose hash range is not inside one span;
//   - a SplitRange whose split point is in none of the spans;
//   - a directory command (tables, nodes, replicas) unless one span holds
//     the whole directory (engine.MetaRange): only the meta partition
//     applies them;
//   - any command whose range_generation is non-zero and older than the
//     descriptor's generation: it was routed by a layout that has changed
//     since. 0 means the proposer did not say (an older client, an
//     internal command); such a command is checked by key alone. A newer
//     generation than the replica's passes: the key check still holds.
//
// The decision reads only the command and the descriptor, which is part of
// the replicated state (set at bootstrap, carried by snapshots, changed
// only by applied commands), so every replica decides alike. A refusal
// writes nothing, and the replica does not record its command id. The
// range generation (Partition.range_generation, Descriptor.generation)
// starts at FirstRangeGeneration and moves only when a range's spans
// change; it is not the directory record's compare-and-set version
// (Partition.generation), which moves with every membership change.
// Senders recognise the refusal with partitapb.IsWrongRange, re-read the
// directory and retry with the same command id.
//
// # Splits
//
// SplitRange (split.go) narrows the range to its left half at one log
// index: it checks the range generation, the split point and the
// partition's membership (Applier.SetMembers: no learner, no joint
// configuration, exactly the voters the proposer listed), divides the
// statistics, writes the new descriptor and keeps the split as the
// partition's split record, and fences the rest of the batch to the left
// half. The replica creates the right half's raft group beside it. The
// meta partition records splits (SplitPartition, a compare-and-set on the
// range generation, idempotent) and reserves their ids
// (AllocatePartition). docs/splits.md tells the whole story.
//
// # Merges
//
// A merge (merge.go, merge_directory.go) is decided by the meta
// partition: BeginMerge records an intent on the right partition's
// record, CommitMerge or AbortMerge settles it by compare-and-set.
// FreezeRange freezes both halves first (the right one refuses item
// writes with WRONG_RANGE from its index on; both refuse splits and
// other merges; the descriptor carries the freeze, so snapshots do too),
// UnfreezeRange lifts it after an abort, and MergeRange widens the left
// half over the right after a commit, at a range generation above both,
// adding the right half's statistics and command ids from its frozen
// replica on the node.
//
// # The Doctor's epoch fence
//
// The meta partition also holds the Doctor lease (doctor_lease.go):
// AcquireDoctorLease and ReleaseDoctorLease grant, renew and free it,
// deciding expiry by the command's timestamp. A command carrying a
// non-zero doctor_epoch other than the lease's current epoch is refused
// with Error_STALE_EPOCH after the range fence and before anything is
// written: the Doctor that issued it was taken over. The lease record is
// replicated state, so every replica decides alike here too.
//
// # The Doctor's records
//
// The Doctor keeps its settings and its timeline in the meta partition
// too (doctor_ops.go), so a Doctor that takes over rebuilds its state
// from the directory. PutDoctorOp creates an operation record (id 0: the
// next id of a counter, never reused) or replaces one; a record in a
// terminal state is final, and a retried put of that state changes
// nothing. Creating a record beyond DoctorOpsKept deletes the oldest
// terminal records, oldest first, never one in flight
// (doctor_timeline.go): a bookkeeping record counts the records, so only a
// create over the bound searches, and keeps the id below which none is
// terminal, so the search starts past what it deleted before. DecideDoctorOp (an operator's
// approval or rejection), SetDoctorGate and SetDoctorPaused carry no
// epoch. SetReplicationFactor, the cluster's replication factor kept in
// the same settings record, carries one when the active Doctor records
// its node's flag in a cluster that has none, and none when the first
// node or an operator sets it; from cluster version 20 only, which apply
// checks against the cluster version record.
package fsm
