package node_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/node"
	"github.com/partitadb/partita/topology/history"
	"github.com/partitadb/partita/topology/ingest"
	"github.com/partitadb/partita/topology/publish"
	"github.com/partitadb/partita/topology/topologypb"
)

func startTopology(t *testing.T, edit func(*node.Config)) *node.Node {
	t.Helper()
	cfg := node.DefaultConfig()
	cfg.DataDir, cfg.APIAddr, cfg.AdminAddr = t.TempDir(), "127.0.0.1:0", "127.0.0.1:0"
	cfg.TopologyInterval = 20 * time.Millisecond
	edit(&cfg)
	n, err := node.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func putItems(t *testing.T, n *node.Node, table string, count int) {
	t.Helper()
	ctx := context.Background()
	db := client(n)
	if _, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	for i := range count {
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: fmt.Sprint("k", i)},
		}}); err != nil {
			t.Fatalf("put %d: %v", i, err)
		}
	}
}

// The deadline is for a machine running four of the package's tests at
// once beside other packages' (README, "Development").
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(40 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// A node publishes its snapshots to a file:// bucket under the history
// layout, with its table's replicas and their load.
func TestTopologyPublishedToFileBucket(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "topology")
	n := startTopology(t, func(c *node.Config) { c.TopologyBucket = "file://" + filepath.ToSlash(dir) })
	defer n.Close()
	putItems(t, n, "orders", 20)
	eventually(t, "a snapshot with the table's items", func() bool {
		var items uint64
		for _, r := range n.LatestTopology().GetReplicas() {
			if r.GetTable() == "orders" {
				items += r.GetLoad().GetItems()
			}
		}
		return items == 20
	})
	eventually(t, "snapshots in the bucket", func() bool { return metric(t, n, "partita_topology_snapshots_published_total") >= 3 })
	found := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		name, err := history.ParseKey(filepath.ToSlash(rel))
		if err != nil {
			return fmt.Errorf("file %s outside the layout: %w", rel, err)
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var snap topologypb.TopologySnapshot
		if err := proto.Unmarshal(raw, &snap); err != nil {
			return err
		}
		if snap.GetNode().GetId() != 1 || name.Node != 1 || snap.GetSeq() != name.Seq || len(snap.GetReplicas()) == 0 {
			return fmt.Errorf("%s holds snapshot %d of node %d with %d replicas", rel, snap.GetSeq(), snap.GetNode().GetId(), len(snap.GetReplicas()))
		}
		found++
		return nil
	})
	if err != nil || found < 3 {
		t.Fatalf("bucket walk: %d snapshots, %v", found, err)
	}
	if v := metric(t, n, "partita_topology_snapshots_produced_total"); v < 3 {
		t.Fatalf("produced %v snapshots", v)
	}
}

// A stalled bucket never holds up the node: its writes succeed and its
// snapshots keep being produced while the queue drops the oldest.
func TestStalledTopologyBucketDoesNotBlockTheNode(t *testing.T) {
	t.Parallel()
	var fb *publish.FaultyBucket
	n := startTopology(t, func(c *node.Config) {
		c.TopologyBucket = "mem://"
		c.TopologyWrapBucket = func(b publish.Bucket) publish.Bucket {
			fb = publish.NewFaultyBucket(b)
			fb.Stall()
			return fb
		}
	})
	defer n.Close()
	defer fb.Heal()
	putItems(t, n, "busy", 50)
	// The queue holds 32 snapshots: production went on past it, so the
	// producer never waited for the stalled write.
	queue := publish.DefaultConfig().QueueSnapshots
	eventually(t, "snapshots dropped from the full queue", func() bool {
		return metric(t, n, "partita_topology_snapshots_dropped_total") > 0
	})
	if st := n.TopologyPublisher().Stats(); st.Published != 0 || st.Queued != queue {
		t.Fatalf("publisher %+v behind a stalled bucket, want a full queue of %d and nothing published", st, queue)
	}
	if got := metric(t, n, "partita_topology_snapshots_produced_total"); got <= float64(queue) {
		t.Fatalf("%v snapshots produced", got)
	}
	fb.Heal()
	eventually(t, "publishing to resume", func() bool { return n.TopologyPublisher().Stats().Published > 0 })
}

// In a cluster, every node publishes to the shared bucket and reports to
// the meta leader; the snapshots agree on the meta partition's leader, and
// the leader's shows its followers' progress.
func TestTopologyInACluster(t *testing.T) {
	t.Parallel()
	bucket := "file://" + filepath.ToSlash(filepath.Join(t.TempDir(), "topology"))
	startNode := func(join ...string) *node.Node {
		return startTopology(t, func(c *node.Config) {
			c.PeerAddr, c.Join, c.ReconcileInterval, c.TopologyBucket = "127.0.0.1:0", join, 100*time.Millisecond, bucket
			c.TopologyInterval = 50 * time.Millisecond
		})
	}
	n1 := startNode()
	n2 := startNode(n1.PeerAddr())
	n3 := startNode(n1.PeerAddr())
	nodes := []*node.Node{n1, n2, n3}
	defer func() {
		for _, n := range nodes {
			n.Close()
		}
	}()
	eventually(t, "meta on three voters", func() bool { return len(n1.MetaVoters()) == 3 })
	metaOf := func(n *node.Node) *topologypb.Replica {
		for _, r := range n.LatestTopology().GetReplicas() {
			if r.GetPartition() == 1 {
				return r
			}
		}
		return nil
	}
	eventually(t, "every node to report the same meta leader, and the leader its two followers", func() bool {
		var leader uint64
		for _, n := range nodes {
			r := metaOf(n)
			if r == nil || r.GetLeader() == 0 || (leader != 0 && r.GetLeader() != leader) || len(r.GetVoters()) != 3 {
				return false
			}
			leader = r.GetLeader()
		}
		lr := metaOf(nodes[leader-1])
		return lr.GetRole() == topologypb.Role_ROLE_LEADER && len(lr.GetFollowers()) == 2 &&
			lr.GetFollowers()[0].GetMatch() > 0 && lr.GetFollowers()[0].GetSinceContactNanos() < int64(5*time.Second)
	})
	// Each node tried the fast path (whether the receiver accepts reports
	// or not yet), toward a known target.
	for _, n := range nodes {
		eventually(t, fmt.Sprintf("node %d to report", n.ID()), func() bool {
			return metric(t, n, `partita_topology_reports_total\{outcome="sent"\}`)+metric(t, n, `partita_topology_reports_total\{outcome="failed"\}`) >= 2
		})
		if p := n.TopologyPublisher(); p == nil {
			t.Fatalf("node %d has no publisher", n.ID())
		}
	}
	eventually(t, "every node's snapshots in the shared bucket", func() bool {
		for _, n := range nodes {
			if n.TopologyPublisher().Stats().Published == 0 {
				return false
			}
		}
		return true
	})
}

// TestReceiverCatchesUpFromTheBucket: a node that becomes the receiver of
// the reports reads the recent history first, so its view holds a node
// that stopped reporting before it took over.
func TestReceiverCatchesUpFromTheBucket(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "topology")
	bucket, err := publish.OpenBucket(context.Background(), "file://"+filepath.ToSlash(dir))
	if err != nil {
		t.Fatal(err)
	}
	// Node 7 reported 20 s ago, before this node ran.
	g := ingest.Synthetic{Nodes: 7, Replicas: 2, Interval: time.Second, Start: time.Now().Add(-20 * time.Second)}
	snap := g.Snapshot(7, 1)
	data, err := proto.Marshal(snap)
	if err != nil {
		t.Fatal(err)
	}
	name := history.Name{Node: 7, Taken: time.Unix(0, snap.GetUnixNanos()), Started: g.Start, Seq: 1}
	if err := bucket.WriteAll(context.Background(), name.Key(), data, nil); err != nil {
		t.Fatal(err)
	}
	if err := bucket.Close(); err != nil {
		t.Fatal(err)
	}
	n := startTopology(t, func(c *node.Config) { c.TopologyBucket = "file://" + filepath.ToSlash(dir) })
	defer n.Close()
	eventually(t, "node 7 in the receiver's view", func() bool {
		for _, nv := range n.Ingester().View().Nodes {
			if nv.ID == 7 {
				return true
			}
		}
		return false
	})
}
