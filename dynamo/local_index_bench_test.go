package dynamo_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// BenchmarkSDKPutItemLocalIndexes measures PutItem on tables with 0, 1
// and 5 local secondary indexes (KEYS_ONLY, each on its own attribute),
// 8 writers per GOMAXPROCS over 64 partition keys: the write amplification of
// synchronous index maintenance (the entries ride in the item's raft
// entry).
func BenchmarkSDKPutItemLocalIndexes(b *testing.B) {
	for _, n := range []int{0, 1, 5} {
		b.Run(fmt.Sprintf("lsis=%d", n), func(b *testing.B) {
			c := startNode(b)
			name := fmt.Sprintf("bench%d", n)
			createBenchLSITable(b, c, name, n)
			pad := strings.Repeat("x", 200)
			var seq atomic.Int64
			b.SetParallelism(8) // 8 x GOMAXPROCS writers
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := seq.Add(1)
					it := avMap{"pk": s(strconv.FormatInt(i%64, 10)), "sk": num(strconv.FormatInt(i, 10)), "pad": s(pad)}
					for j := range 5 {
						it["l"+strconv.Itoa(j)] = num(strconv.FormatInt(i*7%1000, 10))
					}
					if _, err := c.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(name), Item: it}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "puts/s")
		})
	}
}

// createBenchLSITable creates table name (pk S, sk N) with n KEYS_ONLY
// local indexes on l0..l(n-1).
func createBenchLSITable(b *testing.B, c *dynamodb.Client, name string, n int) {
	b.Helper()
	keys := func(rng string) []types.KeySchemaElement {
		return []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}, {AttributeName: aws.String(rng), KeyType: types.KeyTypeRange}}
	}
	in := &dynamodb.CreateTableInput{TableName: aws.String(name), BillingMode: types.BillingModePayPerRequest, KeySchema: keys("sk"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeN}}}
	for j := range n {
		a := "l" + strconv.Itoa(j)
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String(a), AttributeType: types.ScalarAttributeTypeN})
		in.LocalSecondaryIndexes = append(in.LocalSecondaryIndexes, types.LocalSecondaryIndex{IndexName: aws.String("by" + a), KeySchema: keys(a),
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly}})
	}
	ctx := context.Background()
	if _, err := c.CreateTable(ctx, in); err != nil {
		b.Fatal(err)
	}
	w := dynamodb.NewTableExistsWaiter(c, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay = 10 * time.Millisecond })
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 10*time.Second); err != nil {
		b.Fatal(err)
	}
}
