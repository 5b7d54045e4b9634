package dynamo_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestRequestShape sends what is not a well-formed operation and checks
// each answer is DynamoDB's.
func TestRequestShape(t *testing.T) {
	f := newFixture(t)
	f.createTable("shape", "")
	notFound := func(what string, req *http.Request) {
		t.Helper()
		r := f.send(req)
		if r.status != http.StatusNotFound || r.raw != "<UnknownOperationException/>\n" || r.header.Get("x-amzn-RequestId") == "" {
			t.Errorf("%s: %d %q, want 404 <UnknownOperationException/>", what, r.status, r.raw)
		}
		if ct, ok := r.header["Content-Type"]; ok && len(ct) > 0 {
			t.Errorf("%s: Content-Type %q, want none", what, ct)
		}
	}
	op := func(method, path, contentType, target, body string) *http.Request {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if target != "" {
			req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+target)
		}
		return req
	}
	const amzJSON = "application/x-amz-json-1.0"
	for _, m := range []string{http.MethodPut, http.MethodDelete, http.MethodPatch, "BREW", http.MethodOptions} {
		notFound(m, op(m, "/", amzJSON, "ListTables", `{}`))
	}
	notFound("no Content-Type", op(http.MethodPost, "/", "", "ListTables", `{}`))
	notFound("text/plain", op(http.MethodPost, "/", "text/plain", "ListTables", `{}`))
	notFound("bad media type", op(http.MethodPost, "/", "application/x-amz-json-1.0;;", "ListTables", `{}`))

	// Any path, and either JSON media type; application/json is echoed.
	for _, c := range []struct{ path, contentType, want string }{
		{"/", amzJSON, amzJSON},
		{"/some/path?x=1", amzJSON, amzJSON},
		{"/", "application/json", "application/json"},
		{"/", "application/x-amz-json-1.0; charset=utf-8", amzJSON},
	} {
		r := f.send(op(http.MethodPost, c.path, c.contentType, "DescribeTable", `{"TableName":"shape"}`))
		if r.status != http.StatusOK || r.header.Get("Content-Type") != c.want {
			t.Errorf("POST %s as %s: %d, Content-Type %q, want 200 %s: %s", c.path, c.contentType, r.status, r.header.Get("Content-Type"), c.want, r.raw)
		}
		r = f.send(op(http.MethodPost, c.path, c.contentType, "DescribeTable", `{"TableName":"nope"}`))
		if r.status != http.StatusBadRequest || r.header.Get("Content-Type") != c.want {
			t.Errorf("error as %s: %d, Content-Type %q, want %s", c.contentType, r.status, r.header.Get("Content-Type"), c.want)
		}
	}
	// No body needs no Content-Type: the missing body is the error.
	r := f.send(op(http.MethodPost, "/", "", "ListTables", ""))
	if r.status != http.StatusBadRequest || r.raw != `{"__type":"com.amazon.coral.service#SerializationException"}` {
		t.Errorf("no body: %d %s", r.status, r.raw)
	}
	// A missing or unknown target, before anything else.
	for _, target := range []string{"", "Frobnicate"} {
		r := f.send(op(http.MethodPost, "/", amzJSON, target, `{`))
		if r.status != http.StatusBadRequest || r.raw != `{"__type":"com.amazon.coral.service#UnknownOperationException"}` {
			t.Errorf("target %q: %d %s", target, r.status, r.raw)
		}
	}

	const serialization = `{"__type":"com.amazon.coral.service#SerializationException"}`
	for _, c := range []struct{ body, want string }{
		{``, serialization},
		{"  \n", serialization},
		{`{`, serialization},
		{`hi`, serialization},
		{`{"TableName":"shape"} {}`, serialization},
		{`[]`, `{"Message":"Start of list found where not expected","__type":"com.amazon.coral.service#SerializationException"}`},
		{`"shape"`, `{"Message":"Expected null","__type":"com.amazon.coral.service#SerializationException"}`},
		{`5`, `{"Message":"Expected null","__type":"com.amazon.coral.service#SerializationException"}`},
		// null is an absent structure: the members are missing.
		{`null`, `{"__type":"com.amazon.coral.validate#ValidationException","message":"2 validation errors detected: ` +
			`Value null at 'tableName' failed to satisfy constraint: Member must not be null; ` +
			`Value null at 'item' failed to satisfy constraint: Member must not be null"}`},
	} {
		if r := f.do("PutItem", c.body); r.status != http.StatusBadRequest || r.raw != c.want {
			t.Errorf("PutItem %q: %d %s\nwant %s", c.body, r.status, r.raw, c.want)
		}
	}
}

// TestCaseSensitiveMembers: a member spelled in another case is unknown,
// so ignored, at any depth, as DynamoDB does.
func TestCaseSensitiveMembers(t *testing.T) {
	f := newFixture(t)
	f.createTable("exact", "")
	f.fails("DescribeTable", `{"tablename":"exact"}`, "ValidationException",
		"The parameter 'TableName' is required but was not present in the request")
	f.fails("PutItem", `{"TableName":"exact","item":{"pk":{"S":"a"}}}`, "ValidationException",
		"1 validation error detected: Value null at 'item' failed to satisfy constraint: Member must not be null")
	// The exact member wins whatever the order; encoding/json alone would
	// take the last.
	f.ok("PutItem", `{"TableName":"exact","Item":{"pk":{"S":"a"},"v":{"N":"1"}},"returnvalues":"ALL_OLD"}`)
	if got := f.ok("PutItem", `{"TableName":"exact","Item":{"pk":{"S":"a"},"v":{"N":"2"}},"ReturnValues":"NONE","returnValues":"ALL_OLD"}`); got["Attributes"] != nil {
		t.Fatalf("returnValues was read as ReturnValues: %v", got)
	}
	// Nested: a key schema element with a lower-case member.
	f.fails("CreateTable", `{"TableName":"exact2","BillingMode":"PAY_PER_REQUEST",
		"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],
		"KeySchema":[{"attributename":"pk","KeyType":"HASH"}]}`, "ValidationException",
		"1 validation error detected: Value null at 'keySchema.1.member.attributeName' failed to satisfy constraint: Member must not be null")
	// Attribute names are data, whatever their case.
	f.ok("PutItem", `{"TableName":"exact","Item":{"pk":{"S":"b"},"TableName":{"S":"x"},"tablename":{"S":"y"}}}`)
	got := f.ok("GetItem", `{"TableName":"exact","Key":{"pk":{"S":"b"}},"ProjectionExpression":"#a","ExpressionAttributeNames":{"#a":"tablename"}}`)
	if path(got, "Item", "tablename", "S") != "y" || path(got, "Item", "TableName") != nil {
		t.Fatalf("GetItem: %v", got)
	}
}

// TestEmptyAttributeNamePlaceholder: a placeholder may not stand for an
// empty name.
func TestEmptyAttributeNamePlaceholder(t *testing.T) {
	f := newFixture(t)
	f.createTable("names", "")
	f.fails("Scan", `{"TableName":"names","ProjectionExpression":"#b, #a","ExpressionAttributeNames":{"#b":"","#a":""}}`,
		"ValidationException", "ExpressionAttributeNames contains invalid value: Empty attribute name for key #a")
	f.fails("PutItem", `{"TableName":"names","Item":{"pk":{"S":"a"}},"ConditionExpression":"attribute_not_exists(#p)","ExpressionAttributeNames":{"#p":""}}`,
		"ValidationException", "ExpressionAttributeNames contains invalid value: Empty attribute name for key #p")
}

// TestDocumentPathDepth: a document path has at most 32 elements, names and
// list indexes alike, in every kind of expression.
func TestDocumentPathDepth(t *testing.T) {
	f := newFixture(t)
	f.createTable("depth", "")
	deep := func(n int) string { return "a" + strings.Repeat(".b", n-2) + "[0]" }
	f.ok("Scan", `{"TableName":"depth","ProjectionExpression":"`+deep(32)+`"}`)
	f.fails("Scan", `{"TableName":"depth","ProjectionExpression":"`+deep(33)+`"}`, "ValidationException",
		"Invalid ProjectionExpression: The document path has too many nesting levels; nesting levels: 33")
	f.fails("Scan", `{"TableName":"depth","FilterExpression":"attribute_exists(`+deep(40)+`)"}`, "ValidationException",
		"Invalid FilterExpression: The document path has too many nesting levels; nesting levels: 40")
	f.fails("UpdateItem", `{"TableName":"depth","Key":{"pk":{"S":"a"}},"UpdateExpression":"REMOVE `+deep(33)+`"}`, "ValidationException",
		"Invalid UpdateExpression: The document path has too many nesting levels; nesting levels: 33")
}
