package node_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partitadb/partita/clusterversion"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/doctor/operator"
	"github.com/partitadb/partita/node"
	"github.com/partitadb/partita/topology"
)

// startAdminMember starts a cluster node with an admin endpoint.
func startAdminMember(t *testing.T, join ...string) *node.Node {
	t.Helper()
	return startAdminMemberAt(t, t.TempDir(), "127.0.0.1:0", join...)
}

// startAdminMemberAt is startAdminMember on data directory dir and peer
// address peer (a node restarted on its data, on an address of choice).
func startAdminMemberAt(t *testing.T, dir, peer string, join ...string) *node.Node {
	t.Helper()
	return startAdminMemberWith(t, dir, peer, nil, join...)
}

// startAdminMemberWith is startAdminMemberAt with tweak applied to the
// config.
func startAdminMemberWith(t *testing.T, dir, peer string, tweak func(*node.Config), join ...string) *node.Node {
	t.Helper()
	cfg := node.DefaultConfig()
	cfg.DataDir, cfg.APIAddr, cfg.PeerAddr, cfg.AdminAddr, cfg.Join = dir, "127.0.0.1:0", peer, "127.0.0.1:0", join
	cfg.ReconcileInterval = 100 * time.Millisecond
	if tweak != nil {
		tweak(&cfg)
	}
	n, err := node.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close() })
	return n
}

// adminGet decodes the JSON answer of method path on n's admin endpoint.
func adminDo(t *testing.T, n *node.Node, method, path string, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, n.AdminURL()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, body)
		}
	}
	return resp.StatusCode
}

func partitions(t *testing.T, via *node.Node, table string) []topology.PartitionInfo {
	t.Helper()
	var parts []topology.PartitionInfo
	if code := adminDo(t, via, http.MethodGet, "/cluster/partitions?table="+table, &parts); code != http.StatusOK {
		t.Fatalf("partitions of %s: status %d", table, code)
	}
	return parts
}

// settledLag is the most a caught-up follower lags its leader, in applied
// entries: while writes go on, a follower learns that an item write
// committed from the next append or heartbeat (replica.Config.LazyCommit),
// so it applies the last few a moment after its leader. A replica that
// is still catching up (from a snapshot, say) lags by many more.
const settledLag = 4

// settled says every partition has a leader, its voters are the
// directory's replicas, and every replica is caught up.
func settled(parts []topology.PartitionInfo) error {
	for _, p := range parts {
		if p.Leader == 0 {
			return fmt.Errorf("partition %d has no leader", p.ID)
		}
		if !slices.Equal(sorted(p.Replicas), p.Voters) || len(p.Learners) > 0 {
			return fmt.Errorf("partition %d: directory %v, voters %v, learners %v", p.ID, p.Replicas, p.Voters, p.Learners)
		}
		for _, r := range p.Status {
			if r.Role != topology.RoleLeader && r.Role != topology.RoleFollower || r.Lag > settledLag {
				return fmt.Errorf("partition %d: replica %+v", p.ID, r)
			}
		}
	}
	return nil
}

func sorted(ids []uint64) []uint64 {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

// waitFor polls cond (which explains what it waits for) for up to 45s.
func waitFor(t *testing.T, cond func() error) {
	t.Helper()
	var err error
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if err = cond(); err == nil {
			return
		}
	}
	t.Fatalf("timed out: %v", err)
}

// TestCtlEndpoints: on a 3-node cluster, any node lists the nodes, the
// tables and the partitions with leaders and zero lag; a drain moves every
// leadership off a node; with a fourth node, a decommission moves every
// replica off a node, and the data stays readable. Its binaries claim the
// cluster version before decommission marks: the decommission is the
// operator's, run within the request (no Doctor runs here).
func TestCtlEndpoints(t *testing.T) {
	t.Parallel()
	before := func(cfg *node.Config) { cfg.MaxClusterVersion = uint32(clusterversion.DecommissionMarks - 1) }
	startAdminMember := func(t *testing.T, join ...string) *node.Node {
		t.Helper()
		return startAdminMemberWith(t, t.TempDir(), "127.0.0.1:0", before, join...)
	}
	n1 := startAdminMember(t)
	n2 := startAdminMember(t, n1.PeerAddr())
	n3 := startAdminMember(t, n1.PeerAddr())
	waitFor(t, func() error {
		var nodes []topology.NodeInfo
		adminDo(t, n3, http.MethodGet, "/cluster/nodes", &nodes)
		if len(nodes) != 3 {
			return fmt.Errorf("nodes %+v", nodes)
		}
		for _, nd := range nodes {
			if nd.Status != directory.Alive || nd.AdminAddr == "" || nd.APIAddr == "" || !nd.MetaVoter {
				return fmt.Errorf("node %+v", nd)
			}
		}
		return nil
	})
	db := client(n2)
	createTable(t, db, "ctl")
	for i := range 40 {
		put(t, client([]*node.Node{n1, n2, n3}[i%3]), "ctl", fmt.Sprint("k", i))
	}
	var tables []topology.TableInfo
	if adminDo(t, n1, http.MethodGet, "/cluster/tables", &tables); len(tables) != 1 || tables[0].Name != "ctl" ||
		tables[0].Partitions != 4 || tables[0].Status != "ACTIVE" {
		t.Fatalf("tables %+v", tables)
	}
	waitFor(t, func() error { return settled(partitions(t, n2, "")) })
	all := partitions(t, n2, "")
	if all[0].Table != topology.MetaTable || len(all) != 5 || len(all[1].Status) != 3 || all[1].Status[0].Applied == 0 {
		t.Fatalf("partitions %+v", all)
	}
	// Node-to-node operations travel over the cluster service, not admin
	// HTTP.
	var ignored any
	if code := adminDo(t, n1, http.MethodGet, "/cluster/local/replicas", &ignored); code != http.StatusNotFound {
		t.Fatalf("/cluster/local/replicas: status %d, want 404", code)
	}
	var none []topology.PartitionInfo
	if code := adminDo(t, n1, http.MethodGet, "/cluster/partitions?table=nope", &none); code != http.StatusNotFound {
		t.Fatalf("unknown table: status %d", code)
	}

	// Drain node 1 through node 3: no partition is led by node 1 after.
	if drained := drainNode(t, n3, n1, ""); drained.Node != n1.ID() || drained.Moved != drained.Led {
		t.Fatalf("drain %+v", drained)
	}

	// Decommission node 2 with a fourth node to take its replicas.
	// (It is given every member: a join through one that does not lead the
	// meta partition fails as of now.)
	n4 := startAdminMember(t, n1.PeerAddr(), n2.PeerAddr(), n3.PeerAddr())
	waitFor(t, func() error {
		var nodes []topology.NodeInfo
		adminDo(t, n1, http.MethodGet, "/cluster/nodes", &nodes)
		if len(nodes) != 4 || nodes[3].Status != directory.Alive || nodes[3].AdminAddr == "" {
			return fmt.Errorf("nodes %+v", nodes)
		}
		return nil
	})
	gone := n2.ID()
	// Below the version there is no mark to clear.
	var ignoredRes operator.DecommissionResult
	if code := adminDo(t, n1, http.MethodPost, fmt.Sprintf("/cluster/nodes/%d/recommission", gone), &ignoredRes); code != http.StatusConflict {
		t.Fatalf("recommission below the version: status %d, want 409", code)
	}
	var res operator.DecommissionResult
	if code := adminDo(t, n1, http.MethodPost, fmt.Sprintf("/cluster/nodes/%d/decommission", gone), &res); code != http.StatusOK ||
		res.Mode != operator.DecommissionByOperator || !res.Done || !res.Removed {
		t.Fatalf("decommission: status %d, %+v", code, res)
	}
	if len(res.Partitions) != 5 {
		t.Fatalf("decommission moved %d partitions, want 5: %+v", len(res.Partitions), res)
	}
	for _, p := range res.Partitions {
		if p.State != operator.StepMoved || !p.Destroyed || p.To != n4.ID() {
			t.Fatalf("decommission step %+v", p)
		}
	}
	waitFor(t, func() error {
		parts := partitions(t, n3, "")
		for _, p := range parts {
			if slices.Contains(p.Replicas, gone) || slices.Contains(p.Voters, gone) {
				return fmt.Errorf("partition %d keeps node %d: %+v", p.ID, gone, p)
			}
		}
		return settled(parts)
	})
	if got := n2.Replicas(); got != 0 {
		t.Fatalf("decommissioned node still hosts %d replicas", got)
	}
	// The nodes left close their connections to the removed node.
	waitFor(t, func() error {
		for _, n := range []*node.Node{n1, n3, n4} {
			if slices.Contains(n.PeerConnections(), n2.PeerAddr()) {
				return fmt.Errorf("n%d keeps a connection to the removed node at %s", n.ID(), n2.PeerAddr())
			}
		}
		return nil
	})
	for i := range 40 {
		put(t, client([]*node.Node{n1, n3, n4}[i%3]), "ctl", fmt.Sprint("k", i))
	}
}

// TestCtlOnASingleNode: a `partita dev` node answers the cluster views as a
// cluster of one: its own record, alive, its tables, and their partitions
// led by it; an operation on a node it does not know fails cleanly.
func TestCtlOnASingleNode(t *testing.T) {
	t.Parallel()
	n := start(t, t.TempDir())
	defer n.Close()
	ctx := context.Background()
	if _, err := client(n).CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("solo"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() error {
		var nodes []topology.NodeInfo
		if code := adminDo(t, n, http.MethodGet, "/cluster/nodes", &nodes); code != http.StatusOK {
			return fmt.Errorf("nodes: status %d", code)
		}
		if len(nodes) != 1 || nodes[0].ID != 1 || nodes[0].Status != directory.Alive || nodes[0].APIAddr == "" {
			return fmt.Errorf("nodes: %+v, want node 1 alive with its API address", nodes)
		}
		return nil
	})
	var tables []topology.TableInfo
	if code := adminDo(t, n, http.MethodGet, "/cluster/tables", &tables); code != http.StatusOK || len(tables) != 1 || tables[0].Name != "solo" {
		t.Fatalf("tables: status %d, %+v", code, tables)
	}
	waitFor(t, func() error {
		parts := partitions(t, n, "solo")
		if len(parts) == 0 {
			return errors.New("no partitions")
		}
		for _, p := range parts {
			if p.Leader != 1 {
				return fmt.Errorf("partition %d led by %d, want 1", p.ID, p.Leader)
			}
		}
		return nil
	})
	var res operator.DrainResult
	if code := adminDo(t, n, http.MethodPost, "/cluster/nodes/7/drain", &res); code == http.StatusOK {
		t.Fatalf("drain of an unknown node answered 200: %+v", res)
	}
}
