package item

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"
)

func FuzzNumber(f *testing.F) {
	for _, s := range []string{"0", "-0", "1", "1.0", "10E-1", ".5", "5.", "+1e2", "-1.5", "1e-130", "1e126",
		"9.9999999999999999999999999999999999999E+125", "123456789012345678901234567890123456789", "abc", "1e", "--1", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseNumber(s)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Serialization {
				t.Fatalf("ParseNumber(%q) error %v is not a validation *Error", s, err)
			}
			return
		}
		out := n.String()
		back, err := ParseNumber(out)
		if err != nil || back != n || back.String() != out {
			t.Fatalf("%q printed as %q, which parses to %v, %v", s, out, back, err)
		}
		if strings.ContainsAny(out, "eE+") {
			t.Fatalf("%q printed with an exponent: %q", s, out)
		}
		checkAgainstRat(t, s, out)
		if sum, err := n.Sub(n); err != nil || !sum.IsZero() {
			t.Fatalf("%s - itself = %v, %v", out, sum, err)
		}
	})
}

// checkAgainstRat compares the parsed value with math/big's reading of the
// input, when the exponent is small enough for big.Rat to expand cheaply.
func checkAgainstRat(t *testing.T, in, out string) {
	if i := strings.IndexAny(in, "eE"); i >= 0 && len(strings.TrimLeft(in[i+1:], "+-0")) > 3 {
		return
	}
	want, ok1 := new(big.Rat).SetString(strings.TrimPrefix(in, "+"))
	got, ok2 := new(big.Rat).SetString(out)
	if ok1 && ok2 && want.Cmp(got) != 0 {
		t.Fatalf("%q read as %s, math/big reads %s", in, out, want.FloatString(10))
	}
}

func FuzzCodec(f *testing.F) {
	f.Add(EncodeItem(sampleItem()))
	f.Add(EncodeItem(Item{"a": S("x")}))
	f.Add(EncodeItem(nil))
	f.Add(AppendValue(nil, N(MustNumber("-1.5"))))
	f.Add([]byte{1, 1, 1, 'a', codeNS, 2, 1, 0, 130, 0x10, 1, 0, 130, 0x20})
	f.Fuzz(func(t *testing.T, b []byte) {
		if it, err := DecodeItem(b); err == nil {
			if again := EncodeItem(it); !bytes.Equal(again, b) {
				t.Fatalf("re-encoding %x gives %x", b, again)
			}
			if err := it.Validate(); err != nil {
				t.Fatalf("decoded item is invalid: %v", err)
			}
		} else if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("DecodeItem error %v does not wrap ErrCorrupt", err)
		}
		if v, rest, err := DecodeValue(b); err == nil {
			if again := AppendValue(nil, v); !bytes.Equal(append(again, rest...), b) {
				t.Fatalf("re-encoding value %x gives %x", b, again)
			}
		}
	})
}

func FuzzKeyOrder(f *testing.F) {
	f.Add(uint8(TypeN), []byte("1"), []byte("1.5"))
	f.Add(uint8(TypeN), []byte("-10"), []byte("-9.99"))
	f.Add(uint8(TypeN), []byte("0"), []byte("-1e-130"))
	f.Add(uint8(TypeS), []byte("a"), []byte("a\x00"))
	f.Add(uint8(TypeB), []byte{0, 0xff}, []byte{0})
	f.Fuzz(func(t *testing.T, typ uint8, ra, rb []byte) {
		a, okA := fuzzKeyValue(typ, ra)
		b, okB := fuzzKeyValue(typ, rb)
		if !okA || !okB {
			return
		}
		ka, kb := mustKey(t, a), mustKey(t, b)
		c, _ := Compare(a, b)
		if got := bytes.Compare(ka, kb); got != c {
			t.Fatalf("Compare(%v, %v) = %d but keys %x, %x compare %d", a, b, c, ka, kb, got)
		}
		if c != 0 && (bytes.HasPrefix(ka, kb) || bytes.HasPrefix(kb, ka)) {
			t.Fatalf("key %x and %x: one is a prefix of the other", ka, kb)
		}
		joined := append(append([]byte{}, ka...), kb...)
		da, rest, err := DecodeKey(joined, a.Type)
		if err != nil || !Equal(da, a) {
			t.Fatalf("DecodeKey(%x) = %v, %v; want %v", joined, da, err, a)
		}
		db, rest, err := DecodeKey(rest, b.Type)
		if err != nil || !Equal(db, b) || len(rest) != 0 {
			t.Fatalf("DecodeKey of second key = %v, %x, %v; want %v", db, rest, err, b)
		}
		if c == 0 && Hash(a) != Hash(b) {
			t.Fatalf("Hash(%v) = %x, Hash(%v) = %x", a, Hash(a), b, Hash(b))
		}
		if a.Type != TypeN {
			prefix, _ := AppendKeyPrefix(nil, b)
			if bytes.HasPrefix(ka, prefix) != bytes.HasPrefix(ra, rb) {
				t.Fatalf("key %x has prefix %x: %v, but %q begins with %q: %v", ka, prefix, !bytes.HasPrefix(ra, rb), ra, rb, bytes.HasPrefix(ra, rb))
			}
		}
		// Arbitrary bytes never make DecodeKey panic.
		_, _, _ = DecodeKey(ra, a.Type)
	})
}

// fuzzKeyValue makes a key value of type typ (mod 3) from raw bytes.
func fuzzKeyValue(typ uint8, raw []byte) (Value, bool) {
	switch typ % 3 {
	case 0:
		n, err := ParseNumber(string(raw))
		return N(n), err == nil
	case 1:
		return S(string(raw)), true
	}
	return B(raw), true
}

func FuzzJSON(f *testing.F) {
	js, _ := json.Marshal(sampleItem())
	f.Add(js)
	for _, s := range []string{`{"a":{"S":"x"}}`, `{"a":{"NS":["1","1.0"]}}`, `{"a":{"M":{"b":{"L":[{"NULL":true}]}}}}`,
		`{"a":{"B":"AA=="}}`, `{"a":{"S":5}}`, `{"a":{}}`, `{"a":{"BS":["AQ==","Ag=="]}}`, `[]`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var it Item
		err := json.Unmarshal(data, &it)
		if err != nil {
			return
		}
		if err := it.Validate(); err != nil {
			t.Fatalf("decoded item is invalid: %v", err)
		}
		out, err := json.Marshal(it)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		var back Item
		if err := json.Unmarshal(out, &back); err != nil || !EqualItems(it, back) {
			t.Fatalf("%s: re-decode %v, equal %v", out, err, EqualItems(it, back))
		}
		if again, _ := json.Marshal(back); !bytes.Equal(again, out) {
			t.Fatalf("marshal not stable: %s vs %s", again, out)
		}
		dec, err := DecodeItem(EncodeItem(it))
		if err != nil || !EqualItems(dec, it) {
			t.Fatalf("codec round trip: %v", err)
		}
	})
}
