// Command compare measures Partita beside its peers on this machine, one
// system after another, with the same client count and value size:
//
//  1. a floor server: the DynamoDB JSON protocol alone (bench/floor), in a
//     process of its own;
//  2. Partita as one node (`partita dev`, built from this tree);
//  3. Partita as three processes (a slot until `partita start` exists);
//  4. etcd as a 3-member cluster on loopback, driven by etcd's own
//     benchmark tool (both built from the Go module proxy in a throwaway
//     module outside this repository).
//
// The DynamoDB systems are driven by partita bench's runner (AWS SDK for Go
// v2 clients) in this process. Client and server CPU are measured for every
// run. The results go to docs/performance.md as markdown.
//
//	go run ./bench/compare                       # about 5 minutes
//	go run ./bench/compare -duration 5s -out /tmp/perf.md
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

// comparison is one run of every system.
type comparison struct {
	duration  time.Duration // of each measured run
	valueSize int
	records   int   // items loaded for the get runs
	clients   []int // client counts of each workload
	profile   time.Duration
	tmp       string // scratch dir: binaries, data, logs
	etcdDir   string
	root      string // this module's root

	partitaBin string
	profileTop string // pprof -top of Partita under 64-client puts
	started    time.Time
	results    results
}

func main() {
	c := &comparison{}
	var (
		out       string
		floorOnly bool
		clients   string
	)
	flag.DurationVar(&c.duration, "duration", 10*time.Second, "length of each measured run")
	flag.IntVar(&c.valueSize, "value-size", 1024, "payload bytes per item (PutItem, GetItem, etcd put)")
	flag.IntVar(&c.records, "records", 10_000, "items loaded before the get runs")
	flag.StringVar(&clients, "clients", "1,64", "client counts, comma-separated")
	flag.DurationVar(&c.profile, "profile", 10*time.Second, "CPU profile of Partita under the largest client count of puts, this long (0: none)")
	flag.StringVar(&c.etcdDir, "etcd-dir", filepath.Join(os.TempDir(), "partita-compare-etcd"), "where etcd is built (reused when present)")
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
	if err := c.parseClients(clients); err != nil {
		fmt.Fprintln(os.Stderr, err)
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

func (c *comparison) main(out string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
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
		if err := c.measureSDK(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	if err := c.measureEtcd(ctx); err != nil {
		return fmt.Errorf("etcd: %w", err)
	}
	doc := c.markdown(machineInfo(ctx, c.root))
	if err := os.WriteFile(out, []byte(doc), 0o644); err != nil {
		return err
	}
	fmt.Print(doc)
	logf("wrote %s in %v", out, time.Since(c.started).Round(time.Second))
	return nil
}

// logf prints progress to stderr.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "compare: "+format+"\n", args...)
}

// build compiles partita from this tree and etcd from the module proxy.
func (c *comparison) build(ctx context.Context) error {
	logf("building partita")
	c.partitaBin = filepath.Join(c.tmp, "partita")
	if _, err := runTool(ctx, c.root, nil, "go", "build", "-o", c.partitaBin, "./cmd/partita"); err != nil {
		return err
	}
	logf("building etcd %s and its benchmark tool (%s) in %s", etcdServerVersion, etcdBenchVersion, c.etcdDir)
	return buildEtcd(ctx, c.etcdDir)
}

func moduleRoot(ctx context.Context) (string, error) {
	gomod, err := runTool(ctx, ".", nil, "go", "env", "GOMOD")
	gomod = strings.TrimSpace(gomod)
	if err != nil || gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("compare: run from inside the partita module (%v)", err)
	}
	return filepath.Dir(gomod), nil
}
