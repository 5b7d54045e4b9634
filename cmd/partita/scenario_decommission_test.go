//go:build scenario

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partitadb/partita/topology"
)

// TestScenarioTwoNodesDecommissioned: five processes, replication factor
// 3, writers running through the first two with the SDK's retries. Two
// nodes (4 and 5) are marked for decommissioning at once with partita
// ctl node decommission --wait=false, and left running. Reported: how
// long until both records are gone and every partition has three healthy
// voters on nodes 1-3, and the writes that failed after retries and
// were lost (must be 0 lost).
func TestScenarioTwoNodesDecommissioned(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bin := buildBinary(t)
	procs, admins := scenarioCluster(t, bin, dir, 5, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	scenarioTable(ctx, t, procs[0].api, "scenario")
	// Settled, with replicas on both nodes that leave.
	waitParts(t, admins[0], 5*time.Minute, func(parts []topology.PartitionInfo) error {
		if err := healedWithout(parts, 0); err != nil {
			return err
		}
		for _, n := range []uint64{4, 5} {
			if !slices.ContainsFunc(parts, func(p topology.PartitionInfo) bool { return slices.Contains(p.Voters, n) }) {
				return fmt.Errorf("n%d holds no voter yet", n)
			}
		}
		return nil
	})

	var (
		mu    sync.Mutex
		acked []string
		errs  int
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w, p := range procs[:2] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db := patient(p.api)
			for i := 0; i < 100000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprintf("w%d-%d", w, i)
				_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("scenario"),
					Item: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: key}}})
				mu.Lock()
				if err != nil {
					errs++
				} else {
					acked = append(acked, key)
				}
				mu.Unlock()
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}
	time.Sleep(5 * time.Second)
	marked := time.Now()
	for _, n := range []string{"4", "5"} {
		out, err := exec.CommandContext(ctx, bin, "ctl", "--addr", admins[0], "--data-dir", filepath.Join(dir, "n1"),
			"node", "decommission", n, "--reason", "scenario", "--wait=false").CombinedOutput()
		if err != nil {
			t.Fatalf("ctl node decommission %s: %v\n%s", n, err, out)
		}
	}
	// Both records gone, and every partition on nodes 1-3 with three
	// healthy voters.
	for deadline := time.Now().Add(10 * time.Minute); ; time.Sleep(time.Second) {
		err := gone(admins[0], 4, 5)
		if err == nil {
			var parts []topology.PartitionInfo
			if parts, err = partitionsOf(admins[0]); err == nil {
				if err = healedWithout(parts, 4); err == nil {
					err = healedWithout(parts, 5)
				}
			}
		}
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("10 min after the marks: %v", err)
		}
	}
	took := time.Since(marked)
	time.Sleep(5 * time.Second)
	close(stop)
	wg.Wait()
	lost := countLost(ctx, t, procs[0].api, "scenario", acked)
	t.Logf("nodes 4 and 5 marked at once; both records gone and every partition on nodes 1-3 with 3 healthy voters %v after the marks",
		took.Round(100*time.Millisecond))
	t.Logf("writes acknowledged %d, failed after retries %d, lost %d", len(acked), errs, lost)
	if lost > 0 {
		t.Fatalf("%d acknowledged writes lost", lost)
	}
}

// gone says the directory, as admin's node shows it, lists none of ids.
func gone(admin string, ids ...uint64) error {
	resp, err := http.Get("http://" + admin + "/cluster/nodes")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var nodes []topology.NodeInfo
	if err := json.NewDecoder(resp.Body).Decode(&nodes); err != nil {
		return err
	}
	for _, n := range nodes {
		if slices.Contains(ids, n.ID) {
			return fmt.Errorf("n%d still listed", n.ID)
		}
	}
	return nil
}
