package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
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

// startCtlMember starts an in-process cluster node with an admin endpoint.
func startCtlMember(t *testing.T, join ...string) *node.Node {
	t.Helper()
	return startCtlMemberWith(t, func(*node.Config) {}, join...)
}

// startCtlMemberWith is startCtlMember with edit applied to the config.
func startCtlMemberWith(t *testing.T, edit func(*node.Config), join ...string) *node.Node {
	t.Helper()
	cfg := node.DefaultConfig()
	cfg.DataDir, cfg.APIAddr, cfg.PeerAddr, cfg.AdminAddr, cfg.Join = t.TempDir(), "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", join
	cfg.ReconcileInterval = 100 * time.Millisecond
	edit(&cfg)
	n, err := node.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close() })
	return n
}

// ctl runs `partita ctl --addr <via's admin address> args...` in process
// and returns its output; with the admin token via made, if it made its
// cluster closed.
func ctl(t *testing.T, via *node.Node, args ...string) (string, error) {
	t.Helper()
	return ctlContext(context.Background(), via, args...)
}

// ctlContext is ctl within ctx.
func ctlContext(ctx context.Context, via *node.Node, args ...string) (string, error) {
	var out bytes.Buffer
	root := newRootCmd()
	root.SetOut(&out)
	root.SetErr(&out)
	pre := []string{"ctl", "--addr", strings.TrimPrefix(via.AdminURL(), "http://")}
	if tok := via.BootstrapAdminToken(); tok != "" {
		pre = append(pre, "--admin-token", tok)
	}
	root.SetArgs(append(pre, args...))
	err := root.ExecuteContext(ctx)
	return out.String(), err
}

// ctlJSON runs ctl with -o json and decodes its output into out.
func ctlJSON(t *testing.T, via *node.Node, out any, args ...string) {
	t.Helper()
	text, err := ctl(t, via, append(args, "-o", "json")...)
	if err != nil {
		t.Fatalf("ctl %v: %v\n%s", args, err, text)
	}
	if err := json.Unmarshal([]byte(text), out); err != nil {
		t.Fatalf("ctl %v: %v in %s", args, err, text)
	}
}

func eventually(t *testing.T, cond func() error) {
	t.Helper()
	var err error
	for deadline := time.Now().Add(45 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if err = cond(); err == nil {
			return
		}
	}
	t.Fatalf("timed out: %v", err)
}

// settledLag is the most a caught-up follower lags its leader, in applied
// entries: while writes go on, a follower learns that an item write
// committed from the next append or heartbeat (replica.Config.LazyCommit),
// so it applies the last few a moment after its leader. A replica that
// is still catching up (from a snapshot, say) lags by many more.
const settledLag = 4

// caughtUp says every partition has a leader and every replica of its
// configuration is a caught-up leader or follower.
func caughtUp(parts []topology.PartitionInfo) error {
	for _, p := range parts {
		if p.Leader == 0 || len(p.Status) == 0 || len(p.Learners) > 0 {
			return fmt.Errorf("partition %d: %+v", p.ID, p)
		}
		for _, r := range p.Status {
			if (r.Role != topology.RoleLeader && r.Role != topology.RoleFollower) || r.Lag > settledLag {
				return fmt.Errorf("partition %d: replica %+v", p.ID, r)
			}
		}
	}
	return nil
}

// TestCtl runs the ctl subcommands against an in-process cluster: nodes,
// tables, partitions (leaders, zero lag after writes), drain (no
// leadership left on the node), and decommission (no replica left).
func TestCtl(t *testing.T) {
	t.Parallel()
	n1 := startCtlMember(t)
	n2 := startCtlMember(t, n1.PeerAddr())
	n3 := startCtlMember(t, n1.PeerAddr())
	eventually(t, func() error {
		var nodes []topology.NodeInfo
		ctlJSON(t, n2, &nodes, "nodes")
		if len(nodes) != 3 {
			return fmt.Errorf("nodes %+v", nodes)
		}
		for _, nd := range nodes {
			if nd.Status != directory.Alive || nd.AdminAddr == "" || nd.WriteFormat != "effects" {
				return fmt.Errorf("node %+v", nd)
			}
		}
		return nil
	})
	text, err := ctl(t, n3, "nodes")
	// Grouped by zone (these nodes name none): the zone's line, then
	// its three nodes.
	if err != nil || !strings.HasPrefix(text, "ZONE  ID  STATUS") || !strings.Contains(text, "healthy: 3 of 3 alive") ||
		strings.Count(text, " alive ") != 4 ||
		!strings.Contains(text, "WRITES") || strings.Count(text, " effects ") != 3 {
		t.Fatalf("ctl nodes: %v\n%s", err, text)
	}
	// A new cluster starts at its binary's newest version: nothing to
	// finalise.
	text, err = ctl(t, n2, "upgrade", "status")
	if err != nil || !strings.Contains(text, "cluster version "+clusterversion.Latest.String()) || !strings.Contains(text, "nothing to finalise") ||
		strings.Count(text, fmt.Sprintf(" [1, %d] ", clusterversion.Latest)) != 3 {
		t.Fatalf("ctl upgrade status: %v\n%s", err, text)
	}

	createCtlTable(t, n1, 30)
	if text, err := ctl(t, n1, "tables"); err != nil || !strings.Contains(text, "ctl") || !strings.Contains(text, "ACTIVE") {
		t.Fatalf("ctl tables: %v\n%s", err, text)
	}
	eventually(t, func() error {
		var parts []topology.PartitionInfo
		ctlJSON(t, n3, &parts, "partitions")
		if len(parts) != 5 {
			return fmt.Errorf("%d partitions", len(parts))
		}
		return caughtUp(parts)
	})
	text, err = ctl(t, n2, "partitions", "--table", "ctl")
	if err != nil || strings.Count(text, " leader ") != 4 || strings.Count(text, " follower ") != 8 || strings.Contains(text, "(meta)") {
		t.Fatalf("ctl partitions --table ctl: %v\n%s", err, text)
	}
	if _, err := ctl(t, n2, "partitions", "--table", "nope"); err == nil || !strings.Contains(err.Error(), "no table") {
		t.Fatalf("unknown table: %v", err)
	}

	// node drain: no partition led by node 1 afterwards, and node 1
	// marked draining (undrained at the end).
	// A drain moves what it can and says what it could not (a voter
	// whose heartbeat is late under load is not live enough to take a
	// leader); the operator runs it again.
	var drained operator.DrainResult
	ctlJSON(t, n2, &drained, "node", "drain", fmt.Sprint(n1.ID()))
	if drained.Led == 0 || drained.Draining.IsZero() {
		t.Fatalf("drain %+v: node 1 led nothing, or is not marked draining", drained)
	}
	eventually(t, func() error {
		if drained.Moved != drained.Led {
			err := fmt.Errorf("drain %+v", drained)
			ctlJSON(t, n2, &drained, "node", "drain", fmt.Sprint(n1.ID()))
			return err
		}
		return nil
	})
	var parts []topology.PartitionInfo
	ctlJSON(t, n3, &parts, "partitions")
	for _, p := range parts {
		if p.Leader == n1.ID() || p.Leader == 0 {
			t.Fatalf("after the drain, partition %d is led by %d", p.ID, p.Leader)
		}
	}

	// node decommission --wait=false: node 3 is marked (no Doctor runs
	// here to move its replicas: the answer says so); ctl nodes shows it;
	// node recommission clears the mark.
	text, err = ctl(t, n1, "node", "decommission", fmt.Sprint(n3.ID()), "--wait=false", "--reason", "new disks")
	if err != nil || !strings.Contains(text, fmt.Sprintf("node %d decommissioning since", n3.ID())) || !strings.Contains(text, ": new disks") ||
		!strings.Contains(text, "partitions left") || !strings.Contains(text, "no Doctor is active") {
		t.Fatalf("ctl node decommission --wait=false: %v\n%s", err, text)
	}
	// Another node's view shows the mark once its directory caught up.
	eventually(t, func() error {
		text, err := ctl(t, n2, "nodes")
		if err != nil || !strings.Contains(text, "MEMBERSHIP") || strings.Count(text, "decommissioning (marked") != 1 ||
			strings.Count(text, "draining (since") != 1 || strings.Count(text, " active") != 1 {
			return fmt.Errorf("ctl nodes with node %d decommissioning: %w\n%s", n3.ID(), err, text)
		}
		return nil
	})
	eventually(t, func() error {
		var listed []topology.NodeInfo
		ctlJSON(t, n1, &listed, "nodes")
		for _, nd := range listed {
			if (nd.ID == n3.ID()) != !nd.Decommissioning.IsZero() || nd.ID == n3.ID() && nd.DecommissionReason != "new disks" {
				return fmt.Errorf("ctl nodes -o json: %+v", nd)
			}
		}
		return nil
	})
	text, err = ctl(t, n2, "node", "recommission", fmt.Sprint(n3.ID()))
	if err != nil || !strings.Contains(text, "recommissioned") {
		t.Fatalf("ctl node recommission: %v\n%s", err, text)
	}
	if text, err := ctl(t, n2, "node", "undrain", fmt.Sprint(n1.ID())); err != nil {
		t.Fatalf("ctl node undrain: %v\n%s", err, text)
	}
	eventually(t, func() error {
		if text, err := ctl(t, n1, "nodes"); err != nil || strings.Contains(text, "decommissioning (marked") || strings.Count(text, " active") != 3 {
			return fmt.Errorf("ctl nodes after the recommission and the undrain: %w\n%s", err, text)
		}
		return nil
	})
}

// TestCtlJobs lists one node's jobs and drives one through pause, resume
// and run-now.
func TestCtlJobs(t *testing.T) {
	t.Parallel()
	n := startCtlMember(t)
	out, err := ctl(t, n, "jobs")
	if err != nil || !strings.Contains(out, "table-stats") || !strings.Contains(out, "directory") {
		t.Fatalf("ctl jobs: %v\n%s", err, out)
	}
	var j jobRow
	ctlJSON(t, n, &j, "jobs", "pause", "table-stats")
	if !j.Paused {
		t.Fatalf("after pause: %+v", j)
	}
	ctlJSON(t, n, &j, "jobs", "resume", "table-stats")
	if j.Paused {
		t.Fatalf("after resume: %+v", j)
	}
	before := j.Runs
	ctlJSON(t, n, &j, "jobs", "run", "table-stats")
	eventually(t, func() error {
		var list struct {
			Jobs []jobRow `json:"jobs"`
		}
		ctlJSON(t, n, &list, "jobs")
		for _, job := range list.Jobs {
			if job.Name == "table-stats" && job.Runs > before {
				return nil
			}
		}
		return fmt.Errorf("table-stats did not run again (runs %d)", before)
	})
	if _, err := ctl(t, n, "jobs", "pause", "no-such-job"); err == nil {
		t.Fatal("pausing an unknown job succeeded")
	}
}

// createCtlTable creates table "ctl" through n's API, on-demand and keyed
// by pk, and puts items k0 to k<items-1> in it.
func createCtlTable(t *testing.T, n *node.Node, items int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db := dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(n.APIURL()),
		Credentials: aws.AnonymousCredentials{}})
	if _, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("ctl"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	for i := range items {
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("ctl"), Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: fmt.Sprint("k", i)}}}); err != nil {
			t.Fatal(err)
		}
	}
}
