package fsm

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

// applyPutNode adds a node (assigning the next id when it has none) or
// updates an existing one's addresses, zone and version. A new node's join
// time is the command's timestamp.
func applyPutNode(b *engine.Batch, now int64, op *partitapb.PutNode) (*partitapb.Result, error) {
	n := proto.Clone(op.GetNode()).(*partitapb.Node)
	n.HeartbeatUnixNanos = now
	if n.Id == 0 {
		id, err := nextID(b, "node", 1)
		if err != nil {
			return nil, err
		}
		n.Id, n.JoinedUnixNanos = id, now
	} else if prev, err := engine.Get(b, directory.NodeKey(n.Id)); err == nil {
		old, err := directory.DecodeNode(prev)
		if err != nil {
			return nil, err
		}
		n.JoinedUnixNanos = old.GetJoinedUnixNanos()
	} else {
		return reject(partitapb.Error_VALIDATION, "node %d is not a member of this cluster", n.Id), nil
	}
	raw, err := directory.EncodeNode(n)
	if err != nil {
		return nil, err
	}
	if err := b.Set(directory.NodeKey(n.Id), raw); err != nil {
		return nil, fmt.Errorf("fsm: write node: %w", err)
	}
	return &partitapb.Result{Node: n}, nil
}

func applyRemoveNode(b *engine.Batch, op *partitapb.RemoveNode) (*partitapb.Result, error) {
	raw, err := engine.Get(b, directory.NodeKey(op.GetId()))
	if errors.Is(err, engine.ErrNotFound) {
		return reject(partitapb.Error_VALIDATION, "node %d is not a member of this cluster", op.GetId()), nil
	}
	if err != nil {
		return nil, fmt.Errorf("fsm: read node: %w", err)
	}
	n, err := directory.DecodeNode(raw)
	if err != nil {
		return nil, err
	}
	if err := b.Delete(directory.NodeKey(op.GetId())); err != nil {
		return nil, fmt.Errorf("fsm: remove node: %w", err)
	}
	return &partitapb.Result{Node: n}, nil
}
