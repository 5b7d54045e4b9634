package dynamo_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// benchItems is how many 1 KB items the read benchmarks load.
const benchItems = 2000

// benchFixture loads benchItems items of about 1 KB: partition "p" holds
// them all, so a Query and a Scan read the same items.
func benchFixture(b *testing.B) *dynamodb.Client {
	b.Helper()
	c := startNode(b)
	sdkTable(b, c, "bench", true)
	pad := strings.Repeat("x", 1000)
	var items []avMap
	for i := range benchItems {
		items = append(items, avMap{"pk": s("p"), "sk": num(strconv.Itoa(i)), "pad": s(pad)})
	}
	putAll(b, c, "bench", items)
	return c
}

// BenchmarkSDKQuery1KB reads every item of one partition through the SDK,
// one 1 MB page at a time; it reports items/s.
func BenchmarkSDKQuery1KB(b *testing.B) {
	c := benchFixture(b)
	in := &dynamodb.QueryInput{TableName: aws.String("bench"), KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: avMap{":p": s("p")}}
	benchPages(b, func(start avMap) (int, avMap, error) {
		in.ExclusiveStartKey = start
		out, err := c.Query(context.Background(), in)
		if err != nil {
			return 0, nil, err
		}
		return len(out.Items), out.LastEvaluatedKey, nil
	})
}

// BenchmarkSDKScan1KB scans the whole table through the SDK.
func BenchmarkSDKScan1KB(b *testing.B) {
	c := benchFixture(b)
	in := &dynamodb.ScanInput{TableName: aws.String("bench")}
	benchPages(b, func(start avMap) (int, avMap, error) {
		in.ExclusiveStartKey = start
		out, err := c.Scan(context.Background(), in)
		if err != nil {
			return 0, nil, err
		}
		return len(out.Items), out.LastEvaluatedKey, nil
	})
}

// benchPages runs a full paginated read b.N times and reports items/s.
func benchPages(b *testing.B, page func(start avMap) (int, avMap, error)) {
	b.ResetTimer()
	total := 0
	for range b.N {
		var start avMap
		for {
			n, next, err := page(start)
			if err != nil {
				b.Fatal(err)
			}
			total += n
			if next == nil {
				break
			}
			start = next
		}
	}
	if total != b.N*benchItems {
		b.Fatalf("read %d items, want %d", total, b.N*benchItems)
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "items/s")
}
