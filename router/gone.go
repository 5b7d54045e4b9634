package router

import (
	"context"
	"time"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/route"
)

// Requests on a deleted table. A router whose cached record of a table
// predates its deletion (another node deleted it, and this node's
// directory refresh has not dropped the record yet; or the request took
// its record just before) routes the request to the table's partitions,
// whose replicas the deletion destroyed (or some of them, the others left
// without a quorum): the Sender finds none, or no leader, and without
// more would retry until the request's deadline. Every item request on a
// table (reads, writes, Query and Scan pages, transactions' prepares)
// prepares its context in bound, which attaches tableGone: when attempts
// keep failing to find a partition's replica or leader, the Sender asks
// it (a few times per request, route.GoneCheck), and it reads the table's
// record again from the meta partition. A table gone since (no record of
// its name, a new table's record, or the record kept for a deleted
// table's streams) ends the request at once with TABLE_NOT_FOUND, which
// the API answers as DynamoDB does (ResourceNotFoundException).

// goneCheckWait bounds one read of the table's record by tableGone: a
// slow meta partition delays the request's retries by at most this.
const goneCheckWait = 2 * time.Second

// tableGone returns the route.GoneCheck of a request on t. A record
// still there replaces an older cached one (FreshTable) and tells the
// Sender the replicas of partitions it knows none of; a read that fails
// lets the request retry (the next request reads the record again).
func (r *Router) tableGone(t *partitapb.Table) route.GoneCheck {
	return func(ctx context.Context, partition uint64) error {
		ctx, cancel := context.WithTimeout(ctx, goneCheckWait)
		defer cancel()
		fresh, err := r.FreshTable(ctx, t.GetName())
		gone := partitapb.IsCode(err, partitapb.Error_TABLE_NOT_FOUND) ||
			err == nil && (fresh.GetId() != t.GetId() || directory.IsDeleted(fresh))
		switch {
		case gone:
			r.cfg.Logger.DebugContext(ctx, "a deleted table's partition cannot be reached: the request ends",
				"table", t.GetName(), "partition", partition)
			r.forgetStale(t)
			// An item request's message names no table (DynamoDB's).
			return partitapb.Errorf(partitapb.Error_TABLE_NOT_FOUND, "Requested resource not found")
		case err != nil:
			r.cfg.Logger.DebugContext(ctx, "a partition cannot be reached, and its table's record could not be read",
				"table", t.GetName(), "partition", partition, "err", err)
			return nil
		}
		r.learnReplicas(fresh)
		return nil
	}
}

// forgetStale drops the cached record of stale's table if it is stale's
// table (not one created since under the same name).
func (r *Router) forgetStale(stale *partitapb.Table) {
	r.mu.Lock()
	if c, ok := r.tables[stale.GetName()]; ok && c.GetId() == stale.GetId() {
		delete(r.tables, stale.GetName())
	}
	r.mu.Unlock()
}
