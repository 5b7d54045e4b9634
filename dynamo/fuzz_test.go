package dynamo_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// fuzzOps are the operations FuzzRequestDecoder drives.
var fuzzOps = []string{
	"CreateTable", "DescribeTable", "DeleteTable", "UpdateTable", "ListTables",
	"TagResource", "UntagResource", "ListTagsOfResource", "DescribeLimits", "DescribeEndpoints",
	"PutItem", "GetItem", "UpdateItem", "DeleteItem",
	"Query", "Scan", "BatchGetItem", "BatchWriteItem",
	"ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction",
}

// fuzzSeeds are valid and nearly valid bodies, by operation index.
var fuzzSeeds = map[int][]string{
	0: {createBody, `{"TableName":"abc","BillingMode":"PAY_PER_REQUEST","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}]}`},
	1: {`{"TableName":"items"}`},
	2: {`{"TableName":"hash"}`},
	3: {`{"TableName":"items","ProvisionedThroughput":{"ReadCapacityUnits":3,"WriteCapacityUnits":4}}`, `{"TableName":"items","BillingMode":"PROVISIONED"}`},
	4: {`{"Limit":1,"ExclusiveStartTableName":"hash"}`},
	5: {`{"ResourceArn":"arn:aws:dynamodb:us-east-1:000000000000:table/items","Tags":[{"Key":"k","Value":"v"}]}`},
	6: {`{"ResourceArn":"arn:aws:dynamodb:us-east-1:000000000000:table/items","TagKeys":["k"]}`},
	7: {`{"ResourceArn":"arn:aws:dynamodb:us-east-1:000000000000:table/items"}`},
	8: {`{}`},
	9: {`{}`},
	10: {`{"TableName":"items","Item":{"pk":{"S":"a"},"sk":{"N":"1"},"m":{"M":{"l":{"L":[{"BOOL":true},{"NULL":true}]}}}},"ConditionExpression":"attribute_not_exists(pk) OR m.l[0] = :t","ExpressionAttributeValues":{":t":{"BOOL":true}},"ReturnValues":"ALL_OLD"}`,
		`{"TableName":"items","Item":{"pk":{"S":"a"},"sk":{"N":"1"}},"Expected":{"x":{"ComparisonOperator":"BETWEEN","AttributeValueList":[{"N":"1"},{"N":"2"}]}},"ConditionalOperator":"OR"}`},
	11: {`{"TableName":"items","Key":{"pk":{"S":"a"},"sk":{"N":"1"}},"ProjectionExpression":"#m.l[0], pk","ExpressionAttributeNames":{"#m":"m"},"ConsistentRead":true,"ReturnConsumedCapacity":"TOTAL"}`,
		`{"TableName":"items","Key":{"pk":{"S":"a"},"sk":{"N":"1"}},"AttributesToGet":["pk","m"]}`},
	12: {`{"TableName":"items","Key":{"pk":{"S":"a"},"sk":{"N":"1"}},"UpdateExpression":"SET a = if_not_exists(a, :z) + :one REMOVE m.l[1] ADD s :ss","ExpressionAttributeValues":{":z":{"N":"0"},":one":{"N":"1"},":ss":{"SS":["x"]}},"ReturnValues":"UPDATED_NEW"}`,
		`{"TableName":"items","Key":{"pk":{"S":"a"},"sk":{"N":"1"}},"AttributeUpdates":{"a":{"Action":"ADD","Value":{"N":"1"}},"b":{"Action":"DELETE"}},"Expected":{"a":{"Exists":false}}}`},
	13: {`{"TableName":"items","Key":{"pk":{"S":"a"},"sk":{"N":"1"}},"ConditionExpression":"size(m) > :n","ExpressionAttributeValues":{":n":{"N":"0"}},"ReturnValuesOnConditionCheckFailure":"ALL_OLD"}`},
	14: {`{"TableName":"items","KeyConditionExpression":"pk = :p AND sk BETWEEN :a AND :b","FilterExpression":"m.l[0] = :t","ProjectionExpression":"pk, m","ExpressionAttributeValues":{":p":{"S":"a"},":a":{"N":"0"},":b":{"N":"9"},":t":{"BOOL":true}},"Limit":2,"ScanIndexForward":false,"ExclusiveStartKey":{"pk":{"S":"a"},"sk":{"N":"5"}},"ReturnConsumedCapacity":"TOTAL"}`,
		`{"TableName":"items","KeyConditions":{"pk":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"a"}]},"sk":{"ComparisonOperator":"GT","AttributeValueList":[{"N":"1"}]}},"QueryFilter":{"x":{"ComparisonOperator":"NOT_NULL"}},"ConditionalOperator":"OR","AttributesToGet":["pk"],"Select":"SPECIFIC_ATTRIBUTES"}`},
	15: {`{"TableName":"items","FilterExpression":"contains(#s, :v)","ExpressionAttributeNames":{"#s":"s"},"ExpressionAttributeValues":{":v":{"S":"x"}},"Segment":1,"TotalSegments":3,"Select":"COUNT","ConsistentRead":true}`,
		`{"TableName":"hash","ScanFilter":{"pk":{"ComparisonOperator":"BEGINS_WITH","AttributeValueList":[{"S":"a"}]}},"Limit":1,"ExclusiveStartKey":{"pk":{"S":"a"}}}`},
	16: {`{"RequestItems":{"items":{"Keys":[{"pk":{"S":"a"},"sk":{"N":"1"}}],"ProjectionExpression":"#m","ExpressionAttributeNames":{"#m":"m"},"ConsistentRead":true},"hash":{"Keys":[{"pk":{"S":"a"}}],"AttributesToGet":["pk"]}},"ReturnConsumedCapacity":"INDEXES"}`},
	17: {`{"RequestItems":{"items":[{"PutRequest":{"Item":{"pk":{"S":"a"},"sk":{"N":"2"}}}},{"DeleteRequest":{"Key":{"pk":{"S":"a"},"sk":{"N":"1"}}}}],"hash":[{"PutRequest":{"Item":{"pk":{"S":"b"}}}}]},"ReturnConsumedCapacity":"TOTAL","ReturnItemCollectionMetrics":"SIZE"}`},
	18: {`{"Statement":"SELECT pk, m.l[0] FROM items WHERE pk = ? AND sk > 0 AND m.l[0] = true ORDER BY sk DESC","Parameters":[{"S":"a"}],"Limit":1,"ConsistentRead":true,"ReturnConsumedCapacity":"TOTAL"}`,
		`{"Statement":"UPDATE items SET a = a + 1 SET s = set_add(s, <<'x'>>) REMOVE m WHERE pk = 'a' AND sk = 1 AND a < 5 RETURNING MODIFIED NEW *","ReturnValuesOnConditionCheckFailure":"ALL_OLD"}`,
		`{"Statement":"INSERT INTO hash VALUE {'pk': ?, 'l': [1, 'x', {'m': <<1, 2>>}]}","Parameters":[{"S":"b"}]}`,
		`{"Statement":"SELECT * FROM items","NextToken":"eyJoIjoxLCJrIjp7fX0"}`},
	19: {`{"Statements":[{"Statement":"SELECT * FROM hash WHERE pk = ?","Parameters":[{"S":"a"}]},{"Statement":"SELECT * FROM items WHERE pk = 'a' AND sk = 1","ConsistentRead":true}],"ReturnConsumedCapacity":"TOTAL"}`,
		`{"Statements":[{"Statement":"DELETE FROM hash WHERE pk = 'a' AND x = 1","ReturnValuesOnConditionCheckFailure":"ALL_OLD"},{"Statement":"INSERT INTO hash VALUE {'pk': 'z'}"}]}`},
	20: {`{"TransactStatements":[{"Statement":"UPDATE hash SET v = 1 WHERE pk = 'a'"}],"ClientRequestToken":"t1"}`},
}

// FuzzRequestDecoder sends arbitrary bodies to every operation: the answer
// is always a success or a well-formed DynamoDB error, and never a panic.
func FuzzRequestDecoder(f *testing.F) {
	for op, bodies := range fuzzSeeds {
		for _, b := range bodies {
			f.Add(uint8(op), b)
		}
	}
	f.Add(uint8(10), `{"TableName":"items","Item":{"pk":{"S":"a"},"sk":{"N":"1e400"}}}`)
	f.Add(uint8(12), `{"TableName":"items","Key":null,"UpdateExpression":"SET #a = :a"}`)
	f.Add(uint8(0), `[1,2,{"a":null}]`)
	fx := newFuzzFixture(f)
	f.Fuzz(func(t *testing.T, op uint8, body string) {
		name := fuzzOps[int(op)%len(fuzzOps)]
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+name)
		rec := httptest.NewRecorder()
		fx.srv.ServeHTTP(rec, req)
		checkAnswer(t, name, body, rec)
		if strings.Contains(fx.logs.String(), "panic") {
			t.Fatalf("%s %q panicked: %s", name, body, fx.logs.String())
		}
	})
}

// newFuzzFixture returns a fixture with the tables the seeds use.
func newFuzzFixture(f *testing.F) *fixture {
	fx := newFixture(f)
	for _, name := range []string{"items", "hash"} {
		body := `{"TableName":"` + name + `","BillingMode":"PAY_PER_REQUEST","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}` +
			`,{"AttributeName":"sk","AttributeType":"N"}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}]}`
		if name == "hash" {
			body = `{"TableName":"hash","BillingMode":"PAY_PER_REQUEST","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}]}`
		}
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		req.Header.Set("X-Amz-Target", "DynamoDB_20120810.CreateTable")
		rec := httptest.NewRecorder()
		fx.srv.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			f.Fatalf("create %s: %s", name, rec.Body)
		}
	}
	return fx
}

// checkAnswer asserts the shape of one answer.
func checkAnswer(t *testing.T, op, body string, rec *httptest.ResponseRecorder) {
	var v map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("%s %q: answer is not a JSON object: %q", op, body, rec.Body)
	}
	if rec.Code == http.StatusOK {
		if _, ok := v["__type"]; ok {
			t.Fatalf("%s %q: 200 with an error body: %s", op, body, rec.Body)
		}
		return
	}
	typ, _ := v["__type"].(string)
	if !strings.Contains(typ, "#") || rec.Code == http.StatusInternalServerError {
		t.Fatalf("%s %q: bad error %d %s", op, body, rec.Code, rec.Body)
	}
	if !bytes.HasPrefix(rec.Body.Bytes(), []byte("{")) {
		t.Fatalf("%s %q: body %q", op, body, rec.Body)
	}
}
