package node_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partitadb/partita/doctor/operator"
	"github.com/partitadb/partita/node"
	"github.com/partitadb/partita/topology"
)

// TestClusterRestartsOnNewAddresses: every node of a 3-node cluster
// stops and starts again on its data with new ports (as nodes started
// with port 0 do): node 3 first, joining the address node 1 will listen
// on, then node 1, without --join as it was first started, and node 2
// last, once node 3 leads every partition (a drain of node 1): node 2
// must find node 3, which it was not given and which does not know where
// node 2 is. No node is where the directory lists it, and the directory
// cannot record the new addresses without a meta quorum; the nodes find
// each other by introducing themselves, every acknowledged write is read
// back through each node, new writes and a new table work, and the
// directory ends up listing every node at its new address.
func TestClusterRestartsOnNewAddresses(t *testing.T) {
	t.Parallel()
	dirs := []string{t.TempDir(), t.TempDir(), t.TempDir()}
	n1 := startAdminMemberAt(t, dirs[0], "127.0.0.1:0")
	nodes := []*node.Node{n1, startAdminMemberAt(t, dirs[1], "127.0.0.1:0", n1.PeerAddr()), startAdminMemberAt(t, dirs[2], "127.0.0.1:0", n1.PeerAddr())}
	waitUntil(t, "meta on three voters", func() bool { return len(n1.MetaVoters()) == 3 })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	put := func(via *node.Node, table string, i int) {
		t.Helper()
		if _, err := client(via).PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: fmt.Sprint("k", i)}, "n": &types.AttributeValueMemberN{Value: fmt.Sprint(i)},
		}}); err != nil {
			t.Fatalf("put %d via node %d: %v", i, via.ID(), err)
		}
	}
	check := func(via *node.Node, table string, i int) {
		t.Helper()
		out, err := client(via).GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: fmt.Sprint("k", i)}}})
		if err != nil {
			t.Fatalf("get %d via node %d: %v", i, via.ID(), err)
		}
		if v, ok := out.Item["n"].(*types.AttributeValueMemberN); !ok || v.Value != fmt.Sprint(i) {
			t.Fatalf("get %d via node %d: %v", i, via.ID(), out.Item)
		}
	}
	createTable(t, client(nodes[1]), "before")
	for i := range 30 {
		put(nodes[i%3], "before", i)
	}
	old := map[uint64]string{}
	for _, n := range nodes {
		old[n.ID()] = n.PeerAddr()
		if err := n.Close(); err != nil {
			t.Fatal(err)
		}
	}

	// Node 1's next address: nodes 2 and 3 are told to join it before
	// anyone answers there. The port stays held (a listener that accepts
	// nothing) until node 1 starts: closed earlier, another test's
	// port-0 listener could take it meanwhile.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	peer1 := ln.Addr().String()
	n3 := startAdminMemberAt(t, dirs[2], "127.0.0.1:0", peer1)
	time.Sleep(time.Second) // its introductions fail: nobody answers at peer1 yet
	ln.Close()
	n1 = startAdminMemberAt(t, dirs[0], peer1)
	// Nodes 1 and 3 are a quorum: node 1's directory records node 3's new
	// address, and so forgets what node 3 announced. Node 2 comes back
	// only then, and must still learn where node 3 is.
	waitUntil(t, "node 1's directory to list node 3 where it is", func() bool {
		var listed []topology.NodeInfo
		adminDo(t, n1, http.MethodGet, "/cluster/nodes", &listed)
		for _, l := range listed {
			if l.ID == n3.ID() {
				return l.PeerAddr == n3.PeerAddr()
			}
		}
		return false
	})
	// Node 3 takes every leadership from node 1, the meta partition's
	// included: node 2, given node 1 only, must find node 3 to heartbeat.
	var drained operator.DrainResult
	if code := adminDo(t, n3, http.MethodPost, fmt.Sprintf("/cluster/nodes/%d/drain", n1.ID()), &drained); code != http.StatusOK ||
		drained.Moved != drained.Led {
		t.Fatalf("drain node 1: status %d, %+v", code, drained)
	}
	n2 := startAdminMemberAt(t, dirs[1], "127.0.0.1:0", peer1)
	nodes = []*node.Node{n1, n2, n3}
	for _, n := range nodes {
		if n.PeerAddr() == old[n.ID()] {
			t.Fatalf("node %d restarted on its old address %s", n.ID(), old[n.ID()])
		}
	}
	for i := range 30 {
		check(nodes[i%3], "before", i)
	}
	for i := 30; i < 40; i++ {
		put(nodes[i%3], "before", i)
	}
	createTable(t, client(nodes[2]), "after")
	for i := range 10 {
		put(nodes[i%3], "after", i)
		check(nodes[(i+1)%3], "after", i)
	}
	for _, via := range nodes {
		waitUntil(t, fmt.Sprintf("node %d's directory to list every node where it is", via.ID()), func() bool {
			var listed []topology.NodeInfo
			if code := adminDo(t, via, http.MethodGet, "/cluster/nodes", &listed); code != http.StatusOK || len(listed) != 3 {
				return false
			}
			for _, l := range listed {
				if l.PeerAddr != nodes[l.ID-1].PeerAddr() {
					return false
				}
			}
			return true
		})
	}
}
