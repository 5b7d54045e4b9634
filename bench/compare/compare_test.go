package main

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const etcdOutput = `
Summary:
  Total:	10.0123 secs.
  Slowest:	0.0800 secs.
  Fastest:	0.0010 secs.
  Average:	0.0110 secs.
  Stddev:	0.0050 secs.
  Requests/sec:	5900.5000

Response time histogram:
  0.0010 [1]	|
  0.0089 [20000]	|∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎

Latency distribution:
  10% in 0.0060 secs.
  50% in 0.0100 secs.
  90% in 0.0180 secs.
  99% in 0.0240 secs.
  99.9% in 0.0400 secs.

Error distribution:
  [3]	etcdserver: request timed out
  [2]	context deadline exceeded
`

func TestParseEtcdBenchmark(t *testing.T) {
	r, err := parseEtcdBenchmark(etcdOutput)
	if err != nil {
		t.Fatal(err)
	}
	if r.OpsPerSec != 5900.5 || r.P50 != 10*time.Millisecond || r.P99 != 24*time.Millisecond || r.Errors != 5 {
		t.Fatalf("parsed %+v", r)
	}
	if r.Elapsed.Round(time.Millisecond) != 10012*time.Millisecond || r.Ops != 59078 {
		t.Fatalf("elapsed %v, ops %d", r.Elapsed, r.Ops)
	}
	if _, err := parseEtcdBenchmark("Summary:\n"); err == nil {
		t.Fatal("empty output parsed")
	}
}

func TestProcessCPU(t *testing.T) {
	end := time.Now().Add(50 * time.Millisecond)
	for time.Now().Before(end) { // spend some CPU
	}
	d, err := processCPU(os.Getpid())
	if err != nil || d <= 0 {
		t.Fatalf("own CPU %v, %v", d, err)
	}
	if _, err := processCPU(-1); err == nil {
		t.Fatal("CPU of no process")
	}
}

// run is a measured result of 10 seconds with 5 s of client and 10 s of
// server CPU.
func run(system, workload string, clients, valueSize int, ops float64, p50, p99 time.Duration) result {
	return result{System: system, Workload: workload, Clients: clients, ValueSize: valueSize, OpsPerSec: ops, P50: p50, P99: p99,
		Ops: int64(ops * 10), Elapsed: 10 * time.Second, ClientCPU: 5 * time.Second, ServerCPU: 10 * time.Second}
}

func testComparison(systems map[string]bool, rs ...result) *comparison {
	return &comparison{duration: 10 * time.Second, valueSize: 1024, clusterValueSize: 256, records: 100,
		clients: []int{1, 64}, systems: systems, started: time.Now(), results: rs}
}

func allSystems() map[string]bool {
	s, err := parseSystems("floor,dev,cluster,etcd")
	if err != nil {
		panic(err)
	}
	return s
}

// wantLines fails t for each of want that doc lacks.
func wantLines(t *testing.T, doc string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(doc, w) {
			t.Errorf("lacks %q", w)
		}
	}
	if t.Failed() {
		t.Log(doc)
	}
}

func TestMarkdown(t *testing.T) {
	c := testComparison(allSystems(),
		run(systemFloor, "put", 64, 1024, 10000, time.Millisecond, 4*time.Millisecond),
		run(systemFloor, "get", 64, 1024, 12000, time.Millisecond, 4*time.Millisecond),
		run(systemPartitaDev, "put", 64, 1024, 7000, 2*time.Millisecond, 8*time.Millisecond),
		run(systemPartitaDev, "get", 64, 1024, 8400, 2*time.Millisecond, 8*time.Millisecond),
		result{System: systemPartitaCluster, Workload: "put", Clients: 64, ValueSize: 256, Missing: "not available"},
		run(systemEtcd, "put", 64, 256, 5000, 4*time.Millisecond, 16*time.Millisecond),
	)
	c.profileTop, c.clusterProfileTop = "dev top", "cluster top"
	wantLines(t, c.markdown(machine{cpus: 2, cpuModel: "test CPU", goVersion: "go1.26"}),
		"| floor server | PutItem | 64 | 1024 | 10000 | 1.00 ms | 4.00 ms | 0 | 0.50 | 1.00 | 100.0 |",
		"| etcd, 3 members | put | 64 | 256 | 5000 | 4.00 ms | 16.00 ms | 0 | 0.50 | 1.00 | 200.0 |",
		"| Partita, 3 processes | PutItem | 64 | 256 | not available | | | | | | |",
		"| 1 node, durable, 64 clients, 1024-byte PutItem: at least 65% of the floor | 70% (7000 of 10000 ops/s) | yes |",
		"| 1 node, durable, 64 clients, 1024-byte GetItem: at least 80% of the floor | 70% (8400 of 12000 ops/s) | no |",
		"| CPU model | test CPU |",
		"1024-byte values for the floor and Partita on one\nnode, 256-byte values for Partita on 3 processes and etcd (the floor's puts\nare measured at that size too), 10s per run, 100\nitems loaded before the reads.\n\n| machine |",
		"## Where Partita's CPU goes: 64-client PutItem\n",
		"```\ndev top\n```",
		"## Where the 3-process cluster's CPU goes: 64-client PutItem\n",
		"```\ncluster top\n```",
		"three `partita start` processes on 127.0.0.1",
	)
}

func TestParseSystems(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string // result names, sorted
	}{
		{"floor,dev,cluster,etcd", []string{systemPartitaDev, systemPartitaCluster, systemEtcd, systemFloor}},
		{"dev", []string{systemPartitaDev}},
		{" cluster , etcd,cluster", []string{systemPartitaCluster, systemEtcd}},
	} {
		got, err := parseSystems(tc.in)
		if err != nil {
			t.Errorf("parseSystems(%q): %v", tc.in, err)
			continue
		}
		if names := slices.Sorted(maps.Keys(got)); !slices.Equal(names, tc.want) {
			t.Errorf("parseSystems(%q) = %q, want %q", tc.in, names, tc.want)
		}
	}
	for _, in := range []string{"", "dev,", "floor,Dev", "partita"} {
		if _, err := parseSystems(in); err == nil {
			t.Errorf("parseSystems(%q) accepted", in)
		}
	}
	_, err := parseSystems("floor,clustre")
	if err == nil || err.Error() != `compare: unknown system "clustre" in -systems (want some of floor,dev,cluster,etcd)` {
		t.Errorf("error %v", err)
	}
}

func TestSelectionNote(t *testing.T) {
	if n := testComparison(allSystems()).selectionNote(); n != "" {
		t.Errorf("all systems: note %q", n)
	}
	sel, _ := parseSystems("etcd,floor")
	if n := testComparison(sel).selectionNote(); n != "\nOnly some systems were measured this time (`-systems`): floor server, etcd, 3 members.\n" {
		t.Errorf("note %q", n)
	}
}

func TestFindMatchesValueSize(t *testing.T) {
	rs := results{
		run(systemFloor, "put", 64, 1024, 10000, time.Millisecond, time.Millisecond),
		run(systemFloor, "put", 64, 256, 12000, time.Millisecond, time.Millisecond),
	}
	if r, ok := rs.find(systemFloor, "put", 64, 256); !ok || r.OpsPerSec != 12000 {
		t.Errorf("256 bytes: %v %v", r, ok)
	}
	if r, ok := rs.find(systemFloor, "put", 64, 1024); !ok || r.OpsPerSec != 10000 {
		t.Errorf("1024 bytes: %v %v", r, ok)
	}
	if _, ok := rs.find(systemFloor, "put", 64, 512); ok {
		t.Error("found a 512-byte run")
	}
}

// clusterResults are the runs of every system at the default value sizes:
// the cluster beats etcd at 64 clients on throughput but not on p99.
func clusterResults() []result {
	ms := time.Millisecond
	cluster1 := run(systemPartitaCluster, "put", 1, 256, 500, 2*ms, 3*ms)
	cluster1.ServerCPU = 4 * time.Second // 800 ms / 1k puts
	etcd1 := run(systemEtcd, "put", 1, 256, 1000, ms, 2*ms)
	etcd1.ServerCPU = 5 * time.Second // 500 ms / 1k puts
	return []result{
		run(systemFloor, "put", 64, 1024, 10000, ms, 4*ms),
		run(systemFloor, "get", 64, 1024, 12000, ms, 4*ms),
		run(systemFloor, "put", 1, 256, 2000, ms/2, ms),
		run(systemFloor, "put", 64, 256, 16000, ms, 4*ms),
		run(systemPartitaDev, "put", 64, 1024, 7000, 2*ms, 8*ms),
		run(systemPartitaDev, "get", 64, 1024, 9000, 2*ms, 8*ms),
		cluster1,
		run(systemPartitaCluster, "put", 64, 256, 8000, 6*ms, 30*ms), // 125 ms / 1k puts
		run(systemPartitaCluster, "get", 64, 256, 20000, 3*ms, 9*ms),
		etcd1,
		run(systemEtcd, "put", 64, 256, 5000, 8*ms, 20*ms), // 200 ms / 1k puts
	}
}

func TestTargetsWithClusterAndEtcd(t *testing.T) {
	var b strings.Builder
	testComparison(allSystems(), clusterResults()...).writeTargets(&b)
	wantLines(t, b.String(),
		"| 1 node, durable, 64 clients, 1024-byte PutItem: at least 65% of the floor | 70% (7000 of 10000 ops/s) | yes |\n",
		"| 1 node, durable, 64 clients, 1024-byte GetItem: at least 80% of the floor | 75% (9000 of 12000 ops/s) | no |\n",
		"| 3 nodes, 64 clients, 256-byte PutItem: at least etcd's puts/s, p99 no worse | Partita 8000 ops/s, p99 30.00 ms; etcd 5000 ops/s, p99 20.00 ms | no |\n",
		"| 3 nodes, 1 client, 256-byte PutItem: p50 within 1.2x of etcd's put p50 | Partita 2.00 ms, etcd 1.00 ms (2.00x) | no |\n",
		"| 3 nodes, 256-byte PutItem: server CPU per 1,000 writes no more than etcd's (at 64 clients) | 64 clients: Partita 125.0 ms, etcd 200.0 ms; 1 client: Partita 800.0 ms, etcd 500.0 ms | yes |\n",
	)
}

func TestTargetsMet(t *testing.T) {
	rs := clusterResults()
	for i, r := range rs {
		switch {
		case r.System == systemPartitaCluster && r.Clients == 64:
			rs[i].P99 = 20 * time.Millisecond // equal to etcd's: no worse
		case r.System == systemPartitaCluster && r.Clients == 1:
			rs[i].P50 = 1200 * time.Microsecond // exactly 1.2x
		}
	}
	var b strings.Builder
	testComparison(allSystems(), rs...).writeTargets(&b)
	wantLines(t, b.String(),
		"| Partita 8000 ops/s, p99 20.00 ms; etcd 5000 ops/s, p99 20.00 ms | yes |\n",
		"| Partita 1.20 ms, etcd 1.00 ms (1.20x) | yes |\n",
	)
}

func TestTargetsWithoutClusterOrEtcd(t *testing.T) {
	var noEtcd []result
	for _, r := range clusterResults() {
		if r.System != systemEtcd {
			noEtcd = append(noEtcd, r)
		}
	}
	sel, _ := parseSystems("floor,dev,cluster")
	var b strings.Builder
	testComparison(sel, noEtcd...).writeTargets(&b)
	wantLines(t, b.String(),
		"| 1 node, durable, 64 clients, 1024-byte PutItem: at least 65% of the floor | 70% (7000 of 10000 ops/s) | yes |\n",
		"| 3 nodes, 64 clients, 256-byte PutItem: at least etcd's puts/s, p99 no worse | – | – |\n",
		"| 3 nodes, 1 client, 256-byte PutItem: p50 within 1.2x of etcd's put p50 | – | – |\n",
		"| 3 nodes, 256-byte PutItem: server CPU per 1,000 writes no more than etcd's (at 64 clients) | – | – |\n",
	)

	sel, _ = parseSystems("etcd")
	b.Reset()
	testComparison(sel, run(systemEtcd, "put", 64, 256, 5000, time.Millisecond, time.Millisecond)).writeTargets(&b)
	if got := strings.Count(b.String(), "| – | – |\n"); got != 5 {
		t.Errorf("%d targets without a measure, want 5:\n%s", got, b.String())
	}
}

func TestTargetsWithoutOneClient(t *testing.T) {
	var rs []result
	for _, r := range clusterResults() {
		if r.Clients != 1 {
			rs = append(rs, r)
		}
	}
	c := testComparison(allSystems(), rs...)
	c.clients = []int{64}
	var b strings.Builder
	c.writeTargets(&b)
	wantLines(t, b.String(),
		"| 3 nodes, 1 client, 256-byte PutItem: p50 within 1.2x of etcd's put p50 | – | – |\n",
		"| 64 clients: Partita 125.0 ms, etcd 200.0 ms | yes |\n",
	)
}

func TestRatiosMatchValueSize(t *testing.T) {
	var b strings.Builder
	testComparison(allSystems(), clusterResults()...).writeRatios(&b)
	wantLines(t, b.String(),
		// The single node's 1 KB puts: the floor's 1 KB puts, no etcd (256 bytes).
		"| Partita, 1 node (dev) | PutItem | 64 | 1024 | 0.70 | 2.00 | 2.00 | – | – | – |\n",
		"| Partita, 1 node (dev) | GetItem | 64 | 1024 | 0.75 | 2.00 | 2.00 | – | – | – |\n",
		// The cluster's 256-byte puts: the floor's and etcd's 256-byte puts.
		"| Partita, 3 processes | PutItem | 64 | 256 | 0.50 | 6.00 | 7.50 | 1.60 | 0.75 | 1.50 |\n",
		"| Partita, 3 processes | PutItem | 1 | 256 | 0.25 | 4.00 | 3.00 | 0.50 | 2.00 | 1.50 |\n",
		// No floor gets at 256 bytes, and etcd has no gets.
		"| Partita, 3 processes | GetItem | 64 | 256 | – | – | – | – | – | – |\n",
	)
}

func TestCopyProfiles(t *testing.T) {
	tmp := t.TempDir()
	var paths []string
	for i, body := range []string{"one", "two"} {
		p := filepath.Join(tmp, fmt.Sprintf("p-%d.pprof", i+1))
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	dir := filepath.Join(tmp, "kept", "cluster")
	if err := copyProfiles(dir, true, paths); err != nil {
		t.Fatal(err)
	}
	for i, body := range []string{"one", "two"} {
		if b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("p-%d.pprof", i+1))); err != nil || string(b) != body {
			t.Errorf("kept profile %d: %q, %v", i+1, b, err)
		}
	}
	file := filepath.Join(tmp, "dev.pprof")
	if err := copyProfiles(file, false, paths[:1]); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(file); err != nil || string(b) != "one" {
		t.Errorf("kept profile: %q, %v", b, err)
	}
}

func TestSDKSystemsValueSizes(t *testing.T) {
	c := testComparison(allSystems())
	sizes := map[string]string{}
	for _, s := range c.sdkSystems() {
		sizes[s.name] = fmt.Sprint(s.valueSize, s.morePutSizes)
	}
	want := map[string]string{systemFloor: "1024 [256]", systemPartitaDev: "1024 []", systemPartitaCluster: "256 []"}
	if !maps.Equal(sizes, want) {
		t.Errorf("value sizes %v, want %v", sizes, want)
	}
	// Without the cluster, or at one value size, the floor's puts run once.
	c.systems, _ = parseSystems("floor,dev,etcd")
	if more := c.sdkSystems()[0].morePutSizes; len(more) != 0 {
		t.Errorf("without the cluster: floor puts also at %v", more)
	}
	c = testComparison(allSystems())
	c.clusterValueSize = 1024
	if more := c.sdkSystems()[0].morePutSizes; len(more) != 0 {
		t.Errorf("one value size: floor puts also at %v", more)
	}
}

// The cluster's extra runs (consistent reads with and without leases,
// writes on one key) are rows of the results table with names of their
// own, and have no row among the ratios: no peer measures them.
func TestExtraRuns(t *testing.T) {
	ms := time.Millisecond
	label := func(r result, l string) result { r.Workload = l; return r }
	c := testComparison(allSystems(), append(clusterResults(),
		label(run(systemPartitaCluster, "get", 64, 256, 9000, 4*ms, 12*ms), labelConsistentLeases),
		label(run(systemPartitaCluster, "get", 64, 256, 6000, 6*ms, 18*ms), labelConsistentNoLeases),
		label(run(systemPartitaCluster, "cond", 64, 256, 1500, 40*ms, 90*ms), labelCondOneKey),
		label(run(systemPartitaCluster, "add", 64, 256, 1600, 38*ms, 80*ms), labelAddOneKey),
	)...)
	doc := c.markdown(machine{cpus: 2})
	wantLines(t, doc,
		"| Partita, 3 processes | GetItem, consistent, leases | 64 | 256 | 9000 | 4.00 ms | 12.00 ms |",
		"| Partita, 3 processes | GetItem, consistent, no leases | 64 | 256 | 6000 | 6.00 ms | 18.00 ms |",
		"| Partita, 3 processes | UpdateItem SET with a condition, 1 key | 64 | 256 | 1500 |",
		"| Partita, 3 processes | UpdateItem ADD, 1 key | 64 | 256 | 1600 |",
	)
	_, ratios, _ := strings.Cut(doc, "## Partita against the floor and etcd")
	ratios, _, _ = strings.Cut(ratios, "## Targets")
	if strings.Contains(ratios, "consistent") || strings.Contains(ratios, "1 key") {
		t.Errorf("the extra runs have rows among the ratios:\n%s", ratios)
	}
}

// withRounds returns clusterResults with rounds 2 and 3 of the cluster's
// and etcd's puts, whose ratios differ from the first round's: at one
// client Partita's p50 is 2x etcd's in round 1 but 1.1x and 1.5x after;
// at 64 clients its CPU per write is 0.625x etcd's in round 1 but 1.5x
// and 1.25x after.
func withRounds() []result {
	ms := time.Millisecond
	rs := clusterResults()
	add := func(round int, r result, cpu time.Duration) {
		r.Round, r.ServerCPU = round, cpu
		rs = append(rs, r)
	}
	add(2, run(systemPartitaCluster, "put", 1, 256, 600, 1100*time.Microsecond, 3*ms), 4*time.Second)
	add(2, run(systemPartitaCluster, "put", 64, 256, 3000, 10*ms, 30*ms), 9*time.Second) // 300 ms / 1k
	add(2, run(systemEtcd, "put", 1, 256, 1000, ms, 2*ms), 5*time.Second)
	add(2, run(systemEtcd, "put", 64, 256, 5000, 8*ms, 20*ms), 10*time.Second) // 200 ms / 1k
	add(3, run(systemPartitaCluster, "put", 1, 256, 500, 1500*time.Microsecond, 3*ms), 4*time.Second)
	add(3, run(systemPartitaCluster, "put", 64, 256, 4000, 10*ms, 15*ms), 10*time.Second) // 250 ms / 1k
	add(3, run(systemEtcd, "put", 1, 256, 1000, ms, 2*ms), 5*time.Second)
	add(3, run(systemEtcd, "put", 64, 256, 5000, 8*ms, 20*ms), 10*time.Second) // 200 ms / 1k
	return rs
}

func TestTargetsJudgedOnMedianRound(t *testing.T) {
	c := testComparison(allSystems(), withRounds()...)
	c.rounds = 3
	var b strings.Builder
	c.writeTargets(&b)
	wantLines(t, b.String(),
		// Round 1 alone would say no (2.00x); the median round is 1.50x.
		"| Partita 2.00 ms, etcd 1.00 ms (2.00x); median of 3 rounds: 1.50x (1.10-2.00x) | no |\n",
		// Round 1 alone would say yes (0.625x); the median round is 1.25x.
		"64 clients: Partita 125.0 ms, etcd 200.0 ms; 1 client: Partita 800.0 ms, etcd 500.0 ms; median of 3 rounds: 64 clients 1.25x (0.62-1.50x) | no |\n",
		// Throughput: 1.6, 0.6 and 0.8x; p99 1.5, 1.5 and 0.75x.
		"Partita 8000 ops/s, p99 30.00 ms; etcd 5000 ops/s, p99 20.00 ms; median of 3 rounds: ops/s 0.80x (0.60-1.60x), p99 1.50x (0.75-1.50x) | no |\n",
	)
	// The latency target flips with the rounds: a median of 1.1x meets it.
	for i, r := range c.results {
		if r.Round == 3 && r.System == systemPartitaCluster && r.Clients == 1 {
			c.results[i].P50 = 1000 * time.Microsecond
		}
	}
	b.Reset()
	c.writeTargets(&b)
	wantLines(t, b.String(), "| Partita 2.00 ms, etcd 1.00 ms (2.00x); median of 3 rounds: 1.10x (1.00-2.00x) | yes |\n")
}

func TestRoundsTable(t *testing.T) {
	c := testComparison(allSystems(), withRounds()...)
	var b strings.Builder
	c.writeRounds(&b)
	if b.Len() != 0 {
		t.Errorf("one round wrote a rounds section:\n%s", b.String())
	}
	c.rounds = 3
	c.writeRounds(&b)
	wantLines(t, b.String(),
		"| 1 | 1 | 500 | 2.00 ms | 3.00 ms | 800.0 | 1000 | 1.00 ms | 2.00 ms | 500.0 | 0.50 | 2.00 | 1.60 |\n",
		"| 2 | 64 | 3000 | 10.00 ms | 30.00 ms | 300.0 | 5000 | 8.00 ms | 20.00 ms | 200.0 | 0.60 | 1.25 | 1.50 |\n",
		"| median | 1 | | | | | | | | | 0.50 | 1.50 | 1.60 |\n",
		"| median | 64 | | | | | | | | | 0.80 | 1.25 | 1.25 |\n",
	)
	// The main tables hold the main measurement only.
	b.Reset()
	c.writeTable(&b)
	c.writeRatios(&b)
	if n := strings.Count(b.String(), "| Partita, 3 processes | PutItem | 64 | 256 |"); n != 2 {
		t.Errorf("%d rows of the cluster's 64-client puts in the results and ratios, want 2 (one each):\n%s", n, b.String())
	}
}

func TestCheckRounds(t *testing.T) {
	for _, tc := range []struct {
		systems string
		rounds  int
		ok      bool
	}{
		{"floor,dev,cluster,etcd", 1, true},
		{"floor,dev,cluster,etcd", 3, true},
		{"cluster,etcd", 2, true},
		{"floor,dev", 1, true},
		{"floor,dev", 3, true},
		{"floor,dev,cluster", 3, true},
		{"floor", 2, false},
		{"dev,cluster", 2, false},
		{"floor,dev,cluster,etcd", 0, false},
		{"cluster", 2, false},
		{"etcd", 3, false},
	} {
		sel, err := parseSystems(tc.systems)
		if err != nil {
			t.Fatal(err)
		}
		c := &comparison{systems: sel, rounds: tc.rounds}
		if err := c.checkRounds(); (err == nil) != tc.ok {
			t.Errorf("-systems %s -rounds %d: %v, want ok %v", tc.systems, tc.rounds, err, tc.ok)
		}
	}
}

// withNodeRounds returns clusterResults with rounds 2 and 3 of the
// floor's and the single node's puts and gets at 64 clients: the single
// node's puts are at 70% of the floor's in round 1 but 60% and 50% after,
// its gets at 75% in round 1 but 85% and 90% after.
func withNodeRounds() []result {
	ms := time.Millisecond
	rs := clusterResults()
	add := func(round int, r result) {
		r.Round = round
		rs = append(rs, r)
	}
	add(2, run(systemPartitaDev, "put", 64, 1024, 6000, 2*ms, 8*ms))
	add(2, run(systemPartitaDev, "get", 64, 1024, 8500, 2*ms, 8*ms))
	add(2, run(systemFloor, "put", 64, 1024, 10000, ms, 4*ms))
	add(2, run(systemFloor, "get", 64, 1024, 10000, ms, 4*ms))
	add(3, run(systemFloor, "put", 64, 1024, 10000, ms, 4*ms))
	add(3, run(systemFloor, "get", 64, 1024, 10000, ms, 4*ms))
	add(3, run(systemPartitaDev, "put", 64, 1024, 5000, 2*ms, 8*ms))
	add(3, run(systemPartitaDev, "get", 64, 1024, 9000, 2*ms, 8*ms))
	return rs
}

func TestSingleNodeTargetsJudgedOnMedianRound(t *testing.T) {
	sel, _ := parseSystems("floor,dev")
	c := testComparison(sel, withNodeRounds()...)
	c.rounds = 3
	var b strings.Builder
	c.writeTargets(&b)
	wantLines(t, b.String(),
		// Round 1 alone would say yes (70%); the median round is 60%.
		"| 1 node, durable, 64 clients, 1024-byte PutItem: at least 65% of the floor | 70% (7000 of 10000 ops/s); median of 3 rounds: 60% (50-70%) | no |\n",
		// Round 1 alone would say no (75%); the median round is 85%.
		"| 1 node, durable, 64 clients, 1024-byte GetItem: at least 80% of the floor | 75% (9000 of 12000 ops/s); median of 3 rounds: 85% (75-90%) | yes |\n",
	)
	b.Reset()
	c.writeRounds(&b)
	wantLines(t, b.String(),
		"## Rounds: Partita on one node against the floor\n",
		"| 1 | PutItem | 7000 | 142.9 | 10000 | 100.0 | 70% |\n",
		"| 3 | PutItem | 5000 | 200.0 | 10000 | 100.0 | 50% |\n",
		"| median | PutItem | | | | | 60% |\n",
		"| 2 | GetItem | 8500 | 117.6 | 10000 | 100.0 | 85% |\n",
		"| median | GetItem | | | | | 85% |\n",
	)
	if strings.Contains(b.String(), "against etcd") {
		t.Errorf("rounds of the single node alone wrote the cluster's rounds:\n%s", b.String())
	}
}
