package dynamo_test

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// scanFixture is a node with table "scan" of n items spread over its
// partitions: pk "p<i>", sk i%3, v i.
func scanFixture(t *testing.T, n int) *dynamodb.Client {
	c := startNode(t)
	sdkTable(t, c, "scan", true)
	var items []avMap
	for i := range n {
		items = append(items, avMap{"pk": s("p" + strconv.Itoa(i)), "sk": num(strconv.Itoa(i % 3)), "v": num(strconv.Itoa(i))})
	}
	putAll(t, c, "scan", items)
	return c
}

// scanAll pages through a scan and returns its items and page count.
func scanAll(t *testing.T, c *dynamodb.Client, in *dynamodb.ScanInput) ([]avMap, int) {
	t.Helper()
	in.TableName = aws.String("scan")
	p := dynamodb.NewScanPaginator(c, in)
	var items []avMap
	pages := 0
	for p.HasMorePages() {
		if pages > 1000 {
			t.Fatal("scan does not end")
		}
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		pages++
		items = append(items, out.Items...)
	}
	return items, pages
}

// sortedKeyStrings returns the items' keys, sorted, and fails on duplicates.
func sortedKeyStrings(t *testing.T, items []avMap) string {
	t.Helper()
	keys := make([]string, len(items))
	for i, it := range items {
		keys[i] = keyString(it)
	}
	sort.Strings(keys)
	for i := 1; i < len(keys); i++ {
		if keys[i] == keys[i-1] {
			t.Fatalf("item %s returned twice", keys[i])
		}
	}
	return strings.Join(keys, ",")
}

func wantAll(n int) string {
	var keys []string
	for i := range n {
		keys = append(keys, "pk=p"+strconv.Itoa(i)+" sk="+strconv.Itoa(i%3))
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}

// TestSDKScanPagination pages with every Limit from 1 to past the item
// count: some pages end exactly on a partition boundary, and the token
// must carry the scan into the next partition.
func TestSDKScanPagination(t *testing.T) {
	const n = 40
	c := scanFixture(t, n)
	want := wantAll(n)
	for limit := int32(1); limit <= n+1; limit++ {
		items, pages := scanAll(t, c, &dynamodb.ScanInput{Limit: aws.Int32(limit)})
		if got := sortedKeyStrings(t, items); got != want {
			t.Fatalf("limit %d: got %d items", limit, len(items))
		}
		if wantPages := n/int(limit) + 1; int(limit) <= n && pages != wantPages {
			t.Fatalf("limit %d: %d pages, want %d", limit, pages, wantPages)
		}
	}
	items, _ := scanAll(t, c, &dynamodb.ScanInput{Limit: aws.Int32(3), FilterExpression: aws.String("v = :none"), ExpressionAttributeValues: avMap{":none": num("-1")}})
	if len(items) != 0 {
		t.Fatalf("filter rejecting all: %d items", len(items))
	}
	items, _ = scanAll(t, c, &dynamodb.ScanInput{Limit: aws.Int32(7), FilterExpression: aws.String("sk = :z AND v < :x"),
		ExpressionAttributeValues: avMap{":z": num("0"), ":x": num("20")}, ProjectionExpression: aws.String("pk, sk")})
	if len(items) != 7 || len(items[0]) != 2 {
		t.Fatalf("filter on key attributes: %d items %v", len(items), items)
	}
}

// TestSDKParallelScan checks that 1..16 segments together return every
// item exactly once, with and without pagination inside a segment.
func TestSDKParallelScan(t *testing.T) {
	const n = 60
	c := scanFixture(t, n)
	want := wantAll(n)
	for total := int32(1); total <= 16; total++ {
		for _, limit := range []*int32{nil, aws.Int32(2)} {
			var all []avMap
			for seg := int32(0); seg < total; seg++ {
				items, _ := scanAll(t, c, &dynamodb.ScanInput{Segment: aws.Int32(seg), TotalSegments: aws.Int32(total), Limit: limit})
				all = append(all, items...)
			}
			if got := sortedKeyStrings(t, all); got != want {
				t.Fatalf("%d segments: %d items", total, len(all))
			}
		}
	}
}

func TestSDKScanOptions(t *testing.T) {
	c := scanFixture(t, 10)
	ctx := context.Background()
	out, err := c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("scan"), Select: types.SelectCount, ConsistentRead: aws.Bool(true),
		ReturnConsumedCapacity: types.ReturnConsumedCapacityIndexes})
	if err != nil || out.Count != 10 || out.ScannedCount != 10 || out.Items != nil || out.LastEvaluatedKey != nil {
		t.Fatalf("COUNT: %v %+v", err, out)
	}
	if cc := out.ConsumedCapacity; cc == nil || aws.ToFloat64(cc.CapacityUnits) != 1 || cc.Table == nil {
		t.Fatalf("capacity: %+v", cc)
	}
	out, err = c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("scan"), AttributesToGet: []string{"v"}})
	if err != nil || len(out.Items) != 10 || len(out.Items[0]) != 1 {
		t.Fatalf("AttributesToGet: %v %+v", err, out)
	}
}

func TestSDKScanErrors(t *testing.T) {
	c := scanFixture(t, 3)
	ctx := context.Background()
	cases := []struct {
		name string
		in   dynamodb.ScanInput
		msg  string
	}{
		{"segment without total", dynamodb.ScanInput{Segment: aws.Int32(0)},
			"The TotalSegments parameter is required but was not present in the request when Segment parameter is present"},
		{"total without segment", dynamodb.ScanInput{TotalSegments: aws.Int32(2)},
			"The Segment parameter is required but was not present in the request when parameter TotalSegments is present"},
		{"segment too big", dynamodb.ScanInput{Segment: aws.Int32(2), TotalSegments: aws.Int32(2)},
			"The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: 2 is not less than TotalSegments: 2"},
		{"total too big", dynamodb.ScanInput{Segment: aws.Int32(0), TotalSegments: aws.Int32(1000001)},
			"1 validation error detected: Value '1000001' at 'totalSegments' failed to satisfy constraint: Member must have value less than or equal to 1000000"},
		{"start key", dynamodb.ScanInput{ExclusiveStartKey: avMap{"pk": s("x")}},
			"The provided starting key is invalid: The provided key element does not match the schema"},
		{"specific", dynamodb.ScanInput{Select: types.SelectSpecificAttributes},
			"Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES"},
		{"count with projection", dynamodb.ScanInput{Select: types.SelectCount, ProjectionExpression: aws.String("v")},
			"Cannot specify the ProjectionExpression when choosing to get only the Count"},
		{"index", dynamodb.ScanInput{IndexName: aws.String("idx")}, "The table does not have the specified index: idx"},
		{"bad filter", dynamodb.ScanInput{FilterExpression: aws.String("v >")}, "Invalid FilterExpression: Syntax error; token: \"<EOF>\""},
	}
	for _, tc := range cases {
		in := tc.in
		in.TableName = aws.String("scan")
		_, err := c.Scan(ctx, &in)
		wantCode(t, tc.name, err, "ValidationException")
		if !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v\nwant message %q", tc.name, err, tc.msg)
		}
	}
	// A start key from another segment is rejected.
	out, err := c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("scan"), Segment: aws.Int32(0), TotalSegments: aws.Int32(1), Limit: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	rejected := 0
	for seg := int32(0); seg < 4; seg++ {
		_, err := c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("scan"), Segment: aws.Int32(seg), TotalSegments: aws.Int32(4), ExclusiveStartKey: out.LastEvaluatedKey})
		if err != nil {
			wantCode(t, "foreign segment", err, "ValidationException")
			rejected++
		}
	}
	if rejected != 3 {
		t.Fatalf("start key accepted by %d of 4 segments, want 1", 4-rejected)
	}
}
