package dynamo_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	stypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// BenchmarkStreamsEndToEnd measures how long a write takes to show in its
// stream: from PutItem's answer to the GetRecords answer that holds its
// record, with 4 writers on one node and one reader per shard polling
// GetRecords (a pause of 1 ms after an empty page). It reports the p50 and p99 of
// that latency over b.N writes:
//
//	go test -run XX -bench StreamsEndToEnd -benchtime 4000x ./dynamo/
func BenchmarkStreamsEndToEnd(b *testing.B) {
	sn := startStreamsNode(b, nil)
	arn := sn.streamTable(b, "latency", types.StreamViewTypeKeysOnly)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var acked sync.Map // "pk/sk" -> time.Time of PutItem's answer
	lat := make(chan time.Duration, b.N)
	var readers sync.WaitGroup
	for _, sh := range sn.shards(b, arn) {
		it, err := sn.streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(arn),
			ShardId: sh.ShardId, ShardIteratorType: stypes.ShardIteratorTypeLatest})
		if err != nil {
			b.Fatal(err)
		}
		readers.Add(1)
		go func(it *string) {
			defer readers.Done()
			for it != nil && ctx.Err() == nil {
				out, err := sn.streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it})
				if err != nil {
					return
				}
				seen := time.Now()
				for _, r := range out.Records {
					k := streamKey(r)
					for {
						if at, ok := acked.Load(k); ok {
							lat <- seen.Sub(at.(time.Time))
							break
						}
						// The record showed before PutItem returned.
						time.Sleep(10 * time.Microsecond)
					}
				}
				it = out.NextShardIterator
				if len(out.Records) == 0 {
					time.Sleep(time.Millisecond)
				}
			}
		}(it.ShardIterator)
	}
	b.ResetTimer()
	const writers = 4
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < b.N; i += writers {
				sk := strconv.Itoa(i)
				if _, err := sn.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("latency"),
					Item: map[string]types.AttributeValue{"pk": s(fmt.Sprint("p", w)), "sk": num(sk)}}); err != nil {
					b.Error(err)
					return
				}
				acked.Store(fmt.Sprintf("p%d/%s", w, sk), time.Now())
			}
		}()
	}
	wg.Wait()
	all := make([]time.Duration, 0, b.N)
	for range b.N {
		all = append(all, <-lat)
	}
	b.StopTimer()
	cancel()
	readers.Wait()
	slices.Sort(all)
	b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
}
