package dynamo_test

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	stypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// The endpoints of a running cluster BenchmarkStreamsEndToEnd measures
// instead of a node of its own, and the pace of its writers.
var (
	streamsEndpoints = flag.String("streams.endpoints", "", "comma-separated API URLs of a running cluster (partita dev --nodes 3) for BenchmarkStreamsEndToEnd; empty: a node of its own")
	streamsRate      = flag.Int("streams.rate", 0, "writes per second of BenchmarkStreamsEndToEnd's writers in all (0: as fast as they can)")
)

// streamsBenchTarget returns the SDK clients of the benchmark: a node of
// its own, or one pair per endpoint of -streams.endpoints; and a table
// name not used yet there.
func streamsBenchTarget(b *testing.B) ([]*streamsNode, string) {
	if *streamsEndpoints == "" {
		return []*streamsNode{startStreamsNode(b, nil)}, "latency"
	}
	creds := credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")
	tr := http.DefaultTransport.(*http.Transport).Clone()
	b.Cleanup(tr.CloseIdleConnections)
	hc := &http.Client{Transport: tr}
	var out []*streamsNode
	for _, ep := range strings.Split(*streamsEndpoints, ",") {
		out = append(out, &streamsNode{
			db: dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(ep), Credentials: creds, HTTPClient: hc}),
			streams: dynamodbstreams.New(dynamodbstreams.Options{Region: "us-east-1", BaseEndpoint: aws.String(ep),
				Credentials: creds, HTTPClient: hc}),
		})
	}
	return out, fmt.Sprintf("latency-%d", time.Now().UnixNano())
}

// BenchmarkStreamsEndToEnd measures how long a write takes to show in its
// stream: from PutItem's answer to the GetRecords answer that holds its
// record, with 4 writers and one reader per shard polling GetRecords (a
// pause of 1 ms after an empty page). It reports the p50 and p99 of that
// latency over b.N writes (0 for a record shown before its PutItem
// answer arrived; shown-before-ack is their share). On a node of its own:
//
//	go test -run XX -bench StreamsEndToEnd -benchtime 4000x ./dynamo/
//
// On a running cluster, writers and readers spread over its nodes, the
// writers paced (-streams.rate):
//
//	go test -run XX -bench StreamsEndToEnd -benchtime 4000x ./dynamo/ \
//	    -streams.endpoints http://127.0.0.1:8000,http://127.0.0.1:8001,http://127.0.0.1:8002 -streams.rate 200
func BenchmarkStreamsEndToEnd(b *testing.B) {
	targets, table := streamsBenchTarget(b)
	sn := targets[0]
	arn := sn.streamTable(b, table, types.StreamViewTypeKeysOnly)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var acked, seen sync.Map // "pk/sk" -> time.Time of PutItem's answer, of the GetRecords answer
	var readers sync.WaitGroup
	var records atomic.Int64
	for i, sh := range sn.shards(b, arn) {
		rd := targets[i%len(targets)].streams
		it, err := rd.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(arn),
			ShardId: sh.ShardId, ShardIteratorType: stypes.ShardIteratorTypeLatest})
		if err != nil {
			b.Fatal(err)
		}
		readers.Add(1)
		go func(it *string) {
			defer readers.Done()
			for it != nil && ctx.Err() == nil {
				out, err := rd.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it})
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
			db := targets[w%len(targets)].db
			var pace *time.Ticker
			if *streamsRate > 0 {
				pace = time.NewTicker(time.Second * writers / time.Duration(*streamsRate))
				defer pace.Stop()
			}
			for i := w; i < b.N; i += writers {
				if pace != nil {
					<-pace.C
				}
				sk := strconv.Itoa(i)
				if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table),
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
