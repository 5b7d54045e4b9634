package dynamo_test

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"hash/crc32"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/partitadb/partita/dynamo"
	"github.com/partitadb/partita/partitapb"
)

func TestHealthCheck(t *testing.T) {
	f := newFixture(t)
	r := f.send(httptest.NewRequest(http.MethodGet, "/", nil))
	if r.status != http.StatusOK || r.raw != "healthy: dynamodb.us-east-1.amazonaws.com " {
		t.Fatalf("GET / = %d %q", r.status, r.raw)
	}
}

func TestResponseHeaders(t *testing.T) {
	f := newFixture(t)
	r := f.do("ListTables", `{}`)
	if r.status != http.StatusOK {
		t.Fatalf("ListTables: %d %s", r.status, r.raw)
	}
	want := strconv.FormatUint(uint64(crc32.ChecksumIEEE([]byte(r.raw))), 10)
	if got := r.header.Get("x-amz-crc32"); got != want {
		t.Errorf("x-amz-crc32 = %q, want %q", got, want)
	}
	if r.header.Get("x-amzn-RequestId") == "" {
		t.Error("no x-amzn-RequestId")
	}
	if ct := r.header.Get("Content-Type"); ct != "application/x-amz-json-1.0" {
		t.Errorf("Content-Type = %q", ct)
	}
	e := f.fails("DescribeTable", `{"TableName":"nope"}`, "ResourceNotFoundException", "Requested resource not found: Table: nope not found")
	want = strconv.FormatUint(uint64(crc32.ChecksumIEEE([]byte(e.raw))), 10)
	if got := e.header.Get("x-amz-crc32"); got != want {
		t.Errorf("error x-amz-crc32 = %q, want %q", got, want)
	}
}

func TestProtocolErrors(t *testing.T) {
	f := newFixture(t)
	r := f.fails("Frobnicate", `{}`, "UnknownOperationException", "")
	if r.status != http.StatusBadRequest {
		t.Errorf("unknown operation: status %d", r.status)
	}
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "Other_2020.ListTables")
	if r := f.send(req); r.status != http.StatusBadRequest || !strings.Contains(r.raw, "UnknownOperationException") {
		t.Errorf("foreign target: %d %s", r.status, r.raw)
	}
	f.fails("ListTables", `{"Limit":`, "SerializationException", "")
	f.fails("ListTables", ``, "SerializationException", "")
	f.fails("ListTables", `[]`, "SerializationException", "Start of list found where not expected")
	f.fails("ListTables", `{} {}`, "SerializationException", "")
	f.fails("DescribeTable", `{"TableName":5}`, "SerializationException", "NUMBER_VALUE cannot be converted to String")
	f.fails("DescribeTable", `{"TableName":{}}`, "SerializationException", "Start of structure or map found where not expected.")
	f.fails("PutItem", `{"TableName":"abc","Item":{"a":{"S":5}}}`, "SerializationException", "")
}

func TestSerializationUsesCapitalMessage(t *testing.T) {
	f := newFixture(t)
	r := f.do("DescribeTable", `{"TableName":5}`)
	if _, ok := r.body["Message"]; !ok {
		t.Fatalf("SerializationException without Message: %s", r.raw)
	}
	if r.body["__type"] != "com.amazon.coral.service#SerializationException" {
		t.Fatalf("__type = %v", r.body["__type"])
	}
	v := f.do("DescribeTable", `{}`)
	if v.body["__type"] != "com.amazon.coral.validate#ValidationException" || v.body["message"] == nil {
		t.Fatalf("ValidationException shape: %s", v.raw)
	}
}

func TestGzipRequest(t *testing.T) {
	f := newFixture(t)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(`{"Limit":5}`))
	zw.Close()
	req := httptest.NewRequest(http.MethodPost, "/", &buf)
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.ListTables")
	req.Header.Set("Content-Encoding", "gzip")
	if r := f.send(req); r.status != http.StatusOK {
		t.Fatalf("gzip ListTables: %d %s", r.status, r.raw)
	}
	req = httptest.NewRequest(http.MethodPost, "/", strings.NewReader("not gzip"))
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.ListTables")
	req.Header.Set("Content-Encoding", "gzip")
	if r := f.send(req); r.status != http.StatusBadRequest || !strings.Contains(r.raw, "SerializationException") {
		t.Fatalf("bad gzip: %d %s", r.status, r.raw)
	}
}

func TestRequestTooLarge(t *testing.T) {
	f := newFixture(t)
	srv := mustServer(t, dynamo.Config{Backend: f.backend, MaxRequestBytes: 64})
	body := `{"TableName":"` + strings.Repeat("a", 100) + `"}`
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.DescribeTable")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), "Request size exceeded 64 bytes") {
		t.Fatalf("oversized request: %d %s", rec.Code, rec.Body)
	}
}

// panicBackend panics on every table lookup.
type panicBackend struct{ dynamo.Backend }

func (panicBackend) Table(context.Context, string) (*partitapb.Table, error) { panic("boom") }

func TestPanicBecomesInternalServerError(t *testing.T) {
	f := newFixture(t)
	var logs bytes.Buffer
	cfg := dynamo.DefaultConfig()
	cfg.Backend = panicBackend{f.backend}
	cfg.Logger = newTextLogger(&logs)
	srv := mustServer(t, cfg)
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"TableName":"abc"}`))
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.DescribeTable")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), "#InternalServerError") {
		t.Fatalf("panic: %d %s", rec.Code, rec.Body)
	}
	if !strings.Contains(logs.String(), "boom") {
		t.Fatalf("panic not logged: %s", logs.String())
	}
}

func TestConfigValidate(t *testing.T) {
	cfg := dynamo.DefaultConfig()
	if err := cfg.Validate(); err == nil {
		t.Fatal("config without Backend validated")
	}
	cfg.Backend = startBackend(t)
	if err := cfg.Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	cfg.AccountID = "12"
	if err := cfg.Validate(); err == nil {
		t.Fatal("short account id validated")
	}
}

func TestSerializationMessages(t *testing.T) {
	f := newFixture(t)
	cases := []struct{ op, body, msg string }{
		{"CreateTable", `{"TableName":"abc","KeySchema":"x"}`, "Expected list or null"},
		{"CreateTable", `{"TableName":"abc","KeySchema":[1]}`, "Expected null"},
		{"CreateTable", `{"TableName":"abc","Tags":{}}`, "Start of structure or map found where not expected."},
		{"GetItem", `{"TableName":"abc","ExpressionAttributeNames":"x"}`, "Expected map or null"},
		{"ListTables", `{"Limit":"5"}`, "STRING_VALUE cannot be converted to Long"},
		{"GetItem", `{"TableName":"abc","ConsistentRead":"yes"}`, "STRING_VALUE cannot be converted to Boolean"},
		{"DescribeTable", `{"TableName":true}`, "BOOLEAN_VALUE cannot be converted to String"},
	}
	for _, c := range cases {
		f.fails(c.op, c.body, "SerializationException", c.msg)
	}
}

// TestCrossOrigin: a browser's preflight is answered without a signature
// (any origin, the API's methods, the headers it asks for), and a
// response to a request from a page carries the headers that let the
// page's script read it; a request from no page gets none of them.
func TestCrossOrigin(t *testing.T) {
	f := newFixture(t)
	pre := httptest.NewRequest(http.MethodOptions, "/", nil)
	pre.Header.Set("Origin", "http://app.example")
	pre.Header.Set("Access-Control-Request-Method", "POST")
	pre.Header.Set("Access-Control-Request-Headers", "authorization, content-type, x-amz-date, x-amz-target")
	r := f.send(pre)
	if r.status != http.StatusOK || r.header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(r.header.Get("Access-Control-Allow-Methods"), "POST") ||
		r.header.Get("Access-Control-Allow-Headers") != "authorization, content-type, x-amz-date, x-amz-target" ||
		r.header.Get("Access-Control-Max-Age") == "" {
		t.Fatalf("preflight: %d %v", r.status, r.header)
	}
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.ListTables")
	req.Header.Set("Origin", "http://app.example")
	r = f.send(req)
	if r.status != http.StatusOK || r.header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(r.header.Get("Access-Control-Expose-Headers"), "x-amzn-RequestId") {
		t.Fatalf("a request from a page: %d %v", r.status, r.header)
	}
	if r := f.do("ListTables", `{}`); r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("a request from no page got CORS headers: %v", r.header)
	}
}

// TestDeflateAndUnknownEncodings: a deflate body (zlib, as HTTP defines
// it, or a bare deflate stream) is read like a gzip one; a body in any
// other coding is refused with 415 and the codings the endpoint reads.
func TestDeflateAndUnknownEncodings(t *testing.T) {
	f := newFixture(t)
	send := func(coding string, body []byte) response {
		t.Helper()
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		req.Header.Set("X-Amz-Target", "DynamoDB_20120810.ListTables")
		req.Header.Set("Content-Encoding", coding)
		return f.send(req)
	}
	var zl bytes.Buffer
	zw := zlib.NewWriter(&zl)
	zw.Write([]byte(`{"Limit":5}`))
	zw.Close()
	if r := send("deflate", zl.Bytes()); r.status != http.StatusOK {
		t.Fatalf("zlib deflate ListTables: %d %s", r.status, r.raw)
	}
	var fl bytes.Buffer
	fw, _ := flate.NewWriter(&fl, flate.DefaultCompression)
	fw.Write([]byte(`{"Limit":5}`))
	fw.Close()
	if r := send("deflate", fl.Bytes()); r.status != http.StatusOK {
		t.Fatalf("bare deflate ListTables: %d %s", r.status, r.raw)
	}
	if r := send("identity", []byte(`{"Limit":5}`)); r.status != http.StatusOK {
		t.Fatalf("identity ListTables: %d %s", r.status, r.raw)
	}
	r := send("br", []byte(`{"Limit":5}`))
	if r.status != http.StatusUnsupportedMediaType || !strings.Contains(r.raw, "SerializationException") ||
		!strings.Contains(r.raw, "Unsupported Content-Encoding: br") || r.header.Get("Accept-Encoding") != "gzip, deflate" {
		t.Fatalf("brotli body: %d %s %v", r.status, r.raw, r.header)
	}
}

// coreBackend is a real backend narrowed to the Backend interface: it
// hides the streams and transactions the router adds to it.
type coreBackend struct{ dynamo.Backend }

// TestBackendWithoutStreamsOrTransactions: over a backend that reads no
// change logs and runs no transactions, the requests that need them are
// turned away once they are valid.
func TestBackendWithoutStreamsOrTransactions(t *testing.T) {
	f := newFixtureWith(t, func(c *dynamo.Config) { c.Backend = coreBackend{c.Backend} })
	f.createTable("tbl", "")
	const noStreams = "DynamoDB Streams are not served by this endpoint"
	arn := "arn:aws:dynamodb:us-east-1:000000000000:table/tbl/stream/2024"
	for _, c := range []struct{ op, body, typ, msg string }{
		{"ExecuteTransaction", `{"TransactStatements":[{"Statement":"SELECT * FROM tbl"},{"Statement":"SELECT * FROM tbl"}]}`, "ValidationException",
			"ExecuteTransaction of more than one statement is not supported yet: Partita runs one-statement transactions only"},
		{"TransactGetItems", `{"TransactItems":[{"Get":{"TableName":"tbl","Key":{"pk":{"S":"a"}}}}]}`, "UnknownOperationException", ""},
		{"TransactWriteItems", `{"TransactItems":[{"Put":{"TableName":"tbl","Item":{"pk":{"S":"a"}}}}]}`, "UnknownOperationException", ""},
		{"DescribeStream", `{"StreamArn":"` + arn + `"}`, "ValidationException", noStreams},
		{"GetShardIterator", `{"StreamArn":"` + arn + `","ShardId":"shardId-00000000000000000000-00000000","ShardIteratorType":"LATEST"}`, "ValidationException", noStreams},
		{"GetRecords", `{"ShardIterator":"garbage"}`, "ValidationException", noStreams},
	} {
		r := sendOp(f, c.op, c.body)
		if typ := errType(r); typ != c.typ || errMessage(r.body) != c.msg {
			t.Errorf("%s %s:\n got %s %q\nwant %s %q", c.op, c.body, typ, errMessage(r.body), c.typ, c.msg)
		}
	}
}
