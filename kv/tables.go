package kv

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"

	"github.com/cockroachdb/pebble/v2"
	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

// MetaPartition is the partition that holds the directory (table records).
const MetaPartition uint64 = 1

// Directory record kinds (engine.MetaKey).
const (
	metaTable   = "table"
	metaCounter = "counter"
)

// ReadTable returns the record of the table named name, or nil.
func ReadTable(r pebble.Reader, name string) (*partitapb.Table, error) {
	raw, err := engine.Get(r, engine.MetaKey(metaTable, name))
	if errors.Is(err, engine.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("kv: read table %q: %w", name, err)
	}
	t := &partitapb.Table{}
	if err := proto.Unmarshal(raw, t); err != nil {
		return nil, fmt.Errorf("kv: table %q record is corrupt: %w", name, err)
	}
	return t, nil
}

// TableKey is the key of the record of the table named name.
func TableKey(name string) []byte { return engine.MetaKey(metaTable, name) }

// TablesSpan is the span of every table record.
func TablesSpan() (start, end []byte) { return engine.MetaSpan(metaTable) }

// DecodeTable decodes a table record.
func DecodeTable(raw []byte) (*partitapb.Table, error) {
	t := &partitapb.Table{}
	if err := proto.Unmarshal(raw, t); err != nil {
		return nil, fmt.Errorf("kv: table record is corrupt: %w", err)
	}
	return t, nil
}

// ReadTables returns every table record, sorted by name.
func ReadTables(r pebble.Reader) ([]*partitapb.Table, error) {
	lo, hi := engine.MetaSpan(metaTable)
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return nil, fmt.Errorf("kv: list tables: %w", err)
	}
	defer it.Close()
	var out []*partitapb.Table
	for ok := it.First(); ok; ok = it.Next() {
		t := &partitapb.Table{}
		if err := proto.Unmarshal(it.Value(), t); err != nil {
			return nil, fmt.Errorf("kv: table record %q is corrupt: %w", it.Key(), err)
		}
		out = append(out, t)
	}
	if err := it.Error(); err != nil {
		return nil, fmt.Errorf("kv: list tables: %w", err)
	}
	return out, nil
}

func writeTable(b *pebble.Batch, t *partitapb.Table) error {
	raw, err := proto.Marshal(t)
	if err != nil {
		return fmt.Errorf("kv: encode table: %w", err)
	}
	if err := b.Set(engine.MetaKey(metaTable, t.GetName()), raw, nil); err != nil {
		return fmt.Errorf("kv: write table: %w", err)
	}
	return nil
}

// nextID increments and returns the counter name (first value: first).
func nextID(b *pebble.Batch, name string, first uint64) (uint64, error) {
	key := engine.MetaKey(metaCounter, name)
	raw, err := engine.Get(b, key)
	id := first
	switch {
	case err == nil && len(raw) == 8:
		id = binary.BigEndian.Uint64(raw) + 1
	case err == nil:
		return 0, fmt.Errorf("kv: counter %s is corrupt", name)
	case !errors.Is(err, engine.ErrNotFound):
		return 0, fmt.Errorf("kv: read counter %s: %w", name, err)
	}
	if err := b.Set(key, binary.BigEndian.AppendUint64(nil, id), nil); err != nil {
		return 0, fmt.Errorf("kv: write counter %s: %w", name, err)
	}
	return id, nil
}

func applyCreateTable(b *pebble.Batch, now int64, op *partitapb.CreateTable) (*partitapb.Result, error) {
	t := proto.Clone(op.GetTable()).(*partitapb.Table)
	existing, err := ReadTable(b, t.GetName())
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
func newPartitions(b *pebble.Batch, n uint32) ([]*partitapb.Partition, error) {
	parts := make([]*partitapb.Partition, n)
	for i := range parts {
		id, err := nextID(b, "partition", MetaPartition+1)
		if err != nil {
			return nil, err
		}
		start, _ := bits.Div64(uint64(i), 0, uint64(n)) // i * 2^64 / n
		parts[i] = &partitapb.Partition{Id: id, HashStart: start, Generation: 1}
		if i > 0 {
			parts[i-1].HashEnd = start
		}
	}
	return parts, nil
}

func applyDeleteTable(b *pebble.Batch, op *partitapb.DeleteTable) (*partitapb.Result, error) {
	t, err := ReadTable(b, op.GetName())
	if err != nil || t == nil {
		return notFound(op.GetName(), err)
	}
	if t.GetDeletionProtectionEnabled() {
		return reject(partitapb.Error_VALIDATION, "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first."), nil
	}
	if err := b.Delete(engine.MetaKey(metaTable, t.GetName()), nil); err != nil {
		return nil, fmt.Errorf("kv: delete table: %w", err)
	}
	t.Status = "DELETING"
	return &partitapb.Result{Table: t}, nil
}

func applyUpdateTable(b *pebble.Batch, op *partitapb.UpdateTable) (*partitapb.Result, error) {
	t, err := ReadTable(b, op.GetName())
	if err != nil || t == nil {
		return notFound(op.GetName(), err)
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
	if err := writeTable(b, t); err != nil {
		return nil, err
	}
	return &partitapb.Result{Table: t}, nil
}

func applySetTableStatus(b *pebble.Batch, op *partitapb.SetTableStatus) (*partitapb.Result, error) {
	t, err := ReadTable(b, op.GetName())
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

// Spans returns the engine spans partition p of a table owns.
func Spans(p *partitapb.Partition) []*partitapb.Span {
	start, end := engine.HashSpan(p.GetTableId(), p.GetHashStart(), p.GetHashEnd())
	return []*partitapb.Span{{Start: start, End: end}}
}

// MetaSpans returns the engine spans of the meta partition: the directory.
func MetaSpans() []*partitapb.Span {
	start, end := engine.MetaRange()
	return []*partitapb.Span{{Start: start, End: end}}
}

func applySetReplicas(b *pebble.Batch, op *partitapb.SetReplicas) (*partitapb.Result, error) {
	t, err := ReadTable(b, op.GetTable())
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
