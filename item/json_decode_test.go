package item

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// decodeSeeds are inputs for FuzzJSONDecodeMatchesReference and its plain
// test: every shape of AttributeValue, the corners of JSON strings, and
// malformed text.
func decodeSeeds() []string {
	js, _ := json.Marshal(sampleItem())
	deep := func(n int) string {
		return strings.Repeat(`{"M":{"a":`, n) + `{"S":"x"}` + strings.Repeat(`}}`, n)
	}
	deepList := func(n int) string {
		return strings.Repeat(`{"L":[`, n) + `{"S":"x"}` + strings.Repeat(`]}`, n)
	}
	seeds := []string{
		string(js),
		// FuzzJSON's seeds.
		`{"a":{"S":"x"}}`, `{"a":{"NS":["1","1.0"]}}`, `{"a":{"M":{"b":{"L":[{"NULL":true}]}}}}`,
		`{"a":{"B":"AA=="}}`, `{"a":{"S":5}}`, `{"a":{}}`, `{"a":{"BS":["AQ==","Ag=="]}}`, `[]`, `null`,
		// Values, as Value.UnmarshalJSON reads them.
		`{"S":"hello"}`, `{"N":"-0.50"}`, `{"B":""}`, `{"BOOL":false}`, `{"NULL":true}`, `{"NULL":false}`,
		`{"M":{"b":{"S":"x"},"a":{"N":"1"}}}`, `{"L":[{"S":"x"},{"L":[{"NULL":true}]}]}`,
		`{"SS":["b","a",""]}`, `{"NS":["1","2.50","-3e1"]}`, `{"BS":["AA==","AQ=="]}`,
		`{"SS":[]}`, `{"SS":["a","a"]}`, `{"NS":["1","1.0","2"]}`, `{"BS":["AA==","AA=="]}`, `{"NS":["1","x"]}`,
		`{"SS":[1]}`, `{"SS":"a"}`, `{"SS":[null]}`, `{"L":[null]}`, `{"L":[5]}`, `{"M":[]}`, `{"M":"x"}`,
		`{"B":"abc"}`, `{"B":"ab!c"}`, `{"B":"AA==\r\n"}`, `{"B":"AA\u003d="}`, `{"BS":["AA=="," AA="]}`,
		`{"S":"x","N":"1"}`, `{"S":"x","N":5}`, `{"S":"x","N":"abc"}`, `{"M":{"a":{"NULL":false},"b":{"S":5}}}`,
		`{"S":"x","Unknown":5}`, ` { "S" : "x" , "N" : null } `, `{"s":"x"}`, `{}`,
		`{"a":{"S":"x"},"b":{"NULL":false},"c":{"S":1}}`, `{"id":{"S":"a"},"skip":null}`,
		// Escapes, surrogates and invalid UTF-8, in values and in names.
		`{"S":"a\"b\\c\n\u0001é😀\/"}`, `{"S":"\ud83d\ude00"}`, `{"S":"\ud800"}`, `{"S":"\ud800\u0041"}`,
		`{"S":"\udc00\ud800"}`, `{"S":"\uD83D\uDE00"}`, "{\"S\":\"\xff\"}", "{\"S\":\"a\xc3\"}", "{\"S\":\"\xed\xa0\x80\"}",
		"{\"B\":\"\xffAAA\"}", "{\"SS\":[\"\xff\",\"\xfe\"]}", `{"\u0053":"x"}`, `{"\u0042OOL":true}`,
		"{\"\xff\":{\"S\":\"x\"},\"\xfe\":{\"N\":\"1\"}}", `{"\u00e9":{"S":"x"},"é":{"S":"y"}}`,
		`{"NS":["\u0031","1"]}`, `{"BS":["\u0041A==","AA=="]}`,
		// Repeated names: the last one counts, even when it is null.
		`{"S":5,"S":"x"}`, `{"S":"x","S":null}`, `{"S":"x","\u0053":"y"}`, `{"a":{"S":"x"},"a":{"N":"1"}}`,
		`{"a":{"S":"x"},"a":null}`, `{"a":null,"a":{"S":5}}`, `{"M":{"a":{"S":1},"a":{"S":"x"}}}`,
		// Nesting, at and beyond the limit.
		deep(31), deep(32), deepList(31), deepList(32),
		strings.Repeat(`{"M":{"a":`, 32) + `null` + strings.Repeat(`}}`, 32),
		strings.Repeat(`{"L":[`, 32) + `{"S":1}` + strings.Repeat(`]}`, 32),
		`{"a":{"S":"x","X":` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `}}`,
		// Not JSON, or not objects.
		`nul`, `nullx`, ` null `, `{"S":"x"} x`, `{"S":"x"`, `{"S":"x",}`, `{"S":'x'}`, "{\"S\":\"\x01\"}",
		`{"S":"\x"}`, `{"S":"\u12"}`, `{"N":01}`, `{"N":1.}`, `{"N":-}`, `{"BOOL":tru}`, `{,}`, `{"a" "b"}`,
		`"x"`, `5`, `true`, ``, ` `, "\ufeff{}", `{"a":[1,]}`, `{"a":[1 2]}`,
	}
	return seeds
}

func FuzzJSONDecodeMatchesReference(f *testing.F) {
	for _, s := range decodeSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(checkDecodeMatchesReference)
}

// TestJSONDecodeMatchesReference runs the fuzz seeds, and text too large
// for the fuzzer to find.
func TestJSONDecodeMatchesReference(t *testing.T) {
	for _, s := range decodeSeeds() {
		checkDecodeMatchesReference(t, []byte(s))
	}
	for _, s := range []string{
		`{"a":{"S":"x","X":` + strings.Repeat("[", 9999) + strings.Repeat("]", 9999) + `}}`,
		`{"a":{"S":"x","X":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}}`,
		`{"a":{"B":"` + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xfb, 0xff}, 5000)) + `"}}`,
	} {
		checkDecodeMatchesReference(t, []byte(s))
	}
}

// checkDecodeMatchesReference decodes data as an Item and as a Value with
// both decoders. Where the old one succeeds the new one must give the same
// result; where it fails, the same *Error. Two differences are allowed:
// the old decoder took any text beginning with n for null, the new one
// refuses it unless it is JSON; and the old one read invalid UTF-8 and lone
// surrogate escapes as U+FFFD, the new one refuses them (checkStrictRefusal).
func checkDecodeMatchesReference(t *testing.T, data []byte) {
	valid := json.Valid(data)
	if got := jsonValid(data); got != valid {
		t.Fatalf("jsonValid(%q) = %v, json.Valid says %v", data, got, valid)
	}
	if !ValidJSONStrings(data) {
		checkStrictRefusal(t, data)
		return
	}
	var it, refIt Item
	checkSameOutcome(t, "Item", data, valid, it.UnmarshalJSON(data), refUnmarshalItem(data, &refIt))
	if !EqualItems(it, refIt) || !reflect.DeepEqual(it, refIt) {
		t.Fatalf("Item %q: decoded %v, reference %v", data, it, refIt)
	}
	var v, refV Value
	checkSameOutcome(t, "Value", data, valid, v.UnmarshalJSON(data), refUnmarshalValue(data, &refV))
	if (v.Type != 0 || refV.Type != 0) && !Equal(v, refV) || !reflect.DeepEqual(v, refV) {
		t.Fatalf("Value %q: decoded %v, reference %v", data, v, refV)
	}
}

// checkStrictRefusal checks a text holding invalid UTF-8 or a lone
// surrogate escape: the decoder refuses it as a serialization error, or,
// when the bad string is in a part it never reads (a member of an unknown
// type name, a value a repeated name overrides), decodes what the old
// decoder did, or fails as it did.
func checkStrictRefusal(t *testing.T, data []byte) {
	var it, refIt Item
	err, refErr := it.UnmarshalJSON(data), refUnmarshalItem(data, &refIt)
	checkRefusal(t, "Item", data, err, refErr)
	if err == nil && !reflect.DeepEqual(it, refIt) {
		t.Fatalf("Item %q: decoded %v; reference %v", data, it, refIt)
	}
	var v, refV Value
	err, refErr = v.UnmarshalJSON(data), refUnmarshalValue(data, &refV)
	checkRefusal(t, "Value", data, err, refErr)
	if err == nil && !reflect.DeepEqual(v, refV) {
		t.Fatalf("Value %q: decoded %v; reference %v", data, v, refV)
	}
}

// checkRefusal: err is a serialization error, or the reference's outcome.
func checkRefusal(t *testing.T, what string, data []byte, err, refErr error) {
	t.Helper()
	if err != nil && isSerialization(err) {
		return
	}
	if (err == nil) != (refErr == nil) || err != nil && err.Error() != refErr.Error() {
		t.Fatalf("%s %q: %v; want a serialization error, or the reference's %v", what, data, err, refErr)
	}
}

func checkSameOutcome(t *testing.T, what string, data []byte, valid bool, err, refErr error) {
	t.Helper()
	if refErr == nil && !valid {
		if err == nil || !isSerialization(err) || jsonKind(data) != 'n' {
			t.Fatalf("%s %q: reference accepts malformed text; got %v, want a serialization error", what, data, err)
		}
		return
	}
	if refErr == nil {
		if err != nil {
			t.Fatalf("%s %q: %v; reference accepts it", what, data, err)
		}
		return
	}
	var e, refE *Error
	if !errors.As(refErr, &refE) {
		t.Fatalf("%s %q: reference error %v is not an *Error", what, data, refErr)
	}
	if !errors.As(err, &e) || e.Msg != refE.Msg || e.Serialization != refE.Serialization {
		t.Fatalf("%s %q: error %#v; reference %#v", what, data, err, refE)
	}
}

func isSerialization(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Serialization
}

// TestJSONMalformed calls UnmarshalJSON directly, as encoding/json never
// would, with text that is not JSON.
func TestJSONMalformed(t *testing.T) {
	for _, in := range []string{
		``, `nul`, `nullx`, `n`, `{`, `{"S":"x"`, `{"S":"x"} x`, `{"S":"x"}}`, `{"S":"x",}`, `{"S" "x"}`,
		`{"S":"x\"}`, "{\"S\":\"\n\"}", `{"S":"\q"}`, `{"S":"\u00g0"}`, `{"N":+1}`, `{"N":.5}`, `{"N":1e}`,
		`{"L":[{"S":"x"},]}`, `{"L":[{"S":"x"}}`, `{"M":{"a":{"S":"x"}}`, `{"BOOL":True}`, `{"NULL":nul}`,
		`{"a":{"S":"x"},"b":{"S":"y"}`, `{"a":{"S":"x"}} {}`,
		`{"a":{"S":"x","X":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}}`,
	} {
		var v Value
		if err := v.UnmarshalJSON([]byte(in)); !isSerialization(err) {
			t.Errorf("Value.UnmarshalJSON(%.40q) = %v, want a serialization error", in, err)
		}
		var it Item
		if err := it.UnmarshalJSON([]byte(in)); !isSerialization(err) {
			t.Errorf("Item.UnmarshalJSON(%.40q) = %v, want a serialization error", in, err)
		}
	}
}

// TestJSONValid compares the scanner with encoding/json on text around its
// limits.
func TestJSONValid(t *testing.T) {
	nested := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	for _, in := range []string{
		nested(10000), nested(10001), `{"a":` + nested(9999) + `}`, `{"a":` + nested(10000) + `}`,
		`0`, `-0`, `-`, `01`, `1.5e+3`, `1E-0`, `1e`, `1.e1`, `-.5`, `"\u0000"`, `"\uD800"`, "\"\x7f\xff\"",
		"\"" + strings.Repeat("a", 17) + "\x1f\"", "\"" + strings.Repeat("é", 9) + "\"", ` true `, `false `,
		`nulls`, `[1,2,{"a":[]}]`, `{"a":1,"a":2}`, "\t\r\n{}\n", "{}\x00", `[,1]`, `[1,]`, `{"a":1,}`,
	} {
		if got, want := jsonValid([]byte(in)), json.Valid([]byte(in)); got != want {
			t.Errorf("jsonValid(%.40q) = %v, json.Valid says %v", in, got, want)
		}
	}
}

// benchItem is a PutItem's Item: a string key and a 1 KB binary value.
func benchItem() []byte {
	payload := make([]byte, 1024)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	return []byte(`{"pk":{"S":"user#000123"},"data":{"B":"` + base64.StdEncoding.EncodeToString(payload) + `"}}`)
}

func BenchmarkUnmarshalItem(b *testing.B) {
	data := benchItem()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var it Item
		if err := it.UnmarshalJSON(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUnmarshalItemReference is BenchmarkUnmarshalItem with the old
// decoder, for comparison.
func BenchmarkUnmarshalItemReference(b *testing.B) {
	data := benchItem()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var it Item
		if err := refUnmarshalItem(data, &it); err != nil {
			b.Fatal(err)
		}
	}
}

// jsonValid reports whether data is one JSON value, white space around it
// allowed, by the decoder's scanner: it must agree with json.Valid.
func jsonValid(data []byte) bool {
	i := skipJSONSpace(data, 0)
	end := scanJSONValue(data, i, 0)
	return end >= 0 && skipJSONSpace(data, end) == len(data)
}

// TestHasControlChar checks the word-at-a-time test against a byte loop:
// each byte value at each position of strings of several lengths, then
// random strings.
func TestHasControlChar(t *testing.T) {
	check := func(b []byte) {
		t.Helper()
		want := false
		for _, x := range b {
			want = want || x < 0x20
		}
		if got := hasControlChar(b); got != want {
			t.Fatalf("hasControlChar(%x) = %v, want %v", b, got, want)
		}
	}
	for n := 1; n <= 70; n++ {
		for pos := 0; pos < n; pos++ {
			for c := 0; c < 256; c++ {
				b := bytes.Repeat([]byte{0x7f}, n)
				if pos > 0 {
					b[pos-1] = 0xff
				}
				b[pos] = byte(c)
				check(b)
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		b := make([]byte, rng.IntN(80))
		for i := range b {
			b[i] = byte(0x20 + rng.IntN(0xe0))
			if rng.IntN(50) == 0 {
				b[i] = byte(rng.IntN(0x20))
			}
		}
		check(b)
	}
}
