package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/partitadb/partita/bench"
)

// runSpec is one measured run of a DynamoDB system.
type runSpec struct {
	workload  string // partita bench's: "put", "get", "cond", "add"
	clients   int
	valueSize int
	records   int // the loaded item count (get) or the first new key (put)
	// consistent: strongly consistent reads.
	consistent bool
	// label, if set, names the run in the results instead of workload
	// (one of the extra runs' labels).
	label string
}

// The extra runs on the 3-process cluster (issue 18's other figures).
const (
	labelConsistentLeases   = "get-consistent-leases"
	labelConsistentNoLeases = "get-consistent-no-leases"
	labelCondOneKey         = "cond-one-key"
	labelAddOneKey          = "add-one-key"
)

// measureSDK starts system s, runs puts (at each of its value sizes) then
// gets at every client count, and stops it. A system that is not available
// gets rows saying so.
func (c *comparison) measureSDK(ctx context.Context, s sdkSystem) error {
	logf("starting %s", s.name)
	srv, err := s.start(ctx)
	var na errNotAvailable
	if errors.As(err, &na) {
		c.results = append(c.results, c.missingRows(s, na.Error())...)
		return nil
	}
	if err != nil {
		return err
	}
	defer srv.stop()
	puts := 0
	for _, size := range append([]int{s.valueSize}, s.morePutSizes...) {
		for _, n := range c.clients {
			// Each put run writes keys of its own: inserts, not overwrites.
			puts++
			if err := c.runSDK(ctx, s.name, srv, runSpec{workload: "put", clients: n, valueSize: size, records: puts * 10_000_000}); err != nil {
				return err
			}
		}
	}
	if s.profile != nil && c.profile > 0 {
		if err := c.profilePuts(ctx, s, srv); err != nil {
			return err
		}
	}
	logf("%s: loading %d items", s.name, c.records)
	if err := bench.Load(ctx, c.benchConfig(srv, runSpec{workload: "get", clients: slices.Max(c.clients), valueSize: s.valueSize, records: c.records})); err != nil {
		return fmt.Errorf("compare: load %s: %w", s.name, err)
	}
	for _, n := range c.clients {
		if err := c.runSDK(ctx, s.name, srv, runSpec{workload: "get", clients: n, valueSize: s.valueSize, records: c.records}); err != nil {
			return err
		}
	}
	if s.extras {
		return c.measureExtras(ctx, s, srv)
	}
	return nil
}

// measurePutRound measures, as repeated round round (2 and up), the
// 3-process cluster's puts at every client count on a fresh cluster, then
// etcd's on a fresh cluster of its own.
func (c *comparison) measurePutRound(ctx context.Context, round int) error {
	var s sdkSystem
	for _, x := range c.sdkSystems() {
		if x.name == systemPartitaCluster {
			s = x
		}
	}
	logf("round %d of %d: starting %s", round, c.rounds, s.name)
	srv, err := s.start(ctx)
	if err != nil {
		return err
	}
	for i, n := range c.clients {
		// Keys of their own, apart from the main measurement's.
		spec := runSpec{workload: "put", clients: n, valueSize: s.valueSize, records: (100*round + i + 1) * 10_000_000}
		if err := c.runSDK(ctx, s.name, srv, spec); err != nil {
			_ = srv.stop()
			return err
		}
		c.results[len(c.results)-1].Round = round
	}
	if err := srv.stop(); err != nil {
		return err
	}
	return c.measureEtcd(ctx, round)
}

// measureNodeRound measures, as repeated round round (2 and up), the
// floor's and the single node's puts and gets at the largest client count
// (the targets' count), each on a fresh server, the single node first in
// even rounds so that neither always runs on the machine the other left.
func (c *comparison) measureNodeRound(ctx context.Context, round int) error {
	var order []sdkSystem
	for _, s := range c.sdkSystems() {
		if s.name == systemFloor || s.name == systemPartitaDev {
			order = append(order, s)
		}
	}
	if round%2 == 0 {
		slices.Reverse(order)
	}
	for _, s := range order {
		if err := c.measureNodeRun(ctx, s, round); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	return nil
}

// measureNodeRun is one system's part of measureNodeRound: puts of new
// keys, then gets of loaded items, at the largest client count.
func (c *comparison) measureNodeRun(ctx context.Context, s sdkSystem, round int) error {
	logf("round %d of %d: starting %s", round, c.rounds, s.name)
	srv, err := s.start(ctx)
	var na errNotAvailable
	if errors.As(err, &na) {
		return nil // the main measurement has its row saying why
	}
	if err != nil {
		return err
	}
	n := slices.Max(c.clients)
	// Keys of their own, apart from the main measurement's.
	put := runSpec{workload: "put", clients: n, valueSize: s.valueSize, records: (100*round + 50) * 10_000_000}
	get := runSpec{workload: "get", clients: n, valueSize: s.valueSize, records: c.records}
	run := func() error {
		if err := c.runSDK(ctx, s.name, srv, put); err != nil {
			return err
		}
		c.results[len(c.results)-1].Round = round
		if err := bench.Load(ctx, c.benchConfig(srv, get)); err != nil {
			return fmt.Errorf("compare: load %s: %w", s.name, err)
		}
		if err := c.runSDK(ctx, s.name, srv, get); err != nil {
			return err
		}
		c.results[len(c.results)-1].Round = round
		return nil
	}
	if err := run(); err != nil {
		_ = srv.stop()
		return err
	}
	return srv.stop()
}

// measureExtras runs, at the largest client count on the loaded items,
// strongly consistent GetItem with leader leases (raft.lease-reads on,
// the default) and without (every read a ReadIndex round trip), then
// conditional writes (UpdateItem SET with a ConditionExpression on an
// existing attribute) and UpdateItem ADD with every client on one key.
func (c *comparison) measureExtras(ctx context.Context, s sdkSystem, srv *server) error {
	n := slices.Max(c.clients)
	for _, leases := range []bool{true, false} {
		if err := c.setSetting(ctx, srv, "raft.lease-reads", strconv.FormatBool(leases)); err != nil {
			return err
		}
		label := labelConsistentLeases
		if !leases {
			label = labelConsistentNoLeases
		}
		spec := runSpec{workload: "get", clients: n, valueSize: s.valueSize, records: c.records, consistent: true, label: label}
		if err := c.runSDK(ctx, s.name, srv, spec); err != nil {
			return err
		}
	}
	if err := c.setSetting(ctx, srv, "raft.lease-reads", "true"); err != nil {
		return err
	}
	for _, w := range []struct{ workload, label string }{{"cond", labelCondOneKey}, {"add", labelAddOneKey}} {
		// records 1: the loaded item 0, every client on it.
		spec := runSpec{workload: w.workload, clients: n, valueSize: s.valueSize, records: 1, label: w.label}
		if err := c.runSDK(ctx, s.name, srv, spec); err != nil {
			return err
		}
	}
	return nil
}

// setSetting sets a run-time setting through the first admin endpoint
// (partita ctl config set) and gives the nodes a moment to apply it.
func (c *comparison) setSetting(ctx context.Context, srv *server, key, value string) error {
	if len(srv.adminURLs) == 0 {
		return fmt.Errorf("compare: no admin endpoint to set %s", key)
	}
	addr := strings.TrimPrefix(srv.adminURLs[0], "http://")
	if _, err := runTool(ctx, c.root, nil, c.partitaBin, "ctl", "--addr", addr, "config", "set", key, value,
		"--reason", "go run ./bench/compare"); err != nil {
		return fmt.Errorf("compare: set %s %s: %w", key, value, err)
	}
	logf("set %s to %s", key, value)
	time.Sleep(2 * time.Second) // the nodes read overrides as they change; leave them time
	return nil
}

// missingRows are the rows of a system that could not be measured.
func (c *comparison) missingRows(s sdkSystem, why string) []result {
	var rs []result
	add := func(workload string, size int) {
		for _, n := range c.clients {
			rs = append(rs, result{System: s.name, Workload: workload, Clients: n, ValueSize: size, Missing: why})
		}
	}
	for _, size := range append([]int{s.valueSize}, s.morePutSizes...) {
		add("put", size)
	}
	add("get", s.valueSize)
	return rs
}

// benchConfig is the runner's configuration for one run.
func (c *comparison) benchConfig(srv *server, r runSpec) bench.Config {
	cfg := bench.DefaultConfig()
	cfg.Endpoints, cfg.Workload, cfg.Clients = srv.endpoints, r.workload, r.clients
	cfg.Duration, cfg.ValueSize, cfg.Records = c.duration, r.valueSize, r.records
	cfg.ConsistentRead = r.consistent
	return cfg
}

// runSDK measures one workload at one client count, with CPU.
func (c *comparison) runSDK(ctx context.Context, system string, srv *server, spec runSpec) error {
	cfg := c.benchConfig(srv, spec)
	cfg.Load = false
	meter := startMeter(selfCPU, srv.pids)
	rep, err := bench.Run(ctx, cfg)
	clientCPU, serverCPU := meter.stop()
	if err != nil {
		if lines := srv.errorLines(10); len(lines) > 0 {
			err = fmt.Errorf("%w; the servers logged:\n%s", err, strings.Join(lines, "\n"))
		}
		return fmt.Errorf("compare: %s %s x%d: %w", system, spec.workload, spec.clients, err)
	}
	label := spec.workload
	if spec.label != "" {
		label = spec.label
	}
	r := result{
		System: system, Workload: label, Clients: spec.clients, ValueSize: spec.valueSize,
		OpsPerSec: rep.OpsPerSec, P50: rep.P50, P99: rep.P99, Ops: rep.Operations, Errors: rep.ErrorCount(),
		Elapsed: rep.Elapsed, ClientCPU: clientCPU, ServerCPU: serverCPU,
	}
	c.results = append(c.results, r)
	logf("%s %s x%d, %d bytes: %.0f ops/s p50 %v p99 %v errors %d %v, CPU client %.2f server %.2f cores",
		system, label, spec.clients, spec.valueSize, r.OpsPerSec, r.P50, r.P99, r.Errors, rep.Errors,
		cores(r.ClientCPU, r.Elapsed), cores(r.ServerCPU, r.Elapsed))
	return nil
}

// profileSpec says where a system's CPU profile goes.
type profileSpec struct {
	file    string  // base name of the profile files in the scratch dir
	keepEnv string  // environment variable naming where to keep a copy
	keepDir bool    // keepEnv names a directory (a file per process), not a file
	top     *string // receives pprof's top functions
}

// profilePuts takes a CPU profile of every process of s at once under
// puts at the largest client count (a run of its own, not one of the
// measured ones) and keeps pprof's top functions over all of them: the
// processes of a cluster share the work, so only their sum says where a
// write's CPU goes.
func (c *comparison) profilePuts(ctx context.Context, s sdkSystem, srv *server) error {
	if len(srv.adminURLs) == 0 {
		return fmt.Errorf("compare: no admin endpoint to profile %s", s.name)
	}
	n := slices.Max(c.clients)
	logf("profiling %s under %d-client puts of %d bytes for %v", s.name, n, s.valueSize, c.profile)
	// Keys far above the measured runs' (10 million apiece): inserts too.
	cfg := c.benchConfig(srv, runSpec{workload: "put", clients: n, valueSize: s.valueSize, records: 1_000_000_000})
	cfg.Load, cfg.Duration = false, c.profile+2*time.Second
	done := make(chan error, 1)
	go func() { _, err := bench.Run(ctx, cfg); done <- err }()
	time.Sleep(time.Second) // past the table check and connection set-up
	paths, err := c.fetchProfiles(ctx, srv.adminURLs, s.profile.file)
	if err := errors.Join(err, <-done); err != nil {
		return fmt.Errorf("compare: profile of %s: %w", s.name, err)
	}
	top, err := c.pprofTop(ctx, paths)
	if err != nil {
		return err
	}
	*s.profile.top = top
	keepProfiles(s.profile, paths)
	return nil
}

// fetchProfiles takes a CPU profile from each admin endpoint at the same
// time, into <file>.pprof (one endpoint) or <file>-<i>.pprof.
func (c *comparison) fetchProfiles(ctx context.Context, adminURLs []string, file string) ([]string, error) {
	paths := make([]string, len(adminURLs))
	errs := make([]error, len(adminURLs))
	var wg sync.WaitGroup
	for i, u := range adminURLs {
		paths[i] = filepath.Join(c.tmp, file+".pprof")
		if len(adminURLs) > 1 {
			paths[i] = filepath.Join(c.tmp, fmt.Sprintf("%s-%d.pprof", file, i+1))
		}
		wg.Go(func() {
			errs[i] = fetch(ctx, fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", u, int(c.profile.Seconds())), paths[i])
		})
	}
	wg.Wait()
	return paths, errors.Join(errs...)
}

// pprofTop is pprof's top functions by own and by cumulative time over
// the profiles together (pprof merges several profiles into one).
func (c *comparison) pprofTop(ctx context.Context, paths []string) (string, error) {
	run := func(flags ...string) (string, error) {
		args := append(append([]string{"tool", "pprof", "-top"}, flags...), c.partitaBin)
		return runTool(ctx, c.root, nil, "go", append(args, paths...)...)
	}
	top, err := run("-nodecount=25")
	if err != nil {
		return "", err
	}
	cum, err := run("-cum", "-nodecount=30")
	if err != nil {
		return "", err
	}
	return trimPprof(top) + "\n\nBy cumulative time:\n\n" + trimPprof(cum), nil
}

// keepProfiles copies the profiles where spec's environment variable says,
// if it is set. A failure to keep them is reported, not fatal: the
// comparison's figures do not depend on it.
func keepProfiles(spec *profileSpec, paths []string) {
	keep := os.Getenv(spec.keepEnv)
	if keep == "" {
		return
	}
	if err := copyProfiles(keep, spec.keepDir, paths); err != nil {
		logf("%s: %v", spec.keepEnv, err)
	}
}

func copyProfiles(keep string, dir bool, paths []string) error {
	if dir {
		if err := os.MkdirAll(keep, 0o755); err != nil {
			return err
		}
	}
	for _, p := range paths {
		to := keep
		if dir {
			to = filepath.Join(keep, filepath.Base(p))
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.WriteFile(to, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// trimPprof drops pprof's header lines that name local files.
func trimPprof(s string) string {
	var keep []string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if strings.HasPrefix(l, "File:") || strings.HasPrefix(l, "Build ID:") || strings.HasPrefix(l, "Type:") || strings.HasPrefix(l, "Time:") {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n")
}

func fetch(ctx context.Context, url, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("compare: GET %s: %s", url, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// etcdGuess guesses etcd's puts/s at a client count, to size each run's
// total (the tool counts requests, not time) near the run duration.
func etcdGuess(clients int) float64 {
	return min(800*float64(clients), 6000)
}

// measureEtcd runs etcd's put benchmark on a fresh 3-member cluster at
// every client count: the main measurement's (round 0) or a repeated
// round's.
func (c *comparison) measureEtcd(ctx context.Context, round int) error {
	logf("starting %s", systemEtcd)
	c.etcdStarts++
	e, err := startEtcd(ctx, filepath.Join(c.etcdDir, etcdBinary), filepath.Join(c.tmp, fmt.Sprintf("etcd-%d", c.etcdStarts)))
	if err != nil {
		return err
	}
	defer e.stop()
	for _, n := range c.clients {
		total := int(etcdGuess(n) * c.duration.Seconds())
		r, err := etcdPut(ctx, filepath.Join(c.etcdDir, etcdBenchmarkBinary), e, n, max(total, 100), c.clusterValueSize)
		if err != nil {
			return err
		}
		r.Round = round
		c.results = append(c.results, r)
		logf("%s put x%d, %d bytes: %.0f ops/s p50 %v p99 %v, CPU client %.2f server %.2f cores",
			systemEtcd, n, r.ValueSize, r.OpsPerSec, r.P50, r.P99, cores(r.ClientCPU, r.Elapsed), cores(r.ServerCPU, r.Elapsed))
	}
	return nil
}
