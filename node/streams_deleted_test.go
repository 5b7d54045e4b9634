package node_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	stypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/smithy-go"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/node"
	"github.com/partitadb/partita/settings"
)

// jumpClock is the real clock moved forward by what Jump adds.
type jumpClock struct{ offset atomic.Int64 }

func (c *jumpClock) Now() time.Time       { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *jumpClock) Jump(d time.Duration) { c.offset.Add(int64(d)) }

// errCode is the API error code of err ("" for none).
func errCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// checkDeletedStreamVia reads stream arn of a deleted table through n:
// DISABLED, every shard closed and read to its end, every writer's
// writes exactly once and in order.
func checkDeletedStreamVia(ctx context.Context, t *testing.T, n *node.Node, arn string, writesPerItem int) {
	t.Helper()
	c := streamsClient(n)
	d, err := c.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn)})
	if err != nil {
		t.Fatalf("DescribeStream via node %d: %v", n.ID(), err)
	}
	if d.StreamDescription.StreamStatus != stypes.StreamStatusDisabled {
		t.Fatalf("DescribeStream via node %d: %s", n.ID(), d.StreamDescription.StreamStatus)
	}
	recs, shards := readAllShards(ctx, t, c, arn)
	for _, sh := range shards {
		if sh.SequenceNumberRange.EndingSequenceNumber == nil {
			t.Fatalf("via node %d: shard %s of a deleted table's stream is open", n.ID(), aws.ToString(sh.ShardId))
		}
	}
	checkStreamWrites(t, recs, writesPerItem)
}

// TestStreamsThreeNodesDeletedTable: three nodes, a table with a stream
// written through every node, then deleted. Its stream stays readable
// through every node, through a node's restart (and the leader changes
// it makes), beside a new table of the same name; after the retention
// the deleted-streams job removes it, and every node's replicas of its
// partitions go.
func TestStreamsThreeNodesDeletedTable(t *testing.T) {
	t.Parallel()
	clock := &jumpClock{}
	dir3 := t.TempDir()
	start := func(dir string, join ...string) *node.Node {
		t.Helper()
		cfg := node.DefaultConfig()
		cfg.DataDir, cfg.APIAddr, cfg.PeerAddr, cfg.AdminAddr, cfg.Join = dir, "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", join
		cfg.ReconcileInterval = 100 * time.Millisecond
		cfg.Clock = clock.Now
		cfg.Settings = map[string]settings.Static{"changelog.retention": {Text: "1m", From: settings.FromFlag}}
		n, err := node.Start(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = n.Close() })
		return n
	}
	n1 := start(t.TempDir())
	n2 := start(t.TempDir(), n1.PeerAddr())
	n3 := start(dir3, n1.PeerAddr())
	nodes := []*node.Node{n1, n2, n3}
	waitUntil(t, "meta on three voters", func() bool { return len(n1.MetaVoters()) == 3 })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const table, writesPerItem = "doomed", 3
	arn := streamedTable(ctx, t, n2, n1, table)
	writeStream(ctx, t, nodes, table, writesPerItem, nil)
	before := partitions(t, n1, table)
	if _, err := client(n3).DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)}); err != nil {
		t.Fatal(err)
	}
	hidden := url.QueryEscape(directory.DeletedTableName(table, before[0].TableID))
	// Gone at once on the node that deleted it; on the others at their
	// next directory refresh, which drops their cached record.
	_, err := client(n3).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if errCode(err) != "ResourceNotFoundException" {
		t.Fatalf("DescribeTable via node %d after the delete: %v", n3.ID(), err)
	}
	for _, n := range nodes {
		waitUntil(t, "the deleted table gone from every node", func() bool {
			_, err := client(n).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
			return errCode(err) == "ResourceNotFoundException"
		})
		checkDeletedStreamVia(ctx, t, n, arn, writesPerItem)
	}

	// A node's restart: the partitions it led elect other leaders, and
	// the stream reads the same, through the others and then through it.
	if err := n3.Close(); err != nil {
		t.Fatal(err)
	}
	checkDeletedStreamVia(ctx, t, n1, arn, writesPerItem)
	n3 = start(dir3, n1.PeerAddr())
	nodes[2] = n3
	waitFor(t, func() error { return settled(partitions(t, n1, hidden)) })
	checkDeletedStreamVia(ctx, t, n3, arn, writesPerItem)

	// A new table of the name: its own stream, the old one beside it.
	newARN := streamedTable(ctx, t, n1, n1, table)
	if newARN == arn {
		t.Fatalf("the new table's stream has the deleted table's ARN %s", arn)
	}
	checkDeletedStreamVia(ctx, t, n2, arn, writesPerItem)

	// After the retention (1 minute), the meta leader's job purges it;
	// each node's reconciler removes its replicas of the partitions.
	kept := map[uint64]int{}
	for _, n := range nodes {
		kept[n.ID()] = n.Replicas()
	}
	for _, p := range partitions(t, n1, hidden) {
		for _, v := range p.Voters {
			kept[v]--
		}
	}
	clock.Jump(61 * time.Second)
	for _, n := range nodes {
		if err := n.Jobs().RunNow(node.DeletedStreamsJob); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range nodes {
		waitUntil(t, "the deleted table's replicas removed", func() bool { return n.Replicas() == kept[n.ID()] })
		_, err := streamsClient(n).DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn)})
		if errCode(err) != "ResourceNotFoundException" {
			t.Fatalf("DescribeStream via node %d after the retention: %v", n.ID(), err)
		}
	}
}

// TestStreamsThreeNodesDeletedTableFence: a table with a stream, written
// through every node of three, two of which keep the table's record they
// had (directory refresh and settings catch-up paused), is deleted
// through the third. The paused nodes' routers still route item writes
// to the kept partitions: each is refused with DynamoDB's
// ResourceNotFoundException for a missing table (the partitions carry
// the delete's fence), and the deleted table's stream, read through
// every node, holds the writes before the delete only.
func TestStreamsThreeNodesDeletedTableFence(t *testing.T) {
	t.Parallel()
	nodes := threeAdminMembers(t)
	n1, n2, n3 := nodes[0], nodes[1], nodes[2]
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const table, writesPerItem = "fenced", 4
	arn := streamedTable(ctx, t, n2, n1, table)
	pauseDirectoryRefresh(t, n1, n3)
	writeStream(ctx, t, nodes, table, writesPerItem, nil)
	if _, err := client(n2).DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)}); err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		c := client(n)
		for w := range streamWriters {
			for i := range streamItemsPerWriter {
				_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
					"pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("w%d-i%d", w, i)},
					"v":  &types.AttributeValueMemberN{Value: strconv.Itoa(writesPerItem + 1)}}})
				var ae smithy.APIError
				if !errors.As(err, &ae) || ae.ErrorCode() != "ResourceNotFoundException" || ae.ErrorMessage() != "Requested resource not found" {
					t.Errorf("PutItem through node %d after the delete: %v, want ResourceNotFoundException: Requested resource not found", n.ID(), err)
				}
			}
		}
	}
	for _, n := range nodes {
		checkDeletedStreamVia(ctx, t, n, arn, writesPerItem)
	}
}
