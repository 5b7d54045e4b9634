package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/partitadb/partita/clusterversion"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/store"
)

// Point-in-time reads (docs/backups.md, "Point-in-time recovery").
//
// The value of a key at time T is the old image of the first change
// record of that key written after T (absent if that record is an
// INSERT), or, when the key has no record after T, its current value.
// ReadTableAsOf reads every current partition of a table that way: the
// change logs first, then the items page by page, each page followed by
// a read of its partition's log up to its end, so that a change applied
// between the first read of the log and the page is seen too.

// pitrLogPage is the number of change records read at once.
const pitrLogPage = 1024

// pitrItemPage is the number of items read at once.
const pitrItemPage = 256

// recoveryPeriod is the window of a point-in-time recovery setting.
func recoveryPeriod(p *partitapb.PointInTimeRecovery) time.Duration {
	days := p.GetRecoveryPeriodDays()
	if days <= 0 {
		days = 35
	}
	// An hour more than the window, so that records just inside it are
	// not trimmed while a restore reads them.
	return time.Duration(days)*24*time.Hour + time.Hour
}

// ReadTableAsOf calls emit with each item table t held at asOf, read
// from its partitions' change logs and items: each item once, in no set
// order. The table's change log must hold old images for every write
// after asOf (point-in-time recovery enabled before it, within its
// window); a write after asOf logged without one fails the read. A
// split or merge of t's partitions while it reads fails it too (the
// caller starts over). It is the reader of RestoreTableToPointInTime and
// what an export as of a time reads.
func (n *Node) ReadTableAsOf(ctx context.Context, t *partitapb.Table, asOf time.Time, emit func(item.Item) error) error {
	r := &asOfReader{n: n, t: t, asOf: asOf.UnixNano(), first: map[string]*partitapb.ChangeRecord{},
		cursor: map[uint64]uint64{}, current: map[uint64]bool{}}
	for _, p := range t.GetPartitions() {
		r.current[p.GetId()] = true
	}
	if err := r.readLogs(ctx); err != nil {
		return err
	}
	for _, p := range t.GetPartitions() {
		if err := r.readItems(ctx, p, emit); err != nil {
			return err
		}
	}
	return r.emitChanged(emit)
}

// asOfReader is the state of one ReadTableAsOf.
type asOfReader struct {
	n    *Node
	t    *partitapb.Table
	asOf int64
	// first holds, by storage key, the key's first record after asOf.
	first map[string]*partitapb.ChangeRecord
	// cursor is the last sequence read of each current partition's log.
	cursor map[uint64]uint64
	// current are the ids of the table's partitions.
	current map[uint64]bool
}

// readLogs reads the log of every current partition and the logs they
// adopted from merged halves, and the logs those had adopted from
// earlier merges of their own, found from the segments of each adopted
// log (a merge's segment names both halves).
func (r *asOfReader) readLogs(ctx context.Context) error {
	type adoption struct{ holder, origin uint64 }
	var queue []adoption
	queued := map[uint64]bool{}
	adopt := func(holder, self uint64, segs []*partitapb.ChangeSegment) {
		for _, s := range segs {
			if len(s.GetParents()) < 2 {
				continue // a split's right half: its parent's log is read as its own
			}
			for _, par := range s.GetParents() {
				if o := par.GetPartition(); o != self && !r.current[o] && !queued[o] {
					queued[o] = true
					queue = append(queue, adoption{holder, o})
				}
			}
		}
	}
	for p := range r.current {
		segs, err := r.readLog(ctx, p)
		if err != nil {
			return err
		}
		adopt(p, p, segs)
	}
	for len(queue) > 0 {
		a := queue[0]
		queue = queue[1:]
		segs, err := r.readAdopted(ctx, a.holder, a.origin)
		if err != nil {
			return err
		}
		adopt(a.holder, a.origin, segs)
	}
	return nil
}

// readLog reads partition p's own log from its cursor to its end and
// returns the log's segments.
func (r *asOfReader) readLog(ctx context.Context, p uint64) ([]*partitapb.ChangeSegment, error) {
	var segs []*partitapb.ChangeSegment
	for {
		page, err := r.n.sender.ReadChanges(ctx, store.ChangesRequest{Partition: p, After: r.cursor[p], Limit: pitrLogPage, Consistent: true})
		if err != nil {
			return nil, fmt.Errorf("node: read the change log of partition %d: %w", p, err)
		}
		segs = page.Segments
		if err := r.note(page.Records); err != nil {
			return nil, err
		}
		if len(page.Records) == 0 {
			r.cursor[p] = max(r.cursor[p], page.Last)
			return segs, nil
		}
		r.cursor[p] = page.Records[len(page.Records)-1].Seq
	}
}

// readAdopted reads the log of origin that holder adopted at a merge and
// returns its segments (none from a binary that kept none).
func (r *asOfReader) readAdopted(ctx context.Context, holder, origin uint64) ([]*partitapb.ChangeSegment, error) {
	var after uint64
	for {
		page, err := r.n.sender.ReadChanges(ctx, store.ChangesRequest{Partition: holder, Origin: origin, After: after, Limit: pitrLogPage, Consistent: true})
		if err != nil {
			return nil, fmt.Errorf("node: read the log of partition %d adopted by %d: %w", origin, holder, err)
		}
		if err := r.note(page.Records); err != nil {
			return nil, err
		}
		if len(page.Records) == 0 {
			return page.Segments, nil
		}
		after = page.Records[len(page.Records)-1].Seq
	}
}

// note keeps, of records, each key's first one after asOf: the earliest
// by time (records of one key in different logs, a split's parent and
// half, follow each other in time up to the clock skew of their
// leaders).
func (r *asOfReader) note(records []fsm.Change) error {
	for _, c := range records {
		rec := c.Record
		if rec.GetUnixNanos() <= r.asOf {
			continue
		}
		if rec.GetKind() != partitapb.ChangeKind_INSERT && len(rec.GetOldImage()) == 0 {
			return fmt.Errorf("%w: the change log of table %s lacks the old image of a write after the restore time (at %s): point-in-time recovery was not on then",
				errNoOldImage, r.t.GetName(), time.Unix(0, rec.GetUnixNanos()).UTC().Format(time.RFC3339Nano))
		}
		k := string(rec.GetKey())
		if prev, ok := r.first[k]; !ok || rec.GetUnixNanos() < prev.GetUnixNanos() {
			r.first[k] = rec
		}
	}
	return nil
}

// readItems emits the items of partition p that have no record after
// asOf: they are as they were then.
func (r *asOfReader) readItems(ctx context.Context, p *partitapb.Partition, emit func(item.Item) error) error {
	lo, hi := engine.HashSpan(r.t.GetId(), p.GetHashStart(), p.GetHashEnd())
	for {
		res, err := r.n.sender.Walk(ctx, store.WalkRequest{Partition: p.GetId(), Lo: lo, Hi: hi, Consistent: true, MaxItems: pitrItemPage})
		if err != nil {
			return fmt.Errorf("node: read partition %d: %w", p.GetId(), err)
		}
		// Records applied up to the page: a key changed since the logs
		// were read is found here.
		if _, err := r.readLog(ctx, p.GetId()); err != nil {
			return err
		}
		for i, k := range res.Keys {
			if err := r.emitCurrent(k, res.Values[i], emit); err != nil {
				return err
			}
		}
		if !res.More || len(res.Keys) == 0 {
			return nil
		}
		lo = append(bytes.Clone(res.Keys[len(res.Keys)-1]), 0)
	}
}

// emitCurrent emits the stored entry k, v when it is an item of the
// table with no record after asOf.
func (r *asOfReader) emitCurrent(k, v []byte, emit func(item.Item) error) error {
	if engine.IsLocalEntry(v) {
		return nil // a local secondary index entry or collection size
	}
	if _, changed := r.first[string(k)]; changed {
		return nil
	}
	it, err := item.DecodeItem(v)
	if err != nil {
		return fmt.Errorf("node: stored item %x is corrupt: %w", k, err)
	}
	if key, err := r.n.router.StorageKey(r.t, it); err != nil || !bytes.Equal(key, k) {
		return nil
	}
	return emit(it)
}

// emitChanged emits the keys changed after asOf that existed then: the
// old image of their first record.
func (r *asOfReader) emitChanged(emit func(item.Item) error) error {
	for k, rec := range r.first {
		if rec.GetKind() == partitapb.ChangeKind_INSERT {
			continue
		}
		it, err := item.DecodeItem(rec.GetOldImage())
		if err != nil {
			return fmt.Errorf("node: the old image of %x in the change log is corrupt: %w", k, err)
		}
		if err := emit(it); err != nil {
			return err
		}
	}
	return nil
}

// errNoOldImage marks a point-in-time read that met a change without
// its old image: the restore cannot go on.
var errNoOldImage = errors.New("node: no old image")

// restorePointInTime writes into t the items of its source table as of
// the restore time, then marks the restore finished.
func (b *backups) restorePointInTime(ctx context.Context, t *partitapb.Table) error {
	src := t.GetPointInTimeRestore()
	source, err := b.n.router.FreshTable(ctx, src.GetSourceTable())
	if err == nil && source.GetId() != src.GetSourceTableId() {
		err = partitapb.Errorf(partitapb.Error_TABLE_NOT_FOUND, "table %s was replaced", src.GetSourceTable())
	}
	if err != nil {
		return fmt.Errorf("node: the source of a point-in-time restore: %w", err)
	}
	asOf := time.Unix(0, src.GetAsOfUnixNanos())
	b.n.log.Info("restoring a table to a point in time", "table", t.GetName(), "source", source.GetName(), "as_of", asOf.UTC())
	items, err := b.n.writeItems(ctx, t, func(ctx context.Context, emit func(item.Item) error) error {
		return b.n.ReadTableAsOf(ctx, source, asOf, emit)
	})
	if err != nil {
		return err
	}
	if _, err := b.propose(ctx, &partitapb.Command{Op: &partitapb.Command_FinishRestore{
		FinishRestore: &partitapb.FinishRestore{Table: t.GetName(), Items: items}}}); err != nil {
		return err
	}
	b.n.log.Info("restored a table to a point in time", "table", t.GetName(), "source", source.GetName(), "items", items)
	return nil
}

// NeedPointInTimeRecovery implements dynamo.Backups.
func (b *backups) NeedPointInTimeRecovery() error {
	return b.n.router.NeedVersion(clusterversion.PointInTimeRecovery, "Point-in-time recovery")
}
