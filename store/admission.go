package store

import (
	"github.com/partitadb/partita/admission"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

// Admission control (package admission) sees the requests clients make:
// item commands proposed on a partition's leader, and reads of item keys.
// Catalogue commands, statistics and membership are never throttled.

// admitWrite admits cmd on partition, led by this node, or returns the
// THROTTLED error. A nil ticket charges nothing.
func (s *Store) admitWrite(partition uint64, cmd *partitapb.Command) (*admission.Ticket, error) {
	if s.cfg.Admission == nil {
		return nil, nil
	}
	switch cmd.GetOp().(type) {
	case *partitapb.Command_PutItem, *partitapb.Command_UpdateItem, *partitapb.Command_DeleteItem:
	default:
		return nil, nil
	}
	if r := s.Replica(partition); r == nil || r.Leader() != s.cfg.NodeID {
		return nil, nil // refused as not leader below; the leader counts it
	}
	return s.cfg.Admission.Admit(partition, admission.Write)
}

// chargeWrite charges a write what DynamoDB would: a unit per started KB
// of the larger of the item before and after.
func chargeWrite(t *admission.Ticket, res *partitapb.Result) {
	if t == nil {
		return
	}
	t.Charge(admission.WriteUnits(max(len(res.GetOldItem()), len(res.GetNewItem()))))
}

// admitRead admits a read of key (or of a range starting there).
func (s *Store) admitRead(partition uint64, key []byte) (*admission.Ticket, error) {
	if s.cfg.Admission == nil || !engine.IsDataKey(key) {
		return nil, nil
	}
	return s.cfg.Admission.Admit(partition, admission.Read)
}

// chargeRead charges a read of size bytes: a unit per started 4 KB, half
// of it when eventually consistent.
func chargeRead(t *admission.Ticket, size int, consistent bool) {
	if t != nil {
		t.Charge(admission.ReadUnits(size, consistent))
	}
}
