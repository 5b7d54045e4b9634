package node

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/replica"
	"github.com/partitadb/partita/router"
)

// backfillPage is how many items a backfill reads from the engine at once.
const backfillPage = 256

// backfillBudget bounds the time one cycle of the index job spends
// backfilling a partition, well within the cycle's timeout: a larger
// partition is backfilled over several cycles, the change log applied
// between them.
const backfillBudget = 10 * time.Second

// backfill writes the items of base partition p, as this node (its
// leader) holds them, to every index of t still backfilling there, once
// p's change log is on and its cursor was caught up by the caller: a
// write after the cursor is in the log and applied after the backfill,
// so that the index converges whatever the order of the two
// (docs/indexes.md, "Backfill").
func (j *indexJob) backfill(ctx context.Context, t *partitapb.Table, tables map[string]*partitapb.Table, p *partitapb.Partition) error {
	if t.GetChangeView() != partitapb.ChangeView_NEW_AND_OLD_IMAGES {
		return nil // this node's leaders do not log the table's writes yet
	}
	floored := false
	for _, gi := range t.GetGlobalIndexes() {
		it := tables[gi.GetName()]
		if !gi.GetBackfilling() || it == nil {
			continue
		}
		it, err := j.currentRound(ctx, gi, it)
		if err != nil {
			return err
		}
		done, err := j.n.router.IndexBackfilled(ctx, p.GetId(), j.backfillMark(gi, it))
		if err != nil {
			return err
		}
		if done {
			continue
		}
		if !floored {
			if ok, err := j.raiseFloor(ctx, t, p); err != nil || !ok {
				return err
			}
			floored = true
		}
		if j.n.router.IndexRounds() {
			// Before any item is read: tombstones stay until the round is
			// sealed, refusing its stalled writes (docs/indexes.md,
			// "Tombstones").
			if err := j.n.router.OpenIndexRound(ctx, it, it.GetIndexEpoch()); err != nil {
				return err
			}
		}
		done, err = j.backfillRange(ctx, t, it, gi, p)
		if err != nil || !done {
			return err // the next cycle goes on
		}
		if err := j.dropStale(ctx, t, it, gi, p); err != nil {
			return err
		}
		if err := j.n.router.SetIndexBackfilled(ctx, p.GetId(), j.backfillMark(gi, it)); err != nil {
			return err
		}
		j.n.log.Info("backfilled a partition into a new index", "table", t.GetName(), "index", gi.GetName(), "partition", p.GetId())
	}
	return nil
}

// raiseFloor makes sure base partition p logs every write with t's view
// from now on, whichever node leads it and whatever that node's copy of
// the directory says: it sets p's change floor to the view, and reports
// true once this node applied it. A write evaluated with an older view
// is then either applied before the floor, and so in the items the
// backfill reads after it, or refused by apply and evaluated again with
// the floor (docs/indexes.md, "Backfill"). Before the cluster version
// allows floors, it reports true at once (the old behaviour, with its
// race).
func (j *indexJob) raiseFloor(ctx context.Context, t *partitapb.Table, p *partitapb.Partition) (bool, error) {
	r := j.n.store.Replica(p.GetId())
	if r == nil {
		return false, nil
	}
	f, err := r.ChangeFloor()
	if err != nil {
		return false, fmt.Errorf("node: backfill: %w", err)
	}
	if fsm.UnionView(f.View, t.GetChangeView()) == f.View {
		return true, nil
	}
	set, err := j.n.router.SetChangeFloor(ctx, t, p)
	if err != nil || !set {
		return !set && err == nil, err
	}
	if f, err = r.ChangeFloor(); err != nil {
		return false, fmt.Errorf("node: backfill: %w", err)
	}
	// Not applied here yet (the lead moved): the next cycle sees.
	return fsm.UnionView(f.View, t.GetChangeView()) == f.View, nil
}

// followFloors brings the change floor of every table partition this
// node leads to its table's view in the directory, up or down, once the
// table's revision is the floor's or newer: a floor outlives neither the
// indexes nor the stream that needed it. Before the cluster version
// allows floors it does nothing.
func (j *indexJob) followFloors(ctx context.Context, snap *directory.Snapshot) error {
	var firstErr error
	for _, t := range snap.Tables {
		if t.GetIndexBase() != "" {
			continue
		}
		for _, p := range t.GetPartitions() {
			r := j.n.store.Replica(p.GetId())
			if r == nil || r.Leader() != j.n.replicaID() {
				continue
			}
			f, err := r.ChangeFloor() // from memory: no read each cycle
			if err == nil && (f.View == t.GetChangeView() || f.Revision > t.GetRevision()) {
				continue
			}
			if err == nil {
				_, err = j.n.router.SetChangeFloor(ctx, t, p)
			}
			if err != nil && firstErr == nil {
				firstErr = fmt.Errorf("node: change floor of partition %d of %s: %w", p.GetId(), t.GetName(), err)
			}
		}
	}
	return firstErr
}

// backfillKey names one backfill of a base partition into an index in
// one round: its range at its generation, so that a split or merge starts
// the halves afresh.
type backfillKey struct {
	partition, generation uint64
	index                 string
	epoch                 uint64
}

// backfillRange writes the entries of the items of p's range, a page at a
// time, while this node leads p, and reports whether it reached the end
// (false: the cycle's budget ran out first). It goes on where this node's last call
// for the same backfill stopped (a cycle's timeout, a lost lead): each
// page is written at the version it was read at, so the pages written
// before stay right whatever changed since (docs/indexes.md, "Backfill").
func (j *indexJob) backfillRange(ctx context.Context, t, it *partitapb.Table, gi *partitapb.GlobalIndex, p *partitapb.Partition) (bool, error) {
	budget := backfillBudget
	if j.n.cfg.backfillBudget > 0 {
		budget = j.n.cfg.backfillBudget
	}
	deadline := time.Now().Add(budget)
	lo, hi := engine.HashSpan(t.GetId(), p.GetHashStart(), p.GetHashEnd())
	key := backfillKey{partition: p.GetId(), generation: p.GetRangeGeneration(), index: it.GetName(), epoch: it.GetIndexEpoch()}
	j.resumeMu.Lock()
	if next, ok := j.resume[key]; ok {
		lo = next
	}
	j.resumeMu.Unlock()
	for {
		r := j.n.store.Replica(p.GetId())
		if r == nil || r.Leader() != j.n.replicaID() {
			return false, fmt.Errorf("node: lost the lead of partition %d during its backfill", p.GetId())
		}
		// The log's last sequence before the read: every record at or
		// below it is in the items read, so the version it makes is at
		// most the state read, and below that of any later change.
		v, err := j.logVersion(ctx, p.GetId())
		if err != nil {
			return false, err
		}
		items, next, err := j.readHosted(p.GetId(), r, lo, hi)
		if err != nil {
			return false, err
		}
		var after func(error)
		if pause := j.n.cfg.backfillPause; pause != nil {
			after = pause(p.GetId(), items) // tests: a leader stalled between its read and its write
		}
		err = j.n.router.WriteIndexEntries(ctx, it, gi, items, v)
		if after != nil {
			after(err)
		}
		if err != nil {
			return false, err
		}
		j.backfilled.WithLabelValues(t.GetName(), gi.GetName()).Add(float64(len(items)))
		j.resumeMu.Lock()
		if next == nil {
			delete(j.resume, key)
		} else {
			j.resume[key] = next
		}
		j.resumeMu.Unlock()
		if next == nil {
			return true, nil
		}
		if time.Now().After(deadline) {
			return false, nil
		}
		lo = next
	}
}

// logVersion is the version of base partition p's state as this node
// applied it: its change log's last sequence and that sequence's segment
// generation.
func (j *indexJob) logVersion(ctx context.Context, p uint64) (router.IndexVersion, error) {
	st, err := fsm.ReadChangeState(j.n.eng.Reader(), p)
	if err != nil {
		return router.IndexVersion{}, fmt.Errorf("node: backfill: %w", err)
	}
	segs, err := j.n.store.ChangeSegments(ctx, p)
	if err != nil {
		return router.IndexVersion{}, err
	}
	return router.IndexVersion{Generation: segmentGeneration(segs, st.Last), Seq: st.Last}, nil
}

// readHosted reads a page of the items in [lo, hi) of partition's
// replica r (readItems), and fails if r is no longer this node's
// replica of partition: destroyed here meanwhile, its range may have
// been cleared under the read, which would pass for the end of the items.
func (j *indexJob) readHosted(partition uint64, r *replica.Replica, lo, hi []byte) ([]item.Item, []byte, error) {
	items, next, err := j.readItems(lo, hi)
	if err != nil {
		return nil, nil, err
	}
	if err := j.n.store.StillHosted(partition, r); err != nil {
		return nil, nil, fmt.Errorf("node: partition %d left this node during its backfill: %w", partition, err)
	}
	return items, next, nil
}

// readItems reads up to backfillPage items of [lo, hi) from the engine
// and returns the key to resume at (nil: the end).
func (j *indexJob) readItems(lo, hi []byte) ([]item.Item, []byte, error) {
	iter, err := j.n.eng.NewIter(lo, hi)
	if err != nil {
		return nil, nil, fmt.Errorf("node: backfill: %w", err)
	}
	defer iter.Close()
	var out []item.Item
	for ok := iter.First(); ok; ok = iter.Next() {
		if len(out) == backfillPage {
			return out, bytes.Clone(iter.Key()), nil
		}
		if engine.IsLocalEntry(iter.Value()) {
			continue // a local secondary index entry or collection size
		}
		x, err := item.DecodeItem(iter.Value())
		if err != nil {
			return nil, nil, fmt.Errorf("node: backfill: stored item %x is corrupt: %w", iter.Key(), err)
		}
		out = append(out, x)
	}
	return out, nil, iter.Error()
}

// currentRound returns index table it's record as the directory holds it
// now (a rebuild raises its round, which a node's copy may not show yet),
// from cluster version 15. A round that gi, the index in its base
// table's record, names and the index table does not yet (a rebuild
// stopped between its two updates) is raised there first.
func (j *indexJob) currentRound(ctx context.Context, gi *partitapb.GlobalIndex, it *partitapb.Table) (*partitapb.Table, error) {
	if !j.n.router.IndexRounds() {
		return it, nil
	}
	it, err := j.n.router.FreshTable(ctx, it.GetName())
	if err != nil || it.GetIndexEpoch() >= gi.GetRound() {
		return it, err
	}
	return j.raiseRound(ctx, it.GetName(), gi.GetRound())
}

// raiseRound raises index table name's index_epoch to round, unless it
// is there already, and returns its record.
func (j *indexJob) raiseRound(ctx context.Context, name string, round uint64) (*partitapb.Table, error) {
	it, err := j.n.router.UpdateTable(ctx, name, func(cur *partitapb.Table) (*partitapb.Table, error) {
		cur.IndexEpoch = max(cur.GetIndexEpoch(), round)
		return cur, nil
	})
	if err != nil {
		return nil, fmt.Errorf("node: backfill round %d of index table %s: %w", round, name, err)
	}
	return it, nil
}

// endRounds marks ACTIVE, in base table record cur, each backfilling
// index that done names with a round every partition was backfilled in,
// and records that round in it. A later round raised since that one was
// checked keeps its index backfilling: clearing it would end that round
// unbackfilled, and let the tombstone job seal it (docs/indexes.md,
// "Tombstones").
func endRounds(cur *partitapb.Table, done map[string]uint64) {
	for _, gi := range cur.GetGlobalIndexes() {
		round, ok := done[gi.GetName()]
		if gi.GetBackfilling() && ok && gi.GetRound() <= round {
			gi.Backfilling, gi.Status, gi.Round = false, directory.Active.String(), round
		}
	}
}

// backfillMark names index gi (hidden table it) in the records saying a
// base partition was backfilled into it: with cluster version 15 its
// table's name and id, so that an index deleted and created again under
// its name is backfilled again (before, the marks of the deleted one
// stayed, and the new one was never backfilled).
func (j *indexJob) backfillMark(gi *partitapb.GlobalIndex, it *partitapb.Table) string {
	if !j.n.router.IndexRounds() {
		return gi.GetTable()
	}
	if it.GetIndexEpoch() == 0 {
		return fmt.Sprintf("%s\x00%d", gi.GetTable(), it.GetId())
	}
	// A rebuild's round backfills every partition again.
	return fmt.Sprintf("%s\x00%d\x00%d", gi.GetTable(), it.GetId(), it.GetIndexEpoch())
}

// activateIndexes marks ACTIVE every backfilling index of t whose every
// partition was backfilled, and records in pendings, by table and index,
// how many partitions each of the others waits for.
func (j *indexJob) activateIndexes(ctx context.Context, t *partitapb.Table, tables map[string]*partitapb.Table, pendings map[[2]string]int) error {
	// The indexes of t that every partition backfilled, with the round
	// that they did.
	done := map[string]uint64{}
	for _, gi := range t.GetGlobalIndexes() {
		it := tables[gi.GetName()]
		if !gi.GetBackfilling() || it == nil {
			continue
		}
		it, err := j.currentRound(ctx, gi, it)
		if err != nil {
			return err
		}
		pending := 0
		for _, p := range t.GetPartitions() {
			ok, err := j.n.router.IndexBackfilled(ctx, p.GetId(), j.backfillMark(gi, it))
			if err != nil {
				return err
			}
			if !ok {
				pending++
			}
		}
		pendings[[2]string{t.GetName(), gi.GetName()}] = pending
		if pending == 0 {
			done[gi.GetName()] = it.GetIndexEpoch()
		}
	}
	if len(done) == 0 {
		return nil
	}
	_, err := j.n.router.UpdateTable(ctx, t.GetName(), func(cur *partitapb.Table) (*partitapb.Table, error) {
		endRounds(cur, done)
		return cur, nil
	})
	if err == nil {
		for name := range done {
			delete(pendings, [2]string{t.GetName(), name})
		}
	}
	return err
}
