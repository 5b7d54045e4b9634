package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/topology"
)

// TestSplitWhileNodeDown runs three `partita start` processes. One is
// killed with SIGKILL; `partita ctl partition split` splits two of the
// table's partitions, then one of the new halves again, while it is down;
// writes go on until every split partition's log is trimmed past its
// split (its leader's first index, applied minus log entries, is past
// the index it had applied when the split returned).
// Restarted, the node converges: every node's `ctl partitions` shows the
// new layout with three caught-up voters per partition, and with another
// node killed, every acknowledged write is read through the restarted
// one.
func TestSplitWhileNodeDown(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	procs, admins, bin := threeProcesses(t, ctx, "splits")
	put := func(p *proc, i int) {
		t.Helper()
		putNumbered(t, ctx, p, "splits", i)
	}
	for i := range 100 {
		put(procs[i%3], i)
	}
	down := procs[2]
	if err := down.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = down.cmd.Wait()

	// splitAt is, for each partition split, an index its leader had
	// applied once the split returned: at or past the split's.
	splitAt := map[uint64]uint64{}
	split := func(admin string, p uint64, at string) {
		ctlSplit(t, bin, admin, "splits", p, at)
		splitAt[p] = leaderStatus(t, admins[0], p).Applied
	}
	parts := tableParts(t, admins[0], "splits")
	split(admins[0], parts[0].ID, "")
	split(admins[1], ownerOfKey(parts, "k7").ID, "k7")
	parts = tableParts(t, admins[1], "splits")
	split(admins[0], parts[1].ID, "")
	// Writes until every split partition's log is trimmed past its split,
	// each round of 100 to the partitions not trimmed yet: a half may own a
	// sliver of the hashes (k7's split), which writes spread over every
	// partition would reach a few times a minute on a loaded machine.
	written := make([]int, 0, 1000)
	for i := range 100 {
		written = append(written, i)
	}
	next := 100
	var behind []string    // the partitions not yet trimmed, as last seen
	var behindIDs []uint64 // their ids
	trimmed := func() bool {
		behind, behindIDs = behind[:0], behindIDs[:0]
		for p, at := range splitAt {
			if st := leaderStatus(t, admins[0], p); st.Applied <= st.LogEntries || st.Applied-st.LogEntries <= at {
				behind = append(behind, fmt.Sprintf("p%d (split at %d): applied %d, %d entries, leader n%d in term %d", p, at, st.Applied, st.LogEntries, st.Node, st.Term))
				behindIDs = append(behindIDs, p)
			}
		}
		return len(behind) == 0
	}
	// A right half keeps its whole log for a while (replica.NewGroupGrace,
	// 30 s) for the replica the stopped node has yet to create.
	for deadline := time.Now().Add(2 * time.Minute); !trimmed(); {
		if time.Now().After(deadline) {
			t.Fatalf("%d writes in 2 minutes did not trim the split partitions' logs past their splits: %s", len(written), strings.Join(behind, "; "))
		}
		parts := tableParts(t, admins[0], "splits")
		for n := 0; n < 100; next++ {
			if slices.Contains(behindIDs, ownerOfKey(parts, fmt.Sprint("k", next)).ID) {
				put(procs[next%2], next)
				written = append(written, next)
				n++
			}
		}
	}
	t.Logf("%d writes trimmed every split partition's log past its split", len(written))

	procs[2] = startNodeAt(t, bin, down.data, "127.0.0.1:0", "127.0.0.1:0", admins[2], procs[0].peer)
	for _, a := range admins {
		waitLayout(t, a, 2*time.Minute, func(parts []topology.PartitionInfo) error {
			if err := tableReady("splits", 7)(parts); err != nil {
				return err
			}
			return allCaughtUp(parts)
		})
	}
	// The logs were trimmed past the splits: the node caught up by
	// snapshots, a left half's and its right halves'.
	if n := snapshotsReceived(t, admins[2]); n < 2 {
		t.Fatalf("the restarted node installed %d snapshots, want the halves' (at least 2)", n)
	} else {
		t.Logf("the restarted node installed %d snapshots", n)
	}
	if err := procs[0].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = procs[0].cmd.Wait()
	for _, i := range written {
		out, err := retrying(procs[2].api).GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("splits"), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: fmt.Sprint("k", i)}}})
		if err != nil {
			t.Fatalf("get %d via the restarted node: %v", i, err)
		}
		if v, ok := out.Item["n"].(*types.AttributeValueMemberN); !ok || v.Value != fmt.Sprint(i) {
			t.Fatalf("get %d via the restarted node: %v", i, out.Item)
		}
	}
}

// leaderStatus returns the status of partition's leader as a node's admin
// endpoint shows it (polling until it has one).
func leaderStatus(t *testing.T, admin string, partition uint64) topology.ReplicaInfo {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		parts, err := adminPartitions(admin)
		if err != nil {
			continue
		}
		for _, p := range parts {
			for _, r := range p.Status {
				if p.ID == partition && r.Node == p.Leader {
					return r
				}
			}
		}
	}
	t.Fatalf("partition %d has no leader", partition)
	return topology.ReplicaInfo{}
}

// tableReady says table has n partitions, each with a leader.
func tableReady(table string, n int) func([]topology.PartitionInfo) error {
	return func(parts []topology.PartitionInfo) error {
		got := 0
		for _, p := range parts {
			if p.Table != table {
				continue
			}
			got++
			if p.Leader == 0 {
				return fmt.Errorf("partition %d has no leader", p.ID)
			}
		}
		if got != n {
			return fmt.Errorf("table %s has %d partitions, want %d", table, got, n)
		}
		return nil
	}
}

// tableParts returns table's partitions, in hash order, as a node's admin
// endpoint shows them.
func tableParts(t *testing.T, admin, table string) []topology.PartitionInfo {
	t.Helper()
	all, err := adminPartitions(admin)
	if err != nil {
		t.Fatal(err)
	}
	var parts []topology.PartitionInfo
	for _, p := range all {
		if p.Table == table {
			parts = append(parts, p)
		}
	}
	for i := 1; i < len(parts); i++ {
		for j := i; j > 0 && parts[j].HashStart < parts[j-1].HashStart; j-- {
			parts[j], parts[j-1] = parts[j-1], parts[j]
		}
	}
	return parts
}

// ownerOfKey returns the partition of parts (in hash order) holding the
// string partition key pk.
func ownerOfKey(parts []topology.PartitionInfo, pk string) topology.PartitionInfo {
	h, owner := item.Hash(item.S(pk)), parts[0]
	for _, p := range parts {
		if p.HashStart <= h {
			owner = p
		}
	}
	return owner
}

// ctlSplit runs `partita ctl partition split`.
func ctlSplit(t *testing.T, bin, admin, table string, partition uint64, at string) {
	t.Helper()
	args := []string{"ctl", "--addr", admin, "partition", "split", table, fmt.Sprint(partition)}
	if at != "" {
		args = append(args, "--at", at)
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "new partition") {
		t.Fatalf("partita %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	t.Logf("partita %s:\n%s", strings.Join(args, " "), out)
}

// retrying is a client that retries as applications do, through the SDK.
func retrying(url string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(url),
		Credentials: client(url).Options().Credentials, RetryMaxAttempts: 20, RetryMode: aws.RetryModeStandard})
}

// adminPartitions reads every partition from a node's admin endpoint.
func adminPartitions(admin string) ([]topology.PartitionInfo, error) {
	resp, err := http.Get("http://" + admin + "/cluster/partitions")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var parts []topology.PartitionInfo
	return parts, json.NewDecoder(resp.Body).Decode(&parts)
}

// allCaughtUp says every partition has a leader and three voters, none
// lagging.
func allCaughtUp(parts []topology.PartitionInfo) error {
	for _, p := range parts {
		if p.Leader == 0 || len(p.Voters) != 3 || len(p.Learners) > 0 {
			return fmt.Errorf("partition %d: leader %d voters %v learners %v", p.ID, p.Leader, p.Voters, p.Learners)
		}
		for _, r := range p.Status {
			if slices.Contains(p.Voters, r.Node) && r.Lag > settledLag {
				return fmt.Errorf("partition %d: n%d lags %d", p.ID, r.Node, r.Lag)
			}
		}
	}
	return nil
}

// waitLayout polls the partitions a node's admin endpoint shows until ok
// accepts them, for up to d.
func waitLayout(t *testing.T, admin string, d time.Duration, ok func([]topology.PartitionInfo) error) {
	t.Helper()
	for deadline := time.Now().Add(d); ; time.Sleep(500 * time.Millisecond) {
		parts, err := adminPartitions(admin)
		if err == nil {
			err = ok(parts)
		}
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s after %v: %v", admin, d, err)
		}
	}
}

// snapshotsReceived reads the snapshots a node received and staged.
func snapshotsReceived(t *testing.T, admin string) int {
	t.Helper()
	resp, err := http.Get("http://" + admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^partita_raft_snapshots_received_total\{outcome="ok"\} (\d+)`).FindSubmatch(body)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// threeProcesses starts three `partita start` processes (the first
// bootstraps, the others join it) and creates table (hash key pk, four
// partitions) through the second; it returns the processes, their admin
// addresses and the binary.
func threeProcesses(t *testing.T, ctx context.Context, table string) ([]*proc, []string, string) {
	t.Helper()
	dir := t.TempDir()
	bin := buildBinary(t)
	admins := []string{freeAddr(t), freeAddr(t), freeAddr(t)}
	procs := []*proc{startNode(t, bin, filepath.Join(dir, "n1"), admins[0], "")}
	for i := 1; i < 3; i++ {
		procs = append(procs, startNode(t, bin, filepath.Join(dir, fmt.Sprint("n", i+1)), admins[i], procs[0].peer))
	}
	if _, err := retrying(procs[1].api).CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	waitLayout(t, admins[0], time.Minute, tableReady(table, 4))
	return procs, admins, bin
}

// putNumbered writes item k<i> (with n = i) to table through p.
func putNumbered(t *testing.T, ctx context.Context, p *proc, table string, i int) {
	t.Helper()
	if _, err := retrying(p.api).PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: fmt.Sprint("k", i)}, "n": &types.AttributeValueMemberN{Value: fmt.Sprint(i)},
	}}); err != nil {
		t.Fatalf("put %d via %s: %v", i, p.api, err)
	}
}
