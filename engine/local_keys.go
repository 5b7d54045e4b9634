package engine

import (
	"encoding/binary"
	"fmt"

	"github.com/partitadb/partita/item"
)

// KindLocal marks a local secondary index entry: it lives in the base
// partition, under the item's partition key, so that an item and its
// entries share a partition (and move together in a split) and are
// written in one batch.
//
//	d | tableID | hash(pk) | enc(pk) | KindLocal | index(1) | enc(index sk) | enc(table sk)
//
// index is the index's position among the table's local indexes. The
// table's sort key at the end keeps the entries of items sharing an
// index sort key apart, in table order.
const KindLocal byte = 0x02

// LocalEntryFormat is the first byte of an entry's value; an encoded item
// starts with its format byte (1), so a walk over a partition's keys tells
// entries from items by the value alone, without the key's types.
const LocalEntryFormat byte = 0xE1

// LocalIndexPrefix appends the prefix of the entries of index (a
// position) under partition key pk of tableID.
func LocalIndexPrefix(dst []byte, tableID uint64, pk item.Value, index byte) ([]byte, error) {
	dst = PartitionKeyPrefix(dst, tableID, item.Hash(pk))
	dst, err := item.AppendKey(dst, pk)
	if err != nil {
		return nil, fmt.Errorf("engine: partition key: %w", err)
	}
	return append(dst, KindLocal, index), nil
}

// LocalEntryKey appends the key of the entry in index of the item whose
// keys are pk and sk and whose index sort key is isk.
func LocalEntryKey(dst []byte, tableID uint64, pk item.Value, index byte, isk, sk item.Value) ([]byte, error) {
	dst, err := LocalIndexPrefix(dst, tableID, pk, index)
	if err != nil {
		return nil, err
	}
	if dst, err = item.AppendKey(dst, isk); err != nil {
		return nil, fmt.Errorf("engine: index sort key: %w", err)
	}
	if dst, err = item.AppendKey(dst, sk); err != nil {
		return nil, fmt.Errorf("engine: sort key: %w", err)
	}
	return dst, nil
}

// LocalEntryValue returns the value of an entry of index holding the
// projected item enc (item codec).
func LocalEntryValue(index byte, enc []byte) []byte {
	out := make([]byte, 0, 2+len(enc))
	return append(append(out, LocalEntryFormat, index), enc...)
}

// IsLocalEntry says v is a local secondary index entry's value, not an
// item's.
func IsLocalEntry(v []byte) bool { return len(v) > 0 && v[0] == LocalEntryFormat }

// DecodeLocalEntry returns the index position and projected item (item
// codec) of an entry's value; ok is false for any other value.
func DecodeLocalEntry(v []byte) (index byte, enc []byte, ok bool) {
	if len(v) < 2 || v[0] != LocalEntryFormat {
		return 0, nil, false
	}
	return v[1], v[2:], true
}

// KeyTable returns the table id of data key k (false: k is no data key).
func KeyTable(k []byte) (uint64, bool) {
	if len(k) < 9 || k[0] != prefixData {
		return 0, false
	}
	return binary.BigEndian.Uint64(k[1:9]), true
}

// GlobalTombstone is the position byte of a global secondary index's
// tombstone: the value left under a deleted entry's key, holding the
// version of the base item's state that deleted it (docs/indexes.md,
// "Backfill"). Index tables have no local indexes, so the byte is free.
const GlobalTombstone byte = 0xFE

// GlobalTombstoneValue returns a tombstone's value for version (gen, seq).
func GlobalTombstoneValue(gen, seq uint64) []byte {
	out := make([]byte, 0, 18)
	out = append(out, LocalEntryFormat, GlobalTombstone)
	out = binary.BigEndian.AppendUint64(out, gen)
	return binary.BigEndian.AppendUint64(out, seq)
}

// DecodeGlobalTombstone returns the version a tombstone holds; ok is
// false for any other value.
func DecodeGlobalTombstone(v []byte) (gen, seq uint64, ok bool) {
	if len(v) != 18 || v[0] != LocalEntryFormat || v[1] != GlobalTombstone {
		return 0, 0, false
	}
	return binary.BigEndian.Uint64(v[2:]), binary.BigEndian.Uint64(v[10:]), true
}

// LocalCollection is the index position of an item collection's size
// record: the bytes of a partition key's items and their local index
// entries (DynamoDB's item collection), kept beside them.
const LocalCollection byte = 0xFF

// LocalCollectionKey returns the key of the size record of the item
// collection of partition key pk of tableID.
func LocalCollectionKey(tableID uint64, pk item.Value) ([]byte, error) {
	return LocalIndexPrefix(nil, tableID, pk, LocalCollection)
}
