//go:build scenario

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partitadb/partita/doctor/checker"
	"github.com/partitadb/partita/topology"
)

// netCluster starts n `partita start` processes, each in its own network
// namespace of lab on the default ports, the first a new cluster and the
// others joining it, with extra(i)'s flags.
func netCluster(t *testing.T, lab *netLab, bin, dir string, n int, extra func(i int) []string) []*proc {
	t.Helper()
	var procs []*proc
	level, logs := "error", os.Getenv(nodeLogsEnv)
	if logs != "" {
		level = "info"
	}
	for i := 1; i <= n; i++ {
		args := []string{"netns", "exec", lab.ns(i), bin, "start", "--data-dir", filepath.Join(dir, fmt.Sprint("n", i)),
			"--api-addr", lab.ip(i) + ":8000", "--peer-addr", lab.ip(i) + ":7000", "--admin-addr", lab.ip(i) + ":9000",
			"--log-level", level, "--insecure"}
		if i > 1 {
			args = append(args, "--join", lab.ip(1)+":7000")
		}
		if extra != nil {
			args = append(args, extra(i)...)
		}
		var stderr io.Writer = os.Stderr
		if logs != "" {
			f, err := os.OpenFile(filepath.Join(logs, fmt.Sprintf("n%d.log", i)), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
			stderr = f
		}
		p := startProcTo(t, stderr, "ip", args...)
		p.admin = lab.ip(i) + ":9000"
		procs = append(procs, p)
	}
	return procs
}

// oneWay drops every packet node from sends to node to (a blackhole route
// in from's namespace): to's packets still reach from, but no answer
// comes back, so each sees the other differently.
func (l *netLab) oneWay(from, to int) {
	if err := run(l.t, "ip", "netns", "exec", l.ns(from), "ip", "route", "add", "blackhole", l.ip(to)+"/32"); err != nil {
		l.t.Fatal(err)
	}
}

// twoWay restores from's route to to.
func (l *netLab) twoWay(from, to int) {
	if err := run(l.t, "ip", "netns", "exec", l.ns(from), "ip", "route", "del", "blackhole", l.ip(to)+"/32"); err != nil {
		l.t.Fatal(err)
	}
}

// writers put items through the given API addresses until stopped, each
// a writer with the SDK's retries, and keep what they saw.
type writers struct {
	stop   chan struct{}
	wg     sync.WaitGroup
	mu     sync.Mutex
	acked  []string
	failed int
	maxGap time.Duration // longest time between two acknowledged writes of one writer
}

func startWriters(ctx context.Context, table string, apis []string, pause time.Duration) *writers {
	w := &writers{stop: make(chan struct{})}
	for n, api := range apis {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			db := patient(api)
			last := time.Now()
			for i := 0; i < 1_000_000; i++ {
				select {
				case <-w.stop:
					return
				default:
				}
				key := fmt.Sprintf("w%d-%d", n, i)
				_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table),
					Item: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: key}}})
				now := time.Now()
				w.mu.Lock()
				if err != nil {
					w.failed++
				} else {
					w.acked = append(w.acked, key)
					w.maxGap = max(w.maxGap, now.Sub(last))
					last = now
				}
				w.mu.Unlock()
				time.Sleep(pause)
			}
		}()
	}
	return w
}

// end stops the writers and returns how many acknowledged writes a
// consistent read through api no longer finds.
func (w *writers) end(ctx context.Context, t *testing.T, api, table string) int {
	t.Helper()
	close(w.stop)
	w.wg.Wait()
	return countLost(ctx, t, api, table, w.acked)
}

// zoneSpread says every partition has a leader and three caught-up
// voters in three zones (zoneOf gives each node's).
func zoneSpread(parts []topology.PartitionInfo, zoneOf func(uint64) string) error {
	if err := healedWithout(parts, 0); err != nil {
		return err
	}
	for _, p := range parts {
		zones := map[string]bool{}
		for _, v := range p.Voters {
			zones[zoneOf(v)] = true
		}
		if len(zones) != 3 {
			return fmt.Errorf("partition %d: voters %v in zones %v", p.ID, p.Voters, zones)
		}
	}
	return nil
}

// TestScenarioZoneOutage: six processes in three zones (two each, in
// network namespaces), a table spread one replica per zone, writers
// through zones a and b. Both nodes of zone c are cut off for
// PARTITA_ZONE_OUTAGE (default 2m), then return.
//
// With the default --zone-dead-after (10m), longer than the outage, the
// Doctor must see zone c down and move nothing: every partition keeps
// its quorum in zones a and b, and its voter in zone c catches up when
// the zone returns. With PARTITA_ZONE_DEAD_AFTER shorter than the
// outage, it replaces zone c's replicas in zones a and b once that has
// passed, and moves them back after the zone returns. Reported: how long
// after the return every partition is back to one caught-up voter per
// zone, the writes acknowledged, failed and lost (0), and the longest
// gap between two acknowledged writes of a writer.
func TestScenarioZoneOutage(t *testing.T) {
	outage := envDuration(t, "PARTITA_ZONE_OUTAGE", 2*time.Minute)
	zoneDeadAfter := envDuration(t, "PARTITA_ZONE_DEAD_AFTER", 10*time.Minute)
	lab := newNetLab(t, 6)
	dir := t.TempDir()
	bin := buildBinary(t)
	zones := []string{"a", "a", "b", "b", "c", "c"}
	procs := netCluster(t, lab, bin, dir, 6, func(i int) []string {
		return []string{"--zone", zones[i-1], "--zone-dead-after", zoneDeadAfter.String()}
	})
	zoneOf := func(id uint64) string { return zones[id-1] } // node ids follow the join order
	ctx, cancel := context.WithTimeout(context.Background(), outage+20*time.Minute)
	defer cancel()
	scenarioTable(ctx, t, procs[0].api, "zones")
	waitParts(t, procs[0].admin, 5*time.Minute, func(parts []topology.PartitionInfo) error { return zoneSpread(parts, zoneOf) })
	w := startWriters(ctx, "zones", []string{procs[0].api, procs[2].api, procs[3].api}, 20*time.Millisecond)
	time.Sleep(5 * time.Second)
	lab.cut(5)
	lab.cut(6)
	cut := time.Now()
	inZoneC := func(p topology.PartitionInfo) bool {
		return slices.Contains(p.Voters, 5) || slices.Contains(p.Voters, 6)
	}
	if zoneDeadAfter >= outage {
		// A zone outage shorter than zone-dead-after: the Doctor sees
		// the zone down and every partition keeps its voter there.
		sawDown := false
		for time.Since(cut) < outage {
			time.Sleep(2 * time.Second)
			if zoneDown(procs[0].admin, "c") {
				sawDown = true
			}
			parts, err := partitionsOf(procs[0].admin)
			if err != nil {
				continue
			}
			for _, p := range parts {
				if p.Leader != 0 && !inZoneC(p) {
					t.Fatalf("%v into the outage, partition %d lost its voter in zone c: voters %v (zone-dead-after %v)",
						time.Since(cut).Round(time.Second), p.ID, p.Voters, zoneDeadAfter)
				}
			}
		}
		if !sawDown {
			t.Fatalf("the Doctor never reported zone c down in a %v outage", outage)
		}
		t.Logf("zone c cut for %v: the Doctor reported it down and moved none of its replicas", outage)
	} else {
		// Past zone-dead-after, the Doctor moves zone c's replicas into
		// a and b.
		waitParts(t, procs[0].admin, outage+5*time.Minute, func(parts []topology.PartitionInfo) error {
			for _, p := range parts {
				if inZoneC(p) {
					if time.Since(cut) > outage {
						return nil // the outage ends before the repair: measure the return anyway
					}
					return fmt.Errorf("partition %d still has a voter in zone c: %v", p.ID, p.Voters)
				}
			}
			return healedWithout(parts, 5)
		})
		t.Logf("zone c cut for %v, zone-dead-after %v: its replicas replaced in zones a and b %v after the cut",
			outage, zoneDeadAfter, time.Since(cut).Round(100*time.Millisecond))
		time.Sleep(max(0, outage-time.Since(cut)))
	}
	lab.heal(5)
	lab.heal(6)
	back := time.Now()
	spread := waitParts(t, procs[0].admin, 10*time.Minute, func(parts []topology.PartitionInfo) error { return zoneSpread(parts, zoneOf) })
	respread := time.Since(back)
	lost := w.end(ctx, t, procs[0].api, "zones")
	leaders := map[uint64]int{}
	for _, p := range spread {
		leaders[p.Leader]++
	}
	t.Logf("zone c back: every partition one voter per zone, none down or behind, %v after its return; leaders per node %v",
		respread.Round(100*time.Millisecond), leaders)
	t.Logf("writes acknowledged %d, failed after retries %d, lost %d; longest gap %v",
		len(w.acked), w.failed, lost, w.maxGap.Round(time.Millisecond))
	if lost > 0 {
		t.Fatalf("%d acknowledged writes lost", lost)
	}
}

// zoneDown says the active Doctor's last plan, read through admin,
// found zone down.
func zoneDown(admin, zone string) bool {
	resp, err := http.Get("http://" + admin + "/doctor/plan")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var p struct {
		Plan struct {
			Zones []checker.ZoneHealth `json:"zones"`
		} `json:"plan"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		return false
	}
	for _, z := range p.Plan.Zones {
		if z.Zone == zone && z.State == checker.ZoneDown {
			return true
		}
	}
	return false
}

// envDuration is the duration in the environment variable name, or def.
func envDuration(t *testing.T, name string, def time.Duration) time.Duration {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return d
}
