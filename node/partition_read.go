package node

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

// partitionReader calls visit with each item of partition p of table t
// (its encoding and its decoded form), in key order, as the partition
// held them at one applied index, which it returns. asOf zero reads the
// present: every write acknowledged before the call and none that is half
// applied. A reader of past states (from the change log) plugs in here
// for ExportTime; readPartition refuses a non-zero asOf.
type partitionReader func(ctx context.Context, t *partitapb.Table, p uint64, asOf time.Time,
	visit func(raw []byte, v item.Item) error) (uint64, error)

var _ partitionReader = (*Node)(nil).readPartition

// readPartition is the partitionReader of the present: the leader's
// replica of p read from one engine snapshot taken after a read barrier
// (store.PinState). Index entries (engine.IsLocalEntry) and keys that are
// not t's items are skipped.
func (n *Node) readPartition(ctx context.Context, t *partitapb.Table, p uint64, asOf time.Time,
	visit func(raw []byte, v item.Item) error) (uint64, error) {
	var part *partitapb.Partition
	for _, q := range t.GetPartitions() {
		if q.GetId() == p {
			part = q
		}
	}
	if part == nil {
		return 0, fmt.Errorf("partition %d is not one of the table's", p)
	}
	if !asOf.IsZero() {
		return 0, n.readRangeAsOf(ctx, t, part, asOf, visit)
	}
	pin, err := n.store.PinState(ctx, p)
	if err != nil {
		return 0, err
	}
	defer pin.Snap.Close()
	lo, hi := engine.HashSpan(t.GetId(), part.GetHashStart(), part.GetHashEnd())
	if !spansCover(pin.Desc.GetSpans(), lo, hi) {
		return 0, fmt.Errorf("partition %d no longer holds the range it had when the read was asked (split or merged)", p)
	}
	return pin.Applied, n.scanItems(pin.Snap, t, lo, hi, visit)
}

// readRangeAsOf calls visit with the items of t as of asOf (from the
// change log: ReadTableAsOf) whose partition key hashes into part's
// range, whatever partitions hold them now. It reads the whole table's
// logs for one range: a past export costs a table's read per partition.
func (n *Node) readRangeAsOf(ctx context.Context, t *partitapb.Table, part *partitapb.Partition, asOf time.Time,
	visit func(raw []byte, v item.Item) error) error {
	fresh, err := n.router.FreshTable(ctx, t.GetName())
	if err != nil {
		return err
	}
	if fresh.GetId() != t.GetId() {
		return fmt.Errorf("table %s was replaced", t.GetName())
	}
	return n.ReadTableAsOf(ctx, fresh, asOf, func(v item.Item) error {
		key, err := n.router.StorageKey(fresh, v)
		if err != nil {
			return err
		}
		h, ok := engine.KeyHash(key)
		if !ok || h < part.GetHashStart() || (part.GetHashEnd() != 0 && h >= part.GetHashEnd()) {
			return nil
		}
		return visit(item.EncodeItem(v), v)
	})
}

// scanItems calls visit with each of t's items in [lo, hi) of snap.
func (n *Node) scanItems(snap *engine.Snapshot, t *partitapb.Table, lo, hi []byte, visit func(raw []byte, v item.Item) error) error {
	it, err := snap.NewIter(lo, hi)
	if err != nil {
		return err
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		if engine.IsLocalEntry(it.Value()) {
			continue // a local secondary index entry or collection size
		}
		v, err := item.DecodeItem(it.Value())
		if err != nil {
			return fmt.Errorf("stored item %x is corrupt: %w", it.Key(), err)
		}
		if key, err := n.router.StorageKey(t, v); err != nil || !bytes.Equal(key, it.Key()) {
			continue
		}
		if err := visit(it.Value(), v); err != nil {
			return err
		}
	}
	return it.Error()
}

// spansCover reports whether one of spans holds all of [lo, hi).
func spansCover(spans []*partitapb.Span, lo, hi []byte) bool {
	for _, s := range spans {
		if bytes.Compare(s.GetStart(), lo) <= 0 && bytes.Compare(hi, s.GetEnd()) <= 0 {
			return true
		}
	}
	return false
}
