package item

import (
	"bytes"
	"errors"
	"slices"
	"testing"
	"unicode/utf8"
)

// strictRunes is an independent reading of a JSON string token: the
// Unicode scalar values it spells, or ok false when it is not a string
// token, or holds invalid UTF-8 or a lone surrogate escape.
func strictRunes(tok []byte) (rs []rune, ok bool) {
	if len(tok) < 2 || tok[0] != '"' || tok[len(tok)-1] != '"' {
		return nil, false
	}
	b := tok[1 : len(tok)-1]
	for len(b) > 0 {
		switch c := b[0]; {
		case c == '"' || c < 0x20:
			return nil, false
		case c == '\\':
			r, n, ok := strictEscape(b)
			if !ok {
				return nil, false
			}
			rs, b = append(rs, r), b[n:]
		default:
			r, n := utf8.DecodeRune(b)
			if r == utf8.RuneError && n == 1 {
				return nil, false
			}
			rs, b = append(rs, r), b[n:]
		}
	}
	return rs, true
}

// strictEscape reads the escape at the start of b: its rune and length.
func strictEscape(b []byte) (rune, int, bool) {
	if len(b) < 2 {
		return 0, 0, false
	}
	if r, ok := map[byte]rune{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}[b[1]]; ok {
		return r, 2, true
	}
	hi, ok := hexEscape(b, 0)
	switch {
	case !ok:
		return 0, 0, false
	case hi < 0xD800 || hi > 0xDFFF:
		return hi, 6, true
	case hi >= 0xDC00:
		return 0, 0, false
	}
	lo, ok := hexEscape(b, 6)
	if !ok || lo < 0xDC00 || lo > 0xDFFF {
		return 0, 0, false
	}
	return 0x10000 + (hi-0xD800)<<10 + (lo - 0xDC00), 12, true
}

var stringSeeds = []string{
	`""`, `"abc"`, `"a\"b\\c\/\b\f\n\r\t"`, `"\u00e9\ud83d\ude00"`, `"\ud800"`, `"\udc00x"`, `"\ud800\u0041"`,
	`"\\ud800"`, `"\\\ud800"`, `"\ud83d\ude00\ud800"`, `"\uFFFD"`, "\"\xef\xbf\xbd\"", "\"\xff\"", "\"\xfe\"",
	"\"a\xc3\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"\xc0\x80\"", `"é😀"`, "\"\x7f\"", `"\u0000"`,
	``, `"`, `a`, `"a`, `"a"b"`, `"\x"`, `"\u12"`, "\"\x1f\"", `5`, `null`,
}

func TestUnquoteJSONStringStrict(t *testing.T) {
	for _, tok := range stringSeeds {
		checkUnquoteStrict(t, []byte(tok))
	}
}

// FuzzJSONStringInjective proves the string decoding one-to-one: a token
// is accepted exactly when it spells a sequence of Unicode scalar values,
// and then decodes to exactly that sequence. Since distinct sequences of
// scalar values are distinct UTF-8 strings, no two tokens that mean
// different strings decode to one, as "coll\xff" and "coll\xfe" did when
// both became "coll\uFFFD".
func FuzzJSONStringInjective(f *testing.F) {
	for _, s := range stringSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(checkUnquoteStrict)
}

func checkUnquoteStrict(t *testing.T, tok []byte) {
	got, ok := UnquoteJSONString(tok)
	want, wantOK := strictRunes(tok)
	if ok != wantOK {
		t.Fatalf("UnquoteJSONString(%q) ok = %v, want %v", tok, ok, wantOK)
	}
	if ok && (!utf8.ValidString(got) || !slices.Equal([]rune(got), want)) {
		t.Fatalf("UnquoteJSONString(%q) = %q, want the runes %q", tok, got, want)
	}
	if isStringToken := len(tok) > 0 && tok[0] == '"' && scanJSONString(tok, 0) == len(tok); isStringToken && ok != ValidJSONStrings(tok) {
		t.Fatalf("ValidJSONStrings(%q) = %v, but the token decodes: %v", tok, !ok, ok)
	}
}

// FuzzItemKeyInjective decodes two items whose partition keys are the
// string tokens a and b and encodes their keys as stored: equal stored
// keys must come from tokens that spell the same string.
func FuzzItemKeyInjective(f *testing.F) {
	f.Add([]byte("coll\xff"), []byte("coll\xfe"))
	f.Add([]byte(`\ud800`), []byte(`\udc00`))
	f.Add([]byte(`\u00e9`), []byte("\xc3\xa9"))
	f.Add([]byte(`\uFFFD`), []byte("\xff"))
	f.Add([]byte(`a\/b`), []byte(`a/b`))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		ka, ra, okA := storedKey(t, a)
		kb, rb, okB := storedKey(t, b)
		if okA && okB && bytes.Equal(ka, kb) && !slices.Equal(ra, rb) {
			t.Fatalf("tokens %q and %q spell %q and %q but share the stored key %x", a, b, ra, rb, ka)
		}
	})
}

// storedKey decodes {"pk":{"S":"<s>"}} and returns the key bytes the item
// would be stored under, with the runes s spells; ok is false when the
// item is refused, which must then be a serialization error exactly when
// s does not spell a string.
func storedKey(t *testing.T, s []byte) (key []byte, rs []rune, ok bool) {
	tok := append(append([]byte{'"'}, s...), '"')
	rs, spelled := strictRunes(tok)
	data := append(append([]byte(`{"pk":{"S":`), tok...), "}}"...)
	var it Item
	err := it.UnmarshalJSON(data)
	var e *Error
	switch {
	case err == nil && !spelled:
		t.Fatalf("item %q accepted, though its key does not spell a string", data)
	case err != nil && !errors.As(err, &e):
		t.Fatalf("item %q: error %v is not an *Error", data, err)
	case err != nil && spelled:
		return nil, nil, false // a valid string the item rules refuse (none today but size)
	case err != nil:
		if !e.Serialization {
			t.Fatalf("item %q: %v is not a serialization error", data, err)
		}
		return nil, nil, false
	}
	key, err = AppendKey(nil, it["pk"])
	if err != nil {
		return nil, nil, false
	}
	return key, rs, true
}
