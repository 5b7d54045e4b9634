package dynamo_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
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
// that latency over b.N writes (0 for a record shown before its PutItem
// answer arrived; shown-before-ack is their share):
//
//	go test -run XX -bench StreamsEndToEnd -benchtime 4000x ./dynamo/
func BenchmarkStreamsEndToEnd(b *testing.B) {
	sn := startStreamsNode(b, nil)
	arn := sn.streamTable(b, "latency", types.StreamViewTypeKeysOnly)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var acked, seen sync.Map // "pk/sk" -> time.Time of PutItem's answer, of the GetRecords answer
	var readers sync.WaitGroup
	var records atomic.Int64
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
				now := time.Now()
				for _, r := range out.Records {
					seen.Store(streamKey(r), now)
				}
				records.Add(int64(len(out.Records)))
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
	for deadline := time.Now().Add(time.Minute); records.Load() < int64(b.N); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d records in the stream after a minute", records.Load(), b.N)
		}
	}
	var all []time.Duration
	before := 0
	acked.Range(func(k, at any) bool {
		v, ok := seen.Load(k)
		if !ok {
			b.Fatalf("write %v not in the stream", k)
		}
		d := v.(time.Time).Sub(at.(time.Time))
		if d < 0 {
			before, d = before+1, 0
		}
		all = append(all, d)
		return true
	})
	b.StopTimer()
	cancel()
	readers.Wait()
	slices.Sort(all)
	b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(before)/float64(len(all)), "shown-before-ack")
}
