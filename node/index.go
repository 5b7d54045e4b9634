package node

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/partitadb/partita/daemon"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/router"
)

// GlobalIndexJob is the name of the job maintaining global secondary
// indexes from the change logs of the base partitions this node leads.
const GlobalIndexJob = "global-indexes"

// indexPage is how many change records one step of a partition applies
// before it raises the partition's cursor.
const indexPage = 256

// viewHost creates a new table's partitions once this node's leaders know
// the table's change view: a table created with global secondary indexes
// logs its first write, so its indexes miss none.
type viewHost struct {
	router.Host
	n *Node
}

// CreatePartition reads the directory's tables into the node's cache (and
// so its change logs), then creates p.
func (h viewHost) CreatePartition(ctx context.Context, p *partitapb.Partition) error {
	tables, err := h.n.router.TableRecords(ctx)
	if err != nil {
		return fmt.Errorf("node: read the tables before creating partition %d: %w", p.GetId(), err)
	}
	snap := *h.n.dir.Snapshot()
	snap.Tables = tables
	h.n.dir.Update(&snap)
	return h.Host.CreatePartition(ctx, p)
}

// indexJob applies base partitions' change logs to their tables' indexes.
type indexJob struct {
	n   *Node
	lag *prometheus.GaugeVec
	// backfilled counts the items this node's backfills wrote to each
	// index; pending is, on the node leading the meta partition, how many
	// base partitions each backfilling index still waits for (a
	// backfill's progress, with DescribeTable's Backfilling and the
	// index's ItemCount).
	backfilled *prometheus.CounterVec
	pending    *prometheus.GaugeVec
	// resume is where each unfinished backfill of this node goes on
	// (backfillRange): a partition too large for one cycle is backfilled
	// over several.
	resumeMu sync.Mutex
	resume   map[backfillKey][]byte
	// rebuilding holds, per base partition whose log lost records, the
	// time of its first record retained, until it dropped its stale
	// entries: the lag gauge counts from it meanwhile.
	rebuilding map[uint64]time.Time
}

// forgetGone drops the backfill positions and rebuild marks of
// partitions this node no longer hosts (moved away, split or merged,
// their table deleted): kept, they would number every partition the node
// ever held. Whoever leads such a partition now backfills or rebuilds it.
func (j *indexJob) forgetGone() {
	gone := func(p uint64) bool { return j.n.store.Replica(p) == nil }
	j.resumeMu.Lock()
	defer j.resumeMu.Unlock()
	maps.DeleteFunc(j.resume, func(k backfillKey, _ []byte) bool { return gone(k.partition) })
	maps.DeleteFunc(j.rebuilding, func(p uint64, _ time.Time) bool { return gone(p) })
}

// registerIndexJob registers the index maintenance job and its lag gauge.
func (n *Node) registerIndexJob(m *daemon.Manager) error {
	if n.cfg.GlobalIndexInterval <= 0 {
		return nil
	}
	j := &indexJob{n: n, resume: map[backfillKey][]byte{}, rebuilding: map[uint64]time.Time{}, lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "partita_gsi_lag_seconds",
		Help: "Age of the oldest change of the base table not yet applied to the global secondary index, over the base partitions this node leads (0: caught up).",
	}, []string{"table", "index"})}
	j.backfilled = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "partita_gsi_backfill_items_total",
		Help: "Items of the base table written to the global secondary index by this node's backfills.",
	}, []string{"table", "index"})
	j.pending = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "partita_gsi_backfill_pending_partitions",
		Help: "Base partitions not yet backfilled into the global secondary index (set by the node leading the meta partition; absent when no backfill runs).",
	}, []string{"table", "index"})
	for _, c := range []prometheus.Collector{j.lag, j.backfilled, j.pending} {
		if err := n.reg.Register(c); err != nil {
			return fmt.Errorf("node: register the index job's metrics: %w", err)
		}
	}
	n.addTableSeries(j.lag.MetricVec, j.backfilled.MetricVec, j.pending.MetricVec)
	return m.Register(daemon.JobSpec{
		Name:     GlobalIndexJob,
		Kind:     daemon.Periodic,
		Interval: n.cfg.GlobalIndexInterval,
		Jitter:   n.cfg.GlobalIndexInterval / 5,
		Timeout:  max(10*n.cfg.GlobalIndexInterval, 30*time.Second),
		Run:      j.run,
	})
}

// run is one cycle: every base partition this node leads is brought up to
// the end of its change log, a page at a time.
func (j *indexJob) run(ctx context.Context, _ *daemon.Cycle) error {
	j.forgetGone()
	snap := j.n.dir.Snapshot()
	firstErr := j.followFloors(ctx, snap)
	lags := map[uint64]time.Duration{}
	defer j.n.indexLags.Store(&lags)
	pendings := map[[2]string]int{}
	defer func() {
		// Whole: a backfill ended, a table gone, or the meta lead moved
		// away leaves no stale series.
		j.pending.Reset()
		for k, n := range pendings {
			j.pending.WithLabelValues(k[0], k[1]).Set(float64(n))
		}
	}()
	for _, t := range snap.Tables {
		if len(t.GetGlobalIndexes()) == 0 || t.GetIndexBase() != "" {
			continue
		}
		tables := router.IndexTables(snap, t)
		if !indexTablesKnown(t, tables) {
			// The index tables come with the node's next directory
			// refresh; the records wait for them.
			continue
		}
		var lag time.Duration
		for _, p := range t.GetPartitions() {
			r := j.n.store.Replica(p.GetId())
			if r == nil || r.Leader() != j.n.replicaID() {
				continue
			}
			l, err := j.catchUp(ctx, snap, t, tables, p.GetId())
			if err == nil {
				err = j.backfill(ctx, t, tables, p)
			}
			if err != nil && firstErr == nil {
				firstErr = fmt.Errorf("node: index maintenance of partition %d of %s: %w", p.GetId(), t.GetName(), err)
			}
			l = max(l, j.rebuildLag(p.GetId()))
			lag = max(lag, l)
			lags[p.GetId()] = l
		}
		if backfilling(t) && j.n.store.Replica(directory.MetaPartition) != nil &&
			j.n.store.Replica(directory.MetaPartition).Leader() == j.n.replicaID() {
			if err := j.activateIndexes(ctx, t, tables, pendings); err != nil && firstErr == nil {
				firstErr = fmt.Errorf("node: activate the indexes of %s: %w", t.GetName(), err)
			}
		}
		j.setLag(t, lag)
	}
	return firstErr
}

// catchUp applies partition p's change records after its cursor, page by
// page, raising the cursor after each page, and returns the age of the
// oldest record left unapplied.
func (j *indexJob) catchUp(ctx context.Context, snap *directory.Snapshot, t *partitapb.Table, tables map[string]*partitapb.Table, p uint64) (time.Duration, error) {
	cursor, err := j.n.router.IndexCursor(ctx, p)
	if err != nil {
		return 0, err
	}
	if err := j.drainAdopted(ctx, snap, t, tables, p, cursor); err != nil {
		return 0, err
	}
	for {
		upTo, err := j.readyUpTo(ctx, snap, p, cursor)
		if err != nil {
			return 0, err
		}
		page, err := j.n.store.ReadChanges(ctx, p, cursor, indexPage, false)
		if err != nil {
			return 0, err
		}
		if page.Trimmed {
			if !j.n.router.IndexRounds() {
				j.n.log.Warn("index maintenance lost change records to retention: the indexes miss writes",
					"table", t.GetName(), "partition", p, "cursor", cursor, "first", page.First)
			} else {
				// Rebuilt by a new backfill round (index_rebuild.go); the
				// log is applied from its first record on.
				var since time.Time
				if len(page.Records) > 0 {
					since = time.Unix(0, page.Records[0].Record.GetUnixNanos())
				}
				if err := j.startRebuild(ctx, t, tables, p, cursor, page.First, since); err != nil {
					return 0, err
				}
				cursor = page.First - 1
				continue
			}
		}
		done := cursor
		recs := page.Records
		for i, c := range recs {
			if upTo != 0 && c.Seq >= upTo {
				recs = recs[:i]
				break
			}
		}
		if err := j.applyPage(ctx, t, tables, p, recs); err != nil {
			return j.age(recs[0].Record), err
		}
		if len(recs) > 0 {
			done = recs[len(recs)-1].Seq
			// Within a long catch-up the gauge follows each page (the
			// last record applied is about as old as the oldest left).
			j.setLag(t, j.age(recs[len(recs)-1].Record))
		}
		if done > cursor {
			if err := j.n.router.SetIndexCursor(ctx, p, done); err != nil {
				return 0, err
			}
		}
		if done == cursor || done >= page.Last {
			if done < page.Last && len(page.Records) > 0 {
				return j.age(page.Records[0].Record), nil
			}
			return 0, nil
		}
		cursor = done
	}
}

// readyUpTo returns the first sequence of p's log that must wait (0: none):
// the first of a segment that a split or merge opened, while a parent
// log's records before it (another partition's) are not all applied, as
// they are older writes of the same items.
func (j *indexJob) readyUpTo(ctx context.Context, snap *directory.Snapshot, p, cursor uint64) (uint64, error) {
	segs, err := j.n.store.ChangeSegments(ctx, p)
	if err != nil {
		return 0, err
	}
	for _, s := range segs {
		if s.GetFirstSeq() <= cursor {
			continue
		}
		for _, parent := range s.GetParents() {
			if parent.GetPartition() == p || !partitionExists(snap, parent.GetPartition()) {
				continue
			}
			c, err := j.n.router.IndexCursor(ctx, parent.GetPartition())
			if err != nil {
				return 0, err
			}
			if c < parent.GetLastSeq() {
				return s.GetFirstSeq(), nil
			}
		}
	}
	return 0, nil
}

// age is how old record rec is.
func (j *indexJob) age(rec *partitapb.ChangeRecord) time.Duration {
	return max(time.Since(time.Unix(0, rec.GetUnixNanos())), 0)
}

// partitionExists reports whether the directory lists partition p.
func partitionExists(snap *directory.Snapshot, p uint64) bool {
	for _, q := range snap.Partitions() {
		if q.GetId() == p {
			return true
		}
	}
	return false
}

// replicaID is this node's id in its raft groups (nodeID on a single node).
func (n *Node) replicaID() uint64 {
	if n.id != 0 {
		return n.id
	}
	return nodeID
}

// indexTablesKnown reports whether tables holds the hidden table of every
// index of t but those being deleted. A node's copy of the directory can
// hold a new table's record without its indexes' tables, created after
// it: the change records applied meanwhile would reach none of them, and
// an index created with its table is never backfilled, so its first
// writes would be lost (those of an index being deleted go with its
// table).
func indexTablesKnown(t *partitapb.Table, tables map[string]*partitapb.Table) bool {
	for _, gi := range t.GetGlobalIndexes() {
		if tables[gi.GetName()] == nil && gi.GetStatus() != directory.Deleting.String() {
			return false
		}
	}
	return true
}

// backfilling reports whether an index of t is being backfilled.
func backfilling(t *partitapb.Table) bool {
	for _, gi := range t.GetGlobalIndexes() {
		if gi.GetBackfilling() {
			return true
		}
	}
	return false
}

// drainAdopted applies the records of the logs p adopted in a merge (the
// right half's, which the directory no longer lists) that the right
// half's leader had not applied: they are older than p's records after
// the merge, so they go first.
func (j *indexJob) drainAdopted(ctx context.Context, snap *directory.Snapshot, t *partitapb.Table, tables map[string]*partitapb.Table, p, cursor uint64) error {
	segs, err := j.n.store.ChangeSegments(ctx, p)
	if err != nil {
		return err
	}
	for _, s := range segs {
		if s.GetFirstSeq() <= cursor {
			continue
		}
		for _, parent := range s.GetParents() {
			origin := parent.GetPartition()
			if origin == p || partitionExists(snap, origin) {
				continue
			}
			// The adopted records are older than the merge, whose segment
			// is a generation above both halves' (versions, index_batch.go).
			gen := max(s.GetRangeGeneration(), 1) - 1
			if err := j.applyAdopted(ctx, t, tables, p, origin, parent.GetLastSeq(), gen); err != nil {
				return err
			}
		}
	}
	return nil
}

// applyAdopted applies origin's adopted records up to last after origin's
// cursor, raising origin's cursor as it goes; gen is their versions'
// generation.
func (j *indexJob) applyAdopted(ctx context.Context, t *partitapb.Table, tables map[string]*partitapb.Table, p, origin, last, gen uint64) error {
	cur, err := j.n.router.IndexCursor(ctx, origin)
	if err != nil {
		return err
	}
	for cur < last {
		page, err := j.n.store.ReadAdoptedChanges(ctx, p, origin, cur, indexPage, false)
		if err != nil {
			return err
		}
		done := cur
		var changes []router.IndexChange
		for _, c := range page.Records {
			if c.Seq > last {
				break
			}
			changes = append(changes, router.IndexChange{Record: c.Record, Version: router.IndexVersion{Generation: gen, Seq: c.Seq}})
			done = c.Seq
		}
		if err := j.n.router.ApplyIndexChanges(ctx, t, tables, changes); err != nil {
			return err
		}
		if done == cur {
			done = last // nothing more retained: the rest is gone
		}
		if err := j.n.router.SetIndexCursor(ctx, origin, done); err != nil {
			return err
		}
		cur = done
	}
	return nil
}

// applyPage applies a page of partition p's change records to the
// indexes, in one batched write per index partition (router.
// ApplyIndexChanges), each record with its version: the range generation
// of the log segment holding it and its sequence. On an error the caller
// keeps its cursor, and the page is applied again.
func (j *indexJob) applyPage(ctx context.Context, t *partitapb.Table, tables map[string]*partitapb.Table, p uint64, recs []fsm.Change) error {
	if len(recs) == 0 {
		return nil
	}
	segs, err := j.n.store.ChangeSegments(ctx, p)
	if err != nil {
		return err
	}
	changes := make([]router.IndexChange, len(recs))
	for i, c := range recs {
		changes[i] = router.IndexChange{Record: c.Record, Version: router.IndexVersion{Generation: segmentGeneration(segs, c.Seq), Seq: c.Seq}}
	}
	return j.n.router.ApplyIndexChanges(ctx, t, tables, changes)
}

// segmentGeneration is the range generation of the segment of segs
// holding sequence seq (0: before the first segment).
func segmentGeneration(segs []*partitapb.ChangeSegment, seq uint64) uint64 {
	var gen, first uint64
	for _, s := range segs {
		if s.GetFirstSeq() <= seq && s.GetFirstSeq() >= first {
			gen, first = s.GetRangeGeneration(), s.GetFirstSeq()
		}
	}
	return gen
}

// setLag sets the lag gauge of every index of t.
func (j *indexJob) setLag(t *partitapb.Table, lag time.Duration) {
	for _, gi := range t.GetGlobalIndexes() {
		j.lag.WithLabelValues(t.GetName(), gi.GetName()).Set(lag.Seconds())
	}
}

// indexLag is partition's global index lag at the index job's last cycle
// on this node (0: caught up, not led here, or no index).
func (n *Node) indexLag(partition uint64) time.Duration {
	if m := n.indexLags.Load(); m != nil {
		return (*m)[partition]
	}
	return 0
}
