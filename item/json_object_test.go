package item

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestScanJSONObject(t *testing.T) {
	tests := []struct {
		in   string
		want []string // key, value, key, value ...; nil when not ok
	}{
		{`{}`, []string{}},
		{" \t\r\n{ } \n", []string{}},
		{`{"a":1,"b":"x","a":{"c":[1,{"d":null}]}}`, []string{`"a"`, `1`, `"b"`, `"x"`, `"a"`, `{"c":[1,{"d":null}]}`}},
		{`{ "k\u0065y" : true , "" : [ ] }`, []string{`"k\u0065y"`, `true`, `""`, `[ ]`}},
		{"{\"\xff\":\"\xfe\"}", []string{"\"\xff\"", "\"\xfe\""}},
		{``, nil},
		{` `, nil},
		{`[]`, nil},
		{`null`, nil},
		{`"{}"`, nil},
		{`{}x`, nil},
		{`{} {}`, nil},
		{`{"a":1`, nil},
		{`{"a":1,}`, nil},
		{`{"a" 1}`, nil},
		{`{a:1}`, nil},
		{`{"a":01}`, nil},
		{"{\"a\":\"\x01\"}", nil},
		{"\ufeff{}", nil},
		{"{}\v", nil},
		{strings.Repeat(`{"a":`, maxJSONDepth-1) + `{}` + strings.Repeat(`}`, maxJSONDepth-1), []string{`"a"`, strings.Repeat(`{"a":`, maxJSONDepth-2) + `{}` + strings.Repeat(`}`, maxJSONDepth-2)}},
		{strings.Repeat(`{"a":`, maxJSONDepth) + `{}` + strings.Repeat(`}`, maxJSONDepth), nil},
	}
	for _, tc := range tests {
		var buf [2]JSONMember
		ms, ok := ScanJSONObject([]byte(tc.in), buf[:0])
		if ok != (tc.want != nil) {
			t.Errorf("ScanJSONObject(%.40q) ok = %v", tc.in, ok)
			continue
		}
		// encoding/json must agree on validity: this is its contract.
		var obj map[string]json.RawMessage
		if jsonOK := json.Unmarshal([]byte(tc.in), &obj) == nil && obj != nil; jsonOK != ok {
			t.Errorf("ScanJSONObject(%.40q) ok = %v, encoding/json says %v", tc.in, ok, jsonOK)
		}
		if !ok {
			continue
		}
		var got []string
		for _, m := range ms {
			got = append(got, string(m.Key), string(m.Value))
		}
		if strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) {
			t.Errorf("ScanJSONObject(%.40q) = %.80q, want %.80q", tc.in, got, tc.want)
		}
	}
}

func TestUnquoteJSONString(t *testing.T) {
	for _, tok := range []string{
		`""`, `"abc"`, `"a\"b\\c\/\b\f\n\r\t"`, `"\u00e9\ud83d\ude00"`, `"\ud800"`, `"\udc00x"`,
		"\"\xff\"", "\"a\xc3\"", `"é😀"`, "\"\x7f\"",
		``, `"`, `a`, `"a`, `a"`, `"a"b"`, `"a" `, ` "a"`, `"\x"`, `"\u12"`, "\"\x1f\"", `5`, `null`, `{}`,
	} {
		got, ok := UnquoteJSONString([]byte(tok))
		var want string
		_, spelled := strictRunes([]byte(tok))
		wantOK := json.Unmarshal([]byte(tok), &want) == nil && strings.HasPrefix(tok, `"`) && strings.HasSuffix(tok, `"`) && spelled
		if !wantOK {
			want = ""
		}
		if ok != wantOK || got != want {
			t.Errorf("UnquoteJSONString(%q) = %q, %v; encoding/json, where strict: %q, %v", tok, got, ok, want, wantOK)
		}
	}
}

func FuzzUnquoteJSONString(f *testing.F) {
	for _, s := range []string{`"abc"`, `"\u00e9\ud800"`, "\"\xff\"", `"a"b"`, `"\"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		got, ok := UnquoteJSONString([]byte(tok))
		var want string
		_, spelled := strictRunes([]byte(tok))
		wantOK := len(tok) >= 2 && tok[0] == '"' && tok[len(tok)-1] == '"' && json.Unmarshal([]byte(tok), &want) == nil && spelled
		if !wantOK {
			want = ""
		}
		if ok != wantOK || got != want {
			t.Errorf("UnquoteJSONString(%q) = %q, %v; encoding/json, where strict: %q, %v", tok, got, ok, want, wantOK)
		}
	})
}

func TestScanJSONObjectNoAlloc(t *testing.T) {
	data := []byte(`{"TableName":"items","Item":{"pk":{"S":"a"}},"ReturnValues":"NONE"}`)
	allocs := testing.AllocsPerRun(100, func() {
		var buf [8]JSONMember
		if ms, ok := ScanJSONObject(data, buf[:0]); !ok || len(ms) != 3 {
			t.Fatal("not scanned")
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations", allocs)
	}
}
