package item

import (
	"errors"
	"fmt"
)

// Key encoding: S, N and B values as byte strings whose bytes.Compare order
// is the values' Compare order, and which are self-delimiting, so a
// partition key's encoding followed by a sort key's encoding sorts by
// (partition key, sort key) and no encoding is a prefix of another.
//
//	S, B  the bytes with 0x00 written as 0x00 0xFF, then 0x00 0x01.
//	N     zero:     0x02
//	      positive: 0x03, exp+129, one byte per pair of digits (1 + pair,
//	                a lone last digit padded with 0), then 0x00
//	      negative: 0x01, then the positive form's bytes after the class
//	                byte inverted (255 - b), ending 0xFF
//
// With value = 0.digits * 10^exp, a larger exponent means a larger
// magnitude, and at equal exponents digit pairs compare like the digits;
// the terminator sorts below every pair byte, so 0.12 < 0.123. Inverting
// the bytes of negatives reverses their order. The layout is persistent:
// it must never change.

// ErrKeyType reports a value that cannot be a key (not S, N or B), or a
// decode asked for such a type.
var ErrKeyType = errors.New("item: key must be S, N or B")

const (
	keyNumNeg  byte = 0x01
	keyNumZero byte = 0x02
	keyNumPos  byte = 0x03
)

// AppendKey appends the order-preserving encoding of v to dst.
func AppendKey(dst []byte, v Value) ([]byte, error) {
	switch v.Type {
	case TypeS:
		return appendEscaped(dst, v.S), nil
	case TypeB:
		return appendEscaped(dst, v.B), nil
	case TypeN:
		return appendKeyNumber(dst, v.N), nil
	}
	return dst, fmt.Errorf("encode key of type %v: %w", v.Type, ErrKeyType)
}

// DecodeKey decodes a key of type t from the front of b and returns it
// with the bytes after it. It never panics; malformed input gives an error
// wrapping ErrCorrupt.
func DecodeKey(b []byte, t Type) (Value, []byte, error) {
	switch t {
	case TypeS:
		raw, rest, err := decodeEscaped(b)
		return S(string(raw)), rest, err
	case TypeB:
		raw, rest, err := decodeEscaped(b)
		return B(raw), rest, err
	case TypeN:
		n, rest, err := decodeKeyNumber(b)
		return N(n), rest, err
	}
	return Value{}, b, fmt.Errorf("decode key of type %v: %w", t, ErrKeyType)
}

func appendEscaped[T string | []byte](dst []byte, s T) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			dst = append(dst, 0x00, 0xFF)
		} else {
			dst = append(dst, s[i])
		}
	}
	return append(dst, 0x00, 0x01)
}

func decodeEscaped(b []byte) (out, rest []byte, err error) {
	out = []byte{}
	for i := 0; i < len(b); i++ {
		if b[i] != 0 {
			out = append(out, b[i])
			continue
		}
		if i+1 >= len(b) {
			break
		}
		switch b[i+1] {
		case 0x01:
			return out, b[i+2:], nil
		case 0xFF:
			out = append(out, 0)
			i++
		default:
			return nil, b, fmt.Errorf("key escape: %w", ErrCorrupt)
		}
	}
	return nil, b, fmt.Errorf("unterminated key: %w", ErrCorrupt)
}

func appendKeyNumber(dst []byte, n Number) []byte {
	if n.digits == "" {
		return append(dst, keyNumZero)
	}
	start := len(dst) + 1
	dst = append(dst, keyNumPos, byte(n.exp-minExp))
	for i := 0; i < len(n.digits); i += 2 {
		pair := (n.digits[i] - '0') * 10
		if i+1 < len(n.digits) {
			pair += n.digits[i+1] - '0'
		}
		dst = append(dst, 1+pair)
	}
	dst = append(dst, 0x00)
	if n.neg {
		dst[start-1] = keyNumNeg
		for i := start; i < len(dst); i++ {
			dst[i] = ^dst[i]
		}
	}
	return dst
}

func decodeKeyNumber(b []byte) (Number, []byte, error) {
	if len(b) == 0 {
		return Number{}, b, fmt.Errorf("empty number key: %w", ErrCorrupt)
	}
	switch b[0] {
	case keyNumZero:
		return Number{}, b[1:], nil
	case keyNumPos, keyNumNeg:
		return decodeKeyMagnitude(b)
	}
	return Number{}, b, fmt.Errorf("number key class: %w", ErrCorrupt)
}

// decodeKeyMagnitude decodes a non-zero number key, b[0] being its class.
func decodeKeyMagnitude(b []byte) (Number, []byte, error) {
	neg := b[0] == keyNumNeg
	get := func(i int) byte {
		if neg {
			return ^b[i]
		}
		return b[i]
	}
	corrupt := fmt.Errorf("number key: %w", ErrCorrupt)
	if len(b) < 2 {
		return Number{}, b, corrupt
	}
	exp := int32(get(1)) + minExp
	var digits []byte
	for i := 2; i < len(b); i++ {
		c := get(i)
		if c == 0 {
			n := Number{digits: string(digits), exp: exp, neg: neg}
			if !validKeyNumber(n) {
				return Number{}, b, corrupt
			}
			return n, b[i+1:], nil
		}
		if c > 100 || len(digits) >= MaxDigits {
			return Number{}, b, corrupt
		}
		digits = append(digits, '0'+(c-1)/10, '0'+(c-1)%10)
		if (c-1)%10 == 0 && i+1 < len(b) && get(i+1) == 0 {
			digits = digits[:len(digits)-1] // padding of an odd count
		}
	}
	return Number{}, b, corrupt
}

// validKeyNumber reports whether n is a canonical in-range Number.
func validKeyNumber(n Number) bool {
	d := n.digits
	if d == "" || d[0] == '0' || d[len(d)-1] == '0' || len(d) > MaxDigits {
		return false
	}
	return n.exp <= maxExp
}
