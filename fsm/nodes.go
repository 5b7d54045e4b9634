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
// time is the command's timestamp. An existing record keeps its join time
// and its decommissioning mark: the node's heartbeat does not know of the
// mark, and must not clear it (SetNodeDecommissioning alone does). It
// keeps its drain mark while the heartbeat comes from the same process
// (the same start time): a restarted node is no longer draining.
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
		keepMark(n, old)
	} else {
		return reject(partitapb.Error_VALIDATION, "node %d is not a member of this cluster", n.Id), nil
	}
	return writeNode(b, n)
}

// keepMark copies old's decommissioning mark onto n, and its drain mark
// if n comes from the process old's record was drained in.
func keepMark(n, old *partitapb.Node) {
	n.DecommissioningUnixNanos = old.GetDecommissioningUnixNanos()
	n.DecommissionBy, n.DecommissionReason = old.GetDecommissionBy(), old.GetDecommissionReason()
	n.DrainingUnixNanos, n.DrainBy = 0, ""
	if n.GetStartedUnixNanos() == old.GetStartedUnixNanos() {
		n.DrainingUnixNanos, n.DrainBy = old.GetDrainingUnixNanos(), old.GetDrainBy()
	}
}

// applyRemoveNode deletes a node's record; with if_decommissioning, only
// a record that carries a decommissioning mark.
func applyRemoveNode(b *engine.Batch, op *partitapb.RemoveNode) (*partitapb.Result, error) {
	n, res, err := readNode(b, op.GetId())
	if res != nil || err != nil {
		return res, err
	}
	if op.GetIfDecommissioning() && n.GetDecommissioningUnixNanos() == 0 {
		return reject(partitapb.Error_VALIDATION, "node %d is not decommissioning: its record stays", op.GetId()), nil
	}
	if err := b.Delete(directory.NodeKey(op.GetId())); err != nil {
		return nil, fmt.Errorf("fsm: remove node: %w", err)
	}
	return &partitapb.Result{Node: n}, nil
}

// applySetNodeDecommissioning sets or clears a node's decommissioning
// mark. A node marked already keeps its first mark (its time, author and
// reason): asking again changes nothing.
func applySetNodeDecommissioning(b *engine.Batch, now int64, op *partitapb.SetNodeDecommissioning) (*partitapb.Result, error) {
	n, res, err := readNode(b, op.GetNode())
	if res != nil || err != nil {
		return res, err
	}
	switch {
	case op.GetDecommissioning() && n.GetDecommissioningUnixNanos() != 0:
		return &partitapb.Result{Node: n}, nil
	case op.GetDecommissioning():
		n.DecommissioningUnixNanos, n.DecommissionBy, n.DecommissionReason = now, op.GetBy(), op.GetReason()
	default:
		n.DecommissioningUnixNanos, n.DecommissionBy, n.DecommissionReason = 0, "", ""
	}
	return writeNode(b, n)
}

// applySetNodeDraining sets or clears a node's drain mark. A node marked
// already keeps its first mark (its time and author).
func applySetNodeDraining(b *engine.Batch, now int64, op *partitapb.SetNodeDraining) (*partitapb.Result, error) {
	n, res, err := readNode(b, op.GetNode())
	if res != nil || err != nil {
		return res, err
	}
	switch {
	case op.GetDraining() && n.GetDrainingUnixNanos() != 0:
		return &partitapb.Result{Node: n}, nil
	case op.GetDraining():
		n.DrainingUnixNanos, n.DrainBy = now, op.GetBy()
	default:
		n.DrainingUnixNanos, n.DrainBy = 0, ""
	}
	return writeNode(b, n)
}

// writeNode writes n's record and answers it.
func writeNode(b *engine.Batch, n *partitapb.Node) (*partitapb.Result, error) {
	raw, err := directory.EncodeNode(n)
	if err != nil {
		return nil, err
	}
	if err := b.Set(directory.NodeKey(n.GetId()), raw); err != nil {
		return nil, fmt.Errorf("fsm: write node: %w", err)
	}
	return &partitapb.Result{Node: n}, nil
}

// readNode reads node id's record, or the VALIDATION rejection of a node
// the directory does not list.
func readNode(b *engine.Batch, id uint64) (*partitapb.Node, *partitapb.Result, error) {
	raw, err := engine.Get(b, directory.NodeKey(id))
	if errors.Is(err, engine.ErrNotFound) {
		return nil, reject(partitapb.Error_VALIDATION, "node %d is not a member of this cluster", id), nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("fsm: read node: %w", err)
	}
	n, err := directory.DecodeNode(raw)
	if err != nil {
		return nil, nil, err
	}
	return n, nil, nil
}
