package fsm

import (
	"bytes"
	"encoding/binary"
	"errors"
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
// under another key, and the new item's entry is written unless it is
// already there as it should be (same key, same projected attributes).
// An item without an index's sort key attribute has no entry in it (a
// sparse index). A new item holding an index's sort key with another type
// than the index's is refused, as DynamoDB does.
//
// It also sizes the item's collection (the items of its partition key and
// their entries): the change of its size record, the collection's size
// after the write (in res), and the refusal of a write that grows it past
// its limit.
func localEntries(r itemReader, spec *partitapb.LocalIndexSpec, limit collectionLimit, c *change, res *partitapb.Result) (*partitapb.Result, error) {
	if len(spec.GetIndexes()) == 0 || c.key == nil {
		return nil, nil
	}
	table, ok := engine.KeyTable(c.key)
	if !ok {
		return nil, fmt.Errorf("fsm: local index of a key outside the data: %x", c.key)
	}
	c.collDelta = c.bytes
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
		var (
			d       partitapb.LocalStats
			oldProj item.Item
		)
		if oldKey != nil {
			oldProj = project(spec, li, c.oldItem)
			d.Items, d.Bytes = -1, -EntrySize(oldProj)
		}
		if newKey != nil {
			p := project(spec, li, c.newItem)
			enc := item.EncodeItem(p)
			if bytes.Equal(oldKey, newKey) && bytes.Equal(enc, item.EncodeItem(oldProj)) {
				continue // the entry is already as it should be
			}
			c.localPut = append(c.localPut, localEntry{newKey, engine.LocalEntryValue(byte(i), enc)})
			d.Items, d.Bytes = d.Items+1, d.Bytes+EntrySize(p)
		}
		if d.Items != 0 || d.Bytes != 0 {
			d.Index = uint32(i)
			c.localStats = append(c.localStats, &d)
			c.collDelta += d.Bytes
		}
	}
	return sizeCollection(r, spec, table, limit, c, res)
}

// collectionLimit is what an item collection's size is checked against:
// the limit (0: DynamoDB's 10 GB), and added to the applied size, the
// size change of the writes in flight (nil: none) and, for a write that
// grows the collection, the growth of the transactions prepared in it
// and not resolved (nil: none; preparedGrowth).
type collectionLimit struct {
	bytes    int64
	inFlight func([]byte) int64
	prepared func(table uint64, pk item.Value, self []byte) (int64, error)
}

// sizeCollection sets c's collection record and res's collection size,
// and refuses a write growing the collection past its limit: the size
// checked is the applied one with the writes in flight.
func sizeCollection(r itemReader, spec *partitapb.LocalIndexSpec, table uint64, lim collectionLimit, c *change, res *partitapb.Result) (*partitapb.Result, error) {
	it := c.newItem
	if it == nil {
		it = c.oldItem
	}
	key, err := engine.LocalCollectionKey(table, it[spec.GetHashKey()])
	if err != nil {
		return nil, fmt.Errorf("fsm: item collection: %w", err)
	}
	// The writes in flight are read before the applied size: a write
	// leaves the in-flight count only once its batch has committed, so it
	// is then in one of the two, or both. Read the other way round, a
	// write applied and answered between the two reads is in neither.
	var inFlight int64
	if lim.inFlight != nil {
		inFlight = lim.inFlight(key)
	}
	size, err := readCollection(r.getItem(key))
	if err != nil {
		return nil, err
	}
	limit := lim.bytes
	if limit <= 0 {
		limit = DefaultCollectionLimit
	}
	evaluated := size + inFlight
	checked := evaluated
	if c.collDelta > 0 && lim.prepared != nil {
		grow, err := lim.prepared(table, it[spec.GetHashKey()], c.key)
		if err != nil {
			return nil, err
		}
		checked += grow
	}
	if c.collDelta > 0 && checked+c.collDelta > limit {
		return reject(partitapb.Error_ITEM_COLLECTION_TOO_LARGE, "Item collection size limit exceeded"), nil
	}
	c.collKey = key
	res.LocalCollectionBytes = evaluated + c.collDelta
	return nil, nil
}

// DefaultCollectionLimit is DynamoDB's limit on the size of an item
// collection of a table with local secondary indexes: 10 GB.
const DefaultCollectionLimit = 10 << 30

// EntrySize is the size of a local index entry holding the projected item
// p, by DynamoDB's accounting: the item's size and 100 bytes of overhead.
func EntrySize(p item.Item) int64 { return int64(p.Size()) + 100 }

// readCollection decodes a collection size record read with its error
// (engine.ErrNotFound: an empty collection).
func readCollection(raw []byte, err error) (int64, error) {
	if errors.Is(err, engine.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("fsm: read item collection size: %w", err)
	}
	i, v, ok := engine.DecodeLocalEntry(raw)
	if !ok || i != engine.LocalCollection || len(v) != 8 {
		return 0, fmt.Errorf("fsm: item collection size record is corrupt")
	}
	return int64(binary.BigEndian.Uint64(v)), nil
}

// countEntry adds the local index entry (position i, projected item enc)
// to s; a collection size record counts for nothing.
func countEntry(s *Stats, i byte, enc []byte) error {
	if i == engine.LocalCollection || i == engine.GlobalTombstone {
		return nil
	}
	if int(i) >= MaxLocalIndexes {
		return fmt.Errorf("fsm: local index entry of index %d", i)
	}
	p, err := item.DecodeItem(enc)
	if err != nil {
		return fmt.Errorf("fsm: local index entry is corrupt: %w", err)
	}
	s.Local[i].Items++
	s.Local[i].Bytes += EntrySize(p)
	return nil
}

// checkLocalType refuses an item whose index sort key attribute has
// another type than the index's, is an empty string or binary, or is
// longer than MaxLocalSortKeyBytes.
func checkLocalType(li *partitapb.LocalIndex, it item.Item) *partitapb.Result {
	attr := localRangeKey(li)
	v, ok := it[attr]
	if ok && ((v.Type == item.TypeS && v.S == "") || (v.Type == item.TypeB && len(v.B) == 0)) {
		kind := "string"
		if v.Type == item.TypeB {
			kind = "binary"
		}
		return reject(partitapb.Error_VALIDATION,
			"One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty %s value. IndexName: %s, IndexKey: %s",
			kind, li.GetName(), attr)
	}
	if !ok {
		return nil
	}
	if v.Type.String() != li.GetRangeType() {
		return reject(partitapb.Error_VALIDATION,
			"One or more parameter values were invalid: Type mismatch for Index Key %s Expected: %s Actual: %s IndexName: %s",
			attr, li.GetRangeType(), v.Type.String(), li.GetName())
	}
	if n := localKeySize(v); n > MaxLocalSortKeyBytes {
		return reject(partitapb.Error_VALIDATION,
			"One or more parameter values were invalid: Size limit exceeded for Index Key %s Actual Size: %d bytes Max Size: %d bytes IndexName: %s",
			attr, n, MaxLocalSortKeyBytes, li.GetName())
	}
	return nil
}

// MaxLocalSortKeyBytes is DynamoDB's limit on the size of a local
// secondary index's sort key value, as on a table's sort key.
const MaxLocalSortKeyBytes = 1024

// localKeySize is the size of an index sort key value: a string's UTF-8
// bytes, a binary's bytes (a number, at most 38 digits, never comes near
// the limit: 0).
func localKeySize(v item.Value) int {
	switch v.Type {
	case item.TypeS:
		return len(v.S)
	case item.TypeB:
		return len(v.B)
	}
	return 0
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

// writeLocal makes c's index entry writes in the batch, and changes the
// collection's size and the indexes' statistics.
func (a *Applier) writeLocal(c change) error {
	for _, d := range c.localStats {
		if i := d.GetIndex(); i < MaxLocalIndexes {
			a.stats.Local[i].Items += d.GetItems()
			a.stats.Local[i].Bytes += d.GetBytes()
			a.statsDirty = true
		}
	}
	if c.collKey != nil && c.collDelta != 0 {
		size, err := readCollection(engine.Get(a.b, c.collKey))
		if err != nil {
			return err
		}
		if err := writeCollection(a.b, c.collKey, size+c.collDelta); err != nil {
			return err
		}
	}
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

// writeCollection writes the size record of a collection; an empty
// collection has none.
func writeCollection(b *engine.Batch, key []byte, size int64) error {
	if size <= 0 {
		if err := b.Delete(key); err != nil {
			return fmt.Errorf("fsm: delete item collection size: %w", err)
		}
		return nil
	}
	raw := engine.LocalEntryValue(engine.LocalCollection, binary.BigEndian.AppendUint64(nil, uint64(size)))
	if err := b.Set(key, raw); err != nil {
		return fmt.Errorf("fsm: write item collection size: %w", err)
	}
	return nil
}
