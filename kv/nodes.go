package kv

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

const metaNode = "node"

func nodeKey(id uint64) []byte {
	return engine.MetaKey(metaNode, string(binary.BigEndian.AppendUint64(nil, id)))
}

// ReadNodes returns every node record, by id.
func ReadNodes(r pebble.Reader) ([]*partitapb.Node, error) {
	lo, hi := engine.MetaSpan(metaNode)
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return nil, fmt.Errorf("kv: list nodes: %w", err)
	}
	defer it.Close()
	var out []*partitapb.Node
	for ok := it.First(); ok; ok = it.Next() {
		n := &partitapb.Node{}
		if err := proto.Unmarshal(it.Value(), n); err != nil {
			return nil, fmt.Errorf("kv: node record is corrupt: %w", err)
		}
		out = append(out, n)
	}
	if err := it.Error(); err != nil {
		return nil, fmt.Errorf("kv: list nodes: %w", err)
	}
	return out, nil
}

// applyPutNode adds a node (assigning the next id when it has none) or
// updates an existing one's addresses, zone and version. A new node's join
// time is the command's timestamp.
func applyPutNode(b *pebble.Batch, now int64, op *partitapb.PutNode) (*partitapb.Result, error) {
	n := proto.Clone(op.GetNode()).(*partitapb.Node)
	n.HeartbeatUnixNanos = now
	if n.Id == 0 {
		id, err := nextID(b, metaNode, 1)
		if err != nil {
			return nil, err
		}
		n.Id, n.JoinedUnixNanos = id, now
	} else if prev, err := engine.Get(b, nodeKey(n.Id)); err == nil {
		old := &partitapb.Node{}
		if err := proto.Unmarshal(prev, old); err != nil {
			return nil, fmt.Errorf("kv: node record is corrupt: %w", err)
		}
		n.JoinedUnixNanos = old.GetJoinedUnixNanos()
	} else {
		return reject(partitapb.Error_VALIDATION, "node %d is not a member of this cluster", n.Id), nil
	}
	raw, err := proto.Marshal(n)
	if err != nil {
		return nil, fmt.Errorf("kv: encode node: %w", err)
	}
	if err := b.Set(nodeKey(n.Id), raw, nil); err != nil {
		return nil, fmt.Errorf("kv: write node: %w", err)
	}
	return &partitapb.Result{Node: n}, nil
}

func applyRemoveNode(b *pebble.Batch, op *partitapb.RemoveNode) (*partitapb.Result, error) {
	raw, err := engine.Get(b, nodeKey(op.GetId()))
	if errors.Is(err, engine.ErrNotFound) {
		return reject(partitapb.Error_VALIDATION, "node %d is not a member of this cluster", op.GetId()), nil
	}
	if err != nil {
		return nil, fmt.Errorf("kv: read node: %w", err)
	}
	n := &partitapb.Node{}
	if err := proto.Unmarshal(raw, n); err != nil {
		return nil, fmt.Errorf("kv: node record is corrupt: %w", err)
	}
	if err := b.Delete(nodeKey(op.GetId()), nil); err != nil {
		return nil, fmt.Errorf("kv: remove node: %w", err)
	}
	return &partitapb.Result{Node: n}, nil
}
