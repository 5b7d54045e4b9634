package item

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// ErrCorrupt reports bytes that are not a valid encoding.
var ErrCorrupt = errors.New("item: corrupt encoding")

// reader decodes the binary codec, remembering the first error; after an
// error every method returns zero values.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%s: %w", what, ErrCorrupt)
	}
}

func (r *reader) byte() byte {
	if r.err != nil {
		return 0
	}
	if len(r.b) == 0 {
		r.fail("truncated")
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// uvarint reads a minimally encoded uvarint.
func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	x, n := binary.Uvarint(r.b)
	if n <= 0 || n != uvarintLen(x) {
		r.fail("bad varint")
		return 0
	}
	r.b = r.b[n:]
	return x
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// count reads an element count; each element takes at least one byte, so a
// count above the remaining length is corrupt and never allocated.
func (r *reader) count() int {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail("count exceeds input")
		return 0
	}
	return int(n)
}

// bytes reads a length-prefixed byte string, aliasing the input.
func (r *reader) bytes() []byte {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.fail("length exceeds input")
		return nil
	}
	out := r.b[:n:n]
	r.b = r.b[n:]
	return out
}

// value reads one value found at nesting level (1 for an attribute).
func (r *reader) value(level int) Value {
	t, ok := codeTypes[r.byte()]
	if !ok {
		r.fail("unknown value code")
		return Value{}
	}
	v := Value{Type: t}
	switch t {
	case TypeS:
		v.S = string(r.bytes())
	case TypeN:
		v.N = r.number()
	case TypeB:
		v.B = bytes.Clone(r.bytes())
		if v.B == nil {
			v.B = []byte{}
		}
	case TypeBOOL:
		v.BOOL = r.flag()
	case TypeNULL:
	case TypeM:
		v.M = r.mapEntries(level + 1)
	case TypeL:
		v.L = r.list(level + 1)
	default:
		r.set(&v)
	}
	if r.err != nil {
		return Value{}
	}
	return v
}

// flag reads a byte that must be 0 or 1.
func (r *reader) flag() bool {
	c := r.byte()
	if c > 1 {
		r.fail("bad flag")
	}
	return c == 1
}

// mapEntries reads a map whose values are at level; keys must be strictly
// increasing.
func (r *reader) mapEntries(level int) map[string]Value {
	n := r.count()
	if n > 0 && level > MaxDepth {
		r.fail("too deep")
	}
	m := make(map[string]Value, n)
	prev := ""
	for i := 0; i < n && r.err == nil; i++ {
		k := string(r.bytes())
		if i > 0 && k <= prev {
			r.fail("map keys out of order")
		}
		m[k] = r.value(level)
		prev = k
	}
	return m
}

func (r *reader) list(level int) []Value {
	n := r.count()
	if n > 0 && level > MaxDepth {
		r.fail("too deep")
	}
	l := make([]Value, 0, n)
	for i := 0; i < n && r.err == nil; i++ {
		l = append(l, r.value(level))
	}
	return l
}

// set reads the members of an SS, NS or BS into v.
func (r *reader) set(v *Value) {
	n := r.count()
	if n == 0 {
		r.fail("empty set")
		return
	}
	switch v.Type {
	case TypeSS:
		v.SS = readEach(r, n, func() string { return string(r.bytes()) })
	case TypeNS:
		v.NS = readEach(r, n, r.number)
	default:
		v.BS = readEach(r, n, func() []byte { return append([]byte{}, r.bytes()...) })
	}
	if r.err == nil && setHasDuplicates(*v) {
		r.fail("duplicate set members")
	}
}

func readEach[T any](r *reader, n int, f func() T) []T {
	out := make([]T, 0, n)
	for i := 0; i < n && r.err == nil; i++ {
		out = append(out, f())
	}
	return out
}

// number reads a Number payload (see appendNumber), accepting only the
// canonical form of an in-range Number.
func (r *reader) number() Number {
	nd := r.uvarint()
	if nd == 0 || r.err != nil {
		return Number{}
	}
	if nd > MaxDigits {
		r.fail("too many digits")
		return Number{}
	}
	neg := r.flag()
	exp := int32(r.byte()) + minExp
	if exp > maxExp {
		r.fail("exponent out of range")
	}
	digits := r.bcd(int(nd))
	if r.err != nil {
		return Number{}
	}
	return Number{digits: digits, exp: exp, neg: neg}
}

// bcd reads nd packed decimal digits with no leading or trailing zero and
// a zero pad nibble when nd is odd.
func (r *reader) bcd(nd int) string {
	nb := (nd + 1) / 2
	if nb > len(r.b) {
		r.fail("truncated number")
		return ""
	}
	var sb strings.Builder
	sb.Grow(nd)
	for i := 0; i < nd; i++ {
		c := r.b[i/2] >> 4
		if i%2 == 1 {
			c = r.b[i/2] & 0xf
		}
		if c > 9 {
			r.fail("bad digit")
		}
		sb.WriteByte('0' + c)
	}
	if nd%2 == 1 && r.b[nb-1]&0xf != 0 {
		r.fail("bad digit padding")
	}
	r.b = r.b[nb:]
	s := sb.String()
	if s[0] == '0' || s[len(s)-1] == '0' {
		r.fail("number not normalised")
	}
	return s
}
