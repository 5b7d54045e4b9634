package dynamo

import (
	"bytes"
	"testing"

	"github.com/partitadb/partita/item"
)

// referenceJSON is v as encoding/json writes it (reflection: the
// responses' appendJSON is not a json.Marshaler).
func referenceJSON(t *testing.T, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := newJSONEncoder(&buf).Encode(v); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// FuzzResponseJSONMatchesEncoding: GetItem's and the Query and Scan
// pages' responses written by appendJSON are byte for byte what
// encoding/json writes, for any item (decoded from the input), with and
// without ConsumedCapacity and LastEvaluatedKey, and for none.
func FuzzResponseJSONMatchesEncoding(f *testing.F) {
	for _, s := range []string{
		`{}`,
		`{"pk":{"S":"a"},"n":{"N":"-1.5e10"},"b":{"B":"AAEC"}}`,
		`{"s":{"S":"<&>\"\\\u0001é😀"},"t":{"BOOL":true},"z":{"NULL":true}}`,
		`{"m":{"M":{"x":{"L":[{"S":"y"},{"N":"2"},{"M":{}}]}}},"ss":{"SS":["b","a"]},"ns":{"NS":["1","20"]},"bs":{"BS":["AA==","AQ=="]}}`,
		`{"k\u2028":{"S":"\u2029</script>"}}`,
	} {
		f.Add([]byte(s), true, true)
	}
	f.Fuzz(func(t *testing.T, raw []byte, capacity, last bool) {
		var it item.Item
		if err := it.UnmarshalJSON(raw); err != nil {
			return
		}
		var cc *consumedCapacity
		if capacity {
			units := 0.5
			cc = &consumedCapacity{TableName: "t", CapacityUnits: 0.5, ReadCapacityUnits: &units}
		}
		var lek item.Item
		if last {
			lek = it
		}
		items := []item.Item{it, it}
		empty := []item.Item{}
		for _, v := range []jsonAppender{
			&getItemResponse{},
			&getItemResponse{Item: &it, ConsumedCapacity: cc},
			&pageResponse{Items: &items, Count: 2, ScannedCount: 3, LastEvaluatedKey: lek, ConsumedCapacity: cc},
			&pageResponse{Items: &empty},
			&pageResponse{Count: 7, ScannedCount: 9, ConsumedCapacity: cc},
		} {
			got, err := v.appendJSON(nil)
			if err != nil {
				t.Fatal(err)
			}
			if want := referenceJSON(t, v); !bytes.Equal(got, want) {
				t.Fatalf("appendJSON wrote\n%s\nencoding/json writes\n%s", got, want)
			}
		}
	})
}
