package node_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partitadb/partita/cluster"
)

// TestNodesRefuseAnotherClustersTraffic: node 2 of cluster A stops, and
// node 2 of a new cluster B takes its peer address, as a port reused by
// another process on the machine would be. A's leaders still count node 2
// a member and keep sending to that address. B's node must refuse them:
// stepped, a heartbeat of A's meta leader, promising a commit index B's
// young meta log does not reach, crashes it (the panic "tocommit(103) is
// out of range [lastIndex(22)]" two CI runs of the parallel suite hit),
// and A's addresses learned from those streams would send B's traffic to
// A. Both clusters keep working.
func TestNodesRefuseAnotherClustersTraffic(t *testing.T) {
	t.Parallel()
	a1 := startAdminMemberAt(t, t.TempDir(), "127.0.0.1:0")
	a2 := startAdminMemberAt(t, t.TempDir(), "127.0.0.1:0", a1.PeerAddr())
	startAdminMemberAt(t, t.TempDir(), "127.0.0.1:0", a1.PeerAddr())
	waitUntil(t, "A's meta on three voters", func() bool { return len(a1.MetaVoters()) == 3 })
	// A's meta log runs well ahead of the one B is about to start.
	for i := range 4 {
		createTable(t, client(a1), fmt.Sprint("table-a", i))
	}
	if a2.ID() != 2 {
		t.Fatalf("A's second node is node %d", a2.ID())
	}
	addr := a2.PeerAddr()
	if err := a2.Close(); err != nil {
		t.Fatal(err)
	}
	b1 := startAdminMemberAt(t, t.TempDir(), "127.0.0.1:0")
	b2 := startAdminMemberAt(t, t.TempDir(), addr, b1.PeerAddr())
	if b2.ID() != 2 {
		t.Fatalf("B's second node is node %d", b2.ID())
	}
	waitUntil(t, "B's node refusing A's calls", func() bool {
		return metric(t, b2, `partita_node_peer_calls_other_cluster_total`) > 0
	})
	waitUntil(t, "B's meta on two voters", func() bool { return len(b1.MetaVoters()) == 2 })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, c := range []struct {
		name  string
		db    *dynamodb.Client
		table string
	}{{"B", client(b2), "table-b"}, {"A", client(a1), "table-a0"}} {
		if c.name == "B" {
			createTable(t, c.db, c.table)
		}
		key := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "k"}}
		if _, err := c.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(c.table), Item: map[string]types.AttributeValue{
			"pk": key["pk"], "cluster": &types.AttributeValueMemberS{Value: c.name}}}); err != nil {
			t.Fatalf("cluster %s: put: %v", c.name, err)
		}
		out, err := c.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(c.table), Key: key, ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatalf("cluster %s: get: %v", c.name, err)
		}
		if v, ok := out.Item["cluster"].(*types.AttributeValueMemberS); !ok || v.Value != c.name {
			t.Fatalf("cluster %s: read back %v", c.name, out.Item)
		}
	}
	if got := metric(t, a1, `partita_node_peer_calls_other_cluster_total`); got != 0 {
		t.Fatalf("A's node 1 refused %v calls: B's node sent it traffic", got)
	}
	// Within a cluster, a call by id reaching another node at the address
	// the caller had for it is refused too, and one for the node served.
	wrong, err := cluster.NewClient(cluster.Config{Resolve: func(uint64) (string, error) { return b2.PeerAddr(), nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer wrong.Close()
	if _, err := wrong.ReplicaStatus(ctx, 1); !errors.Is(err, cluster.ErrWrongPeer) || !strings.Contains(err.Error(), "a call for node 1 reached node 2") {
		t.Fatalf("a call for node 1 at node 2's address: %v", err)
	}
	if _, err := wrong.ReplicaStatus(ctx, 2); err != nil {
		t.Fatalf("a call for node 2 at its address: %v", err)
	}
}
