package router

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/clusterversion"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/store"
)

// CreateTable creates t and its partitions. The returned record has status
// CREATING, as DynamoDB answers; the table is ACTIVE as soon as its
// partitions serve, which on one node is before this returns.
func (r *Router) CreateTable(ctx context.Context, t *partitapb.Table) (*partitapb.Table, error) {
	if len(t.GetLocalIndexes()) > 0 {
		if err := r.NeedVersion(clusterversion.LocalIndexes, "Local secondary indexes"); err != nil {
			return nil, err
		}
	}
	created, err := r.createTable(ctx, t, func() error { return r.createIndexTables(ctx, t) })
	if err != nil {
		return nil, err
	}
	return created, nil
}

// createTable proposes t's record, creates its partitions, runs before
// (the index tables of a base table) and marks t ACTIVE.
func (r *Router) createTable(ctx context.Context, t *partitapb.Table, before func() error) (*partitapb.Table, error) {
	t = proto.Clone(t).(*partitapb.Table)
	t.Status = directory.Creating.String()
	cmd := r.command()
	ct := &partitapb.CreateTable{Table: t, PartitionCount: r.cfg.PartitionsPerTable}
	if r.cfg.Placement != nil {
		nodes, rf, err := r.cfg.Placement(ctx)
		if err != nil {
			return nil, fmt.Errorf("router: placement: %w", err)
		}
		ct.Nodes, ct.ReplicationFactor = nodes, uint32(rf)
		// At least one partition per node, so that every node leads some.
		ct.PartitionCount = max(ct.PartitionCount, uint32(len(nodes)))
	}
	cmd.Op = &partitapb.Command_CreateTable{CreateTable: ct}
	created, err := r.proposeMeta(ctx, cmd)
	if err != nil {
		return nil, err
	}
	for _, p := range created.GetPartitions() {
		if err := r.cfg.Host.CreatePartition(ctx, p); err != nil {
			return nil, fmt.Errorf("router: create partition %d: %w", p.GetId(), err)
		}
	}
	if err := before(); err != nil {
		return nil, err
	}
	if _, err := r.setStatus(ctx, t.GetName(), directory.Active); err != nil {
		return nil, err
	}
	return created, nil
}

func (r *Router) setStatus(ctx context.Context, name string, status directory.TableStatus) (*partitapb.Table, error) {
	cmd := r.command()
	cmd.Op = &partitapb.Command_SetTableStatus{SetTableStatus: &partitapb.SetTableStatus{Name: name, Status: status.String()}}
	return r.proposeMeta(ctx, cmd)
}

// DeleteTable removes the table record, then fences each of its
// partitions and destroys the table's data there (destroyPartition). The
// returned record has status DELETING. A table with
// a stream (directory.KeepsStreams), once the cluster version allows it,
// keeps its partitions and, under a hidden name, its record, for its
// streams to stay readable until PurgeDeletedTable (docs/streams.md).
func (r *Router) DeleteTable(ctx context.Context, name string) (*partitapb.Table, error) {
	cmd := r.command()
	cmd.KeepDeletedStreams = r.allows(clusterversion.DeletedStreams)
	cmd.Op = &partitapb.Command_DeleteTable{DeleteTable: &partitapb.DeleteTable{Name: name}}
	t, err := r.proposeMeta(ctx, cmd)
	if err != nil {
		return nil, err
	}
	r.forget(name)
	r.deleteIndexTables(ctx, t)
	if cmd.KeepDeletedStreams && !directory.IsDeleted(t) && directory.KeepsStreams(t) {
		r.fenceDeletedPartitions(ctx, t)
		return t, nil
	}
	r.destroyPartitions(ctx, t)
	return t, nil
}

// fenceDeletedPartitions marks each partition of t, a deleted table kept
// for its streams, as a deleted table's (fencePartition).
func (r *Router) fenceDeletedPartitions(ctx context.Context, t *partitapb.Table) {
	for _, p := range t.GetPartitions() {
		r.fencePartition(ctx, t, p)
	}
}

// fencePartition marks p, a partition of the deleted table t, as a
// deleted table's (FenceDeletedTable), once the cluster version allows
// it: a router whose cached record predates the delete gets
// TABLE_NOT_FOUND for its item writes instead of writing to the
// partition (kept for t's streams, or whose replicas on other nodes live
// on until their reconciler collects them). A partition that cannot be
// reached now is left unmarked (logged): the delete has happened, and
// those writes are then refused only once every router has refreshed its
// record.
func (r *Router) fencePartition(ctx context.Context, t *partitapb.Table, p *partitapb.Partition) {
	if !r.allows(clusterversion.DeletedTableFence) {
		return
	}
	cmd := r.command()
	cmd.Op = &partitapb.Command_FenceDeletedTable{FenceDeletedTable: &partitapb.FenceDeletedTable{
		TableId: t.GetId(), HashStart: p.GetHashStart()}}
	res, err := r.propose(ctx, p.GetId(), cmd)
	if err == nil && res.GetError() != nil {
		err = res.GetError()
	}
	if err != nil {
		r.cfg.Logger.WarnContext(ctx, "could not fence a deleted table's partition", "table", t.GetName(), "partition", p.GetId(), "err", err)
	}
}

// PurgeDeletedTable removes the record a DeleteTable kept for the streams
// of a deleted table (named by its hidden name), then its partitions'
// data and this node's replicas of them; the other nodes' replicas go at
// their reconciler's next cycle.
func (r *Router) PurgeDeletedTable(ctx context.Context, t *partitapb.Table) error {
	if !directory.IsDeleted(t) {
		return fmt.Errorf("router: purge %q: not a deleted table's record", t.GetName())
	}
	cmd := r.command()
	cmd.Op = &partitapb.Command_DeleteTable{DeleteTable: &partitapb.DeleteTable{Name: t.GetName()}}
	kept, err := r.proposeMeta(ctx, cmd)
	if partitapb.IsCode(err, partitapb.Error_TABLE_NOT_FOUND) {
		return nil // purged by another node
	}
	if err != nil {
		return err
	}
	r.destroyPartitions(ctx, kept)
	return nil
}

// DeletedTables lists the records DeleteTable kept for deleted tables'
// streams, read from the meta partition's leader.
func (r *Router) DeletedTables(ctx context.Context) ([]*partitapb.Table, error) {
	all, err := r.TableRecords(ctx)
	if err != nil {
		return nil, err
	}
	var out []*partitapb.Table
	for _, t := range all {
		if directory.IsDeleted(t) {
			out = append(out, t)
		}
	}
	return out, nil
}

// forget drops the cached record of the table named name.
func (r *Router) forget(name string) {
	r.mu.Lock()
	delete(r.tables, name)
	r.mu.Unlock()
}

// destroyPartitions removes the data of t's partitions through their
// logs, then this node's replicas of them, all partitions at once, each
// given at most destroyWait. The table record is gone and table ids are
// never reused, so data left behind by a failure here is unreachable, not
// wrong (and each node's reconciler removes the data of the replicas it
// collects); and a failure is expected now and then: once the record is
// gone, each node's reconciler may destroy its replicas of the partitions
// (the directory no longer lists them) before the DestroyRange reaches
// them, and the router, finding no replica, would retry until its
// caller's deadline (a DeleteTable then took the request timeout).
func (r *Router) destroyPartitions(ctx context.Context, t *partitapb.Table) {
	var wg sync.WaitGroup
	for _, p := range t.GetPartitions() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pctx, cancel := context.WithTimeout(ctx, destroyWait)
			defer cancel()
			r.destroyPartition(pctx, t, p)
		}()
	}
	wg.Wait()
}

// destroyWait bounds the destruction of one deleted table's partition.
const destroyWait = 5 * time.Second

// destroyPartition fences p (a kept record's partitions were fenced at
// its delete), so that no write applies after its data is gone, then
// destroys its data and this node's replica.
func (r *Router) destroyPartition(ctx context.Context, t *partitapb.Table, p *partitapb.Partition) {
	if !directory.IsDeleted(t) {
		r.fencePartition(ctx, t, p)
	}
	cmd := r.command()
	cmd.RangeGeneration = p.GetRangeGeneration()
	cmd.Op = &partitapb.Command_DestroyRange{DestroyRange: &partitapb.DestroyRange{
		TableId: t.GetId(), HashStart: p.GetHashStart(), HashEnd: p.GetHashEnd(),
	}}
	if _, err := r.propose(ctx, p.GetId(), cmd); err != nil {
		r.cfg.Logger.WarnContext(ctx, "destroying a deleted table's partition through its log failed: each node's replica, items included, goes once its reconciler finds the partition deleted",
			"table", t.GetName(), "partition", p.GetId(), "err", err)
		return
	}
	if err := r.cfg.Host.DestroyPartition(ctx, p.GetId()); err != nil {
		r.cfg.Logger.WarnContext(ctx, "removing a deleted table's partition failed",
			"table", t.GetName(), "partition", p.GetId(), "err", err)
	}
}

// maxTableUpdateAttempts bounds UpdateTable's retries when other updates
// of the same table keep landing between its read and its write.
const maxTableUpdateAttempts = 10

// UpdateTable changes the named table's record: it reads the record as the
// meta partition holds it, has edit return the next record (an error from
// edit is returned as is), and writes it, refused if the record moved on
// since the read; then it reads and edits again. Two updates of one table
// at once thus never lose one another's change. Until the cluster version
// allows table revisions (SetClusterVersion), the last writer wins.
func (r *Router) UpdateTable(ctx context.Context, name string, edit func(*partitapb.Table) (*partitapb.Table, error)) (*partitapb.Table, error) {
	var err error
	for range maxTableUpdateAttempts {
		var cur, next *partitapb.Table
		if cur, err = r.readTable(ctx, name); err != nil {
			return nil, err
		}
		if next, err = edit(proto.Clone(cur).(*partitapb.Table)); err != nil {
			return nil, err
		}
		op := &partitapb.UpdateTable{Name: name, Table: next}
		if r.allows(clusterversion.TableRevisions) {
			op.ExpectedRevision = proto.Uint64(cur.GetRevision())
		}
		cmd := r.command()
		cmd.Op = &partitapb.Command_UpdateTable{UpdateTable: op}
		t, perr := r.proposeMeta(ctx, cmd)
		var e *partitapb.Error
		if !errors.As(perr, &e) || e.GetCode() != partitapb.Error_REVISION_CONFLICT {
			return t, perr
		}
		err = perr
	}
	return nil, fmt.Errorf("router: update table %s: %d attempts met concurrent updates: %w", name, maxTableUpdateAttempts, err)
}

// SetClusterVersion tells the router the cluster version in force: the
// formats every node can read, so the features it may use (until it is
// told, the router runs at clusterversion.Base). With TableRevisions,
// UpdateTable names the revision it was made from; with LocalIndexes,
// tables may have local secondary indexes; with Transactions,
// transactions run.
func (r *Router) SetClusterVersion(v clusterversion.Version) { r.version.Store(uint32(v)) }

// allows says the cluster version in force is v or later.
func (r *Router) allows(v clusterversion.Version) bool {
	return clusterversion.Version(r.version.Load()) >= v
}

// NeedVersion refuses, with VALIDATION, a request for what the cluster
// version in force does not allow yet.
func (r *Router) NeedVersion(v clusterversion.Version, what string) error {
	if r.allows(v) {
		return nil
	}
	return partitapb.Errorf(partitapb.Error_VALIDATION,
		"%s need cluster version %d; the cluster runs at version %d until every node runs a binary that supports it (partita ctl upgrade status)",
		what, v, r.version.Load())
}

// readTable reads the named table's record from the meta partition's
// leader, not from the cache.
func (r *Router) readTable(ctx context.Context, name string) (*partitapb.Table, error) {
	raw, err := r.get(ctx, directory.MetaPartition, directory.TableKey(name), true)
	if err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, partitapb.Errorf(partitapb.Error_TABLE_NOT_FOUND,
			"Requested resource not found: Table: %s not found", name)
	}
	t, err := directory.DecodeTable(raw)
	if err != nil {
		return nil, fmt.Errorf("router: %w", err)
	}
	return t, nil
}

// Table returns the record of the named table.
func (r *Router) Table(ctx context.Context, name string) (*partitapb.Table, error) {
	t, err := r.SharedTable(ctx, name)
	if err != nil {
		return nil, err
	}
	return proto.Clone(t).(*partitapb.Table), nil
}

// SharedTable is Table without the copy: the router's cached record, which
// every caller shares and none may modify (Table gives a copy to modify).
// The item paths take it once per request; a copy of a table record with
// its partitions cost about 3% of a write's CPU on one node.
func (r *Router) SharedTable(ctx context.Context, name string) (*partitapb.Table, error) {
	r.mu.RLock()
	t, ok := r.tables[name]
	r.mu.RUnlock()
	if !ok {
		var err error
		if t, err = r.readTable(ctx, name); err != nil {
			return nil, err
		}
		r.mu.Lock()
		t = r.cacheLocked(t)
		r.mu.Unlock()
	}
	return t, nil
}

// cacheLocked caches t unless the cache holds a newer record of the same
// table (one an update stored while t was read), and returns the record
// cached. r.mu must be held.
func (r *Router) cacheLocked(t *partitapb.Table) *partitapb.Table {
	if c, ok := r.tables[t.GetName()]; ok && c.GetId() == t.GetId() && c.GetRevision() > t.GetRevision() {
		return c
	}
	r.tables[t.GetName()] = t
	return t
}

// refreshTable drops the cached record of stale (a table whose layout a
// replica refused) and reads it again from the directory. A table that
// was deleted, or replaced by another of the same name, is not found.
func (r *Router) refreshTable(ctx context.Context, stale *partitapb.Table) (*partitapb.Table, error) {
	r.forgetStale(stale)
	t, err := r.Table(ctx, stale.GetName())
	if err != nil {
		return nil, err
	}
	if t.GetId() != stale.GetId() {
		return nil, partitapb.Errorf(partitapb.Error_TABLE_NOT_FOUND,
			"Requested resource not found: Table: %s not found", stale.GetName())
	}
	r.learnReplicas(t)
	return t, nil
}

// Tables lists every table record, sorted by name.
func (r *Router) Tables(ctx context.Context) ([]*partitapb.Table, error) {
	all, err := r.TableRecords(ctx)
	if err != nil {
		return nil, err
	}
	ts := all[:0]
	for _, t := range all {
		if !directory.IsDeleted(t) {
			ts = append(ts, t)
		}
	}
	return ts, nil
}

// TableRecords reads every table record, those kept for deleted tables'
// streams included (what a directory snapshot holds).
func (r *Router) TableRecords(ctx context.Context) ([]*partitapb.Table, error) {
	lo, hi := directory.TablesSpan()
	var ts []*partitapb.Table
	req := store.WalkRequest{Partition: directory.MetaPartition, Lo: lo, Hi: hi, Consistent: true, MaxItems: walkPageItems}
	for {
		page, err := r.walkPage(ctx, req)
		if err != nil {
			return nil, err
		}
		for _, raw := range page.Values {
			t, err := directory.DecodeTable(raw)
			if err != nil {
				return nil, fmt.Errorf("router: %w", err)
			}
			ts = append(ts, t)
		}
		if !page.More || len(page.Keys) == 0 {
			return ts, nil
		}
		req.Lo = successor(page.Keys[len(page.Keys)-1])
	}
}

// TableStats sums the item count and bytes over t's partitions.
func (r *Router) TableStats(ctx context.Context, t *partitapb.Table) (items, bytes int64, err error) {
	for _, p := range t.GetPartitions() {
		raw, err := r.get(ctx, p.GetId(), fsm.StatsKey(p.GetId()), false)
		if err != nil {
			return 0, 0, err
		}
		s, err := fsm.DecodeStats(p.GetId(), raw)
		if err != nil {
			return 0, 0, fmt.Errorf("router: %w", err)
		}
		items += s.Items
		bytes += s.Bytes
	}
	return items, bytes, nil
}

// LocalIndexStats returns the entry count and bytes of each local
// secondary index of t, by position, summed over its partitions.
func (r *Router) LocalIndexStats(ctx context.Context, t *partitapb.Table) ([][2]int64, error) {
	out := make([][2]int64, len(t.GetLocalIndexes()))
	for _, p := range t.GetPartitions() {
		raw, err := r.get(ctx, p.GetId(), fsm.StatsKey(p.GetId()), false)
		if err != nil {
			return nil, err
		}
		s, err := fsm.DecodeStats(p.GetId(), raw)
		if err != nil {
			return nil, fmt.Errorf("router: %w", err)
		}
		for i := range out {
			if i < fsm.MaxLocalIndexes {
				out[i][0] += s.Local[i].Items
				out[i][1] += s.Local[i].Bytes
			}
		}
	}
	return out, nil
}

// FreshTable returns the named table's record as the directory holds it
// now, not as cached (a split's new partitions included), and caches it.
// The cached record stays in use by other requests while the directory
// is read (a stream's GetRecords reads it often: evicting it would send
// every write through this node to the directory meanwhile); a read that
// fails drops it, one that finds it older than the cached copy (a
// concurrent read answered first) leaves that copy.
func (r *Router) FreshTable(ctx context.Context, name string) (*partitapb.Table, error) {
	t, err := r.readTable(ctx, name)
	r.mu.Lock()
	if err != nil {
		delete(r.tables, name)
	} else {
		r.cacheLocked(t)
	}
	r.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return proto.Clone(t).(*partitapb.Table), nil
}

// ObserveTables replaces each cached table record older than its copy in
// tables (a directory snapshot's): a change another node made (an index
// made ACTIVE by the meta partition's leader, for one) reaches this
// router's answers without waiting for a refused request. A cached
// record of a table tables does not hold (deleted by another node, or
// deleted and created again) is dropped: the next request reads it.
func (r *Router) ObserveTables(tables []*partitapb.Table) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ids := make(map[string]uint64, len(tables))
	for _, t := range tables {
		ids[t.GetName()] = t.GetId()
		if c, ok := r.tables[t.GetName()]; ok && c.GetId() == t.GetId() && c.GetRevision() < t.GetRevision() {
			r.tables[t.GetName()] = t
		}
	}
	for name, c := range r.tables {
		if id, ok := ids[name]; !ok || id != c.GetId() {
			delete(r.tables, name)
		}
	}
}
