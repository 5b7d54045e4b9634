package node_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	stypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/doctor/operator"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/node"
)

// streamsClient is the SDK's streams client pointed at n's endpoint.
func streamsClient(n *node.Node) *dynamodbstreams.Client {
	return dynamodbstreams.New(dynamodbstreams.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(n.APIURL()),
		Credentials: credentials.NewStaticCredentialsProvider("a", "b", ""),
	})
}

// readAllShards reads every shard of stream arn through c, each from
// TRIM_HORIZON to its end (a closed shard) or to its last record (an
// open one), parents before children.
func readAllShards(ctx context.Context, t *testing.T, c *dynamodbstreams.Client, arn string) (recs []stypes.Record, shards []stypes.Shard) {
	t.Helper()
	var start *string
	for {
		d, err := c.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn), ExclusiveStartShardId: start})
		if err != nil {
			t.Fatalf("DescribeStream: %v", err)
		}
		shards = append(shards, d.StreamDescription.Shards...)
		if start = d.StreamDescription.LastEvaluatedShardId; start == nil {
			break
		}
	}
	known := map[string]bool{}
	for _, sh := range shards {
		known[aws.ToString(sh.ShardId)] = true
	}
	done := map[string]bool{}
	for len(done) < len(shards) {
		progress := false
		for _, sh := range shards {
			id := aws.ToString(sh.ShardId)
			if done[id] || sh.ParentShardId != nil && known[*sh.ParentShardId] && !done[*sh.ParentShardId] {
				continue
			}
			recs = append(recs, readShardToEnd(ctx, t, c, arn, sh)...)
			done[id], progress = true, true
		}
		if !progress {
			t.Fatalf("shards with a parent cycle: %+v", shards)
		}
	}
	return recs, shards
}

func readShardToEnd(ctx context.Context, t *testing.T, c *dynamodbstreams.Client, arn string, sh stypes.Shard) []stypes.Record {
	t.Helper()
	out, err := c.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(arn), ShardId: sh.ShardId,
		ShardIteratorType: stypes.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatalf("GetShardIterator %s: %v", aws.ToString(sh.ShardId), err)
	}
	var recs []stypes.Record
	for it := out.ShardIterator; it != nil; {
		page, err := c.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it, Limit: aws.Int32(50)})
		if err != nil {
			t.Fatalf("GetRecords of %s: %v", aws.ToString(sh.ShardId), err)
		}
		recs = append(recs, page.Records...)
		it = page.NextShardIterator
		if len(page.Records) == 0 && sh.SequenceNumberRange.EndingSequenceNumber == nil {
			break // an open shard, read to its last record
		}
	}
	return recs
}

// streamWrites maps each item's partition key to the values v its
// records carry, in stream order.
func streamWrites(t *testing.T, recs []stypes.Record) map[string][]int {
	t.Helper()
	out := map[string][]int{}
	for _, r := range recs {
		pk := r.Dynamodb.Keys["pk"].(*stypes.AttributeValueMemberS).Value
		v, err := strconv.Atoi(r.Dynamodb.NewImage["v"].(*stypes.AttributeValueMemberN).Value)
		if err != nil {
			t.Fatal(err)
		}
		out[pk] = append(out[pk], v)
	}
	return out
}

// TestStreamsThreeNodesSplitMidStream: a table with a stream on three
// nodes, written by four clients through every node while one of its
// partitions splits. Read from a node that leads none of the table's
// partitions, the stream has every item's writes exactly once and in
// order across the parent shard and its children, which name it.
func TestStreamsThreeNodesSplitMidStream(t *testing.T) {
	n1 := startAdminMember(t)
	n2 := startAdminMember(t, n1.PeerAddr())
	n3 := startAdminMember(t, n1.PeerAddr())
	nodes := []*node.Node{n1, n2, n3}
	waitUntil(t, "meta on three voters", func() bool { return len(n1.MetaVoters()) == 3 })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const table = "streamed"
	out, err := client(n2).CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
		StreamSpecification:  &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewImage},
	})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.TableDescription.LatestStreamArn)
	waitFor(t, func() error { return settled(partitions(t, n1, table)) })

	const writers, itemsPerWriter, writesPerItem = 4, 3, 12
	var wg sync.WaitGroup
	var halfway sync.WaitGroup
	halfway.Add(writers)
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := client(nodes[w%3])
			for v := 1; v <= writesPerItem; v++ {
				if v == writesPerItem/2+1 {
					halfway.Done()
				}
				for i := range itemsPerWriter {
					_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
						"pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("w%d-i%d", w, i)},
						"v":  &types.AttributeValueMemberN{Value: strconv.Itoa(v)}}})
					if err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	// Split the partition of one item while the writers are halfway.
	halfway.Wait()
	parts := partitions(t, n1, table)
	p := parts[0]
	for _, q := range parts {
		if q.HashStart <= item.Hash(item.S("w0-i0")) && (q.HashEnd == 0 || item.Hash(item.S("w0-i0")) < q.HashEnd) {
			p = q
		}
	}
	path := fmt.Sprintf("/cluster/partitions/%d/split?%s", p.ID, url.Values{"table": {table}}.Encode())
	var split admin.SplitResult
	if code := adminDo(t, n1, http.MethodPost, path, &split); code != http.StatusOK || split.Right == 0 {
		t.Fatalf("split of partition %d: %d %+v", p.ID, code, split)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("write: %v", err)
	}

	// Read everything from node 3, after it hands its leaderships over.
	var drained operator.DrainResult
	if code := adminDo(t, n1, http.MethodPost, fmt.Sprintf("/cluster/nodes/%d/drain", n3.ID()), &drained); code != http.StatusOK {
		t.Fatalf("drain: status %d", code)
	}
	for _, p := range partitions(t, n1, table) {
		if p.Leader == n3.ID() {
			t.Fatalf("partition %d still led by drained node %d", p.ID, n3.ID())
		}
	}
	recs, shards := readAllShards(ctx, t, streamsClient(n3), arn)
	got := streamWrites(t, recs)
	for w := range writers {
		for i := range itemsPerWriter {
			pk := fmt.Sprintf("w%d-i%d", w, i)
			want := make([]int, writesPerItem)
			for v := range want {
				want[v] = v + 1
			}
			if fmt.Sprint(got[pk]) != fmt.Sprint(want) {
				t.Errorf("item %s: writes %v in the stream, want %v", pk, got[pk], want)
			}
		}
	}
	if len(got) != writers*itemsPerWriter {
		t.Errorf("%d items in the stream, want %d", len(got), writers*itemsPerWriter)
	}
	// The split closed the parent's shard; both halves' shards name it.
	parent := fmt.Sprintf("shardId-%020d-%020d", p.ID, 1)
	var closedParent bool
	var children int
	for _, sh := range shards {
		if aws.ToString(sh.ShardId) == parent && sh.SequenceNumberRange.EndingSequenceNumber != nil {
			closedParent = true
		}
		if aws.ToString(sh.ParentShardId) == parent {
			children++
		}
	}
	if !closedParent || children != 2 {
		t.Errorf("after the split of partition %d: parent shard closed %v, %d children, shards %+v", p.ID, closedParent, children, shards)
	}
}
