package fsm

import (
	"bytes"
	"fmt"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

// localEntry is a local secondary index entry a write makes.
type localEntry struct{ key, value []byte }

// localEntries decides the local secondary index entries of c, the write
// of one item of a table whose indexes spec describes: for each index,
// the entry of the old item goes when the new item has none or has it
// under another key, and the new item's entry is written (its projection
// may have changed). An item without an index's sort key attribute has
// no entry in it (a sparse index). A new item holding an index's sort key
// with another type than the index's is refused, as DynamoDB does.
func localEntries(spec *partitapb.LocalIndexSpec, c *change) (*partitapb.Result, error) {
	if len(spec.GetIndexes()) == 0 || c.key == nil {
		return nil, nil
	}
	table, ok := engine.KeyTable(c.key)
	if !ok {
		return nil, fmt.Errorf("fsm: local index of a key outside the data: %x", c.key)
	}
	for i, li := range spec.GetIndexes() {
		if res := checkLocalType(li, c.newItem); res != nil {
			return res, nil
		}
		oldKey, err := localEntryKey(spec, li, table, byte(i), c.oldItem)
		if err != nil {
			return nil, err
		}
		newKey, err := localEntryKey(spec, li, table, byte(i), c.newItem)
		if err != nil {
			return nil, err
		}
		if oldKey != nil && !bytes.Equal(oldKey, newKey) {
			c.localDel = append(c.localDel, oldKey)
		}
		if newKey != nil {
			enc := item.EncodeItem(project(spec, li, c.newItem))
			c.localPut = append(c.localPut, localEntry{newKey, engine.LocalEntryValue(byte(i), enc)})
		}
	}
	return nil, nil
}

// checkLocalType refuses an item whose index sort key attribute has
// another type than the index's.
func checkLocalType(li *partitapb.LocalIndex, it item.Item) *partitapb.Result {
	attr := localRangeKey(li)
	v, ok := it[attr]
	if !ok || v.Type.String() == li.GetRangeType() {
		return nil
	}
	return reject(partitapb.Error_VALIDATION,
		"One or more parameter values were invalid: Type mismatch for Index Key %s Expected: %s Actual: %s IndexName: %s",
		attr, li.GetRangeType(), v.Type.String(), li.GetName())
}

// localRangeKey returns the name of an index's sort key attribute.
func localRangeKey(li *partitapb.LocalIndex) string {
	for _, k := range li.GetKeySchema() {
		if k.GetKeyType() == "RANGE" {
			return k.GetAttributeName()
		}
	}
	return ""
}

// localEntryKey returns the key of it's entry in index li (position i),
// nil when it has none (no item, or no index sort key).
func localEntryKey(spec *partitapb.LocalIndexSpec, li *partitapb.LocalIndex, table uint64, i byte, it item.Item) ([]byte, error) {
	if it == nil {
		return nil, nil
	}
	isk, ok := it[localRangeKey(li)]
	if !ok || isk.Type.String() != li.GetRangeType() {
		return nil, nil
	}
	k, err := engine.LocalEntryKey(nil, table, it[spec.GetHashKey()], i, isk, it[spec.GetRangeKey()])
	if err != nil {
		return nil, fmt.Errorf("fsm: local index %s: %w", li.GetName(), err)
	}
	return k, nil
}

// project returns the attributes of it that index li keeps: the table's
// and the index's keys, and what its projection names.
func project(spec *partitapb.LocalIndexSpec, li *partitapb.LocalIndex, it item.Item) item.Item {
	if li.GetProjectionType() == "ALL" {
		return it
	}
	out := item.Item{}
	keep := func(name string) {
		if v, ok := it[name]; ok {
			out[name] = v
		}
	}
	keep(spec.GetHashKey())
	keep(spec.GetRangeKey())
	keep(localRangeKey(li))
	for _, a := range li.GetNonKeyAttributes() {
		keep(a)
	}
	return out
}

// writeLocal makes c's index entry writes in the batch.
func (a *Applier) writeLocal(c change) error {
	for _, k := range c.localDel {
		if err := a.b.Delete(k); err != nil {
			return fmt.Errorf("fsm: delete local index entry: %w", err)
		}
	}
	for _, e := range c.localPut {
		if err := a.b.Set(e.key, e.value); err != nil {
			return fmt.Errorf("fsm: write local index entry: %w", err)
		}
	}
	return nil
}

// localPuts and localEntriesOf convert entries to and from Effects.
func localPuts(es []localEntry) []*partitapb.LocalEntry {
	out := make([]*partitapb.LocalEntry, len(es))
	for i, e := range es {
		out[i] = &partitapb.LocalEntry{Key: e.key, Value: e.value}
	}
	return out
}

func localEntriesOf(es []*partitapb.LocalEntry) []localEntry {
	out := make([]localEntry, len(es))
	for i, e := range es {
		out[i] = localEntry{e.GetKey(), e.GetValue()}
	}
	return out
}
