package engine

import (
	"encoding/binary"
	"fmt"

	"github.com/partitadb/partita/item"
)

// Key prefixes of the layout described in doc.go.
const (
	prefixData  = 'd'
	prefixMeta  = 'm'
	prefixLocal = 'r'
)

// Entry kinds after the partition key in a data key.
const (
	// KindItem marks a table's base item.
	KindItem byte = 0x01
)

// DataKey appends the storage key of the item whose partition key is pk and
// sort key sk (Type 0 when the table has no sort key) to dst.
func DataKey(dst []byte, tableID uint64, pk, sk item.Value) ([]byte, error) {
	dst = PartitionKeyPrefix(dst, tableID, item.Hash(pk))
	dst, err := item.AppendKey(dst, pk)
	if err != nil {
		return nil, fmt.Errorf("engine: partition key: %w", err)
	}
	dst = append(dst, KindItem)
	if sk.Type == 0 {
		return dst, nil
	}
	dst, err = item.AppendKey(dst, sk)
	if err != nil {
		return nil, fmt.Errorf("engine: sort key: %w", err)
	}
	return dst, nil
}

// DecodeDataKey returns the partition and sort key values of data key k
// of a table whose keys have types pkType and skType (0: no sort key).
// Malformed input gives an error wrapping item.ErrCorrupt; it never
// panics.
func DecodeDataKey(k []byte, pkType, skType item.Type) (pk, sk item.Value, err error) {
	if len(k) < 17 || k[0] != prefixData {
		return pk, sk, fmt.Errorf("engine: not a data key: %w", item.ErrCorrupt)
	}
	pk, rest, err := item.DecodeKey(k[17:], pkType)
	if err != nil {
		return pk, sk, fmt.Errorf("engine: partition key: %w", err)
	}
	if len(rest) == 0 || rest[0] != KindItem {
		return pk, sk, fmt.Errorf("engine: not an item key: %w", item.ErrCorrupt)
	}
	rest = rest[1:]
	if skType == 0 {
		if len(rest) != 0 {
			return pk, sk, fmt.Errorf("engine: trailing bytes after the key: %w", item.ErrCorrupt)
		}
		return pk, sk, nil
	}
	if sk, rest, err = item.DecodeKey(rest, skType); err != nil {
		return pk, sk, fmt.Errorf("engine: sort key: %w", err)
	}
	if len(rest) != 0 {
		return pk, sk, fmt.Errorf("engine: trailing bytes after the key: %w", item.ErrCorrupt)
	}
	return pk, sk, nil
}

// PartitionKeyPrefix appends the common prefix of all data keys of tableID
// whose partition key hashes to hash.
func PartitionKeyPrefix(dst []byte, tableID, hash uint64) []byte {
	dst = TablePrefix(dst, tableID)
	return binary.BigEndian.AppendUint64(dst, hash)
}

// KeyHash returns the partition key hash of data key k (false: k is no
// data key).
func KeyHash(k []byte) (uint64, bool) {
	if len(k) < 17 || k[0] != prefixData {
		return 0, false
	}
	return binary.BigEndian.Uint64(k[9:17]), true
}

// TablePrefix appends the prefix of every data key of tableID.
func TablePrefix(dst []byte, tableID uint64) []byte {
	dst = append(dst, prefixData)
	return binary.BigEndian.AppendUint64(dst, tableID)
}

// HashSpan returns the key span [start, end) holding the data of tableID
// whose partition key hashes fall in [hashStart, hashEnd); hashEnd == 0 means
// the end of the hash space.
func HashSpan(tableID, hashStart, hashEnd uint64) (start, end []byte) {
	start = PartitionKeyPrefix(nil, tableID, hashStart)
	if hashEnd == 0 {
		return start, TablePrefix(nil, tableID+1)
	}
	return start, PartitionKeyPrefix(nil, tableID, hashEnd)
}

// MetaKey returns the key of a directory record: m | kind | name.
func MetaKey(kind, name string) []byte {
	k := make([]byte, 0, 2+len(kind)+len(name))
	k = append(k, prefixMeta)
	k = append(k, kind...)
	k = append(k, 0)
	return append(k, name...)
}

// MetaSpan returns the span of every directory record of kind.
func MetaSpan(kind string) (start, end []byte) {
	start = MetaKey(kind, "")
	end = append([]byte(nil), start...)
	end[len(end)-1] = 1
	return start, end
}

// ReplicatedLocal starts the suffix of every local key that is part of a
// partition's replicated state (statistics, applied command ids): they are
// written by apply, identical on every replica, and travel in snapshots.
// Other local keys (raft log, hard state) belong to one replica.
const ReplicatedLocal = "x"

// MetaRange returns the span of every directory record.
func MetaRange() (start, end []byte) { return []byte{prefixMeta}, []byte{prefixMeta + 1} }

// DataRange returns the span of every table's data (items and their index
// entries), of every partition.
func DataRange() (start, end []byte) { return []byte{prefixData}, []byte{prefixData + 1} }

// LocalRange returns the span of every replica-local record, of every
// partition.
func LocalRange() (start, end []byte) { return []byte{prefixLocal}, []byte{prefixLocal + 1} }

// LocalKey returns the key of a replica-local record of partitionID
// (applied index, stats, raft state): r | partitionID | suffix.
func LocalKey(partitionID uint64, suffix string) []byte {
	k := make([]byte, 0, 9+len(suffix))
	k = append(k, prefixLocal)
	k = binary.BigEndian.AppendUint64(k, partitionID)
	return append(k, suffix...)
}

// IsDataKey says k is an item's key (or a bound of a range of them), as
// opposed to catalogue or local state.
func IsDataKey(k []byte) bool { return len(k) > 0 && k[0] == prefixData }
