package floor

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func call(t *testing.T, h http.Handler, op, body string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	if op != "" {
		req.Header.Set("X-Amz-Target", targetPrefix+op)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("%s: response %q is not JSON", op, rec.Body)
	}
	return rec.Code, out
}

func TestResponses(t *testing.T) {
	h := NewHandler(4)
	if code, out := call(t, h, "DescribeTable", `{"TableName":"t"}`); code != 400 || !strings.HasSuffix(out["__type"].(string), "#ResourceNotFoundException") {
		t.Fatalf("describe of a missing table: %d %v", code, out)
	}
	create := `{"TableName":"t","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}]}`
	if code, out := call(t, h, "CreateTable", create); code != 200 || out["TableDescription"].(map[string]any)["TableStatus"] != "ACTIVE" {
		t.Fatalf("create: %d %v", code, out)
	}
	if code, _ := call(t, h, "CreateTable", create); code != 400 {
		t.Fatalf("second create: %d", code)
	}
	if _, out := call(t, h, "DescribeTable", `{"TableName":"t"}`); len(out["Table"].(map[string]any)["KeySchema"].([]any)) != 1 {
		t.Fatalf("describe: %v", out)
	}
	if code, out := call(t, h, "PutItem", `{"TableName":"t","Item":{"pk":{"S":"a"},"v":{"B":"AAAA"}}}`); code != 200 || len(out) != 0 {
		t.Fatalf("put: %d %v", code, out)
	}
	_, out := call(t, h, "GetItem", `{"TableName":"t","Key":{"pk":{"S":"a"}}}`)
	if v := out["Item"].(map[string]any)["v"].(map[string]any)["B"]; v != "AAAAAA==" { // 4 zero bytes
		t.Fatalf("get: %v", out)
	}
}

func TestRejectsMalformedRequests(t *testing.T) {
	h := NewHandler(1)
	for name, tc := range map[string][2]string{
		"no target":          {"", `{}`},
		"bad JSON":           {"PutItem", `{"TableName":`},
		"bad binary":         {"PutItem", `{"Item":{"v":{"B":"not base64!"}}}`},
		"unknown operation":  {"Frobnicate", `{}`},
		"wrong type of name": {"GetItem", `{"TableName":7}`},
	} {
		if code, out := call(t, h, tc[0], tc[1]); code != 400 || out["__type"] == nil {
			t.Errorf("%s: %d %v", name, code, out)
		}
	}
}
