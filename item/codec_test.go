package item

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// sampleItem holds every type, nested containers and edge-case numbers.
func sampleItem() Item {
	return Item{
		"s":     S("héllo\x00"),
		"empty": S(""),
		"n":     N(MustNumber("-123.456e7")),
		"zero":  N(Number{}),
		"big":   N(MustNumber("9.9999999999999999999999999999999999999E+125")),
		"small": N(MustNumber("1e-130")),
		"b":     B([]byte{0, 1, 0xff}),
		"nob":   B([]byte{}),
		"t":     Bool(true),
		"f":     Bool(false),
		"null":  Null(),
		"m": {Type: TypeM, M: map[string]Value{
			"z": S("last"), "a": {Type: TypeL, L: []Value{N(MustNumber("1")), {Type: TypeM, M: map[string]Value{}}}},
		}},
		"l":  {Type: TypeL, L: []Value{}},
		"ss": {Type: TypeSS, SS: []string{"b", "a", ""}},
		"ns": {Type: TypeNS, NS: nums("3", "-1", "0", "0.5")},
		"bs": {Type: TypeBS, BS: [][]byte{{2}, {}, {1, 0}}},
	}
}

func TestCodecRoundTrip(t *testing.T) {
	it := sampleItem()
	enc := EncodeItem(it)
	got, err := DecodeItem(enc)
	if err != nil {
		t.Fatalf("DecodeItem: %v", err)
	}
	if !EqualItems(it, got) {
		t.Fatalf("round trip:\n got %v\nwant %v", got, it)
	}
	if again := EncodeItem(got); !bytes.Equal(again, enc) {
		t.Fatalf("re-encoding differs:\n%x\n%x", again, enc)
	}
	// Sets keep their order through the codec.
	if strings.Join(got["ss"].SS, ",") != "b,a," {
		t.Errorf("SS order = %q", got["ss"].SS)
	}
	// Deterministic: building the same item again gives the same bytes.
	if !bytes.Equal(EncodeItem(sampleItem()), enc) {
		t.Error("encoding is not deterministic")
	}
	if !bytes.Equal(AppendItem([]byte("prefix"), it)[6:], enc) {
		t.Error("AppendItem does not append")
	}
}

func TestCodecEmptyItem(t *testing.T) {
	enc := EncodeItem(nil)
	if !bytes.Equal(enc, []byte{itemFormatV1, 0}) {
		t.Errorf("EncodeItem(nil) = %x", enc)
	}
	it, err := DecodeItem(enc)
	if err != nil || len(it) != 0 {
		t.Errorf("DecodeItem(empty) = %v, %v", it, err)
	}
}

func TestCodecGolden(t *testing.T) {
	// The format is persistent: these bytes must never change.
	it := Item{"a": N(MustNumber("-12.5")), "b": {Type: TypeSS, SS: []string{"x"}}, "c": Bool(true)}
	want := []byte{
		1, 3, // version, 3 attributes
		1, 'a', codeN, 3, 1, byte(2 - minExp), 0x12, 0x50, // -0.125e2
		1, 'b', codeSS, 1, 1, 'x',
		1, 'c', codeBOOL, 1,
	}
	if got := EncodeItem(it); !bytes.Equal(got, want) {
		t.Errorf("EncodeItem = %v, want %v", got, want)
	}
	if h := Hash(S("abc")); h != Hash(S("abc")) || h == Hash(B([]byte("abc"))) {
		t.Error("Hash is not a function of type and value")
	}
}

func TestCodecValue(t *testing.T) {
	v := sampleItem()["m"]
	enc := AppendValue(nil, v)
	got, rest, err := DecodeValue(append(enc, 0xAA))
	if err != nil || !Equal(got, v) || !bytes.Equal(rest, []byte{0xAA}) {
		t.Errorf("DecodeValue = %v, %x, %v", got, rest, err)
	}
}

func TestCodecCorrupt(t *testing.T) {
	good := EncodeItem(Item{"a": S("x")})
	cases := map[string][]byte{
		"empty":           {},
		"version":         {2, 0},
		"truncated":       good[:len(good)-1],
		"trailing":        append(append([]byte{}, good...), 0),
		"huge count":      {1, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"huge length":     {1, 1, 0xff, 0xff, 0x03},
		"unknown code":    {1, 1, 1, 'a', 99},
		"bad bool":        {1, 1, 1, 'a', codeBOOL, 2},
		"keys unordered":  {1, 2, 1, 'b', codeNULL, 1, 'a', codeNULL},
		"keys duplicated": {1, 2, 1, 'a', codeNULL, 1, 'a', codeNULL},
		"long varint":     {1, 0x81, 0x00, 1, 'a', codeNULL},
		"empty set":       {1, 1, 1, 'a', codeSS, 0},
		"dup set":         {1, 1, 1, 'a', codeSS, 2, 1, 'x', 1, 'x'},
		"dup numbers":     {1, 1, 1, 'a', codeNS, 2, 1, 0, 130, 0x10, 1, 0, 130, 0x10},
		"bad digit":       {1, 1, 1, 'a', codeN, 1, 0, 130, 0xA0},
		"leading zero":    {1, 1, 1, 'a', codeN, 2, 0, 130, 0x01},
		"trailing zero":   {1, 1, 1, 'a', codeN, 2, 0, 130, 0x10},
		"bad padding":     {1, 1, 1, 'a', codeN, 1, 0, 130, 0x11},
		"too many digits": append([]byte{1, 1, 1, 'a', codeN, 39, 0, 130}, bytes.Repeat([]byte{0x11}, 20)...),
		"bad sign":        {1, 1, 1, 'a', codeN, 1, 2, 130, 0x10},
	}
	for name, b := range cases {
		if it, err := DecodeItem(b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: DecodeItem = %v, %v; want ErrCorrupt", name, it, err)
		}
	}
}

func TestCodecDepth(t *testing.T) {
	nest := func(n int) Value {
		v := S("x")
		for range n {
			v = Value{Type: TypeL, L: []Value{v}}
		}
		return v
	}
	if _, err := DecodeItem(EncodeItem(Item{"a": nest(31)})); err != nil {
		t.Errorf("31 levels of nesting: %v", err)
	}
	if _, err := DecodeItem(EncodeItem(Item{"a": nest(32)})); !errors.Is(err, ErrCorrupt) {
		t.Errorf("32 levels of nesting: %v, want ErrCorrupt", err)
	}
	if err := nest(31).Validate(); err != nil {
		t.Errorf("Validate(31 levels): %v", err)
	}
	if err := nest(32).Validate(); err == nil || err.Error() != msgDepth {
		t.Errorf("Validate(32 levels): %v", err)
	}
}

func TestJSONCodecAgree(t *testing.T) {
	it := sampleItem()
	js, err := json.Marshal(it)
	if err != nil {
		t.Fatal(err)
	}
	var back Item
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	if !bytes.Equal(EncodeItem(back), EncodeItem(it)) {
		t.Error("JSON round trip changes the binary encoding")
	}
}

func TestClone(t *testing.T) {
	it := sampleItem()
	c := it.Clone()
	if !EqualItems(it, c) {
		t.Fatal("clone differs")
	}
	c["m"].M["z"] = S("changed")
	c["bs"].BS[0][0] = 9
	c["ss"].SS[0] = "q"
	if !EqualItems(it, sampleItem()) {
		t.Error("mutating the clone changed the original")
	}
}

func TestValidate(t *testing.T) {
	bad := []struct {
		v   Value
		msg string
	}{
		{Value{}, msgEmptyValue},
		{Value{Type: TypeSS}, "One or more parameter values were invalid: An string set  may not be empty"},
		{Value{Type: TypeNS, NS: nums("1", "1.0")}, "One or more parameter values were invalid: Input collection [1, 1] contains duplicates."},
		{Value{Type: TypeM, M: map[string]Value{"a": {}}}, msgEmptyValue},
	}
	for _, tt := range bad {
		if err := tt.v.Validate(); err == nil || err.Error() != tt.msg {
			t.Errorf("Validate(%v) = %v, want %q", tt.v, err, tt.msg)
		}
	}
	if err := sampleItem().Validate(); err != nil {
		t.Errorf("Validate(sample) = %v", err)
	}
}
