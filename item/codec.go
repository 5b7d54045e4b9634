package item

import (
	"encoding/binary"
	"fmt"
)

// The binary item codec stores items in the engine and carries them in raft
// commands, so its output must be identical on every replica and readable
// forever:
//
//	item   = version(1) count(uvarint) { name value } ...   names in byte order
//	name   = len(uvarint) bytes
//	value  = code(1) payload
//	S, B   = len(uvarint) bytes
//	N      = ndigits(uvarint) [ sign(1) exp+129(1) digits as BCD, high nibble first ]
//	BOOL   = 0 or 1
//	NULL   = nothing
//	M      = count(uvarint) { name value } ...        keys in byte order
//	L      = count(uvarint) value ...
//	SS, BS = count(uvarint) { len(uvarint) bytes } ... members in stored order
//	NS     = count(uvarint) N-payload ...
//
// A Number has value 0.digits * 10^exp; zero is ndigits 0 with nothing
// after it. The codes and the layout must never change; a new layout gets a
// new version byte.

// itemFormatV1 is the first byte of every encoded item.
const itemFormatV1 = 1

// Value codes on disk, fixed independently of the Type constants.
const (
	codeS    byte = 1
	codeN    byte = 2
	codeB    byte = 3
	codeBOOL byte = 4
	codeNULL byte = 5
	codeM    byte = 6
	codeL    byte = 7
	codeSS   byte = 8
	codeNS   byte = 9
	codeBS   byte = 10
)

var typeCodes = map[Type]byte{
	TypeS: codeS, TypeN: codeN, TypeB: codeB, TypeBOOL: codeBOOL, TypeNULL: codeNULL,
	TypeM: codeM, TypeL: codeL, TypeSS: codeSS, TypeNS: codeNS, TypeBS: codeBS,
}

var codeTypes = func() map[byte]Type {
	m := make(map[byte]Type, len(typeCodes))
	for t, c := range typeCodes {
		m[c] = t
	}
	return m
}()

// EncodeItem returns it in the binary codec.
func EncodeItem(it Item) []byte { return AppendItem(nil, it) }

// AppendItem appends it in the binary codec to dst. The output depends only
// on the item's content (names and map keys are sorted), so every replica
// produces the same bytes. Values with an invalid Type are written as NULL;
// callers store only validated items.
func AppendItem(dst []byte, it Item) []byte {
	dst = append(dst, itemFormatV1)
	return appendMap(dst, it)
}

// AppendValue appends v in the binary codec (no version byte) to dst.
func AppendValue(dst []byte, v Value) []byte {
	code, ok := typeCodes[v.Type]
	if !ok {
		return append(dst, codeNULL)
	}
	dst = append(dst, code)
	switch v.Type {
	case TypeS:
		return appendBytes(dst, v.S)
	case TypeN:
		return appendNumber(dst, v.N)
	case TypeB:
		return appendBytes(dst, v.B)
	case TypeBOOL:
		return append(dst, boolByte(v.BOOL))
	case TypeNULL:
		return dst
	case TypeM:
		return appendMap(dst, v.M)
	case TypeL:
		return appendList(dst, v.L)
	case TypeSS:
		return appendEach(dst, v.SS, appendBytes[string])
	case TypeNS:
		return appendEach(dst, v.NS, appendNumber)
	default:
		return appendEach(dst, v.BS, appendBytes[[]byte])
	}
}

func appendMap(dst []byte, m map[string]Value) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(m)))
	for _, k := range sortedKeys(m) {
		dst = appendBytes(dst, k)
		dst = AppendValue(dst, m[k])
	}
	return dst
}

func appendList(dst []byte, l []Value) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(l)))
	for _, v := range l {
		dst = AppendValue(dst, v)
	}
	return dst
}

func appendEach[T any](dst []byte, s []T, f func([]byte, T) []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	for _, x := range s {
		dst = f(dst, x)
	}
	return dst
}

func appendBytes[T string | []byte](dst []byte, b T) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

// appendNumber writes n's payload: digit count, sign, biased exponent, BCD.
func appendNumber(dst []byte, n Number) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(n.digits)))
	if n.digits == "" {
		return dst
	}
	dst = append(dst, boolByte(n.neg), byte(n.exp-minExp))
	for i := 0; i < len(n.digits); i += 2 {
		hi := n.digits[i] - '0'
		var lo byte
		if i+1 < len(n.digits) {
			lo = n.digits[i+1] - '0'
		}
		dst = append(dst, hi<<4|lo)
	}
	return dst
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// DecodeItem decodes an item written by AppendItem. It never panics, and it
// allocates in proportion to len(b): every length and count is checked
// against the bytes that remain. It accepts only the canonical encoding
// (names sorted, minimal varints, valid Numbers, non-empty duplicate-free
// sets, at most MaxDepth levels), so re-encoding a decoded item returns b.
// Errors wrap ErrCorrupt.
func DecodeItem(b []byte) (Item, error) {
	if len(b) == 0 || b[0] != itemFormatV1 {
		return nil, fmt.Errorf("item format: %w", ErrCorrupt)
	}
	r := reader{b: b[1:]}
	it := r.mapEntries(1)
	if r.err == nil && len(r.b) != 0 {
		r.fail("trailing bytes")
	}
	if r.err != nil {
		return nil, r.err
	}
	return Item(it), nil
}

// DecodeValue decodes one value written by AppendValue from the front of b
// and returns it with the bytes after it. Like DecodeItem it never panics
// and accepts only canonical encodings.
func DecodeValue(b []byte) (v Value, rest []byte, err error) {
	r := reader{b: b}
	v = r.value(1)
	if r.err != nil {
		return Value{}, b, r.err
	}
	return v, r.b, nil
}
