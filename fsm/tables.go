package fsm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

func writeTable(b *engine.Batch, t *partitapb.Table) error {
	raw, err := directory.EncodeTable(t)
	if err != nil {
		return err
	}
	if err := b.Set(directory.TableKey(t.GetName()), raw); err != nil {
		return fmt.Errorf("fsm: write table: %w", err)
	}
	return nil
}

// nextID increments and returns the counter name (first value: first).
func nextID(b *engine.Batch, name string, first uint64) (uint64, error) {
	key := directory.CounterKey(name)
	raw, err := engine.Get(b, key)
	id := first
	switch {
	case err == nil && len(raw) == 8:
		id = binary.BigEndian.Uint64(raw) + 1
	case err == nil:
		return 0, fmt.Errorf("fsm: counter %s is corrupt", name)
	case !errors.Is(err, engine.ErrNotFound):
		return 0, fmt.Errorf("fsm: read counter %s: %w", name, err)
	}
	if err := b.Set(key, binary.BigEndian.AppendUint64(nil, id)); err != nil {
		return 0, fmt.Errorf("fsm: write counter %s: %w", name, err)
	}
	return id, nil
}

func applyCreateTable(b *engine.Batch, now int64, op *partitapb.CreateTable) (*partitapb.Result, error) {
	t := proto.Clone(op.GetTable()).(*partitapb.Table)
	existing, err := directory.ReadTable(b, t.GetName())
	if err != nil {
		return nil, err
	}
	if existing != nil {
		return reject(partitapb.Error_TABLE_IN_USE, "Table already exists: %s", t.GetName()), nil
	}
	if t.Id, err = nextID(b, "table", 1); err != nil {
		return nil, err
	}
	if t.Partitions, err = newPartitions(b, max(op.GetPartitionCount(), 1)); err != nil {
		return nil, err
	}
	nodes, rf := op.GetNodes(), min(int(op.GetReplicationFactor()), len(op.GetNodes()))
	for i, p := range t.Partitions {
		p.TableId = t.Id
		for j := range rf {
			p.Replicas = append(p.Replicas, nodes[(i+j)%len(nodes)])
		}
	}
	t.CreationUnixNanos = now
	if err := writeTable(b, t); err != nil {
		return nil, err
	}
	return &partitapb.Result{Table: t}, nil
}

// newPartitions splits the hash space into n ranges of equal width.
func newPartitions(b *engine.Batch, n uint32) ([]*partitapb.Partition, error) {
	parts := make([]*partitapb.Partition, n)
	for i := range parts {
		id, err := nextID(b, "partition", directory.MetaPartition+1)
		if err != nil {
			return nil, err
		}
		start, _ := bits.Div64(uint64(i), 0, uint64(n)) // i * 2^64 / n
		parts[i] = &partitapb.Partition{Id: id, HashStart: start, Generation: 1, RangeGeneration: FirstRangeGeneration}
		if i > 0 {
			parts[i-1].HashEnd = start
		}
	}
	return parts, nil
}

// applyDeleteTable removes a table's record; with keep (a router of
// cluster version 14 or later) the record of a table with a stream is
// kept under a hidden name for the streams (keptForStreams).
func applyDeleteTable(b *engine.Batch, now int64, keep bool, op *partitapb.DeleteTable) (*partitapb.Result, error) {
	t, err := directory.ReadTable(b, op.GetName())
	if err != nil || t == nil {
		return notFound(op.GetName(), err)
	}
	if t.GetDeletionProtectionEnabled() {
		return reject(partitapb.Error_VALIDATION, "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first."), nil
	}
	if err := b.Delete(directory.TableKey(t.GetName())); err != nil {
		return nil, fmt.Errorf("fsm: delete table: %w", err)
	}
	if keep && !directory.IsDeleted(t) && directory.KeepsStreams(t) {
		if err := writeTable(b, keptForStreams(t, now)); err != nil {
			return nil, err
		}
	}
	t.Status = directory.Deleting.String()
	return &partitapb.Result{Table: t}, nil
}

func applyUpdateTable(b *engine.Batch, op *partitapb.UpdateTable) (*partitapb.Result, error) {
	t, err := directory.ReadTable(b, op.GetName())
	if err != nil || t == nil {
		return notFound(op.GetName(), err)
	}
	// Only an update naming a revision counts one: an older binary, which
	// knows no revisions, applies the others exactly as this one does.
	if op.ExpectedRevision != nil {
		if op.GetExpectedRevision() != t.GetRevision() {
			return reject(partitapb.Error_REVISION_CONFLICT, "table %s is at revision %d, not %d",
				t.GetName(), t.GetRevision(), op.GetExpectedRevision()), nil
		}
		t.Revision++
	}
	u := op.GetTable()
	t.BillingMode = u.GetBillingMode()
	t.ReadCapacityUnits = u.GetReadCapacityUnits()
	t.WriteCapacityUnits = u.GetWriteCapacityUnits()
	t.Tags = u.GetTags()
	t.DeletionProtectionEnabled = u.GetDeletionProtectionEnabled()
	t.TableClass = u.GetTableClass()
	t.LastIncreaseUnixNanos = u.GetLastIncreaseUnixNanos()
	t.LastDecreaseUnixNanos = u.GetLastDecreaseUnixNanos()
	t.DecreasesToday = u.GetDecreasesToday()
	t.LastPayPerRequestUnixNanos = u.GetLastPayPerRequestUnixNanos()
	t.ChangeView = u.GetChangeView()
	t.TtlEnabled, t.TtlAttribute, t.TtlChangedUnixNanos = u.GetTtlEnabled(), u.GetTtlAttribute(), u.GetTtlChangedUnixNanos()
	t.GlobalIndexes = u.GetGlobalIndexes()
	t.AttributeDefinitions = u.GetAttributeDefinitions()
	t.Stream = u.GetStream()
	t.PastStreams = u.GetPastStreams()
	t.StreamCuts = u.GetStreamCuts()
	t.PointInTimeRecovery = u.GetPointInTimeRecovery()
	t.IndexEpoch = u.GetIndexEpoch()
	if err := writeTable(b, t); err != nil {
		return nil, err
	}
	return &partitapb.Result{Table: t}, nil
}

func applySetTableStatus(b *engine.Batch, op *partitapb.SetTableStatus) (*partitapb.Result, error) {
	t, err := directory.ReadTable(b, op.GetName())
	if err != nil || t == nil {
		return notFound(op.GetName(), err)
	}
	t.Status = op.GetStatus()
	if err := writeTable(b, t); err != nil {
		return nil, err
	}
	return &partitapb.Result{Table: t}, nil
}

func notFound(name string, err error) (*partitapb.Result, error) {
	if err != nil {
		return nil, err
	}
	return reject(partitapb.Error_TABLE_NOT_FOUND, "Requested resource not found: Table: %s not found", name), nil
}

func applySetReplicas(b *engine.Batch, op *partitapb.SetReplicas) (*partitapb.Result, error) {
	t, err := directory.ReadTable(b, op.GetTable())
	if err != nil || t == nil {
		return notFound(op.GetTable(), err)
	}
	for _, p := range t.GetPartitions() {
		if p.GetId() != op.GetPartition() {
			continue
		}
		if p.GetGeneration() != op.GetExpectedGeneration() {
			return reject(partitapb.Error_VALIDATION, "partition %d is at generation %d, not %d",
				p.GetId(), p.GetGeneration(), op.GetExpectedGeneration()), nil
		}
		p.Replicas = op.GetReplicas()
		p.Generation++
		if err := writeTable(b, t); err != nil {
			return nil, err
		}
		return &partitapb.Result{Table: t}, nil
	}
	return reject(partitapb.Error_VALIDATION, "table %s has no partition %d", op.GetTable(), op.GetPartition()), nil
}

// keptForStreams is the record DeleteTable keeps of t at now for its
// streams: under its hidden name, its enabled stream disabled at now,
// without what would have it served or maintained as a table (global
// indexes, whose tables go; deletion protection; time to live).
func keptForStreams(t *partitapb.Table, now int64) *partitapb.Table {
	k := proto.Clone(t).(*partitapb.Table)
	k.Name = directory.DeletedTableName(t.GetName(), t.GetId())
	k.Status = directory.Deleting.String()
	k.DeletedUnixNanos = now
	if st := k.GetStream(); st != nil {
		st.DisabledUnixNanos = now
		k.PastStreams = append(k.PastStreams, st)
		k.Stream = nil
	}
	k.GlobalIndexes = nil
	k.DeletionProtectionEnabled = false
	k.TtlEnabled = false
	return k
}
