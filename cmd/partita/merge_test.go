package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partitadb/partita/topology"
)

// TestMergeWithCtl runs three `partita start` processes and merges a
// table's partitions with `partita ctl partition merge`: with a node
// killed, the merge cannot freeze every replica, so it is aborted and
// both partitions take writes again; with the node back, three merges
// leave one partition, which every node's `ctl partitions` shows, with
// every item readable.
func TestMergeWithCtl(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	procs, admins, bin := threeProcesses(t, ctx, "merges")
	put := func(p *proc, i int) {
		t.Helper()
		putNumbered(t, ctx, p, "merges", i)
	}
	for i := range 100 {
		put(procs[i%3], i)
	}

	down := procs[2]
	if err := down.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = down.cmd.Wait()
	parts := tableParts(t, admins[0], "merges")
	if out, err := ctlMerge(bin, admins[0], "merges", parts[0].ID); err == nil || !strings.Contains(out, "waiting for every replica to freeze") {
		t.Fatalf("merge with a node down: %v\n%s", err, out)
	}
	for i := 100; i < 200; i++ { // both partitions take writes again
		put(procs[i%2], i)
	}
	procs[2] = startNodeAt(t, bin, down.data, "127.0.0.1:0", "127.0.0.1:0", admins[2], procs[0].peer)
	waitLayout(t, admins[2], time.Minute, func(parts []topology.PartitionInfo) error {
		if err := tableReady("merges", 4)(parts); err != nil {
			return err
		}
		return allCaughtUp(parts)
	})

	for _, via := range admins {
		parts = tableParts(t, via, "merges")
		out, err := ctlMerge(bin, via, "merges", parts[0].ID)
		if err != nil || !strings.Contains(out, "merged partition") {
			t.Fatalf("merge: %v\n%s", err, out)
		}
		t.Logf("partita ctl partition merge:\n%s", out)
	}
	for _, a := range admins {
		waitLayout(t, a, time.Minute, tableReady("merges", 1))
		out, err := exec.Command(bin, "ctl", "--addr", a, "-o", "json", "partitions", "--table", "merges").CombinedOutput()
		var listed []topology.PartitionInfo
		if err != nil || json.Unmarshal(out, &listed) != nil || len(listed) != 1 {
			t.Fatalf("ctl partitions via %s: %v\n%s", a, err, out)
		}
	}
	for i := range 200 {
		out, err := retrying(procs[i%3].api).GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("merges"), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: fmt.Sprint("k", i)}}})
		if err != nil {
			t.Fatalf("get %d: %v", i, err)
		}
		if v, ok := out.Item["n"].(*types.AttributeValueMemberN); !ok || v.Value != fmt.Sprint(i) {
			t.Fatalf("get %d: %v", i, out.Item)
		}
	}
}

// ctlMerge runs `partita ctl partition merge` and returns its output.
func ctlMerge(bin, admin, table string, partition uint64) (string, error) {
	out, err := exec.Command(bin, "ctl", "--addr", admin, "partition", "merge", table, fmt.Sprint(partition)).CombinedOutput()
	return string(out), err
}
