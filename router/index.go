package router

import (
	"context"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

// Global secondary indexes (docs/indexes.md). Each index keeps its entries
// in a hidden table of the directory (Table.index_base set), placed,
// replicated and split like any table. An entry's storage key is the
// index's partition key (hash-routed), then the index's sort key, then
// the base table's partition and sort keys, each in the order-preserving
// key encoding, which is self-delimiting: entries of equal index keys are
// distinct, and sort by index sort key first.

// indexTableRecord is the hidden table holding the entries of gi, an index
// of base.
func indexTableRecord(base *partitapb.Table, gi *partitapb.GlobalIndex) *partitapb.Table {
	t := &partitapb.Table{
		Name:               gi.GetTable(),
		BillingMode:        base.GetBillingMode(),
		ReadCapacityUnits:  gi.GetReadCapacityUnits(),
		WriteCapacityUnits: gi.GetWriteCapacityUnits(),
		IndexBase:          base.GetName(),
		KeySchema:          cloneKeys(gi.GetKeySchema()),
		// The base table's definitions cover both key schemas.
		AttributeDefinitions: base.GetAttributeDefinitions(),
		IndexBaseKeySchema:   cloneKeys(base.GetKeySchema()),
	}
	return proto.Clone(t).(*partitapb.Table)
}

func cloneKeys(ks []*partitapb.KeyElement) []*partitapb.KeyElement {
	out := make([]*partitapb.KeyElement, len(ks))
	for i, k := range ks {
		out[i] = proto.Clone(k).(*partitapb.KeyElement)
	}
	return out
}

// createIndexTables creates the hidden table of every index of base.
func (r *Router) createIndexTables(ctx context.Context, base *partitapb.Table) error {
	for _, gi := range base.GetGlobalIndexes() {
		if err := r.CreateIndexTable(ctx, base, gi); err != nil {
			return err
		}
	}
	return nil
}

// CreateIndexTable creates the hidden table of index gi of base; one that
// exists already (a retried creation) is kept.
func (r *Router) CreateIndexTable(ctx context.Context, base *partitapb.Table, gi *partitapb.GlobalIndex) error {
	_, err := r.createTable(ctx, indexTableRecord(base, gi), func() error { return nil })
	if partitapb.IsCode(err, partitapb.Error_TABLE_IN_USE) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("router: create the table of index %s of %s: %w", gi.GetName(), base.GetName(), err)
	}
	return nil
}

// deleteIndexTables deletes the hidden tables of the indexes of base.
func (r *Router) deleteIndexTables(ctx context.Context, base *partitapb.Table) {
	for _, gi := range base.GetGlobalIndexes() {
		r.DeleteIndexTable(ctx, gi)
	}
}

// DeleteIndexTable deletes the hidden table of gi and its partitions,
// logging (not returning) a failure: a table not found is gone already.
func (r *Router) DeleteIndexTable(ctx context.Context, gi *partitapb.GlobalIndex) {
	if _, err := r.DeleteTable(ctx, gi.GetTable()); err != nil && !partitapb.IsCode(err, partitapb.Error_TABLE_NOT_FOUND) {
		r.cfg.Logger.WarnContext(ctx, "deleting an index's table failed", "index", gi.GetName(), "err", err)
	}
}

// isIndexTable reports whether t holds the entries of an index.
func isIndexTable(t *partitapb.Table) bool {
	return len(t.GetIndexBaseKeySchema()) > 0 && !isLocalView(t)
}

// keyValue returns the value of the attribute of ks with key type typ in
// it (ok false: absent; Type 0 with ok true: ks has no such key).
func keyValue(ks []*partitapb.KeyElement, typ string, it item.Item) (item.Value, bool) {
	for _, k := range ks {
		if k.GetKeyType() == typ {
			v, ok := it[k.GetAttributeName()]
			return v, ok
		}
	}
	return item.Value{}, true
}

// indexStorageKey returns the storage key of the entry of it (which holds
// the index's and the base table's key attributes) in index table t.
func indexStorageKey(t *partitapb.Table, it item.Item) ([]byte, error) {
	ipk, ok1 := keyValue(t.GetKeySchema(), "HASH", it)
	isk, ok2 := keyValue(t.GetKeySchema(), "RANGE", it)
	bpk, ok3 := keyValue(t.GetIndexBaseKeySchema(), "HASH", it)
	bsk, ok4 := keyValue(t.GetIndexBaseKeySchema(), "RANGE", it)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return nil, partitapb.Errorf(partitapb.Error_VALIDATION, "The provided key element does not match the schema")
	}
	k, err := engine.DataKey(nil, t.GetId(), ipk, item.Value{})
	if err != nil {
		return nil, partitapb.Errorf(partitapb.Error_VALIDATION, "%v", err)
	}
	for _, v := range []item.Value{isk, bpk, bsk} {
		if v.Type == 0 {
			continue
		}
		if k, err = item.AppendKey(k, v); err != nil {
			return nil, partitapb.Errorf(partitapb.Error_VALIDATION, "%v", err)
		}
	}
	return k, nil
}

// IndexEntry returns the entry of base item it in index gi, whose hidden
// table is t, and false when it has none: an item lacking one of the
// index's key attributes, or holding one with another type than the
// attribute's definition, is not in the index (sparse indexes).
func IndexEntry(t *partitapb.Table, gi *partitapb.GlobalIndex, it item.Item) (key []byte, entry item.Item, ok bool) {
	if it == nil {
		return nil, nil, false
	}
	types := map[string]string{}
	for _, d := range t.GetAttributeDefinitions() {
		types[d.GetAttributeName()] = d.GetAttributeType()
	}
	entry = item.Item{}
	for _, ks := range [][]*partitapb.KeyElement{t.GetKeySchema(), t.GetIndexBaseKeySchema()} {
		for _, k := range ks {
			v, present := it[k.GetAttributeName()]
			if !present || v.Type.String() != types[k.GetAttributeName()] {
				return nil, nil, false
			}
			entry[k.GetAttributeName()] = v
		}
	}
	switch gi.GetProjectionType() {
	case "ALL":
		entry = it
	case "INCLUDE":
		for _, a := range gi.GetNonKeyAttributes() {
			if v, present := it[a]; present {
				entry[a] = v
			}
		}
	}
	key, err := indexStorageKey(t, entry)
	if err != nil {
		return nil, nil, false
	}
	return key, entry, true
}

// IndexTables returns the hidden tables of base's indexes by index name,
// from the directory snapshot sn; an index whose table is missing (being
// created or deleted) is left out.
func IndexTables(sn *directory.Snapshot, base *partitapb.Table) map[string]*partitapb.Table {
	out := map[string]*partitapb.Table{}
	for _, gi := range base.GetGlobalIndexes() {
		if t := sn.Table(gi.GetTable()); t != nil && t.GetIndexBase() == base.GetName() {
			out[gi.GetName()] = t
		}
	}
	return out
}

// CreateIndex creates the hidden table of index gi of base (dynamo.Backend).
func (r *Router) CreateIndex(ctx context.Context, base *partitapb.Table, gi *partitapb.GlobalIndex) error {
	return r.CreateIndexTable(ctx, base, gi)
}

// DeleteIndex deletes the hidden table of gi and its entries (dynamo.Backend).
func (r *Router) DeleteIndex(ctx context.Context, gi *partitapb.GlobalIndex) error {
	if _, err := r.DeleteTable(ctx, gi.GetTable()); err != nil && !partitapb.IsCode(err, partitapb.Error_TABLE_NOT_FOUND) {
		return err
	}
	return nil
}
