package node_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/node"
)

// TestConsistentQueryAndScanOnALaggingNode: on a node whose replicas of
// a table stopped receiving raft traffic (they keep what they had), a
// Query or Scan with ConsistentRead sees every acknowledged write; an
// eventually consistent Scan there may not, which shows the replicas lag.
func TestConsistentQueryAndScanOnALaggingNode(t *testing.T) {
	t.Parallel()
	var drop atomic.Bool
	noDoctor := func(c *node.Config) { c.Doctor = false }
	n1 := startHealerWith(t, "", noDoctor)
	startHealerWith(t, "", noDoctor, n1.PeerAddr())
	n3 := startHealerWith(t, "", func(c *node.Config) {
		c.Doctor = false
		c.DropRaft = func(p uint64) bool { return p != directory.MetaPartition && drop.Load() }
	}, n1.PeerAddr())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const table = "lagging"
	if _, err := client(n1).CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the table on every node", func() bool {
		_, err := client(n3).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		return err == nil
	})
	drop.Store(true)
	const items = 20
	for i := range items {
		if _, err := client(n1).PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table),
			Item: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: fmt.Sprint("k", i)}}}); err != nil {
			t.Fatalf("put %d: %v", i, err)
		}
	}
	scan := func(consistent bool) int {
		t.Helper()
		n := 0
		p := dynamodb.NewScanPaginator(client(n3), &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(consistent)})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatalf("scan (consistent %v): %v", consistent, err)
			}
			n += len(out.Items)
		}
		return n
	}
	if n := scan(false); n == items {
		t.Fatalf("an eventually consistent scan of the lagging node saw all %d items: the test's lag is not there", n)
	}
	if n := scan(true); n != items {
		t.Fatalf("a consistent scan through the lagging node saw %d items, want %d", n, items)
	}
	for i := range items {
		out, err := client(n3).Query(ctx, &dynamodb.QueryInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
			KeyConditionExpression:    aws.String("pk = :k"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":k": &types.AttributeValueMemberS{Value: fmt.Sprint("k", i)}}})
		if err != nil || len(out.Items) != 1 {
			t.Fatalf("a consistent query of k%d through the lagging node: %v items, %v", i, len(out.Items), err)
		}
	}
}
