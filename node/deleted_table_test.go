package node_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/partitadb/partita/node"
)

// TestDeletedTableThreeNodes: a table without a stream, written and read
// through every node of three, is deleted through the second while the
// other two keep the table's record they had (directory refresh paused;
// their replicas of its partitions, which the delete did not destroy,
// live on with a quorum). Their item writes reach those replicas and
// are refused (the delete fenced the partitions before destroying their
// data), with DynamoDB's ResourceNotFoundException. Then the third node
// closes: the first node's replicas are all that is left, without a
// leader, and its writes and consistent reads end with the same error
// instead of retrying until the request timeout (10 s). Each request is
// given 5 s, a guard against a hang, not a measure.
func TestDeletedTableThreeNodes(t *testing.T) {
	t.Parallel()
	nodes := threeAdminMembers(t)
	n1, n2, n3 := nodes[0], nodes[1], nodes[2]
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const table, items = "doomed", 12
	if _, err := client(n2).CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	key := func(i int) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: fmt.Sprint("item", i)}}
	}
	for i := range items {
		if _, err := client(nodes[i%3]).PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: key(i)}); err != nil {
			t.Fatalf("PutItem %d: %v", i, err)
		}
		for _, n := range nodes { // every router caches the record
			if _, err := client(n).GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key(i)}); err != nil {
				t.Fatalf("GetItem %d through node %d: %v", i, n.ID(), err)
			}
		}
	}
	pauseDirectoryRefresh(t, n1, n3)
	if _, err := client(n2).DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)}); err != nil {
		t.Fatal(err)
	}
	notFound := func(what string, n *node.Node, err error) {
		t.Helper()
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "ResourceNotFoundException" || ae.ErrorMessage() != "Requested resource not found" {
			t.Errorf("%s through node %d after the delete: %v, want ResourceNotFoundException: Requested resource not found", what, n.ID(), err)
		}
	}
	put := func(n *node.Node, i int) error {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_, err := client(n).PutItem(rctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: key(i)})
		return err
	}
	for _, n := range nodes {
		for i := range items {
			notFound("PutItem", n, put(n, i))
		}
	}

	// The third node goes: the first node's replicas are all that is left
	// of the partitions, without a leader.
	if err := n3.Close(); err != nil {
		t.Fatal(err)
	}
	for i := range items {
		notFound("PutItem", n1, put(n1, i))
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := client(n1).GetItem(rctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key(i), ConsistentRead: aws.Bool(true)})
		cancel()
		notFound("consistent GetItem", n1, err)
	}
}
