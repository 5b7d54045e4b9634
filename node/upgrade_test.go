package node_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/cluster"
	"github.com/partitadb/partita/clusterversion"
	"github.com/partitadb/partita/doctor/upgrade"
	"github.com/partitadb/partita/node"
)

// TestClusterVersionUpgrade: a cluster begun by a binary that supports
// only version 1 stays at it, its nodes writing commands, while newer
// binaries join; once that node runs a newer binary too, the Doctor
// finalises version 2 (not while an operator holds it), every node then
// writes effects, the timeline says so, and a binary that supports only
// version 1 can no longer join. (The newer binaries claim version 2 at
// most: the step from 1 to 2 is the one a format change of the write
// path needs; later versions are gates of their own.)
func TestClusterVersionUpgrade(t *testing.T) {
	t.Parallel()
	dir1 := t.TempDir()
	// The nodes' logs, shown if the test fails (it once saw node 3 dead
	// after n1's restart, for the whole wait, under a loaded CI run).
	var logs syncBuffer
	defer func() {
		if t.Failed() {
			t.Logf("the nodes' logs:\n%s", logs.String())
		}
	}()
	opts := func(maxVersion uint32) func(*node.Config) {
		return func(c *node.Config) {
			c.MaxClusterVersion, c.UpgradeSoak = maxVersion, time.Second
			c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
		}
	}
	first := func(c *node.Config) { opts(1)(c); c.DataDir = dir1 }
	n1 := startHealerWith(t, "", first)
	n2 := startHealerWith(t, "", opts(2), n1.PeerAddr())
	n3 := startHealerWith(t, "", opts(2), n1.PeerAddr())
	// status asks n2, redirected to the active Doctor's node; while the
	// Doctor moves (n1 restarts), an empty status.
	status := func() upgrade.Status {
		t.Helper()
		var st upgrade.Status
		resp, err := http.Get(n2.AdminURL() + "/upgrade/status")
		if err != nil {
			return st
		}
		defer resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
				t.Fatal(err)
			}
		}
		return st
	}
	formats := func(st upgrade.Status, want string) bool {
		if len(st.Nodes) != 3 {
			return false
		}
		for _, n := range st.Nodes {
			if n.Format != want {
				return false
			}
		}
		return true
	}
	waitUntil(t, "three nodes writing commands at version 1", func() bool {
		st := status()
		return st.Active == clusterversion.Base && formats(st, "commands")
	})
	if st := status(); st.Target != clusterversion.Base || st.Due() {
		t.Fatalf("with a node that supports version 1 only: %+v", st)
	}
	var held upgrade.Status
	if code := adminDo(t, n3, http.MethodPost, "/upgrade/hold?reason=canary", &held); code != http.StatusOK || !held.Hold {
		t.Fatalf("hold: %d %+v", code, held)
	}

	if err := n1.Close(); err != nil {
		t.Fatal(err)
	}
	n1 = startHealerWith(t, "", func(c *node.Config) { opts(2)(c); c.DataDir = dir1 })
	var blocked upgrade.Status
	defer func() {
		if t.Failed() {
			t.Logf("the status waiting for the hold alone: %+v", blocked)
		}
	}()
	waitUntil(t, "finalisation to version 2 blocked by the hold alone", func() bool {
		blocked = status()
		return blocked.Target == clusterversion.Effects && len(blocked.Blockers) == 1 && strings.Contains(blocked.Blockers[0], "held")
	})
	time.Sleep(2 * time.Second) // past the soak: still held
	if st := status(); st.Active != clusterversion.Base {
		t.Fatalf("finalised while held: %+v", st)
	}
	// A rollback before finalisation: n1 back on a binary that supports
	// version 1 only starts, serves, and blocks finalisation again; then
	// forward once more.
	if err := n1.Close(); err != nil {
		t.Fatal(err)
	}
	n1 = startHealerWith(t, "", first)
	waitUntil(t, "finalisation blocked by the rolled-back node", func() bool {
		blocked = status()
		return blocked.Target == clusterversion.Base && blocked.Active == clusterversion.Base && len(blocked.Nodes) == 3
	})
	createCapacityTable(t, client(n2), "rollback", 0, 0)
	if err := putN(client(n1), "rollback", 1); err != nil {
		t.Fatalf("the rolled-back node does not serve: %v", err)
	}
	if err := n1.Close(); err != nil {
		t.Fatal(err)
	}
	n1 = startHealerWith(t, "", func(c *node.Config) { opts(2)(c); c.DataDir = dir1 })
	waitUntil(t, "finalisation to version 2 blocked by the hold alone, after the rollback", func() bool {
		blocked = status()
		return blocked.Target == clusterversion.Effects && len(blocked.Blockers) == 1 && strings.Contains(blocked.Blockers[0], "held")
	})
	if code := adminDo(t, n1, http.MethodPost, "/upgrade/release", &held); code != http.StatusOK || held.Hold {
		t.Fatalf("release: %d %+v", code, held)
	}
	var last upgrade.Status
	defer func() {
		if t.Failed() {
			t.Logf("the last status: %+v", last)
		}
	}()
	waitUntil(t, "version 2 finalised and every node writing effects", func() bool {
		last = status()
		return last.Active == clusterversion.Effects && formats(last, "effects")
	})
	var timeline []admin.TimelineEntry
	if code := adminDo(t, n3, http.MethodGet, "/doctor/timeline?kind=upgrade", &timeline); code != http.StatusOK ||
		len(timeline) != 1 || !strings.Contains(timeline[0].Outcome, "cluster version 2 finalised (from 1)") {
		t.Fatalf("the timeline's upgrade entries: %d %+v", code, timeline)
	}
	// Features of later versions wait for them: at version 2, local
	// secondary indexes, transactions and backups are refused, and say
	// why.
	refused := func(what string, err error, version clusterversion.Version) {
		t.Helper()
		var ae smithy.APIError
		want := fmt.Sprintf("need cluster version %d; the cluster runs at version 2", version)
		if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationException" || !strings.Contains(ae.ErrorMessage(), want) {
			t.Fatalf("%s at version 2: %v, want a ValidationException saying %q", what, err, want)
		}
	}
	keys := []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}, {AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange}}
	_, err := client(n2).CreateTable(context.Background(), &dynamodb.CreateTableInput{TableName: aws.String("lsi"), BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS}, {AttributeName: aws.String("l"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema: keys,
		LocalSecondaryIndexes: []types.LocalSecondaryIndex{{IndexName: aws.String("byL"), Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
			KeySchema: []types.KeySchemaElement{keys[0], {AttributeName: aws.String("l"), KeyType: types.KeyTypeRange}}}}})
	refused("CreateTable with a local secondary index", err, clusterversion.LocalIndexes)
	_, err = client(n2).TransactWriteItems(context.Background(), &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String("rollback"), Item: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "t"}}}}}})
	refused("TransactWriteItems", err, clusterversion.Transactions)
	_, err = client(n2).CreateBackup(context.Background(), &dynamodb.CreateBackupInput{TableName: aws.String("rollback"), BackupName: aws.String("early")})
	refused("CreateBackup", err, clusterversion.Backups)
	_, err = client(n2).UpdateContinuousBackups(context.Background(), &dynamodb.UpdateContinuousBackupsInput{TableName: aws.String("rollback"),
		PointInTimeRecoverySpecification: &types.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)}})
	refused("UpdateContinuousBackups", err, clusterversion.PointInTimeRecovery)

	cfg := node.DefaultConfig()
	cfg.DataDir, cfg.APIAddr, cfg.PeerAddr, cfg.AdminAddr = t.TempDir(), "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.Join, cfg.MaxClusterVersion = []string{n2.PeerAddr()}, 1
	old, err := node.Start(context.Background(), cfg)
	if err == nil {
		old.Close()
		t.Fatal("a binary that supports version 1 only joined a cluster at version 2")
	}
	if !errors.Is(err, cluster.ErrJoinRefused) || !strings.Contains(err.Error(), "the cluster runs at version 2") {
		t.Fatalf("an old binary's join: %v", err)
	}

	// A member restarted on its data directory with a binary too old for
	// the version its meta replica applied refuses to start: it would
	// meet entries it cannot read.
	waitUntil(t, "n1's meta replica at version 2", func() bool {
		v, err := n1.StoredClusterVersion()
		return err == nil && v == clusterversion.Effects
	})
	if err := n1.Close(); err != nil {
		t.Fatal(err)
	}
	cfg = node.DefaultConfig()
	cfg.DataDir, cfg.APIAddr, cfg.PeerAddr, cfg.AdminAddr = dir1, "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.MaxClusterVersion = 1
	if old, err = node.Start(context.Background(), cfg); err == nil {
		old.Close()
		t.Fatal("a binary that supports version 1 only restarted a member of a cluster at version 2")
	}
	if errors.Is(err, cluster.ErrJoinRefused) || !strings.Contains(err.Error(), "the cluster runs at version 2, newer than this binary supports [1, 1]") {
		t.Fatalf("an old binary's restart: %v", err)
	}
}

// TestSingleNodeVersion: a single node runs at its binary's newest
// version at once, and writes effects.
func TestSingleNodeVersion(t *testing.T) {
	t.Parallel()
	cfg := node.DefaultConfig()
	cfg.DataDir, cfg.APIAddr, cfg.AdminAddr = t.TempDir(), "127.0.0.1:0", "127.0.0.1:0"
	n, err := node.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	var st upgrade.Status
	waitUntil(t, "a single node at version 2, writing effects", func() bool {
		if code := adminDo(t, n, http.MethodGet, "/upgrade/status", &st); code != http.StatusOK {
			t.Fatalf("/upgrade/status: %d", code)
		}
		return st.Active == clusterversion.Latest && len(st.Nodes) == 1 && st.Nodes[0].Format == "effects"
	})
}
