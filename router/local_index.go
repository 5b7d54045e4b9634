package router

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

// LocalIndexView returns the table a Query or Scan on local secondary
// index i of base reads through: base's record (its partitions, its id)
// with the index's key schema, the base table's key schema as
// index_base_key_schema, and local_index set. Its "items" are the
// index's entries (the projected items), stored in base's partitions.
func LocalIndexView(base *partitapb.Table, i int) *partitapb.Table {
	v := proto.Clone(base).(*partitapb.Table)
	li := base.GetLocalIndexes()[i]
	v.KeySchema = li.GetKeySchema()
	v.IndexBaseKeySchema = base.GetKeySchema()
	v.LocalIndex = uint32(i + 1)
	return v
}

// LocalIndexSpec returns what an item write of t needs to maintain its
// local secondary indexes (nil: it has none).
func LocalIndexSpec(t *partitapb.Table) *partitapb.LocalIndexSpec {
	if len(t.GetLocalIndexes()) == 0 {
		return nil
	}
	spec := &partitapb.LocalIndexSpec{Indexes: t.GetLocalIndexes()}
	for _, k := range t.GetKeySchema() {
		if k.GetKeyType() == "HASH" {
			spec.HashKey = k.GetAttributeName()
		} else {
			spec.RangeKey = k.GetAttributeName()
		}
	}
	return spec
}

// isLocalView reports whether t is a LocalIndexView.
func isLocalView(t *partitapb.Table) bool { return t.GetLocalIndex() > 0 }

// localPosition is the position of the index a LocalIndexView reads.
func localPosition(t *partitapb.Table) byte { return byte(t.GetLocalIndex() - 1) }

// localStorageKey returns the key of the entry whose keys (the table's and
// the index's sort key) are in key, in LocalIndexView t.
func localStorageKey(t *partitapb.Table, key item.Item) ([]byte, error) {
	pk, ok1 := keyValue(t.GetKeySchema(), "HASH", key)
	isk, ok2 := keyValue(t.GetKeySchema(), "RANGE", key)
	sk, ok3 := keyValue(t.GetIndexBaseKeySchema(), "RANGE", key)
	if !ok1 || !ok2 || !ok3 {
		return nil, partitapb.Errorf(partitapb.Error_VALIDATION, "The provided key element does not match the schema")
	}
	k, err := engine.LocalEntryKey(nil, t.GetId(), pk, localPosition(t), isk, sk)
	if err != nil {
		return nil, partitapb.Errorf(partitapb.Error_VALIDATION, "%v", err)
	}
	return k, nil
}

// rangeBase returns the prefix of the keys a Query of spec.PK reads in t:
// its items, or in a LocalIndexView its entries of that index.
func rangeBase(t *partitapb.Table, pk item.Value) ([]byte, error) {
	if isLocalView(t) {
		return engine.LocalIndexPrefix(nil, t.GetId(), pk, localPosition(t))
	}
	return engine.DataKey(nil, t.GetId(), pk, item.Value{})
}

// decoder returns how a walk of t turns stored values into what it
// visits: the items of a table, skipping the local index entries among
// them; or, in a LocalIndexView, the projected items of that index's
// entries, skipping the rest.
func decoder(t *partitapb.Table) func(raw []byte) (item.Item, bool, error) {
	if !isLocalView(t) {
		return func(raw []byte) (item.Item, bool, error) {
			if engine.IsLocalEntry(raw) {
				return nil, false, nil
			}
			it, err := item.DecodeItem(raw)
			return it, err == nil, err
		}
	}
	want := localPosition(t)
	return func(raw []byte) (item.Item, bool, error) {
		i, enc, ok := engine.DecodeLocalEntry(raw)
		if !ok || i != want {
			return nil, false, nil
		}
		it, err := item.DecodeItem(enc)
		if err != nil {
			return nil, false, fmt.Errorf("local index entry: %w", err)
		}
		return it, true, nil
	}
}
