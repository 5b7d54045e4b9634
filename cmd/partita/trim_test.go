package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/replica"
	"github.com/partitadb/partita/topology"
)

// soakEnv, set to 1, turns the short runs of the trimming tests into their
// long versions (10 minutes of writes; 1,000 splits).
const soakEnv = "PARTITA_SOAK"

func soaking() bool { return os.Getenv(soakEnv) == "1" }

// metric reads one unlabelled gauge or counter (or the first series
// matching name{labels}) from a node's /metrics.
func metric(admin, series string) (float64, error) {
	resp, err := http.Get("http://" + admin + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindSubmatch(body)
	if m == nil {
		return 0, fmt.Errorf("%s: no %s", admin, series)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}

// TestLogBoundWithStoppedFollower runs three `partita start` processes and
// pauses one with SIGSTOP for the whole of a write load through the other
// two (30 s; 10 minutes with PARTITA_SOAK=1). Every half second it reads
// the largest raft log of one replica on the live nodes
// (partita_raft_log_max_replica_bytes): a paused follower must not hold
// the logs, which stay within the byte bound (16 MiB). Resumed, the
// paused node catches up, and every acknowledged write is there.
func TestLogBoundWithStoppedFollower(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	run := 30 * time.Second
	if soaking() {
		run = 10 * time.Minute
	}
	dir := t.TempDir()
	bin := buildBinary(t)
	admins := []string{freeAddr(t), freeAddr(t), freeAddr(t)}
	procs := []*proc{startNode(t, bin, filepath.Join(dir, "n1"), admins[0], "")}
	for i := 1; i < 3; i++ {
		procs = append(procs, startNode(t, bin, filepath.Join(dir, fmt.Sprint("n", i+1)), admins[i], procs[0].peer))
	}
	ctx, cancel := context.WithTimeout(context.Background(), run+5*time.Minute)
	defer cancel()
	createTable(ctx, t, procs[0].api, "bound")
	waitLayout(t, admins[0], time.Minute, func(parts []topology.PartitionInfo) error {
		if err := tableReady("bound", 4)(parts); err != nil {
			return err
		}
		return allCaughtUp(parts)
	})
	paused := procs[2]
	if err := paused.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	resumed := false
	defer func() {
		if !resumed {
			_ = paused.cmd.Process.Signal(syscall.SIGCONT)
		}
	}()

	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		acked   []string
		failed  atomic.Int64
		maxLog  float64
		samples int
	)
	stop := make(chan struct{})
	payload := strings.Repeat("x", 1024)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db := retrying(procs[w%2].api)
			for i := 0; i < 10_000_000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprintf("w%d-%d", w, i)
				_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("bound"), Item: map[string]types.AttributeValue{
					"pk": &types.AttributeValueMemberS{Value: key}, "v": &types.AttributeValueMemberS{Value: payload}}})
				if err != nil {
					failed.Add(1)
					continue
				}
				mu.Lock()
				acked = append(acked, key)
				mu.Unlock()
			}
		}()
	}
	sample := func() {
		for _, a := range admins[:2] {
			if v, err := metric(a, "partita_raft_log_max_replica_bytes"); err == nil {
				maxLog = max(maxLog, v)
				samples++
			}
		}
	}
	for end := time.Now().Add(run); time.Now().Before(end); time.Sleep(500 * time.Millisecond) {
		sample()
	}
	close(stop)
	wg.Wait()
	sample()
	bound := float64(replica.DefaultConfig().MaxLogBytes)
	t.Logf("%v of writes with node 3 stopped: %d acknowledged (%.0f/s, 1 KiB each), %d failed; "+
		"largest raft log of one replica on the live nodes %.0f bytes (%.2f MiB) over %d samples; bound %.0f",
		run, len(acked), float64(len(acked))/run.Seconds(), failed.Load(), maxLog, maxLog/(1<<20), samples, bound)
	if samples == 0 {
		t.Fatal("no sample of partita_raft_log_max_replica_bytes")
	}
	if maxLog > bound {
		t.Errorf("a raft log reached %.0f bytes, bound %.0f", maxLog, bound)
	}

	if err := paused.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	resumed = true
	for _, a := range admins {
		waitLayout(t, a, 2*time.Minute, func(parts []topology.PartitionInfo) error {
			if err := tableReady("bound", 4)(parts); err != nil {
				return err
			}
			return allCaughtUp(parts)
		})
	}
	t.Logf("the resumed node caught up; it installed %d snapshots", snapshotsReceived(t, admins[2]))
	db := retrying(procs[2].api)
	for i, key := range acked {
		if len(acked) > 20_000 && i%10 != 0 {
			continue // the long run checks one write in ten
		}
		out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("bound"), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: key}}})
		if err != nil {
			t.Fatalf("get %s via the resumed node: %v", key, err)
		}
		if out.Item == nil {
			t.Fatalf("acknowledged write %s lost", key)
		}
	}
}

// createTable creates an on-demand table keyed by the string pk.
func createTable(ctx context.Context, t *testing.T, api, name string) {
	t.Helper()
	if _, err := retrying(api).CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
}

// TestBackToBackSplitsOnProcesses measures the raft snapshots sent while
// three healthy `partita start` processes split a table's partitions back
// to back through the admin endpoint: each split takes the right half the
// previous one made, while that is wider than 2^50 hashes (then the widest
// partition), with a write into the new right half after each. The target
// is 0 snapshots. It runs only with PARTITA_SOAK=1 (1,000 splits) or
// PARTITA_SPLITS=N.
func TestBackToBackSplitsOnProcesses(t *testing.T) {
	t.Parallel()
	n := 0
	if soaking() {
		n = 1000
	}
	if v := os.Getenv("PARTITA_SPLITS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			t.Fatalf("PARTITA_SPLITS=%q: %v", v, err)
		}
	}
	if n == 0 {
		t.Skip("set PARTITA_SOAK=1 (1,000 splits) or PARTITA_SPLITS=N")
	}
	dir := t.TempDir()
	bin := buildBinary(t)
	admins := []string{freeAddr(t), freeAddr(t), freeAddr(t)}
	procs := []*proc{startNode(t, bin, filepath.Join(dir, "n1"), admins[0], "")}
	for i := 1; i < 3; i++ {
		procs = append(procs, startNode(t, bin, filepath.Join(dir, fmt.Sprint("n", i+1)), admins[i], procs[0].peer))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(n)*time.Second+5*time.Minute)
	defer cancel()
	createTable(ctx, t, procs[0].api, "burst")
	waitLayout(t, admins[0], time.Minute, func(parts []topology.PartitionInfo) error {
		if err := tableReady("burst", 4)(parts); err != nil {
			return err
		}
		return allCaughtUp(parts)
	})
	type span struct{ lo, hi uint64 } // hi 0: the end of the hash space
	ranges := map[uint64]span{}
	for _, p := range tableParts(t, admins[0], "burst") {
		ranges[p.ID] = span{p.HashStart, p.HashEnd}
	}
	width := func(s span) uint64 { return s.hi - s.lo } // wraps to the right width when hi is 0
	widest := func() uint64 {
		var id uint64
		for p, s := range ranges {
			if id == 0 || width(s) > width(ranges[id]) {
				id = p
			}
		}
		return id
	}
	snapshots := func() (total float64) {
		for _, a := range admins {
			for _, o := range []string{"ok", "error"} {
				v, _ := metric(a, `partita_raft_snapshots_sent_total{outcome="`+o+`"}`)
				total += v
			}
		}
		return total
	}
	before, start := snapshots(), time.Now()
	next := widest()
	for i := range n {
		res := splitOver(t, admins[i%3], "burst", next)
		for _, p := range res.Partitions {
			ranges[p.ID] = span{parseHash(t, p.HashStart), parseHash(t, p.HashEnd)}
		}
		right := ranges[res.Right]
		key := keyIn(t, right.lo, right.hi, i)
		if _, err := retrying(procs[i%3].api).PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("burst"),
			Item: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: key}}}); err != nil {
			t.Fatalf("put after split %d: %v", i, err)
		}
		next = res.Right
		if width(right) < 1<<50 {
			next = widest()
		}
		if (i+1)%100 == 0 {
			t.Logf("%d splits in %v: %.0f snapshots sent", i+1, time.Since(start).Round(time.Second), snapshots()-before)
		}
	}
	sent := snapshots() - before
	t.Logf("%d back-to-back splits on 3 processes in %v (%v a split): %.0f raft snapshots sent",
		n, time.Since(start).Round(time.Second), (time.Since(start) / time.Duration(n)).Round(time.Millisecond), sent)
	if sent != 0 {
		t.Errorf("%.0f snapshots sent during %d splits, want 0", sent, n)
	}
}

// splitOver splits partition of table in its middle through a node's admin
// endpoint.
func splitOver(t *testing.T, addr, table string, partition uint64) admin.SplitResult {
	t.Helper()
	resp, err := http.Post(fmt.Sprintf("http://%s/cluster/partitions/%d/split?table=%s", addr, partition, table), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var res admin.SplitResult
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &res) != nil || res.Right == 0 {
		t.Fatalf("split partition %d: %s: %s", partition, resp.Status, body)
	}
	return res
}

func parseHash(t *testing.T, s string) uint64 {
	t.Helper()
	h, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 64)
	if err != nil {
		t.Fatalf("hash %q: %v", s, err)
	}
	return h
}

// keyIn returns a string partition key whose hash is in [lo, hi) (hi 0:
// the end of the hash space).
func keyIn(t *testing.T, lo, hi uint64, seed int) string {
	t.Helper()
	for j := range 1 << 24 {
		k := fmt.Sprintf("s%d-%d", seed, j)
		if h := item.Hash(item.S(k)); h >= lo && (hi == 0 || h < hi) {
			return k
		}
	}
	t.Fatalf("no key found in [%#x, %#x)", lo, hi)
	return ""
}
