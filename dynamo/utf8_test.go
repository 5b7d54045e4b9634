package dynamo_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/partitadb/partita/node"
)

// startRawNode runs a real node on 127.0.0.1 and returns its URL and an SDK
// client.
func startRawNode(t *testing.T) (string, *dynamodb.Client) {
	t.Helper()
	cfg := node.DefaultConfig()
	cfg.DataDir, cfg.APIAddr, cfg.Logger = t.TempDir(), "127.0.0.1:0", slog.New(slog.DiscardHandler)
	n, err := node.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Error(err)
		}
	})
	return n.APIURL(), dynamodb.New(dynamodb.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(n.APIURL()),
		Credentials: credentials.NewStaticCredentialsProvider("a", "b", ""),
	})
}

// post sends one operation's raw body and returns the status and body.
func post(t *testing.T, url, op, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+op)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(raw)
}

// TestInvalidUTF8IsRefused sends invalid UTF-8 and lone surrogate escapes
// in every place a request holds a string: each request gets DynamoDB's
// bare SerializationException, and nothing is stored.
func TestInvalidUTF8IsRefused(t *testing.T) {
	url, c := startRawNode(t)
	sdkTable(t, c, "utf", true)
	const want = `{"__type":"com.amazon.coral.service#SerializationException"}`
	for _, tc := range []struct{ name, op, body string }{
		{"key byte ff", "PutItem", "{\"TableName\":\"utf\",\"Item\":{\"pk\":{\"S\":\"coll\xff\"},\"sk\":{\"N\":\"1\"}}}"},
		{"key byte fe", "PutItem", "{\"TableName\":\"utf\",\"Item\":{\"pk\":{\"S\":\"coll\xfe\"},\"sk\":{\"N\":\"1\"}}}"},
		{"key lone high surrogate", "PutItem", `{"TableName":"utf","Item":{"pk":{"S":"coll\ud800"},"sk":{"N":"1"}}}`},
		{"key lone low surrogate", "PutItem", `{"TableName":"utf","Item":{"pk":{"S":"coll\udc00"},"sk":{"N":"1"}}}`},
		{"key surrogate encoded as UTF-8", "PutItem", "{\"TableName\":\"utf\",\"Item\":{\"pk\":{\"S\":\"coll\xed\xa0\x80\"},\"sk\":{\"N\":\"1\"}}}"},
		{"key truncated sequence", "PutItem", "{\"TableName\":\"utf\",\"Item\":{\"pk\":{\"S\":\"coll\xc3\"},\"sk\":{\"N\":\"1\"}}}"},
		{"attribute name", "PutItem", "{\"TableName\":\"utf\",\"Item\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1\"},\"n\xff\":{\"S\":\"v\"}}}"},
		{"attribute value", "PutItem", "{\"TableName\":\"utf\",\"Item\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1\"},\"v\":{\"S\":\"v\xff\"}}}"},
		{"nested map name", "PutItem", "{\"TableName\":\"utf\",\"Item\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1\"},\"m\":{\"M\":{\"\xff\":{\"S\":\"v\"}}}}}"},
		{"string set member", "PutItem", "{\"TableName\":\"utf\",\"Item\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1\"},\"ss\":{\"SS\":[\"\xff\",\"\xfe\"]}}}"},
		{"unknown member", "PutItem", "{\"TableName\":\"utf\",\"Item\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1\"}},\"Bogus\":\"\xff\"}"},
		{"table name", "PutItem", "{\"TableName\":\"ut\xff\",\"Item\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1\"}}}"},
		{"condition expression", "PutItem", "{\"TableName\":\"utf\",\"Item\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1\"}},\"ConditionExpression\":\"attribute_not_exists(p\xffk)\"}"},
		{"expression attribute name", "PutItem", "{\"TableName\":\"utf\",\"Item\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1\"}}," +
			"\"ConditionExpression\":\"attribute_not_exists(#k)\",\"ExpressionAttributeNames\":{\"#k\":\"p\xffk\"}}"},
		{"expression attribute value", "UpdateItem", "{\"TableName\":\"utf\",\"Key\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1\"}}," +
			"\"UpdateExpression\":\"SET v = :v\",\"ExpressionAttributeValues\":{\":v\":{\"S\":\"\xff\"}}}"},
		{"update expression", "UpdateItem", "{\"TableName\":\"utf\",\"Key\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1\"}},\"UpdateExpression\":\"SET v\xff = pk\"}"},
		{"update key", "UpdateItem", `{"TableName":"utf","Key":{"pk":{"S":"\udfff"},"sk":{"N":"1"}},"UpdateExpression":"SET v = pk"}`},
		{"batch write key", "BatchWriteItem", "{\"RequestItems\":{\"utf\":[{\"PutRequest\":{\"Item\":{\"pk\":{\"S\":\"\xff\"},\"sk\":{\"N\":\"1\"}}}}]}}"},
		{"batch write table", "BatchWriteItem", "{\"RequestItems\":{\"utf\xff\":[{\"PutRequest\":{\"Item\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1\"}}}}]}}"},
		{"get key", "GetItem", "{\"TableName\":\"utf\",\"Key\":{\"pk\":{\"S\":\"\xff\"},\"sk\":{\"N\":\"1\"}}}"},
		{"query key condition", "Query", "{\"TableName\":\"utf\",\"KeyConditionExpression\":\"pk = :p\",\"ExpressionAttributeValues\":{\":p\":{\"S\":\"\xff\"}}}"},
		{"scan filter", "Scan", "{\"TableName\":\"utf\",\"FilterExpression\":\"v = :v\",\"ExpressionAttributeValues\":{\":v\":{\"S\":\"\\ud800x\"}}}"},
		{"create table", "CreateTable", "{\"TableName\":\"new\xff\",\"BillingMode\":\"PAY_PER_REQUEST\"," +
			"\"AttributeDefinitions\":[{\"AttributeName\":\"pk\",\"AttributeType\":\"S\"}],\"KeySchema\":[{\"AttributeName\":\"pk\",\"KeyType\":\"HASH\"}]}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := post(t, url, tc.op, tc.body)
			if status != http.StatusBadRequest || body != want {
				t.Errorf("%d %s, want 400 %s", status, body, want)
			}
		})
	}
	// Nothing was stored: the table is empty and no table was created.
	if status, body := post(t, url, "Scan", `{"TableName":"utf","Select":"COUNT"}`); status != http.StatusOK || !strings.Contains(body, `"Count":0`) {
		t.Errorf("Scan after the refused writes: %d %s", status, body)
	}
	if status, body := post(t, url, "ListTables", `{}`); status != http.StatusOK || body != `{"TableNames":["utf"]}` {
		t.Errorf("ListTables after the refused CreateTable: %d %s", status, body)
	}
	// Valid escapes still work, and mean what they spell: a surrogate pair
	// is one character, and U+FFFD sent as such is a key of its own.
	for _, k := range []string{`coll\ud83d\ude00`, `coll\uFFFD`, "coll\xf0\x9f\x98\x80"} {
		if status, body := post(t, url, "PutItem", `{"TableName":"utf","Item":{"pk":{"S":"`+k+`"},"sk":{"N":"1"}}}`); status != http.StatusOK {
			t.Fatalf("PutItem %s: %d %s", k, status, body)
		}
	}
	if status, body := post(t, url, "Scan", `{"TableName":"utf","Select":"COUNT"}`); status != http.StatusOK || !strings.Contains(body, `"Count":2`) {
		t.Errorf("Scan after three valid writes, two of one key: %d %s", status, body)
	}
}
