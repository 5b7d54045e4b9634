package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	stypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// TestChangesSurviveKillNine: three `partita start` processes, a table
// created with a global secondary index and a NEW_AND_OLD_IMAGES stream,
// writers through every node, each moving its items through versions
// 1, 2, 3... with conditional puts (so that a write applies at most once
// whatever the client retries). One process is killed with SIGKILL in the
// middle of the writes and restarted on its data. At the end each item's
// records in the stream, read with the SDK's streams client through
// another node, are its versions 1 to its last exactly once and in order
// (no change lost, none applied twice), and the index equals the
// projection of a scan of the table.
func TestChangesSurviveKillNine(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	bin := buildBinary(t)
	n1 := startNode(t, bin, filepath.Join(dir, "n1"), freeAddr(t), "")
	n2 := startNode(t, bin, filepath.Join(dir, "n2"), freeAddr(t), n1.peer)
	n3 := startNode(t, bin, filepath.Join(dir, "n3"), freeAddr(t), n1.peer)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if _, err := client(n2.api).CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String("changes"),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("g"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:   []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode: types.BillingModePayPerRequest,
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName:  aws.String("byG"),
			KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("g"), KeyType: types.KeyTypeHash}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly},
		}},
		StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewAndOldImages},
	}); err != nil {
		t.Fatal(err)
	}

	// Each writer owns its items and knows their versions; a write whose
	// outcome it did not learn (an error) is settled by a consistent read.
	var mu sync.Mutex
	endpoints := []string{n1.api, n2.api, n3.api}
	endpoint := func(w int) string { mu.Lock(); defer mu.Unlock(); return endpoints[w] }
	setEndpoint := func(w int, api string) { mu.Lock(); defer mu.Unlock(); endpoints[w] = api }
	var acked [3]int
	var failed [3]int
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			versions := map[string]int{}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				pk := fmt.Sprintf("w%d-item%d", w, i%8)
				v := versions[pk] + 1
				db := client(endpoint(w))
				cond := aws.String("attribute_not_exists(pk)")
				values := map[string]types.AttributeValue(nil)
				if v > 1 {
					cond = aws.String("v = :prev")
					values = map[string]types.AttributeValue{":prev": &types.AttributeValueMemberN{Value: strconv.Itoa(v - 1)}}
				}
				wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
				_, err := db.PutItem(wctx, &dynamodb.PutItemInput{TableName: aws.String("changes"), Item: map[string]types.AttributeValue{
					"pk": &types.AttributeValueMemberS{Value: pk},
					"v":  &types.AttributeValueMemberN{Value: strconv.Itoa(v)},
					"g":  &types.AttributeValueMemberS{Value: fmt.Sprint("g", v%3)},
				}, ConditionExpression: cond, ExpressionAttributeValues: values})
				wcancel()
				mu.Lock()
				if err == nil {
					acked[w]++
				} else {
					failed[w]++
				}
				mu.Unlock()
				if err == nil {
					versions[pk] = v
					continue
				}
				// Settled by a consistent read through another node, once
				// one answers.
				for ctx.Err() == nil {
					got, gerr := client(endpoint((w+1)%3)).GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("changes"),
						ConsistentRead: aws.Bool(true), Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}}})
					if gerr == nil {
						if n, ok := got.Item["v"].(*types.AttributeValueMemberN); ok {
							versions[pk], _ = strconv.Atoi(n.Value)
						}
						break
					}
					time.Sleep(50 * time.Millisecond)
				}
			}
		}()
	}
	total := func() int { mu.Lock(); defer mu.Unlock(); return acked[0] + acked[1] + acked[2] }
	waitTotal := func(n int) {
		t.Helper()
		for total() < n {
			if ctx.Err() != nil {
				t.Fatalf("%d writes acknowledged, want %d: %v", total(), n, ctx.Err())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitTotal(150)
	if err := n1.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = n1.cmd.Wait()
	setEndpoint(0, n2.api)
	waitTotal(total() + 150)
	n1 = startNode(t, bin, n1.data, n1.admin, n2.peer)
	setEndpoint(0, n1.api)
	waitTotal(total() + 150)
	close(stop)
	wg.Wait()
	mu.Lock()
	t.Logf("writes acknowledged per writer %v, failed %v", acked, failed)
	mu.Unlock()

	// The table's final versions, read consistently.
	db := client(n3.api)
	final := map[string]int{}
	for _, it := range scanAllItems(t, ctx, db, nil) {
		v, _ := strconv.Atoi(it["v"].(*types.AttributeValueMemberN).Value)
		final[it["pk"].(*types.AttributeValueMemberS).Value] = v
	}
	if len(final) != 24 {
		t.Fatalf("%d items in the table, want 24", len(final))
	}

	// The stream: every shard from its trim horizon to its end (a closed
	// shard) or to the first empty page (an open one: the writes are
	// over and acknowledged, so in it).
	sdb := dynamodbstreams.New(dynamodbstreams.Options{Region: "us-east-1", BaseEndpoint: aws.String(n3.api),
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")})
	d, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("changes")})
	if err != nil {
		t.Fatal(err)
	}
	var shards []stypes.Shard
	for start := (*string)(nil); ; {
		ds, err := sdb.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: d.Table.LatestStreamArn, ExclusiveStartShardId: start})
		if err != nil {
			t.Fatal(err)
		}
		shards = append(shards, ds.StreamDescription.Shards...)
		if start = ds.StreamDescription.LastEvaluatedShardId; start == nil {
			break
		}
	}
	seen := map[string][]int{}
	for _, sh := range shards {
		it, err := sdb.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: d.Table.LatestStreamArn,
			ShardId: sh.ShardId, ShardIteratorType: stypes.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		for iter := it.ShardIterator; iter != nil; {
			out, err := sdb.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range out.Records {
				pk := r.Dynamodb.Keys["pk"].(*stypes.AttributeValueMemberS).Value
				v, _ := strconv.Atoi(r.Dynamodb.NewImage["v"].(*stypes.AttributeValueMemberN).Value)
				seen[pk] = append(seen[pk], v)
			}
			if len(out.Records) == 0 && sh.SequenceNumberRange.EndingSequenceNumber == nil {
				break
			}
			iter = out.NextShardIterator
		}
	}
	for pk, last := range final {
		want := make([]int, last)
		for i := range want {
			want[i] = i + 1
		}
		if !slices.Equal(seen[pk], want) {
			t.Errorf("%s: the stream holds versions %v, want 1 to %d once each, in order", pk, seen[pk], last)
		}
	}

	// The index converges to the table.
	var want []string
	for pk, v := range final {
		want = append(want, fmt.Sprintf("%s=g%d", pk, v%3))
	}
	sort.Strings(want)
	var got []string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		got = got[:0]
		for _, it := range scanAllItems(t, ctx, db, aws.String("byG")) {
			got = append(got, it["pk"].(*types.AttributeValueMemberS).Value+"="+it["g"].(*types.AttributeValueMemberS).Value)
		}
		sort.Strings(got)
		if slices.Equal(got, want) || time.Now().After(deadline) {
			break
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("the index holds %v, the table implies %v", got, want)
	}
}

// scanAllItems scans table changes (or its index) to the end.
func scanAllItems(t *testing.T, ctx context.Context, db *dynamodb.Client, index *string) []map[string]types.AttributeValue {
	t.Helper()
	var out []map[string]types.AttributeValue
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String("changes"), IndexName: index, ConsistentRead: aws.Bool(index == nil)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Items...)
	}
	return out
}
