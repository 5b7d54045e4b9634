package dynamo

import (
	"bytes"
	"encoding/base64"
	"reflect"
	"strings"
	"testing"
)

// fastBodies are bodies decodeFast must decode itself: what the SDKs send
// for simple PutItem, GetItem and DeleteItem calls.
var fastBodies = []struct {
	name string
	req  func() any
	body string
}{
	{"put", newReq[putItemRequest], `{"TableName":"items","Item":{"pk":{"S":"a"},"sk":{"N":"1"}}}`},
	{"put all values", newReq[putItemRequest], `{"Item":{"pk":{"S":"a"},"n":{"N":"-1.5e3"},"b":{"B":"AAEC"},"t":{"BOOL":true},"z":{"NULL":true},` +
		`"m":{"M":{"x":{"L":[{"S":"y"},{"SS":["p","q"]}]}}},"ns":{"NS":["1","2"]},"bs":{"BS":["AA=="]}},"TableName":"items"}`},
	{"put options", newReq[putItemRequest], `{"TableName":"items","Item":{"pk":{"S":"a"}},"ConditionExpression":"attribute_not_exists(pk)",` +
		`"ReturnValues":"ALL_OLD","ReturnConsumedCapacity":"TOTAL"}`},
	{"put white space", newReq[putItemRequest], " \r\n\t{ \"TableName\" : \"items\" ,\n \"Item\" : { \"pk\" : { \"S\" : \"a\" } } }\n "},
	{"put escapes", newReq[putItemRequest], `{"TableName":"it\u0065ms","Item":{"p\"k":{"S":"\ud83d\ude00\n"}}}`},
	{"put empty item", newReq[putItemRequest], `{"TableName":"items","Item":{}}`},
	{"put no item", newReq[putItemRequest], `{"TableName":"items"}`},
	{"empty object", newReq[putItemRequest], `{}`},
	{"get", newReq[getItemRequest], `{"TableName":"items","Key":{"pk":{"S":"a"},"sk":{"N":"1"}}}`},
	{"get consistent", newReq[getItemRequest], `{"TableName":"items","Key":{"pk":{"S":"a"}},"ConsistentRead":true,"ReturnConsumedCapacity":"TOTAL"}`},
	{"get not consistent", newReq[getItemRequest], `{"ConsistentRead":false,"TableName":"items","Key":{"pk":{"S":"a"}}}`},
	{"delete", newReq[deleteItemRequest], `{"TableName":"items","Key":{"pk":{"S":"a"}},"ReturnValues":"ALL_OLD","ConditionExpression":"attribute_exists(pk)"}`},
}

// slowBodies are bodies decodeFast must leave to encoding/json.
var slowBodies = []struct {
	name string
	req  func() any
	body string
}{
	{"empty", newReq[putItemRequest], ``},
	{"put invalid UTF-8", newReq[putItemRequest], "{\"TableName\":\"it\xffems\",\"Item\":{\"pk\":{\"S\":\"\xc3\"}}}"},
	{"space", newReq[putItemRequest], " \n"},
	{"array", newReq[putItemRequest], `[]`},
	{"null body", newReq[putItemRequest], `null`},
	{"trailing garbage", newReq[putItemRequest], `{"TableName":"items"}x`},
	{"second object", newReq[putItemRequest], `{"TableName":"items"} {}`},
	{"unterminated", newReq[putItemRequest], `{"TableName":"items"`},
	{"bad syntax inside", newReq[putItemRequest], `{"TableName":"items","Item":{"pk":{"S":"a",}}}`},
	{"lower-case key", newReq[putItemRequest], `{"tablename":"items","Item":{"pk":{"S":"a"}}}`},
	{"escaped key", newReq[putItemRequest], `{"Table\u004eame":"items"}`},
	{"other key", newReq[putItemRequest], `{"TableName":"items","Item":{"pk":{"S":"a"}},"ExpressionAttributeValues":{":v":{"S":"x"}}}`},
	{"unknown key", newReq[putItemRequest], `{"TableName":"items","Bogus":1}`},
	{"key of another request", newReq[putItemRequest], `{"TableName":"items","Key":{"pk":{"S":"a"}}}`},
	{"get with item", newReq[getItemRequest], `{"TableName":"items","Item":{"pk":{"S":"a"}}}`},
	{"get with return values", newReq[getItemRequest], `{"TableName":"items","ReturnValues":"ALL_OLD"}`},
	{"put with consistent read", newReq[putItemRequest], `{"TableName":"items","ConsistentRead":true}`},
	{"null table", newReq[putItemRequest], `{"TableName":null,"Item":{"pk":{"S":"a"}}}`},
	{"null item", newReq[putItemRequest], `{"TableName":"items","Item":null}`},
	{"null consistent", newReq[getItemRequest], `{"TableName":"items","ConsistentRead":null}`},
	{"number table", newReq[putItemRequest], `{"TableName":5}`},
	{"string item", newReq[putItemRequest], `{"Item":"x"}`},
	{"array item", newReq[putItemRequest], `{"Item":[]}`},
	{"string consistent", newReq[getItemRequest], `{"ConsistentRead":"true"}`},
	{"duplicate table", newReq[putItemRequest], `{"TableName":"a","TableName":"b"}`},
	{"duplicate item", newReq[putItemRequest], `{"Item":{"pk":{"S":"a"}},"Item":{"pk":{"S":"b"}}}`},
	{"invalid item", newReq[putItemRequest], `{"TableName":"items","Item":{"pk":{"X":"a"}}}`},
	{"bad base64", newReq[putItemRequest], `{"TableName":"items","Item":{"pk":{"B":"!"}}}`},
	{"wrong value type", newReq[putItemRequest], `{"TableName":"items","Item":{"pk":{"S":5}}}`},
	{"update", newReq[updateItemRequest], `{"TableName":"items","Key":{"pk":{"S":"a"}}}`},
}

func newReq[T any]() any { return new(T) }

func TestDecodeFastTaken(t *testing.T) {
	for _, tc := range fastBodies {
		if !decodeFast([]byte(tc.body), tc.req()) {
			t.Errorf("%s: fast path not taken for %q", tc.name, tc.body)
		}
		checkFastMatchesSlow(t, tc.req, []byte(tc.body))
	}
	for _, tc := range slowBodies {
		if decodeFast([]byte(tc.body), tc.req()) {
			t.Errorf("%s: fast path taken for %q", tc.name, tc.body)
		}
		checkFastMatchesSlow(t, tc.req, []byte(tc.body))
	}
}

func TestDecodeFastValues(t *testing.T) {
	var req getItemRequest
	body := `{"TableName":"it\u0065ms","Key":{"pk":{"S":"a"}},"ConsistentRead":false,"ReturnConsumedCapacity":"TOTAL"}`
	if !decodeFast([]byte(body), &req) {
		t.Fatal("fast path not taken")
	}
	if *req.TableName != "items" || len(req.Key) != 1 || req.Key["pk"].S != "a" ||
		req.ConsistentRead == nil || *req.ConsistentRead || *req.ReturnConsumedCapacity != "TOTAL" {
		t.Errorf("decoded %+v", req)
	}
}

// checkFastMatchesSlow decodes body into fresh requests from newReq with
// decodeFast, decodeSlow and decode. When decodeFast takes the body, the
// body must be valid and the requests equal; when it does not, it must not
// have touched its request. decode must always agree with decodeSlow,
// errors included.
func checkFastMatchesSlow(t *testing.T, newReq func() any, body []byte) {
	t.Helper()
	fast, slow, both := newReq(), newReq(), newReq()
	handled := decodeFast(body, fast)
	slowErr := decodeSlow(body, slow)
	if handled {
		if slowErr != nil {
			t.Fatalf("%T: fast path took %q, which encoding/json rejects: %v", fast, body, slowErr)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%T: %q decodes to\n%+v, not\n%+v", fast, body, fast, slow)
		}
	} else if !reflect.DeepEqual(fast, newReq()) {
		t.Fatalf("%T: fast path declined %q but changed the request: %+v", fast, body, fast)
	}
	if err := decode(body, both); !reflect.DeepEqual(err, slowErr) || !reflect.DeepEqual(both, slow) {
		t.Fatalf("%T: decode(%q) = %v, %+v; encoding/json: %v, %+v", fast, body, err, both, slowErr, slow)
	}
}

// FuzzDecodeFastMatchesSlow checks that decode's fast path decodes every
// body it takes as encoding/json does, for each request type it knows, and
// declines others.
func FuzzDecodeFastMatchesSlow(f *testing.F) {
	for _, tc := range fastBodies {
		f.Add(tc.body)
	}
	for _, tc := range slowBodies {
		f.Add(tc.body)
	}
	f.Add(`{"TableName":"items","Item":{"pk":{"S":"a"},"m":{"M":{"a":{"M":{"b":{"L":[[]]}}}}}}}`)
	f.Add(`{"TableName":"items","Item":{"pk":{"N":"1e400"}}}`)
	f.Add(`{"TableName":"items","Item":{"pk":{"S":"a"},"pk":{"S":"b"}}}`)
	f.Add(`{"TableName":"\ud800","Key":{"\udc00":{"S":"\u0000"}}}`)
	f.Add("{\"TableName\":\"a\tb\"}")
	f.Add(`{"TableName":"items","Item":{"pk":{"S":"a"}}}` + "\x00")
	f.Add("\ufeff{}")
	f.Add(`{"TableName":"items","Item":{"pk":{"S":"a"}},"ConsistentRead":tru}`)
	f.Add(`{"TableName":"items","Key":{"pk":{"S":"a"}},"ConsistentRead":true,"ConsistentRead":false}`)
	f.Add(`{"TABLENAME":"items","Key":{"pk":{"S":"a"}}}`)
	f.Add(strings.Repeat("{", 10001) + strings.Repeat("}", 10001))
	f.Fuzz(func(t *testing.T, body string) {
		for _, newReq := range []func() any{
			newReq[putItemRequest], newReq[getItemRequest], newReq[deleteItemRequest], newReq[updateItemRequest],
		} {
			checkFastMatchesSlow(t, newReq, []byte(body))
		}
	})
}

// BenchmarkDecodePutItem decodes a PutItem with a 1 KB binary value, as
// the load tests send, by decode (fast) and by encoding/json (slow).
func BenchmarkDecodePutItem(b *testing.B) {
	value := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("0123456789abcdef", 64)))
	body := []byte(`{"TableName":"bench","Item":{"pk":{"S":"user#000123"},"sk":{"N":"42"},"payload":{"B":"` + value + `"}}}`)
	// A conditional put, which encoding/json decodes, and the same with a
	// member in the wrong case, which exactMembers cuts.
	cond := []byte(`{"TableName":"bench","Item":{"pk":{"S":"user#000123"},"sk":{"N":"42"},"payload":{"B":"` + value + `"}},` +
		`"ConditionExpression":"attribute_not_exists(#p) OR #v < :v","ExpressionAttributeNames":{"#p":"pk","#v":"version"},` +
		`"ExpressionAttributeValues":{":v":{"N":"7"}},"ReturnValues":"ALL_OLD"}`)
	cut := bytes.Replace(cond, []byte(`"ReturnValues"`), []byte(`"returnvalues"`), 1)
	for _, c := range []struct {
		name   string
		body   []byte
		decode func([]byte, any) error
	}{{"fast", body, decode}, {"slow", body, decodeSlow}, {"conditional", cond, decode}, {"cut", cut, decode}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.body)))
			b.ReportAllocs()
			for b.Loop() {
				var req putItemRequest
				if err := c.decode(c.body, &req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
