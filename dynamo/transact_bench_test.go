package dynamo_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// BenchmarkSDKTransactWrite measures TransactWriteItems of 2, 10 and 100
// puts on distinct items (over the table's partitions) from 8 concurrent
// clients against one node, and reports transactions/s and the p99
// latency; then PutItem on other keys alone and beside transactions.
// Run: go test -run '^$' -bench SDKTransactWrite ./dynamo/
func BenchmarkSDKTransactWrite(b *testing.B) {
	c := startNode(b)
	sdkTable(b, c, "bench", false)
	for _, n := range []int{2, 10, 100} {
		b.Run(fmt.Sprintf("items=%d", n), func(b *testing.B) {
			var (
				seq  atomic.Int64
				mu   sync.Mutex
				lats []time.Duration
			)
			start := time.Now()
			b.SetParallelism(4) // 4 x GOMAXPROCS clients
			b.RunParallel(func(pb *testing.PB) {
				var mine []time.Duration
				for pb.Next() {
					id := seq.Add(1)
					items := make([]types.TransactWriteItem, n)
					for i := range items {
						items[i] = putAcct("bench", fmt.Sprintf("t%d-%d", id, i), i)
					}
					t0 := time.Now()
					if _, err := c.TransactWriteItems(context.Background(), &dynamodb.TransactWriteItemsInput{TransactItems: items}); err != nil {
						b.Error(err)
						return
					}
					mine = append(mine, time.Since(t0))
				}
				mu.Lock()
				lats = append(lats, mine...)
				mu.Unlock()
			})
			el := time.Since(start)
			slices.Sort(lats)
			if len(lats) > 0 {
				b.ReportMetric(float64(len(lats))/el.Seconds(), "txn/s")
				b.ReportMetric(float64(lats[len(lats)*99/100].Microseconds())/1000, "p99-ms")
			}
		})
	}
	// Single-item writes on other keys, alone and beside 4 clients
	// running transactions of 10 items.
	for _, busy := range []bool{false, true} {
		b.Run(fmt.Sprintf("putitem/beside-txns=%v", busy), func(b *testing.B) {
			stop := make(chan struct{})
			var wg sync.WaitGroup
			if busy {
				var seq atomic.Int64
				for range 4 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for {
							select {
							case <-stop:
								return
							default:
							}
							id := seq.Add(1)
							items := make([]types.TransactWriteItem, 10)
							for i := range items {
								items[i] = putAcct("bench", fmt.Sprintf("bg%d-%d", id, i), i)
							}
							_, _ = c.TransactWriteItems(context.Background(), &dynamodb.TransactWriteItemsInput{TransactItems: items})
						}
					}()
				}
			}
			var (
				seq  atomic.Int64
				mu   sync.Mutex
				lats []time.Duration
			)
			b.SetParallelism(4)
			b.RunParallel(func(pb *testing.PB) {
				var mine []time.Duration
				for pb.Next() {
					id := seq.Add(1)
					t0 := time.Now()
					if _, err := c.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String("bench"),
						Item: map[string]types.AttributeValue{"pk": s(fmt.Sprint("p", id)), "bal": num("1")}}); err != nil {
						b.Error(err)
						return
					}
					mine = append(mine, time.Since(t0))
				}
				mu.Lock()
				lats = append(lats, mine...)
				mu.Unlock()
			})
			close(stop)
			wg.Wait()
			slices.Sort(lats)
			if len(lats) > 0 {
				b.ReportMetric(float64(lats[len(lats)*99/100].Microseconds())/1000, "p99-ms")
			}
		})
	}
}
