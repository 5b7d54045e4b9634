package node_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partitadb/partita/node"
)

// startMember starts a cluster node on loopback; join lists peer addresses
// of members (none: bootstrap a new cluster).
func startMember(t *testing.T, dir string, join ...string) *node.Node {
	t.Helper()
	cfg := node.DefaultConfig()
	cfg.DataDir, cfg.APIAddr, cfg.PeerAddr, cfg.Join = dir, "127.0.0.1:0", "127.0.0.1:0", join
	cfg.ReconcileInterval = 100 * time.Millisecond
	n, err := node.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestThreeNodeCluster: a table created through one node is written
// through another and read through the third; with one node closed, the
// others keep serving.
func TestThreeNodeCluster(t *testing.T) {
	t.Parallel()
	n1 := startMember(t, t.TempDir())
	n2 := startMember(t, t.TempDir(), n1.PeerAddr())
	n3 := startMember(t, t.TempDir(), n1.PeerAddr())
	defer n2.Close()
	defer n3.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	waitUntil(t, "meta on three voters", func() bool { return len(n1.MetaVoters()) == 3 })

	_, err := client(n2).CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("spread"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
	nodes := []*node.Node{n1, n2, n3}
	put := func(via *node.Node, i int) error {
		_, err := client(via).PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("spread"), Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: fmt.Sprint("k", i)}, "n": &types.AttributeValueMemberN{Value: fmt.Sprint(i)},
		}})
		return err
	}
	get := func(via *node.Node, i int) (string, error) {
		out, err := client(via).GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("spread"), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: fmt.Sprint("k", i)}}})
		if err != nil || out.Item == nil {
			return "", err
		}
		return out.Item["n"].(*types.AttributeValueMemberN).Value, nil
	}
	for i := range 30 {
		if err := put(nodes[i%3], i); err != nil {
			t.Fatalf("put %d via node %d: %v", i, i%3+1, err)
		}
	}
	for i := range 30 {
		if v, err := get(nodes[(i+1)%3], i); err != nil || v != fmt.Sprint(i) {
			t.Fatalf("get %d via node %d: %q %v", i, (i+1)%3+1, v, err)
		}
	}
	out, err := client(n3).Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("spread"), ConsistentRead: aws.Bool(true)})
	if err != nil || out.Count != 30 {
		t.Fatalf("scan via node 3: %v items, %v", out, err)
	}
	// One node down (the first, bootstrap node): the others still serve.
	if err := n1.Close(); err != nil {
		t.Fatal(err)
	}
	for i := 30; i < 40; i++ {
		if err := put(nodes[1+i%2], i); err != nil {
			t.Fatalf("put %d with node 1 down: %v", i, err)
		}
		if v, err := get(nodes[1+(i+1)%2], i); err != nil || v != fmt.Sprint(i) {
			t.Fatalf("get %d with node 1 down: %q %v", i, v, err)
		}
	}
}

// The deadline is for a machine running four of the package's tests at
// once beside other packages' (README, "Development").
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestFiveNodeCluster: with five nodes, partitions spread three replicas
// over all of them; losing any one node leaves every partition writable.
func TestFiveNodeCluster(t *testing.T) {
	t.Parallel()
	first := startMember(t, t.TempDir())
	nodes := []*node.Node{first}
	for range 4 {
		nodes = append(nodes, startMember(t, t.TempDir(), first.PeerAddr()))
	}
	defer func() {
		for _, n := range nodes[:4] {
			n.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	waitUntil(t, "meta on three voters", func() bool { return len(first.MetaVoters()) == 3 })
	if _, err := client(nodes[2]).CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("five"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	write := func(via []*node.Node, from, to int) {
		for i := from; i < to; i++ {
			if _, err := client(via[i%len(via)]).PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("five"),
				Item: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: fmt.Sprint("k", i)}}}); err != nil {
				t.Fatalf("put %d: %v", i, err)
			}
		}
	}
	write(nodes, 0, 50)
	// The last node is not a meta voter (meta took the first three); it
	// holds replicas of some table partitions.
	if err := nodes[4].Close(); err != nil {
		t.Fatal(err)
	}
	write(nodes[:4], 50, 100)
	out, err := client(nodes[1]).Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("five"), ConsistentRead: aws.Bool(true)})
	if err != nil || out.Count != 100 {
		t.Fatalf("scan after losing a node: %v items, %v", out, err)
	}
}

// TestDeletedTablesLeaveNoReplicas: after a table is deleted (and another
// created), no node keeps a replica of the deleted table's partitions.
func TestDeletedTablesLeaveNoReplicas(t *testing.T) {
	t.Parallel()
	n1 := startMember(t, t.TempDir())
	n2 := startMember(t, t.TempDir(), n1.PeerAddr())
	n3 := startMember(t, t.TempDir(), n1.PeerAddr())
	nodes := []*node.Node{n1, n2, n3}
	defer func() {
		for _, n := range nodes {
			n.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	create := func(name string) {
		t.Helper()
		if _, err := client(n1).CreateTable(ctx, &dynamodb.CreateTableInput{
			TableName:            aws.String(name),
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
			KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
			BillingMode:          types.BillingModePayPerRequest,
		}); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, "meta on three voters", func() bool { return len(n1.MetaVoters()) == 3 })
	create("doomed")
	waitUntil(t, "every node hosts the table", func() bool {
		return n1.Replicas() == 5 && n2.Replicas() == 5 && n3.Replicas() == 5
	})
	if _, err := client(n2).DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("doomed")}); err != nil {
		t.Fatal(err)
	}
	create("kept")
	waitUntil(t, "only meta and the kept table's replicas remain", func() bool {
		return n1.Replicas() == 5 && n2.Replicas() == 5 && n3.Replicas() == 5
	})
}
