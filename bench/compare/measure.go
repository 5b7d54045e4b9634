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
	"strings"
	"time"

	"github.com/partitadb/partita/bench"
)

// measureSDK starts system s, runs puts then gets at every client count,
// and stops it. A system that is not available yet gets rows saying so.
func (c *comparison) measureSDK(ctx context.Context, s sdkSystem) error {
	logf("starting %s", s.name)
	srv, err := s.start(ctx)
	var na errNotAvailable
	if errors.As(err, &na) {
		for _, w := range []string{"put", "get"} {
			for _, n := range c.clients {
				c.results = append(c.results, result{System: s.name, Workload: w, Clients: n, Missing: na.Error()})
			}
		}
		return nil
	}
	if err != nil {
		return err
	}
	defer srv.stop()
	for i, n := range c.clients {
		// Each put run writes keys of its own: inserts, not overwrites.
		if err := c.runSDK(ctx, s.name, srv, "put", n, (i+1)*10_000_000); err != nil {
			return err
		}
	}
	if s.name == systemPartitaDev && c.profile > 0 {
		if err := c.profilePuts(ctx, srv); err != nil {
			return err
		}
	}
	logf("%s: loading %d items", s.name, c.records)
	if err := bench.Load(ctx, c.benchConfig(srv, "get", slices.Max(c.clients), c.records)); err != nil {
		return err
	}
	for _, n := range c.clients {
		if err := c.runSDK(ctx, s.name, srv, "get", n, c.records); err != nil {
			return err
		}
	}
	return nil
}

// benchConfig is the runner's configuration for one run: records is the
// loaded item count (get) or the first new key (put).
func (c *comparison) benchConfig(srv *server, workload string, clients, records int) bench.Config {
	cfg := bench.DefaultConfig()
	cfg.Endpoints, cfg.Workload, cfg.Clients = srv.endpoints, workload, clients
	cfg.Duration, cfg.ValueSize, cfg.Records = c.duration, c.valueSize, records
	return cfg
}

// runSDK measures one workload at one client count, with CPU.
func (c *comparison) runSDK(ctx context.Context, system string, srv *server, workload string, clients, records int) error {
	cfg := c.benchConfig(srv, workload, clients, records)
	cfg.Load = false
	meter := startMeter(selfCPU, srv.pids)
	rep, err := bench.Run(ctx, cfg)
	clientCPU, serverCPU := meter.stop()
	if err != nil {
		return err
	}
	r := result{
		System: system, Workload: workload, Clients: clients, OpsPerSec: rep.OpsPerSec,
		P50: rep.P50, P99: rep.P99, Ops: rep.Operations, Errors: rep.ErrorCount(), Elapsed: rep.Elapsed,
		ClientCPU: clientCPU, ServerCPU: serverCPU,
	}
	c.results = append(c.results, r)
	logf("%s %s x%d: %.0f ops/s p50 %v p99 %v errors %d, CPU client %.2f server %.2f cores",
		system, workload, clients, r.OpsPerSec, r.P50, r.P99, r.Errors,
		cores(r.ClientCPU, r.Elapsed), cores(r.ServerCPU, r.Elapsed))
	return nil
}

// profilePuts takes a CPU profile of Partita under puts at the largest
// client count (a run of its own, not one of the measured ones) and keeps
// pprof's top functions.
func (c *comparison) profilePuts(ctx context.Context, srv *server) error {
	if srv.adminURL == "" {
		return errors.New("compare: no admin endpoint to profile")
	}
	n := slices.Max(c.clients)
	logf("profiling Partita under %d-client puts for %v", n, c.profile)
	cfg := c.benchConfig(srv, "put", n, 90_000_000)
	cfg.Load, cfg.Duration = false, c.profile+2*time.Second
	done := make(chan error, 1)
	go func() { _, err := bench.Run(ctx, cfg); done <- err }()
	time.Sleep(time.Second) // past the table check and connection set-up
	path := filepath.Join(c.tmp, "partita-put.pprof")
	err := fetch(ctx, fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", srv.adminURL, int(c.profile.Seconds())), path)
	if err := errors.Join(err, <-done); err != nil {
		return err
	}
	top, err := runTool(ctx, c.root, nil, "go", "tool", "pprof", "-top", "-nodecount=25", c.partitaBin, path)
	if err != nil {
		return err
	}
	cum, err := runTool(ctx, c.root, nil, "go", "tool", "pprof", "-top", "-cum", "-nodecount=30", c.partitaBin, path)
	if err != nil {
		return err
	}
	c.profileTop = trimPprof(top) + "\n\nBy cumulative time:\n\n" + trimPprof(cum)
	if keep := os.Getenv("PARTITA_COMPARE_PROFILE"); keep != "" {
		if b, err := os.ReadFile(path); err == nil {
			_ = os.WriteFile(keep, b, 0o644)
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
// every client count.
func (c *comparison) measureEtcd(ctx context.Context) error {
	logf("starting %s", systemEtcd)
	e, err := startEtcd(ctx, filepath.Join(c.etcdDir, etcdBinary), filepath.Join(c.tmp, "etcd"))
	if err != nil {
		return err
	}
	defer e.stop()
	for _, n := range c.clients {
		total := int(etcdGuess(n) * c.duration.Seconds())
		r, err := etcdPut(ctx, filepath.Join(c.etcdDir, etcdBenchmarkBinary), e, n, max(total, 100), c.valueSize)
		if err != nil {
			return err
		}
		c.results = append(c.results, r)
		logf("%s put x%d: %.0f ops/s p50 %v p99 %v, CPU client %.2f server %.2f cores",
			systemEtcd, n, r.OpsPerSec, r.P50, r.P99, cores(r.ClientCPU, r.Elapsed), cores(r.ServerCPU, r.Elapsed))
	}
	return nil
}
