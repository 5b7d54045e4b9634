package router

import (
	"bytes"
	"context"
	"fmt"

	"github.com/partitadb/partita/clusterversion"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

// IndexCursor returns the durable cursor of base partition p: the last
// sequence of its change log applied to its table's indexes (0: none).
func (r *Router) IndexCursor(ctx context.Context, p uint64) (uint64, error) {
	raw, err := r.get(ctx, directory.MetaPartition, directory.IndexCursorKey(p), true)
	if err != nil {
		return 0, err
	}
	return directory.DecodeIndexCursor(raw)
}

// SetIndexCursor raises the cursor of base partition p to seq through the
// meta partition's raft log (a cursor never moves back).
func (r *Router) SetIndexCursor(ctx context.Context, p, seq uint64) error {
	cmd := r.command()
	cmd.Op = &partitapb.Command_IndexCursor{IndexCursor: &partitapb.IndexCursor{Partition: p, Seq: seq}}
	res, err := r.propose(ctx, directory.MetaPartition, cmd)
	if err != nil {
		return err
	}
	if res.GetError() != nil {
		return res.GetError()
	}
	return nil
}

// ApplyIndexChange brings the entries of one base item in every index of
// base up to date with one change record: the entry of the old image goes
// when the new image has none or has it under another key, and the new
// image's entry is written. The outcome depends on the record alone, so
// applying a log's records again, in order, after a crash converges to
// the same entries (docs/indexes.md). tables are the indexes' hidden
// tables by index name; an index without one is skipped.
func (r *Router) ApplyIndexChange(ctx context.Context, base *partitapb.Table, tables map[string]*partitapb.Table, rec *partitapb.ChangeRecord) error {
	old, err := decodeImage(rec.GetOldImage())
	if err != nil {
		return err
	}
	cur, err := decodeImage(rec.GetNewImage())
	if err != nil {
		return err
	}
	for _, gi := range base.GetGlobalIndexes() {
		t := tables[gi.GetName()]
		if t == nil {
			continue
		}
		if err := r.applyIndexEntry(ctx, t, gi, old, cur); err != nil {
			return fmt.Errorf("router: index %s of %s: %w", gi.GetName(), base.GetName(), err)
		}
	}
	return nil
}

func decodeImage(raw []byte) (item.Item, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	it, err := item.DecodeItem(raw)
	if err != nil {
		return nil, fmt.Errorf("router: change record image is corrupt: %w", err)
	}
	return it, nil
}

// applyIndexEntry moves the entry of one item in index table t from its
// old image's to its new image's.
func (r *Router) applyIndexEntry(ctx context.Context, t *partitapb.Table, gi *partitapb.GlobalIndex, old, cur item.Item) error {
	oldKey, oldEntry, hadOld := IndexEntry(t, gi, old)
	newKey, newEntry, hasNew := IndexEntry(t, gi, cur)
	if hadOld && (!hasNew || !bytes.Equal(oldKey, newKey)) {
		cmd := &partitapb.Command{Op: &partitapb.Command_DeleteItem{DeleteItem: &partitapb.DeleteItem{Key: oldKey}}}
		if err := r.writeEntry(ctx, t, oldEntry, cmd); err != nil {
			return err
		}
	}
	if !hasNew {
		return nil
	}
	cmd := &partitapb.Command{Op: &partitapb.Command_PutItem{PutItem: &partitapb.PutItem{Key: newKey, Item: item.EncodeItem(newEntry)}}}
	return r.writeEntry(ctx, t, newEntry, cmd)
}

// writeEntry proposes cmd through the normal write path of t.
func (r *Router) writeEntry(ctx context.Context, t *partitapb.Table, entry item.Item, cmd *partitapb.Command) error {
	res, err := r.Write(ctx, t, entry, cmd)
	if err != nil {
		return err
	}
	if res.GetError() != nil {
		return res.GetError()
	}
	return nil
}

// IndexBackfilled reports whether base partition p was backfilled into the
// index whose hidden table is named table.
func (r *Router) IndexBackfilled(ctx context.Context, p uint64, table string) (bool, error) {
	raw, err := r.get(ctx, directory.MetaPartition, directory.IndexBackfillKey(p, table), true)
	return raw != nil, err
}

// SetIndexBackfilled records that base partition p was backfilled into
// the index whose hidden table is named table.
func (r *Router) SetIndexBackfilled(ctx context.Context, p uint64, table string) error {
	cmd := r.command()
	cmd.Op = &partitapb.Command_IndexCursor{IndexCursor: &partitapb.IndexCursor{Partition: p, BackfilledIndex: table}}
	res, err := r.propose(ctx, directory.MetaPartition, cmd)
	if err != nil {
		return err
	}
	if res.GetError() != nil {
		return res.GetError()
	}
	return nil
}

// WriteIndexEntry writes the entry of base item it in index gi (hidden
// table t), if it has one: a backfill's write.
func (r *Router) WriteIndexEntry(ctx context.Context, t *partitapb.Table, gi *partitapb.GlobalIndex, it item.Item) error {
	return r.applyIndexEntry(ctx, t, gi, nil, it)
}

// SetChangeFloor sets the change floor of base partition p of t to t's
// change view at t's revision (fsm.ChangeFloor), once the cluster version
// allows it; before, it does nothing and reports false.
func (r *Router) SetChangeFloor(ctx context.Context, t *partitapb.Table, p *partitapb.Partition) (bool, error) {
	if !r.allows(clusterversion.ChangeFloors) {
		return false, nil
	}
	cmd := r.command()
	cmd.Op = &partitapb.Command_SetChangeFloor{SetChangeFloor: &partitapb.SetChangeFloor{
		TableId: t.GetId(), HashStart: p.GetHashStart(), View: t.GetChangeView(), TableRevision: t.GetRevision()}}
	res, err := r.propose(ctx, p.GetId(), cmd)
	if err != nil {
		return false, err
	}
	if res.GetError() != nil {
		return false, res.GetError()
	}
	return true, nil
}
