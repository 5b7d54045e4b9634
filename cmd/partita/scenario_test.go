//go:build scenario

package main

// Scenario runs of the Doctor on real processes, with the default
// settings (dead-after 30 s, topology every 5 s, a Doctor cycle every
// 5 s). They take minutes, so they run only with the scenario build tag:
//
//	go test -tags scenario -run TestScenario -v ./cmd/partita
//
// and print the figures the Doctor's issue asks for.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/topology"
	"github.com/partitadb/partita/topology/ingest"
)

// partitionsOf reads every partition (the meta partition's too) from a
// node's admin endpoint.
func partitionsOf(admin string) ([]topology.PartitionInfo, error) {
	resp, err := http.Get("http://" + admin + "/cluster/partitions")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var parts []topology.PartitionInfo
	return parts, json.NewDecoder(resp.Body).Decode(&parts)
}

// healedWithout says every partition has a leader and three caught-up
// voters, none on node gone, each reachable and holding its replica.
func healedWithout(parts []topology.PartitionInfo, gone uint64) error {
	for _, p := range parts {
		if p.Leader == 0 || len(p.Voters) != 3 || len(p.Learners) > 0 || slices.Contains(p.Voters, gone) {
			return fmt.Errorf("partition %d: leader %d voters %v learners %v", p.ID, p.Leader, p.Voters, p.Learners)
		}
		for _, r := range p.Status {
			if slices.Contains(p.Voters, r.Node) && (r.Lag > settledLag || r.Role == topology.RoleUnreachable || r.Role == topology.RoleMissing) {
				return fmt.Errorf("partition %d: n%d %s, lags %d", p.ID, r.Node, r.Role, r.Lag)
			}
		}
	}
	return nil
}

// scenarioCluster starts n `partita start` processes, the first a new
// cluster and the others joining it, each with extra(i)'s flags, and
// returns them with their admin addresses.
func scenarioCluster(t *testing.T, bin, dir string, n int, extra func(i int) []string) ([]*proc, []string) {
	t.Helper()
	var procs []*proc
	var admins []string
	for i := range n {
		admins = append(admins, freeAddr(t))
		args := []string{"start", "--data-dir", filepath.Join(dir, fmt.Sprint("n", i+1)), "--api-addr", "127.0.0.1:0",
			"--peer-addr", "127.0.0.1:0", "--admin-addr", admins[i], "--log-level", "error", "--insecure"}
		if i > 0 {
			args = append(args, "--join", procs[0].peer)
		}
		if extra != nil {
			args = append(args, extra(i)...)
		}
		procs = append(procs, startProc(t, bin, args...))
	}
	return procs, admins
}

// patient is a client that retries as applications do, through the SDK.
func patient(url string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(url),
		Credentials: client(url).Options().Credentials, RetryMaxAttempts: 20, RetryMode: aws.RetryModeStandard})
}

// scenarioTable creates an on-demand table keyed by pk through url.
func scenarioTable(ctx context.Context, t *testing.T, url, name string) {
	t.Helper()
	if _, err := patient(url).CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
}

// countLost reads keys of table back through url, strongly
// consistent, and counts those missing.
func countLost(ctx context.Context, t *testing.T, url, table string, keys []string) int {
	t.Helper()
	db := patient(url)
	lost := 0
	for _, key := range keys {
		out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: key}}})
		if err != nil {
			t.Fatalf("read %s: %v", key, err)
		}
		if out.Item == nil {
			lost++
		}
	}
	return lost
}

// waitParts polls the partitions admin shows until ok accepts them (nil
// error), for up to d; it returns them.
func waitParts(t *testing.T, admin string, d time.Duration, ok func([]topology.PartitionInfo) error) []topology.PartitionInfo {
	t.Helper()
	for deadline := time.Now().Add(d); ; time.Sleep(500 * time.Millisecond) {
		parts, err := partitionsOf(admin)
		if err == nil {
			err = ok(parts)
		}
		if err == nil {
			return parts
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %v", d, err)
		}
	}
}

// TestScenarioKilledNodeIsReplaced: four processes, replication factor 3,
// writers running through three of them with the SDK's retries. One node
// (not the one writes go through) is killed with SIGKILL and left down.
// Reported: how long after the kill every partition has three healthy
// voters again, the longest gap between two acknowledged writes of a
// writer, and the acknowledged writes lost (must be 0).
func TestScenarioKilledNodeIsReplaced(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bin := buildBinary(t)
	procs, admins := scenarioCluster(t, bin, dir, 4, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	scenarioTable(ctx, t, procs[0].api, "scenario")
	// Wait for the cluster to settle, and pick a victim that holds
	// replicas (not node 1, which the test reads through).
	var victim int
	waitParts(t, admins[0], 5*time.Minute, func(parts []topology.PartitionInfo) error {
		if err := healedWithout(parts, 0); err != nil {
			return err
		}
		for i := 1; i < 4; i++ {
			for _, p := range parts {
				if slices.Contains(p.Voters, uint64(i+1)) {
					victim = i
					return nil
				}
			}
		}
		return fmt.Errorf("no node but 1 holds a replica")
	})

	type writer struct {
		acked  []string
		maxGap time.Duration
		errs   int
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	writers := make([]*writer, 0, 3)
	for w, p := range procs {
		if w == victim {
			continue
		}
		wr := &writer{}
		writers = append(writers, wr)
		wg.Add(1)
		go func() {
			defer wg.Done()
			db := patient(p.api)
			last := time.Now()
			for i := 0; i < 100000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprintf("w%d-%d", w, i)
				_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("scenario"),
					Item: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: key}}})
				if err != nil {
					wr.errs++
					continue
				}
				now := time.Now()
				wr.maxGap = max(wr.maxGap, now.Sub(last))
				last = now
				wr.acked = append(wr.acked, key)
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}
	time.Sleep(5 * time.Second)
	gone := uint64(victim + 1)
	killed := time.Now()
	if err := procs[victim].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = procs[victim].cmd.Wait()
	waitParts(t, admins[0], 5*time.Minute, func(parts []topology.PartitionInfo) error { return healedWithout(parts, gone) })
	healed := time.Since(killed)
	time.Sleep(5 * time.Second)
	close(stop)
	wg.Wait()
	lost, acked, errs := 0, 0, 0
	var gap time.Duration
	for _, wr := range writers {
		acked += len(wr.acked)
		errs += wr.errs
		gap = max(gap, wr.maxGap)
		lost += countLost(ctx, t, procs[0].api, "scenario", wr.acked)
	}
	t.Logf("node %d killed; every partition back to 3 healthy voters %v after the kill "+
		"(the Doctor counts it dead 6 s after its last heartbeat, then waits --dead-after 30 s)", gone, healed.Round(100*time.Millisecond))
	t.Logf("writes acknowledged %d, failed after retries %d, lost %d; longest gap between two acknowledged writes of a writer %v",
		acked, errs, lost, gap.Round(time.Millisecond))
	if lost > 0 {
		t.Fatalf("%d acknowledged writes lost", lost)
	}
}

// TestScenarioJoinedNodeGetsItsShare: three processes with a table and
// writers running; a fourth node joins. Reported: how long until the new
// node holds its share of replicas and leaders (every node within the
// balance tolerance, 2, of the others), and the writes that failed
// meanwhile (must be 0).
func TestScenarioJoinedNodeGetsItsShare(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bin := buildBinary(t)
	procs, admins := scenarioCluster(t, bin, dir, 3, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	scenarioTable(ctx, t, procs[0].api, "join")
	waitParts(t, admins[0], 3*time.Minute, func(parts []topology.PartitionInfo) error { return healedWithout(parts, 0) })
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	acked, failed := 0, 0
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := patient(procs[w].api)
			for i := 0; i < 100000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("join"),
					Item: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("w%d-%d", w, i)}}})
				mu.Lock()
				if err != nil {
					failed++
				} else {
					acked++
				}
				mu.Unlock()
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}
	joined := time.Now()
	admins = append(admins, freeAddr(t))
	procs = append(procs, startNode(t, bin, filepath.Join(dir, "n4"), admins[3], procs[0].peer))
	var counts map[uint64][2]int
	waitParts(t, admins[0], 10*time.Minute, func(parts []topology.PartitionInfo) error {
		if err := healedWithout(parts, 0); err != nil {
			return err
		}
		counts = map[uint64][2]int{1: {}, 2: {}, 3: {}, 4: {}}
		for _, p := range parts {
			for _, v := range p.Voters {
				c := counts[v]
				c[0]++
				counts[v] = c
			}
			c := counts[p.Leader]
			c[1]++
			counts[p.Leader] = c
		}
		lo, hi := [2]int{1 << 30, 1 << 30}, [2]int{}
		for _, c := range counts {
			for k := range 2 {
				lo[k], hi[k] = min(lo[k], c[k]), max(hi[k], c[k])
			}
		}
		if hi[0]-lo[0] > 2 || hi[1]-lo[1] > 2 || counts[4][0] == 0 {
			return fmt.Errorf("node 4 has not its share: replicas and leaders per node: %v", counts)
		}
		return nil
	})
	share := time.Since(joined)
	close(stop)
	wg.Wait()
	t.Logf("node 4 joined; it held its share %v later (replicas, leaders per node: %v)", share.Round(100*time.Millisecond), counts)
	t.Logf("writes acknowledged %d, failed %d", acked, failed)
	if failed > 0 {
		t.Fatalf("%d writes failed while the node joined", failed)
	}
}

// repairCheckers are the checkers whose operations repair a fault (the
// simulator's: priority of replica-count and above).
var repairCheckers = map[string]bool{"replica": true, "membership": true, "replica-count": true}

// TestScenarioSoakNoFalseActions: four processes in network namespaces
// under writes for PARTITA_SOAK_DURATION (default 10m). Node 4's disk is
// slow from the start (--fault-fsync-delay 100ms). Every minute a fault:
// node 2 or node 3 paused with SIGSTOP for 3 s, or, every third minute,
// an asymmetric partition for 45 s (node 2's packets to node 3 dropped,
// node 3's to node 2 delivered). Reported: the Doctor's operations by
// kind and checker, the leaders moved off the slow node, false actions
// (replicas replaced or removed: no node was ever down for
// --dead-after), flaps (an operation undone on the same partition within
// 10 min), and writes acknowledged, failed and lost. False actions, flaps
// and lost writes must be 0, and leaders must leave the slow node.
func TestScenarioSoakNoFalseActions(t *testing.T) {
	soak := envDuration(t, "PARTITA_SOAK_DURATION", 10*time.Minute)
	lab := newNetLab(t, 4)
	dir := t.TempDir()
	bin := buildBinary(t)
	procs := netCluster(t, lab, bin, dir, 4, func(i int) []string {
		if i == 4 {
			return []string{"--fault-fsync-delay", "100ms"}
		}
		return nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), soak+10*time.Minute)
	defer cancel()
	scenarioTable(ctx, t, procs[0].api, "soak")
	waitParts(t, procs[0].admin, 3*time.Minute, func(parts []topology.PartitionInfo) error { return healedWithout(parts, 0) })
	start := time.Now()
	w := startWriters(ctx, "soak", []string{procs[0].api, procs[1].api, procs[2].api}, 50*time.Millisecond)
	pauses, cuts := 0, 0
	for minute := 1; time.Since(start) < soak; minute++ {
		time.Sleep(min(time.Until(start.Add(time.Duration(minute)*time.Minute)), soak-time.Since(start)))
		if time.Since(start) >= soak {
			break
		}
		switch minute % 3 {
		case 0:
			lab.oneWay(2, 3)
			time.Sleep(45 * time.Second)
			lab.twoWay(2, 3)
			cuts++
		default:
			p := procs[minute%3]
			_ = p.cmd.Process.Signal(syscall.SIGSTOP)
			time.Sleep(3 * time.Second)
			_ = p.cmd.Process.Signal(syscall.SIGCONT)
			pauses++
		}
	}
	lost := w.end(ctx, t, procs[0].api, "soak")
	resp, err := http.Get("http://" + procs[0].admin + "/doctor/timeline?limit=1000&since=" + (time.Since(start) + time.Minute).String())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var es []admin.TimelineEntry
	if err := json.NewDecoder(resp.Body).Decode(&es); err != nil {
		t.Fatal(err)
	}
	slices.Reverse(es) // oldest first
	byKind := map[string]int{}
	offSlow, falseActions, flaps := 0, 0, 0
	type move struct {
		from, to uint64
		at       time.Time
	}
	last := map[uint64]move{}
	for _, e := range es {
		if e.State != "succeeded" && e.State != "running" && e.State != "failed" && e.State != "rolled-back" {
			continue
		}
		byKind[e.Kind+"/"+e.Checker]++
		if e.From == 4 && e.Kind == "transfer-leader" {
			offSlow++
		}
		if e.Kind == "replace-replica" || e.Kind == "remove-replica" {
			falseActions++
			t.Logf("false action: %s %s p%d from=%d to=%d at %v: %q; inputs %s; outcome %s",
				e.Checker, e.Kind, e.Partition, e.From, e.To, e.Updated.Format(time.TimeOnly), e.Reasons, e.Inputs, e.Outcome)
		}
		// A flap is an improvement undone by another within 10 minutes;
		// a repair answers a fault, whatever it reverses.
		if repairCheckers[e.Checker] {
			delete(last, e.Partition)
			continue
		}
		if l, ok := last[e.Partition]; ok && l.from == e.To && l.to == e.From && e.Updated.Sub(l.at) < 10*time.Minute {
			flaps++
			t.Logf("flap: %s %s p%d from=%d to=%d (%q) undoes an operation of %v before",
				e.Checker, e.Kind, e.Partition, e.From, e.To, e.Reasons, e.Updated.Sub(l.at).Round(time.Second))
		}
		last[e.Partition] = move{e.From, e.To, e.Updated}
	}
	if presp, err := http.Get("http://" + procs[0].admin + "/doctor/plan"); err == nil {
		var plan admin.DoctorPlan
		_ = json.NewDecoder(presp.Body).Decode(&plan)
		presp.Body.Close()
		t.Logf("the Doctor's last plan: waiting %q, %d operations, why not: %+v", plan.Plan.Waiting, len(plan.Plan.Ops), plan.Plan.WhyNots)
	}
	if tresp, err := http.Get("http://" + procs[0].admin + "/cluster/topology"); err == nil {
		var cv ingest.ClusterView
		_ = json.NewDecoder(tresp.Body).Decode(&cv)
		tresp.Body.Close()
		for _, p := range cv.Partitions {
			var acks []string
			for _, r := range p.Replicas {
				acks = append(acks, fmt.Sprintf("n%d ack %v lag %d", r.Node, r.AckLatency.Round(time.Millisecond), r.Lag))
			}
			t.Logf("p%d leader n%d writes %.0f/s: %v", p.ID, p.Leader, p.Load.WritesPerSec, acks)
		}
	}
	leaders := map[uint64]int{}
	parts, _ := partitionsOf(procs[0].admin)
	for _, p := range parts {
		leaders[p.Leader]++
	}
	t.Logf("soak %v: %d pauses of 3 s, %d asymmetric partitions of 45 s (n2 -> n3 dropped), node 4's fsyncs 100ms slower",
		soak, pauses, cuts)
	t.Logf("operations by kind/checker: %v; leaders moved off the slow node: %d; false actions: %d; flaps: %d; leaders per node at the end: %v",
		byKind, offSlow, falseActions, flaps, leaders)
	t.Logf("writes acknowledged %d, failed after retries %d, lost %d; longest gap %v",
		len(w.acked), w.failed, lost, w.maxGap.Round(time.Millisecond))
	if falseActions > 0 || lost > 0 || flaps > 0 {
		t.Fatalf("%d false actions, %d flaps, %d acknowledged writes lost", falseActions, flaps, lost)
	}
	if offSlow == 0 {
		t.Fatal("no leader moved off the slow node")
	}
}
