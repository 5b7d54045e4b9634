package router

import (
	"bytes"
	"context"
	"fmt"
	"sync"

	"github.com/partitadb/partita/clusterversion"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

// Batched writes of global secondary index entries (docs/indexes.md,
// "Maintenance"): the writes a page of change records (or of a backfill)
// makes to one index are grouped by the index partition owning each
// entry's key and proposed as one IndexWrite per partition, in the order
// they were made; a key's writes always go to one partition, so each
// entry's writes keep their order.

// IndexVersion is the version of a base item's state: the range
// generation of its partition's change log segment and the sequence of the
// change record that made it. The versions of one item's states grow in
// the order of its writes, across splits and merges (a split's halves and
// a merge's range are at a higher generation than their parents').
type IndexVersion struct {
	Generation, Seq uint64
}

// IndexChange is a change record with the version of the state it made.
type IndexChange struct {
	Record  *partitapb.ChangeRecord
	Version IndexVersion
}

// indexBatchEntries and indexBatchBytes bound one IndexWrite: a larger
// group is proposed in several, one after the other.
const (
	indexBatchEntries = 512
	indexBatchBytes   = 1 << 20
)

// indexBatchWorkers bounds the IndexWrite proposals of one call in flight.
const indexBatchWorkers = 16

// indexOp is one write of an entry, with the hash routing it.
type indexOp struct {
	hash uint64
	w    *partitapb.IndexEntryWrite
}

// ApplyIndexChanges brings the entries of every index of base up to date
// with changes, in order: per record, as ApplyIndexChange does, but in one
// proposal per index partition (while the cluster version is below
// IndexBatches, one write per entry, as before).
func (r *Router) ApplyIndexChanges(ctx context.Context, base *partitapb.Table, tables map[string]*partitapb.Table, changes []IndexChange) error {
	if !r.allows(clusterversion.IndexBatches) {
		for _, c := range changes {
			if err := r.ApplyIndexChange(ctx, base, tables, c.Record); err != nil {
				return err
			}
		}
		return nil
	}
	ops := map[string][]indexOp{}
	for _, c := range changes {
		old, err := decodeImage(c.Record.GetOldImage())
		if err != nil {
			return err
		}
		cur, err := decodeImage(c.Record.GetNewImage())
		if err != nil {
			return err
		}
		for _, gi := range base.GetGlobalIndexes() {
			t := tables[gi.GetName()]
			if t == nil {
				continue
			}
			ops[gi.GetName()] = appendEntryOps(ops[gi.GetName()], t, gi, old, cur, c.Version, false)
		}
	}
	return r.writeIndexOps(ctx, base, tables, ops, nil)
}

// WriteIndexEntries writes the entries of the base items its in index gi
// (hidden table t), as a backfill that read them at version v: a backfill
// write writes nothing over a live entry or a tombstone of a newer version
// (docs/indexes.md, "Backfill").
func (r *Router) WriteIndexEntries(ctx context.Context, t *partitapb.Table, gi *partitapb.GlobalIndex, its []item.Item, v IndexVersion) error {
	if !r.allows(clusterversion.IndexBatches) {
		for _, it := range its {
			if err := r.WriteIndexEntry(ctx, t, gi, it); err != nil {
				return err
			}
		}
		return nil
	}
	var ops []indexOp
	for _, it := range its {
		ops = appendEntryOps(ops, t, gi, nil, it, v, true)
	}
	base := &partitapb.Table{GlobalIndexes: []*partitapb.GlobalIndex{gi}}
	var round *uint64
	if r.IndexRounds() {
		epoch := t.GetIndexEpoch() // the round this backfill belongs to
		round = &epoch
	}
	return r.writeIndexOps(ctx, base, map[string]*partitapb.Table{gi.GetName(): t}, map[string][]indexOp{gi.GetName(): ops}, round)
}

// DropIndexEntries removes entries (as a scan of index gi, hidden table
// t, returned them) as a backfill of t's round that read their items at
// version v: each delete removes its entry only if it still holds what
// the scan saw, and no newer tombstone is there (docs/indexes.md, "A
// trimmed log").
func (r *Router) DropIndexEntries(ctx context.Context, t *partitapb.Table, gi *partitapb.GlobalIndex, entries []item.Item, v IndexVersion) error {
	if len(entries) == 0 {
		return nil
	}
	epoch := t.GetIndexEpoch()
	var ops []indexOp
	for _, e := range entries {
		key, entry, ok := IndexEntry(t, gi, e)
		if !ok {
			continue
		}
		ops = append(ops, indexOp{hash: entryHash(t, entry), w: &partitapb.IndexEntryWrite{
			Key: key, Value: item.EncodeItem(entry), Delete: true, Backfill: true, VersionGeneration: v.Generation, VersionSeq: v.Seq}})
	}
	base := &partitapb.Table{GlobalIndexes: []*partitapb.GlobalIndex{gi}}
	return r.writeIndexOps(ctx, base, map[string]*partitapb.Table{gi.GetName(): t}, map[string][]indexOp{gi.GetName(): ops}, &epoch)
}

// appendEntryOps appends the writes moving an item's entry in index gi
// (hidden table t) from its old image's to its new image's.
func appendEntryOps(ops []indexOp, t *partitapb.Table, gi *partitapb.GlobalIndex, old, cur item.Item, v IndexVersion, backfill bool) []indexOp {
	oldKey, oldEntry, hadOld := IndexEntry(t, gi, old)
	newKey, newEntry, hasNew := IndexEntry(t, gi, cur)
	if hadOld && (!hasNew || !bytes.Equal(oldKey, newKey)) {
		ops = append(ops, indexOp{hash: entryHash(t, oldEntry), w: &partitapb.IndexEntryWrite{
			Key: oldKey, Delete: true, VersionGeneration: v.Generation, VersionSeq: v.Seq, Backfill: backfill}})
	}
	if hasNew {
		ops = append(ops, indexOp{hash: entryHash(t, newEntry), w: &partitapb.IndexEntryWrite{
			Key: newKey, Value: item.EncodeItem(newEntry), VersionGeneration: v.Generation, VersionSeq: v.Seq, Backfill: backfill}})
	}
	return ops
}

// entryHash is the routing hash of an entry of index table t: its
// partition key's.
func entryHash(t *partitapb.Table, entry item.Item) uint64 {
	pk, _ := keyValue(t.GetKeySchema(), "HASH", entry)
	return item.Hash(pk)
}

// writeIndexOps proposes each index's writes, grouped by index partition,
// the groups concurrently; it returns the first failure. With round, the
// writes are a backfill's of that round (IndexBackfill).
func (r *Router) writeIndexOps(ctx context.Context, base *partitapb.Table, tables map[string]*partitapb.Table, ops map[string][]indexOp, round *uint64) error {
	type group struct {
		t   *partitapb.Table
		ops []indexOp
	}
	var groups []group
	for _, gi := range base.GetGlobalIndexes() {
		t, list := tables[gi.GetName()], ops[gi.GetName()]
		if t == nil || len(list) == 0 {
			continue
		}
		for _, g := range groupByPartition(t, list) {
			groups = append(groups, group{t, g})
		}
	}
	sem := make(chan struct{}, indexBatchWorkers)
	errs := make([]error, len(groups))
	var wg sync.WaitGroup
	for i, g := range groups {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			errs[i] = r.writeIndexGroup(ctx, g.t, g.ops, round)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// groupByPartition splits ops by the partition of t owning each, keeping
// their order within each group.
func groupByPartition(t *partitapb.Table, ops []indexOp) [][]indexOp {
	var order []uint64
	by := map[uint64][]indexOp{}
	for _, op := range ops {
		p := partitionOfHash(t, op.hash).GetId()
		if _, ok := by[p]; !ok {
			order = append(order, p)
		}
		by[p] = append(by[p], op)
	}
	out := make([][]indexOp, 0, len(order))
	for _, p := range order {
		out = append(out, by[p])
	}
	return out
}

// writeIndexGroup proposes ops, which t's directory copy puts in one
// partition, in bounded batches, one after the other. A batch refused for
// its range (the index partition split or merged) is grouped again by the
// table's record read afresh, and its groups written in turn.
func (r *Router) writeIndexGroup(ctx context.Context, t *partitapb.Table, ops []indexOp, round *uint64) error {
	ctx, cancel := r.bound(ctx, t)
	defer cancel()
	for len(ops) > 0 {
		n, size := 0, 0
		for n < len(ops) && n < indexBatchEntries && (n == 0 || size+len(ops[n].w.GetValue()) <= indexBatchBytes) {
			size += len(ops[n].w.GetKey()) + len(ops[n].w.GetValue())
			n++
		}
		batch := ops[:n]
		p := partitionOfHash(t, batch[0].hash)
		cmd := r.command()
		cmd.RangeGeneration = p.GetRangeGeneration()
		w := &partitapb.IndexWrite{Entries: make([]*partitapb.IndexEntryWrite, len(batch))}
		for i, op := range batch {
			w.Entries[i] = op.w
		}
		if round != nil {
			cmd.Op = &partitapb.Command_IndexBackfill{IndexBackfill: &partitapb.IndexBackfill{Epoch: *round, Entries: w.Entries}}
		} else {
			cmd.Op = &partitapb.Command_IndexWrite{IndexWrite: w}
		}
		res, err := r.propose(ctx, p.GetId(), cmd)
		if err != nil {
			return fmt.Errorf("router: index table %q: %w", t.GetName(), err)
		}
		if e := res.GetError(); partitapb.IsWrongRange(e) {
			// Route this batch and the rest again, each by the new layout.
			owner := func(t *partitapb.Table) *partitapb.Partition { return partitionOfHash(t, batch[0].hash) }
			if t, err = r.rerouter().reroute(ctx, t, p, e, owner); err != nil {
				return err
			}
			for _, g := range groupByPartition(t, ops) {
				if err := r.writeIndexGroup(ctx, t, g, round); err != nil {
					return err
				}
			}
			return nil
		} else if e != nil {
			return fmt.Errorf("router: index table %q: %w", t.GetName(), e)
		}
		ops = ops[n:]
	}
	return nil
}
