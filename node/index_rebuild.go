package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/router"
)

// A change log trimmed past an index cursor (docs/indexes.md, "A trimmed
// log"): the records between the cursor and the first one retained are
// gone, and with them the index writes they would have made. The index is
// rebuilt by a new backfill round: every base partition is backfilled
// again (its writes pass nothing newer, as any backfill's), and the
// partition that lost records also drops the entries of its items that
// no item implies any more (the lost records' deletes and moves).

// startRebuild begins the rebuild of every index of t after base
// partition p's log lost the records after cursor before first: a new
// round (unless one is running), p's loss recorded in it, then p's cursor
// raised past the gap. Each step is idempotent: a crash between them
// finds the gap again and redoes what is missing.
func (j *indexJob) startRebuild(ctx context.Context, t *partitapb.Table, tables map[string]*partitapb.Table, p, cursor, first uint64, since time.Time) error {
	if !since.IsZero() {
		j.resumeMu.Lock()
		j.rebuilding[p] = since
		j.resumeMu.Unlock()
	}
	j.n.log.Warn("index maintenance lost change records to retention: rebuilding the indexes",
		"table", t.GetName(), "partition", p, "cursor", cursor, "first", first)
	for _, gi := range t.GetGlobalIndexes() {
		it := tables[gi.GetName()]
		if it == nil {
			continue
		}
		it, err := j.currentRound(ctx, gi, it)
		if err != nil {
			return err
		}
		// A running round serves unless this partition is done in it
		// already (it would not be backfilled again).
		fresh := !gi.GetBackfilling()
		if !fresh {
			done, err := j.n.router.IndexBackfilled(ctx, p, j.backfillMark(gi, it))
			if err != nil {
				return err
			}
			fresh = done
		}
		if fresh {
			var err error
			if it, err = j.newRound(ctx, t, gi, it); err != nil {
				return err
			}
		}
		if err := j.n.router.SetIndexBackfilled(ctx, p, lostMark(gi, it)); err != nil {
			return err
		}
	}
	return j.n.router.SetIndexCursor(ctx, p, first-1)
}

// newRound raises the round of index gi (table it, read in its current
// round) and returns the index table's new record. A round raised by
// another partition since it was read is joined, not raised again.
//
// t's record goes first: the index marked backfilling, and its round
// named there; then the index table's index_epoch. The other way round,
// the index table would be in the new round while t's record still said
// the index was not backfilling, and the tombstone job, which seals
// every round the index is done with, would seal the new one before its
// first write (each of its writes refused: the rebuild lost). A stop
// between the two is finished by currentRound.
func (j *indexJob) newRound(ctx context.Context, t *partitapb.Table, gi *partitapb.GlobalIndex, it *partitapb.Table) (*partitapb.Table, error) {
	round := it.GetIndexEpoch() + 1
	_, err := j.n.router.UpdateTable(ctx, t.GetName(), func(cur *partitapb.Table) (*partitapb.Table, error) {
		for _, g := range cur.GetGlobalIndexes() {
			if g.GetName() == gi.GetName() {
				g.Backfilling, g.Round = true, max(g.GetRound(), round)
			}
		}
		return cur, nil
	})
	if err != nil {
		return nil, fmt.Errorf("node: a new backfill round of index %s: %w", gi.GetName(), err)
	}
	return j.raiseRound(ctx, it.GetName(), round)
}

// lostMark names the record saying a partition lost log records past
// index it's cursor, in any round: such a partition drops its stale
// entries in every round after (a round raised by another partition
// meanwhile included); cleanMark, beside a round's backfill mark, the
// record saying it did in that round.
func lostMark(gi *partitapb.GlobalIndex, it *partitapb.Table) string {
	return fmt.Sprintf("%s\x00%d\x00lost", gi.GetTable(), it.GetId())
}
func cleanMark(mark string) string { return mark + "\x00clean" }

// dropStale deletes, if base partition p lost records in index it's
// current round and has not done so yet, the entries of p's key range
// that p's items (as this node, its leader, holds them) no longer imply.
// Each delete names the entry it removes (IndexEntryWrite.value) and is
// a backfill's write at the version read before the scan: it removes
// nothing that changed since (docs/indexes.md, "A trimmed log").
func (j *indexJob) dropStale(ctx context.Context, t, it *partitapb.Table, gi *partitapb.GlobalIndex, p *partitapb.Partition) error {
	mark := j.backfillMark(gi, it)
	lost, err := j.n.router.IndexBackfilled(ctx, p.GetId(), lostMark(gi, it))
	if err != nil || !lost {
		return err
	}
	clean, err := j.n.router.IndexBackfilled(ctx, p.GetId(), cleanMark(mark))
	if err != nil || clean {
		return err
	}
	v, err := j.logVersion(ctx, p.GetId())
	if err != nil {
		return err
	}
	var stale []item.Item
	var visitErr error
	err = j.n.router.Scan(ctx, it, router.ScanSpec{Consistent: true}, func(entry item.Item, _ int) bool {
		drop, err := j.staleEntry(t, it, gi, p, entry)
		if err != nil {
			visitErr = err
			return false
		}
		if drop {
			stale = append(stale, entry)
		}
		return true
	})
	if err = errors.Join(err, visitErr); err != nil {
		return err
	}
	if err := j.n.router.DropIndexEntries(ctx, it, gi, stale, router.IndexVersion{Generation: v.Generation, Seq: v.Seq}); err != nil {
		return err
	}
	j.n.log.Info("dropped stale index entries of a partition that lost log records",
		"table", t.GetName(), "index", gi.GetName(), "partition", p.GetId(), "entries", len(stale))
	if err := j.n.router.SetIndexBackfilled(ctx, p.GetId(), cleanMark(mark)); err != nil {
		return err
	}
	j.resumeMu.Lock()
	delete(j.rebuilding, p.GetId())
	j.resumeMu.Unlock()
	return nil
}

// rebuildLag is, for a base partition rebuilding its indexes on this
// node, the age of its first record retained after the gap (the lost
// ones are older); 0 otherwise.
func (j *indexJob) rebuildLag(p uint64) time.Duration {
	j.resumeMu.Lock()
	defer j.resumeMu.Unlock()
	since, ok := j.rebuilding[p]
	if !ok {
		return 0
	}
	return max(time.Since(since), 0)
}

// staleEntry says whether entry, an entry of index gi, belongs to an item
// of base partition p that no longer implies it.
func (j *indexJob) staleEntry(t, it *partitapb.Table, gi *partitapb.GlobalIndex, p *partitapb.Partition, entry item.Item) (bool, error) {
	var pk, sk item.Value
	for _, k := range t.GetKeySchema() {
		if k.GetKeyType() == "HASH" {
			pk = entry[k.GetAttributeName()]
		} else {
			sk = entry[k.GetAttributeName()]
		}
	}
	h := item.Hash(pk)
	if h < p.GetHashStart() || (p.GetHashEnd() != 0 && h >= p.GetHashEnd()) {
		return false, nil // another partition's item
	}
	key, err := engine.DataKey(nil, t.GetId(), pk, sk)
	if err != nil {
		return false, fmt.Errorf("node: stale index entries: %w", err)
	}
	r := j.n.store.Replica(p.GetId())
	raw, err := engine.Get(j.n.eng.Reader(), key)
	if herr := j.n.store.StillHosted(p.GetId(), r); herr != nil {
		// Destroyed here (moved away) before or while the item was read:
		// its range may have been cleared, the item is not known gone.
		return false, fmt.Errorf("node: stale index entries: %w", herr)
	}
	if errors.Is(err, engine.ErrNotFound) {
		return true, nil // the item is gone
	}
	if err != nil {
		return false, fmt.Errorf("node: stale index entries: %w", err)
	}
	cur, err := item.DecodeItem(raw)
	if err != nil {
		return false, fmt.Errorf("node: stale index entries: stored item %x is corrupt: %w", key, err)
	}
	want, _, ok := router.IndexEntry(it, gi, cur)
	have, _, _ := router.IndexEntry(it, gi, entry)
	return !ok || !bytes.Equal(want, have), nil
}
