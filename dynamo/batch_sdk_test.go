package dynamo_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestSDKBatchWriteAndGet(t *testing.T) {
	c := startNode(t)
	ctx := context.Background()
	sdkTable(t, c, "one", true)
	sdkTable(t, c, "two", false)
	w, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{
		"one": {
			{PutRequest: &types.PutRequest{Item: avMap{"pk": s("a"), "sk": num("1"), "v": s("x")}}},
			{PutRequest: &types.PutRequest{Item: avMap{"pk": s("a"), "sk": num("2"), "v": s(strings.Repeat("y", 3000))}}},
		},
		"two": {
			{PutRequest: &types.PutRequest{Item: avMap{"pk": s("k1"), "m": &types.AttributeValueMemberM{Value: avMap{"n": num("1")}}}}},
			{PutRequest: &types.PutRequest{Item: avMap{"pk": s("k2")}}},
			{DeleteRequest: &types.DeleteRequest{Key: avMap{"pk": s("absent")}}},
		},
	}, ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal, ReturnItemCollectionMetrics: types.ReturnItemCollectionMetricsSize})
	if err != nil {
		t.Fatal(err)
	}
	if w.UnprocessedItems == nil || len(w.UnprocessedItems) != 0 {
		t.Fatalf("UnprocessedItems: %v", w.UnprocessedItems)
	}
	units := map[string]float64{}
	for _, cc := range w.ConsumedCapacity {
		units[aws.ToString(cc.TableName)] = aws.ToFloat64(cc.CapacityUnits)
	}
	if units["one"] != 4 || units["two"] != 3 {
		t.Fatalf("write capacity: %v", units)
	}
	g, err := c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
		"one": {Keys: []avMap{{"pk": s("a"), "sk": num("1")}, {"pk": s("a"), "sk": num("9")}, {"pk": s("a"), "sk": num("2")}},
			ProjectionExpression: aws.String("#v"), ExpressionAttributeNames: map[string]string{"#v": "v"}, ConsistentRead: aws.Bool(true)},
		"two": {Keys: []avMap{{"pk": s("k1")}, {"pk": s("k2")}}, AttributesToGet: []string{"m"}},
	}, ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Responses["one"]) != 2 || len(g.Responses["two"]) != 2 || len(g.UnprocessedKeys) != 0 {
		t.Fatalf("responses: %v unprocessed %v", g.Responses, g.UnprocessedKeys)
	}
	for _, it := range g.Responses["one"] {
		if len(it) != 1 || it["v"] == nil {
			t.Fatalf("projection: %v", it)
		}
	}
	units = map[string]float64{}
	for _, cc := range g.ConsumedCapacity {
		units[aws.ToString(cc.TableName)] = aws.ToFloat64(cc.CapacityUnits)
	}
	if units["one"] != 3 || units["two"] != 1 {
		t.Fatalf("read capacity: %v", units)
	}
	// Deletes through BatchWriteItem.
	_, err = c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{
		"two": {{DeleteRequest: &types.DeleteRequest{Key: avMap{"pk": s("k1")}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("two"), Key: avMap{"pk": s("k1")}})
	if err != nil || got.Item != nil {
		t.Fatalf("deleted item: %v %v", err, got.Item)
	}
}

func TestSDKBatchErrors(t *testing.T) {
	c := startNode(t)
	ctx := context.Background()
	sdkTable(t, c, "one", true)
	keys := func(n int) []avMap {
		var out []avMap
		for i := range n {
			out = append(out, avMap{"pk": s("a"), "sk": num(strconv.Itoa(i))})
		}
		return out
	}
	puts := func(n int) []types.WriteRequest {
		var out []types.WriteRequest
		for _, k := range keys(n) {
			out = append(out, types.WriteRequest{PutRequest: &types.PutRequest{Item: k}})
		}
		return out
	}
	check := func(name string, err error, code, msg string) {
		t.Helper()
		wantCode(t, name, err, code)
		if !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: %v, want %q", name, err, msg)
		}
	}
	_, err := c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{"one": {Keys: keys(101)}}})
	check("101 keys", err, "ValidationException", "failed to satisfy constraint: Member must have length less than or equal to 100")
	sdkTable(t, c, "two", true)
	_, err = c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{"one": {Keys: keys(60)}, "two": {Keys: keys(41)}}})
	check("101 keys over two tables", err, "ValidationException", "Too many items requested for the BatchGetItem call")
	_, err = c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{"one": {Keys: append(keys(2), keys(1)...)}}})
	check("duplicate get", err, "ValidationException", "Provided list of item keys contains duplicates")
	_, err = c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{"one": {Keys: []avMap{{"pk": s("a")}}}}})
	check("bad key", err, "ValidationException", "The provided key element does not match the schema")
	_, err = c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{"nope": {Keys: keys(1)}}})
	check("missing table", err, "ResourceNotFoundException", "Requested resource not found")
	_, err = c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"one": puts(20), "two": puts(6)}})
	check("26 writes", err, "ValidationException", "Too many items requested for the BatchWriteItem call")
	_, err = c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"one": append(puts(2),
		types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: keys(1)[0]}})}})
	check("duplicate write", err, "ValidationException", "Provided list of item keys contains duplicates")
	_, err = c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"one": {
		{PutRequest: &types.PutRequest{Item: avMap{"pk": s("a"), "sk": s("notanumber")}}}}}})
	check("bad put", err, "ValidationException", "One or more parameter values were invalid: Type mismatch for key sk expected: N actual: S")
	_, err = c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"one": {
		{PutRequest: &types.PutRequest{Item: avMap{"pk": s("a"), "sk": num("1"), "big": s(strings.Repeat("z", 410*1024))}}}}}})
	check("big put", err, "ValidationException", "Item size has exceeded the maximum allowed size")
	// Nothing of the rejected batches was written.
	sc, err := c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("one")})
	if err != nil || sc.Count != 0 {
		t.Fatalf("rejected batches wrote: %v %d", err, sc.Count)
	}
}

// TestSDKBatchGetUnprocessed reads more than 16 MB over two tables: the
// response stops short and the rest comes back as UnprocessedKeys, which
// a retry loop drains.
func TestSDKBatchGetUnprocessed(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 20 MB")
	}
	c := startNode(t)
	ctx := context.Background()
	sdkTable(t, c, "one", true)
	sdkTable(t, c, "two", true)
	blob := strings.Repeat("b", 390*1024)
	var items []avMap
	var keys []avMap
	for i := range 25 {
		items = append(items, avMap{"pk": s("p"), "sk": num(strconv.Itoa(i)), "blob": s(blob)})
		keys = append(keys, avMap{"pk": s("p"), "sk": num(strconv.Itoa(i))})
	}
	putAll(t, c, "one", items)
	putAll(t, c, "two", items)
	req := map[string]types.KeysAndAttributes{"one": {Keys: keys, ConsistentRead: aws.Bool(true)}, "two": {Keys: keys}}
	got := map[string]int{}
	rounds := 0
	for len(req) > 0 && rounds < 10 {
		out, err := c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			t.Fatal(err)
		}
		size := 0
		for name, its := range out.Responses {
			got[name] += len(its)
			size += len(its) * len(blob)
		}
		if size > 16<<20 {
			t.Fatalf("response of %d bytes", size)
		}
		if rounds == 0 && len(out.UnprocessedKeys) == 0 {
			t.Fatal("50 x 390 KB in one response")
		}
		if ua, ok := out.UnprocessedKeys["one"]; ok && !aws.ToBool(ua.ConsistentRead) {
			t.Fatal("UnprocessedKeys lost ConsistentRead")
		}
		req = out.UnprocessedKeys
		rounds++
	}
	if got["one"] != 25 || got["two"] != 25 {
		t.Fatalf("after %d rounds: %v", rounds, got)
	}
}
