// Command compare measures Partita beside its peers on this machine, one
// system after another, with the same client counts:
//
//  1. a floor server: the DynamoDB JSON protocol alone (bench/floor), in a
//     process of its own;
//  2. Partita as one node (`partita dev`, built from this tree);
//  3. Partita as three `partita start` processes on 127.0.0.1, joined into
//     one cluster (default replication factor 3, 4 partitions per table),
//     the clients spread round-robin over the three API endpoints; at the
//     largest client count also strongly consistent GetItem with leader
//     leases and without, and conditional writes and ADD with every client
//     on one key;
//  4. etcd as a 3-member cluster on loopback, driven by etcd's own
//     benchmark tool (both built from the Go module proxy in a throwaway
//     module outside this repository).
//
// The floor and the single node use -value-size (1 KB) values; the
// 3-process cluster and etcd use -cluster-value-size (256 bytes), and the
// floor's puts are measured at that size too, so that every Partita figure
// has a floor and etcd figure of the same value size beside it.
//
// The DynamoDB systems are driven by partita bench's runner (AWS SDK for Go
// v2 clients) in this process. Client and server CPU are measured for every
// run, and a CPU profile of the single node and of the cluster is taken
// under puts. The results go to docs/performance.md as markdown.
//
//	go run ./bench/compare                       # about 5 minutes
//	go run ./bench/compare -duration 5s -out /tmp/perf.md
//	go run ./bench/compare -systems cluster,etcd -out /tmp/perf.md
//	go run ./bench/compare -rounds 3             # cluster and etcd puts three times
//
// With -rounds N, the 3-process cluster's and etcd's puts are measured N
// times, alternately, each time on fresh clusters, and so are the floor's
// and the single node's puts and gets at the largest client count; every
// target is judged on the median of the rounds' ratios: on a shared
// machine one round's ratio moves by a third either way.
//
// PARTITA_COMPARE_PROFILE (a file) and PARTITA_COMPARE_CLUSTER_PROFILE (a
// directory) keep the raw profiles of the single node and of the cluster.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// comparison is one run of every selected system.
type comparison struct {
	duration         time.Duration // of each measured run
	valueSize        int           // of the floor's and the single node's runs
	clusterValueSize int           // of the cluster's and etcd's runs
	records          int           // items loaded for the get runs
	clients          []int         // client counts of each workload
	systems          map[string]bool
	profile          time.Duration
	// rounds is how many times the cluster's and etcd's puts, and the
	// floor's and the single node's puts and gets, are measured,
	// alternately (-rounds); the first round is the main measurement.
	rounds int
	// clusterStarts and etcdStarts count the clusters started, each in
	// directories of its own.
	clusterStarts, etcdStarts int
	tmp                       string // scratch dir: binaries, data, logs
	etcdDir                   string
	root                      string // this module's root

	partitaBin        string
	profileTop        string // pprof -top of Partita dev under max-client puts
	clusterProfileTop string // the same over the cluster's three processes
	started           time.Time
	results           results
}

func main() {
	c := &comparison{}
	var (
		out       string
		floorOnly bool
		clients   string
		systems   string
	)
	flag.DurationVar(&c.duration, "duration", 10*time.Second, "length of each measured run")
	flag.IntVar(&c.valueSize, "value-size", 1024, "payload bytes per item of the floor and Partita dev runs")
	flag.IntVar(&c.clusterValueSize, "cluster-value-size", 256, "payload bytes per item of the Partita 3-process and etcd runs (the floor's puts too)")
	flag.StringVar(&systems, "systems", strings.Join(systemFlagNames, ","), "systems to measure, comma-separated: "+strings.Join(systemFlagNames, ", "))
	flag.IntVar(&c.records, "records", 10_000, "items loaded before the get runs")
	flag.StringVar(&clients, "clients", "1,64", "client counts, comma-separated")
	flag.DurationVar(&c.profile, "profile", 10*time.Second, "CPU profile of Partita (dev and cluster) under the largest client count of puts, this long (0: none)")
	flag.StringVar(&c.etcdDir, "etcd-dir", filepath.Join(os.TempDir(), "partita-compare-etcd"), "where etcd is built (reused when present)")
	flag.IntVar(&c.rounds, "rounds", 1, "measure the puts of the 3-process cluster and etcd, and the puts and gets of the floor and the single node at the largest client count, this many times, alternately, each on fresh servers, and judge the targets on the median round (needs cluster and etcd, or floor and dev)")
	flag.StringVar(&out, "out", "", "markdown output (default: docs/performance.md of this module)")
	flag.BoolVar(&floorOnly, floorFlag, false, "serve the floor (used by the comparison itself)")
	flag.Parse()
	if floorOnly {
		if err := serveFloor(c.valueSize); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	var err error
	if err = c.parseClients(clients); err == nil {
		c.systems, err = parseSystems(systems)
	}
	if err == nil {
		err = c.checkRounds()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		flag.Usage()
		os.Exit(2)
	}
	if err := c.main(out); err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

func (c *comparison) parseClients(s string) error {
	for _, f := range strings.Split(s, ",") {
		var n int
		if _, err := fmt.Sscan(strings.TrimSpace(f), &n); err != nil || n < 1 {
			return fmt.Errorf("compare: bad client count %q", f)
		}
		c.clients = append(c.clients, n)
	}
	return nil
}

// checkRounds refuses a -rounds the comparison cannot honour: repeated
// rounds pair the cluster's puts with etcd's, and the single node's runs
// with the floor's.
func (c *comparison) checkRounds() error {
	switch {
	case c.rounds < 1:
		return fmt.Errorf("compare: -rounds %d: at least 1", c.rounds)
	case c.rounds > 1 && !c.clusterRounds() && !c.nodeRounds():
		return fmt.Errorf("compare: -rounds %d needs cluster and etcd, or floor and dev, in -systems", c.rounds)
	}
	return nil
}

// clusterRounds: repeated rounds measure the cluster's and etcd's puts.
func (c *comparison) clusterRounds() bool {
	return c.systems[systemPartitaCluster] && c.systems[systemEtcd]
}

// nodeRounds: repeated rounds measure the floor's and the single node's
// puts and gets.
func (c *comparison) nodeRounds() bool { return c.systems[systemFloor] && c.systems[systemPartitaDev] }

// systemFlagNames are the -systems names, in the order the systems run.
var systemFlagNames = []string{"floor", "dev", "cluster", "etcd"}

// systemByFlag maps a -systems name to the system's name in the results.
var systemByFlag = map[string]string{
	"floor": systemFloor, "dev": systemPartitaDev, "cluster": systemPartitaCluster, "etcd": systemEtcd,
}

// parseSystems reads the -systems list into the set of selected systems'
// result names. An unknown or empty name is an error, so that a typo does
// not silently skip a system.
func parseSystems(s string) (map[string]bool, error) {
	set := map[string]bool{}
	for _, f := range strings.Split(s, ",") {
		name, ok := systemByFlag[strings.TrimSpace(f)]
		if !ok {
			return nil, fmt.Errorf("compare: unknown system %q in -systems (want some of %s)", strings.TrimSpace(f), strings.Join(systemFlagNames, ","))
		}
		set[name] = true
	}
	return set, nil
}

func (c *comparison) main(out string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(15+5*c.rounds)*time.Minute)
	defer cancel()
	c.started = time.Now()
	var err error
	if c.root, err = moduleRoot(ctx); err != nil {
		return err
	}
	if out == "" {
		out = filepath.Join(c.root, "docs", "performance.md")
	}
	if c.tmp, err = os.MkdirTemp("", "partita-compare-"); err != nil {
		return err
	}
	defer os.RemoveAll(c.tmp)
	if err := c.build(ctx); err != nil {
		return err
	}
	for _, s := range c.sdkSystems() {
		if !c.systems[s.name] {
			continue
		}
		if err := c.measureSDK(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	if c.systems[systemEtcd] {
		if err := c.measureEtcd(ctx, 0); err != nil {
			return fmt.Errorf("etcd: %w", err)
		}
	}
	for round := 2; round <= c.rounds; round++ {
		if c.clusterRounds() {
			if err := c.measurePutRound(ctx, round); err != nil {
				return fmt.Errorf("round %d: %w", round, err)
			}
		}
		if c.nodeRounds() {
			if err := c.measureNodeRound(ctx, round); err != nil {
				return fmt.Errorf("round %d: %w", round, err)
			}
		}
	}
	doc := c.markdown(machineInfo(ctx, c.root))
	if err := os.WriteFile(out, []byte(doc), 0o644); err != nil {
		return fmt.Errorf("compare: write the markdown: %w", err)
	}
	fmt.Print(doc)
	logf("wrote %s in %v", out, time.Since(c.started).Round(time.Second))
	return nil
}

// logf prints progress to stderr.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "compare: "+format+"\n", args...)
}

// build compiles partita from this tree and etcd from the module proxy,
// each only if a selected system needs it: a rerun of the floor alone
// should not wait for builds.
func (c *comparison) build(ctx context.Context) error {
	if c.systems[systemPartitaDev] || c.systems[systemPartitaCluster] {
		logf("building partita")
		c.partitaBin = filepath.Join(c.tmp, "partita")
		if _, err := runTool(ctx, c.root, nil, "go", "build", "-o", c.partitaBin, "./cmd/partita"); err != nil {
			return err
		}
	}
	if !c.systems[systemEtcd] {
		return nil
	}
	logf("building etcd %s and its benchmark tool (%s) in %s", etcdServerVersion, etcdBenchVersion, c.etcdDir)
	return buildEtcd(ctx, c.etcdDir)
}

func moduleRoot(ctx context.Context) (string, error) {
	gomod, err := runTool(ctx, ".", nil, "go", "env", "GOMOD")
	gomod = strings.TrimSpace(gomod)
	if err != nil || gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("compare: run from inside the partita module (%w)", err)
	}
	return filepath.Dir(gomod), nil
}
