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

type avMap = map[string]types.AttributeValue

// putAll writes items to table with BatchWriteItem, 25 at a time.
func putAll(t testing.TB, c *dynamodb.Client, table string, items []avMap) {
	t.Helper()
	for len(items) > 0 {
		n := min(25, len(items))
		var reqs []types.WriteRequest
		for _, it := range items[:n] {
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
		}
		out, err := c.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs}})
		if err != nil {
			t.Fatalf("BatchWriteItem: %v", err)
		}
		if len(out.UnprocessedItems) != 0 {
			t.Fatalf("unprocessed items: %v", out.UnprocessedItems)
		}
		items = items[n:]
	}
}

// keyString prints an item's pk/sk for comparisons.
func keyString(it avMap) string {
	out := ""
	for _, k := range []string{"pk", "sk"} {
		switch v := it[k].(type) {
		case *types.AttributeValueMemberS:
			out += k + "=" + v.Value + " "
		case *types.AttributeValueMemberN:
			out += k + "=" + v.Value + " "
		}
	}
	return strings.TrimSpace(out)
}

// keyStrings prints the keys of items, in order.
func keyStrings(items []avMap) string {
	s := make([]string, len(items))
	for i, it := range items {
		s[i] = keyString(it)
	}
	return strings.Join(s, ",")
}

// seqKeys returns "pk=p sk=i" for i in lo..hi (step, may be negative).
func seqKeys(p string, lo, hi, step int) string {
	var s []string
	for i := lo; (step > 0 && i <= hi) || (step < 0 && i >= hi); i += step {
		s = append(s, "pk="+p+" sk="+strconv.Itoa(i))
	}
	return strings.Join(s, ",")
}

// queryFixture is a node with table "qtab" (pk S, sk N): partition "a" has
// sk 0..9 with v = sk, partition "b" sk 0..2.
func queryFixture(t *testing.T) *dynamodb.Client {
	c := startNode(t)
	sdkTable(t, c, "qtab", true)
	var items []avMap
	for i := range 10 {
		items = append(items, avMap{"pk": s("a"), "sk": num(strconv.Itoa(i)), "v": num(strconv.Itoa(i)), "tag": s("t" + strconv.Itoa(i%2))})
	}
	for i := range 3 {
		items = append(items, avMap{"pk": s("b"), "sk": num(strconv.Itoa(i)), "v": num("100")})
	}
	putAll(t, c, "qtab", items)
	return c
}

func query(t *testing.T, c *dynamodb.Client, in *dynamodb.QueryInput) *dynamodb.QueryOutput {
	t.Helper()
	if in.TableName == nil {
		in.TableName = aws.String("qtab")
	}
	out, err := c.Query(context.Background(), in)
	if err != nil {
		t.Fatalf("Query %s: %v", aws.ToString(in.KeyConditionExpression), err)
	}
	return out
}

func TestSDKQueryKeyConditions(t *testing.T) {
	c := queryFixture(t)
	cases := []struct {
		cond   string
		values avMap
		want   string
	}{
		{"pk = :p", avMap{":p": s("a")}, seqKeys("a", 0, 9, 1)},
		{":p = pk", avMap{":p": s("b")}, seqKeys("b", 0, 2, 1)},
		{"pk = :p", avMap{":p": s("zz")}, ""},
		{"pk = :p AND sk = :x", avMap{":p": s("a"), ":x": num("4")}, seqKeys("a", 4, 4, 1)},
		{"pk = :p AND sk < :x", avMap{":p": s("a"), ":x": num("3")}, seqKeys("a", 0, 2, 1)},
		{"pk = :p AND sk <= :x", avMap{":p": s("a"), ":x": num("3")}, seqKeys("a", 0, 3, 1)},
		{"pk = :p AND sk > :x", avMap{":p": s("a"), ":x": num("7")}, seqKeys("a", 8, 9, 1)},
		{"pk = :p AND :x <= sk", avMap{":p": s("a"), ":x": num("7")}, seqKeys("a", 7, 9, 1)},
		{"sk BETWEEN :x AND :y AND pk = :p", avMap{":p": s("a"), ":x": num("2"), ":y": num("5.5")}, seqKeys("a", 2, 5, 1)},
	}
	for _, tc := range cases {
		out := query(t, c, &dynamodb.QueryInput{KeyConditionExpression: aws.String(tc.cond), ExpressionAttributeValues: tc.values})
		if got := keyStrings(out.Items); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.cond, got, tc.want)
		}
		if int(out.Count) != len(out.Items) || out.ScannedCount != out.Count || out.LastEvaluatedKey != nil {
			t.Errorf("%s: Count %d ScannedCount %d LEK %v", tc.cond, out.Count, out.ScannedCount, out.LastEvaluatedKey)
		}
	}
	out := query(t, c, &dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :p AND sk >= :x"), ScanIndexForward: aws.Bool(false),
		ExpressionAttributeValues: avMap{":p": s("a"), ":x": num("5")}})
	if got := keyStrings(out.Items); got != seqKeys("a", 9, 5, -1) {
		t.Errorf("descending: %s", got)
	}
}

func TestSDKQueryBeginsWithOnStringSortKey(t *testing.T) {
	c := startNode(t)
	_, err := c.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName: aws.String("stab"), BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}, {AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}, {AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var items []avMap
	for _, sk := range []string{"a", "ab", "abc", "abd", "b", "ba", "\u00e9t\u00e9"} {
		items = append(items, avMap{"pk": s("p"), "sk": s(sk)})
	}
	putAll(t, c, "stab", items)
	out := query(t, c, &dynamodb.QueryInput{TableName: aws.String("stab"), KeyConditionExpression: aws.String("pk = :p AND begins_with(sk, :x)"),
		ExpressionAttributeValues: avMap{":p": s("p"), ":x": s("ab")}})
	if got := keyStrings(out.Items); got != "pk=p sk=ab,pk=p sk=abc,pk=p sk=abd" {
		t.Fatalf("begins_with: %s", got)
	}
	out = query(t, c, &dynamodb.QueryInput{TableName: aws.String("stab"), KeyConditionExpression: aws.String("#k = :p AND #s > :x"),
		ExpressionAttributeNames: map[string]string{"#k": "pk", "#s": "sk"}, ExpressionAttributeValues: avMap{":p": s("p"), ":x": s("b")}})
	if got := keyStrings(out.Items); got != "pk=p sk=ba,pk=p sk=\u00e9t\u00e9" {
		t.Fatalf("> b: %s", got)
	}
}

func TestSDKQueryFilterProjectionSelect(t *testing.T) {
	c := queryFixture(t)
	vals := avMap{":p": s("a"), ":t": s("t1")}
	out := query(t, c, &dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :p"), FilterExpression: aws.String("tag = :t"),
		ExpressionAttributeValues: vals, ProjectionExpression: aws.String("sk, v")})
	if out.Count != 5 || out.ScannedCount != 10 || len(out.Items) != 5 {
		t.Fatalf("filter: Count %d ScannedCount %d items %d", out.Count, out.ScannedCount, len(out.Items))
	}
	for _, it := range out.Items {
		if len(it) != 2 || it["v"] == nil || it["sk"] == nil {
			t.Fatalf("projection: %v", it)
		}
	}
	// Limit counts evaluated items, before the filter.
	out = query(t, c, &dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :p"), FilterExpression: aws.String("tag = :t"),
		ExpressionAttributeValues: vals, Limit: aws.Int32(4)})
	if out.Count != 2 || out.ScannedCount != 4 || keyString(out.LastEvaluatedKey) != "pk=a sk=3" {
		t.Fatalf("limit+filter: Count %d ScannedCount %d LEK %v", out.Count, out.ScannedCount, keyString(out.LastEvaluatedKey))
	}
	// A filter that rejects everything still pages.
	out = query(t, c, &dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :p"), FilterExpression: aws.String("attribute_exists(nothing)"),
		ExpressionAttributeValues: avMap{":p": s("a")}, Limit: aws.Int32(6)})
	if out.Count != 0 || out.ScannedCount != 6 || out.Items == nil || len(out.Items) != 0 || keyString(out.LastEvaluatedKey) != "pk=a sk=5" {
		t.Fatalf("reject all: %+v", out)
	}
	out = query(t, c, &dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: avMap{":p": s("a")}, Select: types.SelectCount})
	if out.Count != 10 || out.Items != nil {
		t.Fatalf("COUNT: %d %v", out.Count, out.Items)
	}
	out = query(t, c, &dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: avMap{":p": s("b")},
		Select: types.SelectSpecificAttributes, ProjectionExpression: aws.String("nothing")})
	if len(out.Items) != 3 || len(out.Items[0]) != 0 {
		t.Fatalf("empty projection: %v", out.Items)
	}
	out = query(t, c, &dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: avMap{":p": s("b")}, Select: types.SelectAllAttributes})
	if len(out.Items) != 3 || len(out.Items[0]) != 3 {
		t.Fatalf("ALL_ATTRIBUTES: %v", out.Items)
	}
}

func TestSDKQueryPagination(t *testing.T) {
	c := queryFixture(t)
	for _, forward := range []bool{true, false} {
		for limit := int32(1); limit <= 11; limit++ {
			var got []avMap
			p := dynamodb.NewQueryPaginator(c, &dynamodb.QueryInput{TableName: aws.String("qtab"), KeyConditionExpression: aws.String("pk = :p"),
				ExpressionAttributeValues: avMap{":p": s("a")}, Limit: aws.Int32(limit), ScanIndexForward: aws.Bool(forward)})
			pages := 0
			for p.HasMorePages() && pages < 20 {
				out, err := p.NextPage(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				pages++
				got = append(got, out.Items...)
			}
			want := seqKeys("a", 0, 9, 1)
			if !forward {
				want = seqKeys("a", 9, 0, -1)
			}
			if keyStrings(got) != want {
				t.Fatalf("forward %v limit %d: %s", forward, limit, keyStrings(got))
			}
			// A page ends with LastEvaluatedKey when Limit was reached.
			if wantPages := 10/int(limit) + 1; limit <= 10 && pages != wantPages {
				t.Fatalf("forward %v limit %d: %d pages, want %d", forward, limit, pages, wantPages)
			}
		}
	}
	// Descending order resumes after ExclusiveStartKey.
	out := query(t, c, &dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :p AND sk <= :x"), ScanIndexForward: aws.Bool(false), Limit: aws.Int32(2),
		ExpressionAttributeValues: avMap{":p": s("a"), ":x": num("8")}, ExclusiveStartKey: avMap{"pk": s("a"), "sk": num("6")}})
	if keyStrings(out.Items) != seqKeys("a", 5, 4, -1) || keyString(out.LastEvaluatedKey) != "pk=a sk=4" {
		t.Fatalf("descending resume: %s LEK %s", keyStrings(out.Items), keyString(out.LastEvaluatedKey))
	}
	// A start key that does not exist still positions the page.
	out = query(t, c, &dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: avMap{":p": s("a")},
		ExclusiveStartKey: avMap{"pk": s("a"), "sk": num("6.5")}})
	if keyStrings(out.Items) != seqKeys("a", 7, 9, 1) {
		t.Fatalf("resume between keys: %s", keyStrings(out.Items))
	}
}

func TestSDKQueryCapacityAndConsistency(t *testing.T) {
	c := queryFixture(t)
	for _, tc := range []struct {
		consistent bool
		want       float64
	}{{true, 1}, {false, 0.5}} {
		out := query(t, c, &dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: avMap{":p": s("a")},
			ConsistentRead: aws.Bool(tc.consistent), ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
		if out.ConsumedCapacity == nil || aws.ToFloat64(out.ConsumedCapacity.CapacityUnits) != tc.want || aws.ToString(out.ConsumedCapacity.TableName) != "qtab" {
			t.Fatalf("consistent %v: %+v", tc.consistent, out.ConsumedCapacity)
		}
	}
	out := query(t, c, &dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: avMap{":p": s("a")}})
	if out.ConsumedCapacity != nil {
		t.Fatalf("capacity without asking: %+v", out.ConsumedCapacity)
	}
}

// TestSDKQueryLargePages checks the 1 MB page: items of 300 KB fill a
// page after four of them, and capacity counts their bytes.
func TestSDKQueryLargePages(t *testing.T) {
	c := startNode(t)
	sdkTable(t, c, "big", true)
	blob := strings.Repeat("x", 300*1024)
	var items []avMap
	for i := range 9 {
		items = append(items, avMap{"pk": s("p"), "sk": num(strconv.Itoa(i)), "blob": s(blob)})
	}
	putAll(t, c, "big", items)
	out := query(t, c, &dynamodb.QueryInput{TableName: aws.String("big"), KeyConditionExpression: aws.String("pk = :p"),
		ExpressionAttributeValues: avMap{":p": s("p")}, ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal, ConsistentRead: aws.Bool(true)})
	if len(out.Items) != 4 || keyString(out.LastEvaluatedKey) != "pk=p sk=3" {
		t.Fatalf("first page: %d items, LEK %s", len(out.Items), keyString(out.LastEvaluatedKey))
	}
	if u := aws.ToFloat64(out.ConsumedCapacity.CapacityUnits); u != 301 {
		t.Fatalf("capacity of 4 x 300 KB: %v", u)
	}
	var got []avMap
	p := dynamodb.NewQueryPaginator(c, &dynamodb.QueryInput{TableName: aws.String("big"), KeyConditionExpression: aws.String("pk = :p"),
		ExpressionAttributeValues: avMap{":p": s("p")}, ProjectionExpression: aws.String("sk")})
	for pages := 0; p.HasMorePages() && pages < 10; pages++ {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, out.Items...)
	}
	if len(got) != 9 {
		t.Fatalf("all pages: %d items", len(got))
	}
	sc, err := c.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String("big"), Select: types.SelectCount})
	if err != nil || sc.Count != 4 || sc.LastEvaluatedKey == nil {
		t.Fatalf("scan page: %v %+v", err, sc)
	}
}

func TestSDKQueryErrors(t *testing.T) {
	c := queryFixture(t)
	ctx := context.Background()
	pv := avMap{":p": s("a")}
	cases := []struct {
		name string
		in   dynamodb.QueryInput
		msg  string
	}{
		{"no key condition", dynamodb.QueryInput{}, "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request."},
		{"filter on key", dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :p"), FilterExpression: aws.String("sk > :p"), ExpressionAttributeValues: pv},
			"Filter Expression can only contain non-primary key attributes: Primary key attribute: sk"},
		{"missing hash", dynamodb.QueryInput{KeyConditionExpression: aws.String("sk = :p"), ExpressionAttributeValues: pv}, "Query condition missed key schema element: pk"},
		{"non-key", dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :p AND v = :p"), ExpressionAttributeValues: pv}, "Query condition missed key schema element: sk"},
		{"hash range op", dynamodb.QueryInput{KeyConditionExpression: aws.String("pk > :p"), ExpressionAttributeValues: pv}, "Query key condition not supported"},
		{"OR", dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :p OR pk = :p"), ExpressionAttributeValues: pv}, "Invalid operator used in KeyConditionExpression: OR"},
		{"type", dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :p AND sk = :p"), ExpressionAttributeValues: pv},
			"One or more parameter values were invalid: Condition parameter type does not match schema type"},
		{"hash type", dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :n"), ExpressionAttributeValues: avMap{":n": num("1")}},
			"One or more parameter values were invalid: Condition parameter type does not match schema type"},
		{"empty hash", dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :e"), ExpressionAttributeValues: avMap{":e": s("")}},
			"One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk"},
		{"index", dynamodb.QueryInput{IndexName: aws.String("byV"), KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: pv},
			"The table does not have the specified index: byV"},
		{"projected without index", dynamodb.QueryInput{Select: types.SelectAllProjectedAttributes, KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: pv},
			"ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName"},
		{"specific without projection", dynamodb.QueryInput{Select: types.SelectSpecificAttributes, KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: pv},
			"1 validation error detected: Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES"},
		{"all with projection", dynamodb.QueryInput{Select: types.SelectAllAttributes, ProjectionExpression: aws.String("v"), KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: pv},
			"Cannot specify the ProjectionExpression when choosing to get ALL_ATTRIBUTES"},
		{"limit", dynamodb.QueryInput{Limit: aws.Int32(0), KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: pv},
			"1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"start key schema", dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: pv, ExclusiveStartKey: avMap{"pk": s("a")}},
			"The provided starting key is invalid"},
		{"start key partition", dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: pv, ExclusiveStartKey: avMap{"pk": s("b"), "sk": num("1")}},
			"The provided starting key is outside query boundaries based on provided conditions"},
		{"mixed", dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: pv, AttributesToGet: []string{"v"}},
			"Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributesToGet} Expression parameters: {KeyConditionExpression}"},
		{"unused value", dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: avMap{":p": s("a"), ":q": s("b")}},
			"Value provided in ExpressionAttributeValues unused in expressions: keys: {:q}"},
	}
	for _, tc := range cases {
		in := tc.in
		in.TableName = aws.String("qtab")
		_, err := c.Query(ctx, &in)
		wantCode(t, tc.name, err, "ValidationException")
		if !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v\nwant message %q", tc.name, err, tc.msg)
		}
	}
	_, err := c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("nope"), KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: pv})
	wantCode(t, "missing table", err, "ResourceNotFoundException")
}

func TestSDKLegacyQueryAndScan(t *testing.T) {
	c := queryFixture(t)
	ctx := context.Background()
	out, err := c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("qtab"),
		KeyConditions: map[string]types.Condition{
			"pk": {ComparisonOperator: types.ComparisonOperatorEq, AttributeValueList: []types.AttributeValue{s("a")}},
			"sk": {ComparisonOperator: types.ComparisonOperatorBetween, AttributeValueList: []types.AttributeValue{num("1"), num("8")}},
		},
		QueryFilter: map[string]types.Condition{
			"tag": {ComparisonOperator: types.ComparisonOperatorEq, AttributeValueList: []types.AttributeValue{s("t0")}},
			"v":   {ComparisonOperator: types.ComparisonOperatorGe, AttributeValueList: []types.AttributeValue{num("7")}},
		},
		ConditionalOperator: types.ConditionalOperatorOr,
		AttributesToGet:     []string{"pk", "sk"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := keyStrings(out.Items); got != "pk=a sk=2,pk=a sk=4,pk=a sk=6,pk=a sk=7,pk=a sk=8" || out.ScannedCount != 8 || len(out.Items[0]) != 2 {
		t.Fatalf("legacy query: %s (%d scanned) %v", got, out.ScannedCount, out.Items)
	}
	_, err = c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("qtab"), KeyConditions: map[string]types.Condition{
		"pk": {ComparisonOperator: types.ComparisonOperatorEq, AttributeValueList: []types.AttributeValue{s("a")}},
		"sk": {ComparisonOperator: types.ComparisonOperatorNe, AttributeValueList: []types.AttributeValue{num("1")}}}})
	wantCode(t, "NE key condition", err, "ValidationException")
	if !strings.Contains(err.Error(), "Attempted conditional constraint is not an indexable operation") {
		t.Fatalf("NE key condition: %v", err)
	}
	_, err = c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("qtab"),
		KeyConditions: map[string]types.Condition{"pk": {ComparisonOperator: types.ComparisonOperatorEq, AttributeValueList: []types.AttributeValue{s("a")}}},
		QueryFilter:   map[string]types.Condition{"sk": {ComparisonOperator: types.ComparisonOperatorNotNull}}})
	wantCode(t, "QueryFilter on key", err, "ValidationException")
	sc, err := c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("qtab"), ScanFilter: map[string]types.Condition{
		"v":   {ComparisonOperator: types.ComparisonOperatorIn, AttributeValueList: []types.AttributeValue{num("3"), num("100")}},
		"tag": {ComparisonOperator: types.ComparisonOperatorNull},
	}})
	if err != nil || sc.Count != 3 || sc.ScannedCount != 13 {
		t.Fatalf("legacy scan: %v %+v", err, sc)
	}
	_, err = c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("qtab"), FilterExpression: aws.String("v > :x"),
		ExpressionAttributeValues: avMap{":x": num("1")}, ScanFilter: map[string]types.Condition{"v": {ComparisonOperator: types.ComparisonOperatorNotNull}}})
	wantCode(t, "mixed scan", err, "ValidationException")
}

func TestSDKQueryTableWithoutSortKey(t *testing.T) {
	c := startNode(t)
	sdkTable(t, c, "htab", false)
	putAll(t, c, "htab", []avMap{{"pk": s("x"), "v": num("1")}, {"pk": s("y")}})
	out := query(t, c, &dynamodb.QueryInput{TableName: aws.String("htab"), KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: avMap{":p": s("x")}})
	if keyStrings(out.Items) != "pk=x" {
		t.Fatalf("hash-only query: %v", out.Items)
	}
	_, err := c.Query(context.Background(), &dynamodb.QueryInput{TableName: aws.String("htab"), KeyConditionExpression: aws.String("pk = :p AND v = :v"),
		ExpressionAttributeValues: avMap{":p": s("x"), ":v": num("1")}})
	wantCode(t, "non-key term", err, "ValidationException")
}
