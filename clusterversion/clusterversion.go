// Package clusterversion names the cluster versions: each is a change of
// an on-disk or wire format (or of a behaviour every node must share)
// that a node may use only once every node of the cluster can read it.
//
// A binary runs at the versions [MinSupported, Latest]. The directory
// holds the active version; a node whose binary cannot run at it is
// refused. While a cluster upgrades, every node writes the formats of the
// active version, so that an older binary can still read everything and
// a rollback to it is safe. Once every node runs a binary that supports
// the next version (and the Doctor's health has been green for a soak
// period), the Doctor finalises: the active version moves up by one, and
// the nodes start writing the new formats. Versions never go down.
package clusterversion

import "fmt"

// Version is a cluster version: an ordinal, one per format change.
type Version uint32

// The versions, oldest first. Add one for each format change, with the
// gate that reads it (Active.AtLeast).
const (
	// Base: item writes are proposed as Commands, evaluated by every
	// replica. A directory without a cluster version record runs at it.
	Base Version = 1
	// Effects: partition leaders evaluate item writes and propose their
	// effects (fsm.EffectsFormat entries), which older binaries cannot
	// apply.
	Effects Version = 2
	// TableRevisions: an UpdateTable of a table record names the revision
	// it was made from, and the meta partition refuses it if the record
	// moved on (older binaries would apply it regardless, and bump no
	// revision).
	TableRevisions Version = 3
	// ServiceDeletes: deletions the service makes on its own (the time to
	// live sweeper) are marked so in the change log (older binaries would
	// write their change records without the mark).
	ServiceDeletes Version = 4
	// LocalIndexes: tables may have local secondary indexes, whose
	// entries and statistics older binaries would not write.
	LocalIndexes Version = 5
	// Transactions: transaction records and intents, written by commands
	// and Effects fields older binaries do not know.
	Transactions Version = 6
	// Backups: backup records and their commands in the meta partition,
	// and restored tables, which older binaries cannot apply.
	Backups Version = 7
	// ChangeFloors: table partitions hold a change floor
	// (SetChangeFloor), which older binaries cannot apply.
	ChangeFloors Version = 8
	// Exports: export and import records and their commands in the meta
	// partition, and tables made by ImportTable, which older binaries
	// cannot apply.
	Exports Version = 9
	// PointInTimeRecovery: tables with point-in-time recovery, whose
	// change log keeps old images for the recovery period, and tables
	// restored to a point in time, which older binaries would not fill.
	PointInTimeRecovery Version = 10
	// LocalIndexTransactions: transactions write to tables with local
	// secondary indexes, their commits writing the index entries, which
	// older binaries' leaders would leave out; merges keep the change log
	// segments of the half they absorb.
	LocalIndexTransactions Version = 11
	// IndexBatches: global secondary index entries are written in batches
	// per index partition (IndexWrite), with tombstones, which older
	// binaries cannot apply.
	IndexBatches Version = 12
	// RequestTokens: the ClientRequestTokens of write transactions are
	// records of the meta partition, claimed and finished by commands
	// older binaries cannot apply.
	RequestTokens Version = 13
	// DeletedStreams: DeleteTable keeps the record of a table with a
	// stream, under a hidden name, until the stream retention passes
	// (Command.keep_deleted_streams), which older binaries would not.
	DeletedStreams Version = 14
	// IndexTombstones: global index backfills run in rounds that index
	// partitions seal, and sealed partitions collect their tombstones
	// (IndexBackfill, IndexOpen, IndexSeal, IndexSweep), which older
	// binaries cannot apply.
	IndexTombstones Version = 15
	// StreamStatus: a table's record holds its streams' cuts
	// (Table.stream_cuts), which an older binary's UpdateTable would drop,
	// so a stream shows ENABLING and DISABLING.
	StreamStatus Version = 16
	// DeletedTableFence: DeleteTable marks a deleted table's kept
	// partitions (FenceDeletedTable), which refuse item writes from then
	// on; older binaries cannot apply the mark.
	DeletedTableFence Version = 17
	// RecordedImages: an item write whose request returns item images
	// asks its at-most-once record to keep them (Command.record_old,
	// record_new), which older binaries' replicas would not: the
	// replicas' records would then differ.
	RecordedImages Version = 18
	// RecordedSizes: an item write whose answer reports its sizes
	// (consumed capacity, item collection metrics) asks its at-most-once
	// record to keep them (Command.record_sizes), which older binaries'
	// replicas would not: the replicas' records would then differ.
	RecordedSizes Version = 19
	// ClusterReplication: the replication factor is one record of the
	// cluster (SetReplicationFactor, kept in the Doctor's settings),
	// which older binaries cannot apply; before it, each node's Doctor
	// and CreateTable use the node's own --replication-factor.
	ClusterReplication Version = 20
	// DecommissionMarks: a node is decommissioned by a mark on its
	// directory record (SetNodeDecommissioning), which older binaries
	// cannot apply; the Doctor moves its replicas and removes its record.
	// Before it, a decommission moves the replicas itself, outside the
	// Doctor.
	DecommissionMarks Version = 21
	// BlindPuts: a put whose answer needs nothing of the item it
	// replaces may be written without reading it (Command.blind,
	// Effects.blind), its partition's statistics corrected later by a
	// count of its items (RecountStats); older binaries cannot apply
	// either, and would count the blind puts differently.
	BlindPuts Version = 22
	// DrainMarks: a drained node carries a mark on its directory record
	// (SetNodeDraining) until it restarts or is undrained, which older
	// binaries cannot apply; the Doctor keeps leaderships off it. Before
	// it, a drain moves the node's leaderships once and nothing keeps
	// them away.
	DrainMarks Version = 23
)

// Latest is the newest version this binary supports.
const Latest = DrainMarks

// MinSupported is the oldest active version this binary runs at: the
// versions a node of the previous release may have left in force.
const MinSupported = Base

// String names v for operators.
func (v Version) String() string {
	switch v {
	case Base:
		return "1 (base: commands evaluated by every replica)"
	case Effects:
		return "2 (effects: writes evaluated by their leader)"
	case TableRevisions:
		return "3 (table revisions: table updates checked against concurrent ones)"
	case ServiceDeletes:
		return "4 (service deletes: time to live deletions marked in the change log)"
	case LocalIndexes:
		return "5 (local indexes: local secondary indexes)"
	case Transactions:
		return "6 (transactions: TransactWriteItems, TransactGetItems, ExecuteTransaction)"
	case Backups:
		return "7 (backups: CreateBackup, RestoreTableFromBackup)"
	case ChangeFloors:
		return "8 (change floors: a new global index's backfill misses no write)"
	case Exports:
		return "9 (exports: ExportTableToPointInTime, ImportTable)"
	case PointInTimeRecovery:
		return "10 (point-in-time recovery: UpdateContinuousBackups, RestoreTableToPointInTime)"
	case LocalIndexTransactions:
		return "11 (local index transactions: transactions on tables with local secondary indexes)"
	case IndexBatches:
		return "12 (index batches: global index entries written in batches, with tombstones)"
	case RequestTokens:
		return "13 (request tokens: transaction ClientRequestTokens kept cluster-wide)"
	case DeletedStreams:
		return "14 (deleted streams: a deleted table's streams kept readable for their retention)"
	case IndexTombstones:
		return "15 (index tombstones: global index backfill rounds, tombstones collected)"
	case StreamStatus:
		return "16 (stream status: streams ENABLING and DISABLING until every partition's change log is cut)"
	case DeletedTableFence:
		return "17 (deleted table fence: a deleted table's kept partitions refuse item writes)"
	case RecordedImages:
		return "18 (recorded images: a retried write returns the item images its request asked for)"
	case RecordedSizes:
		return "19 (recorded sizes: a retried write reports the capacity and collection size of its first attempt)"
	case ClusterReplication:
		return "20 (cluster replication: one replication factor for the whole cluster, kept in the directory)"
	case DecommissionMarks:
		return "21 (decommission marks: the Doctor moves a decommissioning node's replicas and removes its record)"
	case BlindPuts:
		return "22 (blind puts: a plain PutItem skips the read of the item it replaces; statistics settled by recounts)"
	case DrainMarks:
		return "23 (drain marks: a drained node takes no leadership until it restarts or is undrained)"
	}
	return fmt.Sprintf("%d", uint32(v))
}

// Range is the versions one binary can run at.
type Range struct {
	Min Version `json:"min"`
	Max Version `json:"max"`
}

// Binary is this binary's range.
func Binary() Range { return Range{Min: MinSupported, Max: Latest} }

// Contains says a node with range r can run at v.
func (r Range) Contains(v Version) bool { return r.Min <= v && v <= r.Max }

// String shows r as [min, max].
func (r Range) String() string { return fmt.Sprintf("[%d, %d]", r.Min, r.Max) }

// OfNode is the range a node's directory record states: a record from
// before cluster versions (0, 0) runs at Base only.
func OfNode(min, max uint32) Range {
	if max == 0 {
		return Range{Min: Base, Max: Base}
	}
	return Range{Min: Version(min), Max: Version(max)}
}

// Active is the version in force per the directory's record: Base when
// there is none.
func Active(active uint32) Version {
	if active == 0 {
		return Base
	}
	return Version(active)
}

// Check says why a node with range r cannot run in a cluster at active
// (nil: it can).
func (r Range) Check(active Version) error {
	switch {
	case active > r.Max:
		return fmt.Errorf("clusterversion: the cluster runs at version %d, newer than this binary supports %v: run a newer binary", active, r)
	case active < r.Min:
		return fmt.Errorf("clusterversion: the cluster runs at version %d, older than this binary supports %v: upgrade the cluster through an intermediate release first", active, r)
	}
	return nil
}
