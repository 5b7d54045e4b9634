package dynamo

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

func TestExactMembers(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"TableName":"a"}`, `{"TableName":"a"}`},
		{`{"tablename":"a"}`, `{}`},
		{`{"tablename":"a","TableName":"b"}`, `{"TableName":"b"}`},
		{`{"TableName":"b","TABLENAME":"a"}`, `{"TableName":"b"}`},
		{`{ "a" : 1 , "TableName" : "b" , "c" : [1,{"d":2}] , "Limit" : 3 }`, `{ "TableName" : "b"  , "Limit" : 3 }`},
		{`{"a":1,"b":2}`, `{}`},
		{`{"Table\u004eame":"a","table\u004eame":"b"}`, `{"Table\u004eame":"a"}`},
		// Key attribute names and placeholders are data.
		{`{"ExclusiveStartKey":{"tablename":{"S":"x"}},"ExpressionAttributeNames":{"#tablename":"x"}}`, `{"ExclusiveStartKey":{"tablename":{"S":"x"}},"ExpressionAttributeNames":{"#tablename":"x"}}`},
		// Nested structs in lists and maps.
		{`{"KeyConditions":{"pk":{"comparisonoperator":"EQ","ComparisonOperator":"GT"}},"QueryFilter":{"x":{"attributevaluelist":[]}}}`, `{"KeyConditions":{"pk":{"ComparisonOperator":"GT"}},"QueryFilter":{"x":{}}}`},
		// Not JSON: left for encoding/json to report.
		{`{"tablename":xyz}`, `{"tablename":xyz}`},
		{`{"tablename":"a"`, `{"tablename":"a"`},
		{`null`, `null`},
	} {
		if got := string(exactMembers([]byte(c.in), &queryRequest{})); got != c.want {
			t.Errorf("exactMembers(%s)\n = %s\nwant %s", c.in, got, c.want)
		}
	}
	create := `{"TableName":"abc","KeySchema":[{"attributename":"pk","AttributeName":"k","keytype":"x","KeyType":"HASH"}],"globalsecondaryindexes":[]}`
	want := `{"TableName":"abc","KeySchema":[{"AttributeName":"k","KeyType":"HASH"}]}`
	if got := string(exactMembers([]byte(create), &createTableRequest{})); got != want {
		t.Errorf("CreateTable:\n got %s\nwant %s", got, want)
	}
}

func TestExactMembersAllocatesOnlyToCut(t *testing.T) {
	body := []byte(`{"TableName":"abc","Key":{"pk":{"S":"a"}},"UpdateExpression":"SET a = :v","ExpressionAttributeValues":{":v":{"N":"1"}}}`)
	exactMembers(body, &updateItemRequest{}) // build the shape
	if n := testing.AllocsPerRun(100, func() { exactMembers(body, &updateItemRequest{}) }); n != 0 {
		t.Fatalf("exactMembers of an exact body: %v allocations", n)
	}
}

// FuzzExactMembers checks exactMembers against a reference: decode the body
// as generic JSON, drop by reflection every struct member not named
// exactly, encode it again and decode that. Both must decode to the same
// request, or both fail.
func FuzzExactMembers(f *testing.F) {
	for _, s := range []string{
		`{"TableName":"a","tablename":"b","KeyConditions":{"pk":{"ComparisonOperator":"EQ","attributevaluelist":[{"S":"x"}]}}}`,
		`{"TableName":"a","Limit":5,"ExclusiveStartKey":{"pk":{"S":"x"}},"select":"COUNT","Select":"ALL_ATTRIBUTES"}`,
		`{"TABLENAME":"a", "ScanIndexForward" : false ,"ExpressionAttributeValues":{":v":{"M":{"a":{"N":"1"}}}}}`,
		`[1,2,{"TableName":"x"}]`, `null`, `{}`, `{"a":{"b":[{"c":null}]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var got, want queryRequest
		gotErr := json.Unmarshal(exactMembers(body, &got), &got)
		d := json.NewDecoder(bytes.NewReader(body))
		d.UseNumber()
		var generic any
		if !json.Valid(body) {
			if gotErr == nil {
				t.Fatalf("%s: not JSON, decoded", body)
			}
			return
		}
		if err := d.Decode(&generic); err != nil {
			t.Fatal(err)
		}
		ref, err := json.Marshal(keepExact(generic, reflect.TypeFor[queryRequest]()))
		if err != nil {
			t.Fatal(err)
		}
		wantErr := json.Unmarshal(ref, &want)
		if (gotErr == nil) != (wantErr == nil) {
			t.Fatalf("%s: error %v, reference (%s) %v", body, gotErr, ref, wantErr)
		}
		if gotErr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: decoded %+v\nreference %s: %+v", body, got, ref, want)
		}
	})
}

// keepExact is the fuzz reference: v without the members of objects bound
// for structs of t that are not named exactly as one of t's fields.
func keepExact(v any, t reflect.Type) any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(reflect.TypeFor[json.Unmarshaler]()) {
		return v
	}
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			switch t.Kind() {
			case reflect.Struct:
				if f, ok := fieldByJSONName(t, k); ok {
					out[k] = keepExact(e, f.Type)
				}
			case reflect.Map:
				out[k] = keepExact(e, t.Elem())
			default:
				out[k] = e
			}
		}
		return out
	case []any:
		if t.Kind() != reflect.Slice {
			return v
		}
		for i := range x {
			x[i] = keepExact(x[i], t.Elem())
		}
	}
	return v
}

func fieldByJSONName(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := bytes.Cut([]byte(f.Tag.Get("json")), []byte(","))
		if f.Anonymous && len(tag) == 0 {
			if ef, ok := fieldByJSONName(f.Type, name); ok {
				return ef, true
			}
			continue
		}
		if f.IsExported() && string(tag) != "-" && (string(tag) == name || len(tag) == 0 && f.Name == name) {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// BenchmarkExactMembers is the pass alone over a conditional PutItem of
// about 1.5 KB (its cost added to every body encoding/json decodes).
func BenchmarkExactMembers(b *testing.B) {
	item := `{"pk":{"S":"user#000123"},"sk":{"N":"42"},"payload":{"B":"` + string(bytes.Repeat([]byte("QUJD"), 340)) + `"}}`
	body := []byte(`{"TableName":"bench","Item":` + item + `,"ConditionExpression":"attribute_not_exists(#p) OR #v < :v",` +
		`"ExpressionAttributeNames":{"#p":"pk","#v":"version"},"ExpressionAttributeValues":{":v":{"N":"7"}},"ReturnValues":"ALL_OLD"}`)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		exactMembers(body, &putItemRequest{})
	}
}
