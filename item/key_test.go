package item

import (
	"bytes"
	"errors"
	"slices"
	"testing"
)

// keyOrdered lists values of one type in increasing order.
var keyOrdered = map[Type][]Value{
	TypeN: func() []Value {
		var out []Value
		for _, s := range []string{
			"-9.9999999999999999999999999999999999999E+125", "-1e100", "-100", "-99", "-10.5", "-10", "-2",
			"-1.5", "-1.05", "-1", "-0.9", "-0.123", "-0.12", "-0.1", "-1e-130", "0", "1e-130", "0.001",
			"0.1", "0.12", "0.123", "0.9", "1", "1.05", "1.5", "2", "9", "10", "10.5", "11", "99", "100",
			"101", "1e100", "9.9999999999999999999999999999999999999E+125",
		} {
			out = append(out, N(MustNumber(s)))
		}
		return out
	}(),
	TypeS: {S(""), S("\x00"), S("\x00\x00"), S("\x00\x01"), S("\x01"), S("a"), S("a\x00"), S("a\x00b"), S("a\x01"), S("ab"), S("b"), S("é"), S("\xff")},
	TypeB: {B(nil), B([]byte{0}), B([]byte{0, 0xff}), B([]byte{1}), B([]byte{0x7f}), B([]byte{0x80}), B([]byte{0xff}), B([]byte{0xff, 0})},
}

func TestKeyOrder(t *testing.T) {
	for typ, vals := range keyOrdered {
		for i, a := range vals {
			ka := mustKey(t, a)
			for j, b := range vals {
				kb := mustKey(t, b)
				if got := bytes.Compare(ka, kb); got != cmpInt(i, j) {
					t.Errorf("%v: key order of %v vs %v = %d, want %d", typ, a, b, got, cmpInt(i, j))
				}
				if i != j && bytes.HasPrefix(kb, ka) {
					t.Errorf("%v: key of %v is a prefix of key of %v", typ, a, b)
				}
			}
			got, rest, err := DecodeKey(ka, typ)
			if err != nil || len(rest) != 0 || !Equal(got, a) {
				t.Errorf("DecodeKey(%x) = %v, %x, %v; want %v", ka, got, rest, err, a)
			}
		}
	}
}

// TestCompositeKeyOrder checks that pk||sk encodings sort by (pk, sk).
func TestCompositeKeyOrder(t *testing.T) {
	type pair struct{ pk, sk Value }
	var pairs []pair
	for _, pk := range keyOrdered[TypeS] {
		for _, sk := range keyOrdered[TypeN] {
			pairs = append(pairs, pair{pk, sk})
		}
	}
	enc := func(p pair) []byte {
		k := mustKey(t, p.pk)
		k, _ = AppendKey(k, p.sk)
		return k
	}
	sorted := slices.Clone(pairs)
	slices.SortFunc(sorted, func(a, b pair) int { return bytes.Compare(enc(a), enc(b)) })
	if !slices.EqualFunc(sorted, pairs, func(a, b pair) bool { return Equal(a.pk, b.pk) && Equal(a.sk, b.sk) }) {
		t.Error("composite keys do not sort by (pk, sk)")
	}
	k := enc(pairs[7])
	pk, rest, err := DecodeKey(k, TypeS)
	sk, rest2, err2 := DecodeKey(rest, TypeN)
	if err != nil || err2 != nil || !Equal(pk, pairs[7].pk) || !Equal(sk, pairs[7].sk) || len(rest2) != 0 {
		t.Errorf("decode composite: %v %v %v %v", pk, sk, err, err2)
	}
}

func TestKeyErrors(t *testing.T) {
	if _, err := AppendKey(nil, Bool(true)); !errors.Is(err, ErrKeyType) {
		t.Errorf("AppendKey(BOOL) = %v", err)
	}
	if _, _, err := DecodeKey([]byte{0}, TypeM); !errors.Is(err, ErrKeyType) {
		t.Errorf("DecodeKey(M) = %v", err)
	}
	bad := map[Type][][]byte{
		TypeS: {{}, {'a'}, {'a', 0}, {'a', 0, 2}},
		TypeN: {{}, {0x04}, {keyNumPos}, {keyNumPos, 130}, {keyNumPos, 130, 102, 0}, {keyNumPos, 130, 1, 0}, {keyNumPos, 130, 11}},
	}
	for typ, cases := range bad {
		for _, b := range cases {
			if v, _, err := DecodeKey(b, typ); !errors.Is(err, ErrCorrupt) {
				t.Errorf("DecodeKey(%x, %v) = %v, %v; want ErrCorrupt", b, typ, v, err)
			}
		}
	}
}

func mustKey(t testing.TB, v Value) []byte {
	t.Helper()
	k, err := AppendKey(nil, v)
	if err != nil {
		t.Fatalf("AppendKey(%v): %v", v, err)
	}
	return k
}

func TestKeyPrefix(t *testing.T) {
	vals := []string{"", "a", "ab", "a\x00", "a\x00b", "a\x01", "b", "\x00", "\x00\x00"}
	for _, p := range vals {
		for _, typ := range []Type{TypeS, TypeB} {
			prefix, err := AppendKeyPrefix(nil, fromString(typ, p))
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range vals {
				k := mustKey(t, fromString(typ, s))
				want := len(s) >= len(p) && s[:len(p)] == p
				if got := bytes.HasPrefix(k, prefix); got != want {
					t.Errorf("%v: key(%q) has prefix(%q) = %v, want %v", typ, s, p, got, want)
				}
			}
		}
	}
	if _, err := AppendKeyPrefix(nil, N(MustNumber("1"))); !errors.Is(err, ErrKeyType) {
		t.Errorf("AppendKeyPrefix(N) = %v", err)
	}
}

func fromString(t Type, s string) Value {
	if t == TypeB {
		return B([]byte(s))
	}
	return S(s)
}

func TestConstructors(t *testing.T) {
	v := M(Item{"l": L([]Value{SS([]string{"a"}), NS(nums("1")), BS([][]byte{{1}})})})
	if err := v.Validate(); err != nil || v.M["l"].L[2].Type != TypeBS {
		t.Errorf("constructed %v: %v", v, err)
	}
}
