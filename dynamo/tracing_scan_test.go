package dynamo

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestRequestTables(t *testing.T) {
	for _, c := range []struct {
		body string
		want []string
	}{
		{`{"TableName":"orders","Item":{"pk":{"S":"a}\"{"},"l":{"L":[{"M":{"x":{"N":"1"}}},{"S":"]"}]}}}`, []string{"orders"}},
		{` { "Item" : {"TableName":{"S":"inner"}} , "TableName" : "t\u00e9" } `, []string{"té"}},
		{`{"RequestItems":{"a":[{"PutRequest":{"Item":{"TableName":{"S":"x"}}}}],"b":{"Keys":[]}},"ReturnConsumedCapacity":"TOTAL"}`, []string{"a", "b"}},
		{`{"Limit":10,"Flag":true,"Nothing":null,"TableName":"t"}`, []string{"t"}},
		{`{"tablename":"lower"}`, nil}, // member names are case-sensitive
		{`[]`, nil},
		{`{"TableName":`, nil},
		{`{"TableName":"a"`, nil}, // cut short: no table
		{`{"a":}`, nil},
		{``, nil},
	} {
		got := requestTables([]byte(c.body))
		slices.Sort(got)
		if !slices.Equal(got, c.want) {
			t.Errorf("requestTables(%s) = %q, want %q", c.body, got, c.want)
		}
	}
}

// referenceTables is requestTables by encoding/json's tokenizer, for a
// valid JSON body; ok is false where the scanner may give up instead (a
// TableName that is not a string, RequestItems that is not an object).
func referenceTables(body []byte) (names []string, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		switch tok {
		case "TableName":
			v, err := dec.Token()
			name, isString := v.(string)
			if err != nil || !isString {
				return nil, false
			}
			names = append(names, name)
		case "RequestItems":
			if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
				return nil, false
			}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return nil, false
				}
				var raw json.RawMessage
				if dec.Decode(&raw) != nil {
					return nil, false
				}
				names = append(names, k.(string))
			}
			if _, err := dec.Token(); err != nil {
				return nil, false
			}
		default:
			var raw json.RawMessage
			if dec.Decode(&raw) != nil {
				return nil, false
			}
		}
	}
	return names, true
}

// FuzzRequestTables: the scanner ends on any input, and on a valid JSON
// object it finds what encoding/json's tokenizer finds.
func FuzzRequestTables(f *testing.F) {
	for _, s := range []string{`{"TableName":"t","Key":{"pk":{"S":"x"}}}`, `{"RequestItems":{"a":{"Keys":[{"k":{"N":"1"}}]}}}`, `{"x":[1,{"y":"]}"}],"TableName":"z"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got := requestTables(body)
		if !json.Valid(body) {
			return
		}
		want, ok := referenceTables(body)
		if !ok {
			return
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("requestTables(%s) = %q, want %q", body, got, want)
		}
	})
}

// BenchmarkRequestTables: the table names of a 1 KB PutItem body, by the
// top-level scan and (for comparison) by decoding the whole body, which
// traceTables did before.
func BenchmarkRequestTables(b *testing.B) {
	body := []byte(`{"TableName":"bench","Item":{"pk":{"S":"user00000042"},"field0":{"B":"` + strings.Repeat("QUJD", 250) + `"}},"ReturnConsumedCapacity":"NONE"}`)
	b.Run("scan", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if len(requestTables(body)) != 1 {
				b.Fatal("no table")
			}
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var req struct {
				TableName    string
				RequestItems map[string]json.RawMessage
			}
			if json.Unmarshal(body, &req) != nil || req.TableName == "" {
				b.Fatal("no table")
			}
		}
	})
}
