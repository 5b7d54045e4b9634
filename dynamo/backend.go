package dynamo

import (
	"context"

	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/router"
)

// Backend is what the wire layer needs from the database below it: the
// catalog of tables and the routing of item commands to partitions. The
// router implements it; tests use the real router over a real engine.
//
// Methods are safe for concurrent use. Domain errors (no such table, table
// in use, ...) are *partitapb.Error values, possibly wrapped; anything else
// is an infrastructure error, sent as InternalServerError. A Result's Error
// field carries the rejections decided at apply time.
type Backend interface {
	// CreateTable proposes the creation of t (ids are assigned by the
	// catalog) and returns the record as created (status CREATING). The
	// table becomes ACTIVE on its own once its partitions serve.
	CreateTable(ctx context.Context, t *partitapb.Table) (*partitapb.Table, error)
	// DeleteTable removes the table and returns its last record (status DELETING).
	DeleteTable(ctx context.Context, name string) (*partitapb.Table, error)
	// UpdateTable changes the named table's record to what edit returns
	// for the current one, retrying edit if another update lands between
	// the read and the write; edit's error is returned as is.
	UpdateTable(ctx context.Context, name string, edit func(*partitapb.Table) (*partitapb.Table, error)) (*partitapb.Table, error)
	// CreateIndex creates the storage of index gi, just added to base's
	// record (CREATING, backfilling); the nodes backfill it from base and
	// mark it ACTIVE.
	CreateIndex(ctx context.Context, base *partitapb.Table, gi *partitapb.GlobalIndex) error
	// DeleteIndex drops the storage of index gi and its entries.
	DeleteIndex(ctx context.Context, gi *partitapb.GlobalIndex) error
	// Table returns the current record of the named table, or a TABLE_NOT_FOUND error.
	Table(ctx context.Context, name string) (*partitapb.Table, error)
	// SharedTable is Table's record without a copy, shared with every
	// other caller: read-only (the item operations' path).
	SharedTable(ctx context.Context, name string) (*partitapb.Table, error)
	// Tables lists every table record, sorted by name.
	Tables(ctx context.Context) ([]*partitapb.Table, error)
	// TableStats returns the item count and total item bytes of a table.
	TableStats(ctx context.Context, t *partitapb.Table) (items, bytes int64, err error)
	// LocalIndexStats returns the entry count and bytes of each local
	// secondary index of t, by position.
	LocalIndexStats(ctx context.Context, t *partitapb.Table) ([][2]int64, error)

	// Write proposes cmd (an item command) to the partition of t that owns
	// key (the item's key attributes) and returns the apply result.
	Write(ctx context.Context, t *partitapb.Table, key item.Item, cmd *partitapb.Command) (*partitapb.Result, error)
	// Get reads the item with key from its partition; nil when absent.
	// consistent asks for a strongly consistent read.
	Get(ctx context.Context, t *partitapb.Table, key item.Item, consistent bool) (item.Item, error)
	// StorageKey returns the engine key of the item with key in t.
	StorageKey(t *partitapb.Table, key item.Item) ([]byte, error)

	// Query calls visit for the items of one partition key of t that match
	// spec's sort key condition, in sort key order (reversed unless
	// spec.Forward), until visit returns false.
	Query(ctx context.Context, t *partitapb.Table, spec router.QuerySpec, visit router.Visit) error
	// Scan calls visit for the items of t in spec's segment, in hash order,
	// until visit returns false.
	Scan(ctx context.Context, t *partitapb.Table, spec router.ScanSpec, visit router.Visit) error
}
