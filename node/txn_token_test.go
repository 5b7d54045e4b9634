package node_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partitadb/partita/node"
)

// TestClientRequestTokenAcrossNodes: a TransactWriteItems (and an
// ExecuteTransaction) with a ClientRequestToken runs once whichever node
// its repeats reach, also once the node that ran it is gone; the token
// with another request is refused on every node.
func TestClientRequestTokenAcrossNodes(t *testing.T) {
	t.Parallel()
	n1 := startMember(t, t.TempDir())
	n2 := startMember(t, t.TempDir(), n1.PeerAddr())
	n3 := startMember(t, t.TempDir(), n1.PeerAddr())
	defer n2.Close()
	defer n3.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	waitUntil(t, "meta on three voters", func() bool { return len(n1.MetaVoters()) == 3 })
	if _, err := client(n1).CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("counters"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	w := dynamodb.NewTableExistsWaiter(client(n1), func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay = 50 * time.Millisecond })
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("counters")}, time.Minute); err != nil {
		t.Fatal(err)
	}
	key := func(pk string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}}
	}
	// bump adds one to the counters a and b in one transaction.
	bump := func(token, other string) *dynamodb.TransactWriteItemsInput {
		one := map[string]types.AttributeValue{":one": &types.AttributeValueMemberN{Value: "1"}}
		return &dynamodb.TransactWriteItemsInput{ClientRequestToken: aws.String(token), TransactItems: []types.TransactWriteItem{
			{Update: &types.Update{TableName: aws.String("counters"), Key: key("a"), UpdateExpression: aws.String("ADD c :one"), ExpressionAttributeValues: one}},
			{Update: &types.Update{TableName: aws.String("counters"), Key: key(other), UpdateExpression: aws.String("ADD c :one"), ExpressionAttributeValues: one}},
		}}
	}
	send := func(n *node.Node, in *dynamodb.TransactWriteItemsInput) error {
		_, err := client(n).TransactWriteItems(ctx, in)
		return err
	}
	count := func(via *node.Node, pk string) int {
		t.Helper()
		out, err := client(via).GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("counters"), Key: key(pk), ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		if out.Item == nil {
			return 0
		}
		c, _ := strconv.Atoi(out.Item["c"].(*types.AttributeValueMemberN).Value)
		return c
	}
	const mismatch = "IdempotentParameterMismatchException"
	for i, n := range []*node.Node{n1, n2, n3, n1} {
		if err := send(n, bump("tok-1", "b")); err != nil {
			t.Fatalf("send %d of tok-1 through %s: %v", i+1, n.APIURL(), err)
		}
	}
	if c := count(n3, "a"); c != 1 {
		t.Fatalf("counter after four sends of one token = %d, want 1", c)
	}
	for _, n := range []*node.Node{n1, n2, n3} {
		wantAPIError(t, send(n, bump("tok-1", "x")), mismatch, "The request uses the same client token")
	}
	if c := count(n2, "x"); c != 0 {
		t.Fatalf("the refused request ran: x = %d", c)
	}

	// Node 1, which ran tok-1, is gone: its token is not.
	if err := n1.Close(); err != nil {
		t.Fatal(err)
	}
	for _, n := range []*node.Node{n2, n3} {
		if err := send(n, bump("tok-1", "b")); err != nil {
			t.Fatalf("tok-1 through %s with node 1 gone: %v", n.APIURL(), err)
		}
		wantAPIError(t, send(n, bump("tok-1", "x")), mismatch, "The request uses the same client token")
	}
	for _, n := range []*node.Node{n2, n3, n2} {
		if err := send(n, bump("tok-2", "b")); err != nil {
			t.Fatalf("tok-2 through %s: %v", n.APIURL(), err)
		}
	}
	if a, b := count(n2, "a"), count(n3, "b"); a != 2 || b != 2 {
		t.Fatalf("counters after tok-1 and tok-2: a = %d, b = %d, want 2 and 2", a, b)
	}

	// ExecuteTransaction takes the same path.
	stmt := func(pk string) types.ParameterizedStatement {
		return types.ParameterizedStatement{Statement: aws.String("UPDATE counters SET c = c + ? WHERE pk = ?"),
			Parameters: []types.AttributeValue{&types.AttributeValueMemberN{Value: "1"}, &types.AttributeValueMemberS{Value: pk}}}
	}
	exec := &dynamodb.ExecuteTransactionInput{ClientRequestToken: aws.String("tok-3"),
		TransactStatements: []types.ParameterizedStatement{stmt("a"), stmt("b")}}
	for _, n := range []*node.Node{n3, n2} {
		if _, err := client(n).ExecuteTransaction(ctx, exec); err != nil {
			t.Fatalf("ExecuteTransaction tok-3 through %s: %v", n.APIURL(), err)
		}
	}
	if a := count(n3, "a"); a != 3 {
		t.Fatalf("counter a after tok-3 sent twice = %d, want 3", a)
	}
	_, err := client(n2).ExecuteTransaction(ctx, &dynamodb.ExecuteTransactionInput{ClientRequestToken: aws.String("tok-3"),
		TransactStatements: []types.ParameterizedStatement{stmt("a"), stmt("x")}})
	wantAPIError(t, err, mismatch, "The request uses the same client token")
}
