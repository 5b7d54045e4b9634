package directory

import (
	"encoding/binary"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

// MetaPartition is the partition that holds the directory: node, table and
// counter records, under engine.MetaRange.
const MetaPartition uint64 = 1

// Record kinds (engine.MetaKey's kind).
const (
	kindTable   = "table"
	kindNode    = "node"
	kindCounter = "counter"
)

// TableKey is the key of the record of the table named name.
func TableKey(name string) []byte { return engine.MetaKey(kindTable, name) }

// TablesSpan is the span of every table record.
func TablesSpan() (start, end []byte) { return engine.MetaSpan(kindTable) }

// NodeKey is the key of the record of node id.
func NodeKey(id uint64) []byte {
	return engine.MetaKey(kindNode, string(binary.BigEndian.AppendUint64(nil, id)))
}

// CounterKey is the key of the id counter name ("table", "partition",
// "node").
func CounterKey(name string) []byte { return engine.MetaKey(kindCounter, name) }

// EncodeTable encodes a table record.
func EncodeTable(t *partitapb.Table) ([]byte, error) {
	raw, err := proto.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("directory: encode table %q: %w", t.GetName(), err)
	}
	return raw, nil
}

// DecodeTable decodes a table record.
func DecodeTable(raw []byte) (*partitapb.Table, error) {
	t := &partitapb.Table{}
	if err := proto.Unmarshal(raw, t); err != nil {
		return nil, fmt.Errorf("directory: table record is corrupt: %w", err)
	}
	return t, nil
}

// EncodeNode encodes a node record.
func EncodeNode(n *partitapb.Node) ([]byte, error) {
	raw, err := proto.Marshal(n)
	if err != nil {
		return nil, fmt.Errorf("directory: encode node %d: %w", n.GetId(), err)
	}
	return raw, nil
}

// DecodeNode decodes a node record.
func DecodeNode(raw []byte) (*partitapb.Node, error) {
	n := &partitapb.Node{}
	if err := proto.Unmarshal(raw, n); err != nil {
		return nil, fmt.Errorf("directory: node record is corrupt: %w", err)
	}
	return n, nil
}

// ReadTable returns the record of the table named name, or nil.
func ReadTable(r engine.Reader, name string) (*partitapb.Table, error) {
	raw, err := engine.Get(r, TableKey(name))
	if errors.Is(err, engine.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("directory: read table %q: %w", name, err)
	}
	return DecodeTable(raw)
}

// ReadNode returns the record of node id, or nil.
func ReadNode(r engine.Reader, id uint64) (*partitapb.Node, error) {
	raw, err := engine.Get(r, NodeKey(id))
	if errors.Is(err, engine.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("directory: read node %d: %w", id, err)
	}
	return DecodeNode(raw)
}

// ReadTables returns every table record, sorted by name.
func ReadTables(r engine.Reader) ([]*partitapb.Table, error) {
	return readAll(r, kindTable, DecodeTable)
}

// ReadNodes returns every node record, by id.
func ReadNodes(r engine.Reader) ([]*partitapb.Node, error) {
	return readAll(r, kindNode, DecodeNode)
}

// readAll decodes every record of kind, in key order.
func readAll[T any](r engine.Reader, kind string, decode func([]byte) (T, error)) ([]T, error) {
	lo, hi := engine.MetaSpan(kind)
	it, err := r.NewIter(lo, hi)
	if err != nil {
		return nil, fmt.Errorf("directory: list %s records: %w", kind, err)
	}
	defer it.Close()
	var out []T
	for ok := it.First(); ok; ok = it.Next() {
		v, err := decode(it.Value())
		if err != nil {
			return nil, fmt.Errorf("directory: %s record %q: %w", kind, it.Key(), err)
		}
		out = append(out, v)
	}
	if err := it.Error(); err != nil {
		return nil, fmt.Errorf("directory: list %s records: %w", kind, err)
	}
	return out, nil
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
