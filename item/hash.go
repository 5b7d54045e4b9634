package item

import "github.com/cespare/xxhash/v2"

// Hash returns the 64-bit hash of a partition key value: xxhash64 of a
// type byte (the binary codec's value code) followed by the value's key
// encoding (see AppendKey). Values of other types hash their binary codec
// encoding; they are never partition keys.
//
// Hash decides on which partition an item lives and is stored in every
// data key: it must never change, for any input, or existing data becomes
// unreachable.
func Hash(v Value) uint64 {
	var buf [64]byte
	b := append(buf[:0], typeCodes[v.Type])
	if k, err := AppendKey(b, v); err == nil {
		return xxhash.Sum64(k)
	}
	return xxhash.Sum64(AppendValue(buf[:0], v))
}
