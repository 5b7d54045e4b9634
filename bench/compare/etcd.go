package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The etcd versions: the server, and the module whose tools/benchmark is
// etcd's own load generator.
const (
	etcdServerModule    = "go.etcd.io/etcd/server/v3"
	etcdServerVersion   = "v3.6.16"
	etcdBenchModule     = "go.etcd.io/etcd/v3"
	etcdBenchVersion    = "v3.6.8"
	etcdBenchPackage    = etcdBenchModule + "/tools/benchmark"
	etcdKeySpace        = 100_000
	etcdMembers         = 3
	etcdReadyTimeout    = time.Minute
	etcdBinary          = "etcd"
	etcdBenchmarkBinary = "benchmark"
)

// buildEtcd builds etcd and its benchmark tool from the module proxy in a
// throwaway module under dir (never in Partita's go.mod); binaries already
// there are reused.
func buildEtcd(ctx context.Context, dir string) error {
	if exists(filepath.Join(dir, etcdBinary)) && exists(filepath.Join(dir, etcdBenchmarkBinary)) {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module etcdtools\n\ngo 1.26\n"), 0o644); err != nil {
		return err
	}
	env := []string{"GOWORK=off", "GOFLAGS=-mod=mod"}
	steps := [][]string{
		{"go", "get", etcdServerModule + "@" + etcdServerVersion, etcdBenchModule + "@" + etcdBenchVersion},
		{"go", "build", "-o", etcdBinary, etcdServerModule},
		{"go", "build", "-o", etcdBenchmarkBinary, etcdBenchPackage},
	}
	for _, s := range steps {
		if _, err := runTool(ctx, dir, env, s[0], s[1:]...); err != nil {
			return err
		}
	}
	return nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// etcdCluster is a running 3-member etcd cluster on loopback.
type etcdCluster struct {
	clientURLs []string
	procs      []*process
}

func (e *etcdCluster) pids() []int {
	var ps []int
	for _, p := range e.procs {
		ps = append(ps, p.pid())
	}
	return ps
}

func (e *etcdCluster) stop() {
	for _, p := range e.procs {
		_ = p.stop()
	}
}

// startEtcd starts the cluster with data under dir and waits until every
// member reports healthy.
func startEtcd(ctx context.Context, bin, dir string) (*etcdCluster, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	ports, err := freePorts(2 * etcdMembers)
	if err != nil {
		return nil, err
	}
	var initial []string
	for i := range etcdMembers {
		initial = append(initial, fmt.Sprintf("m%d=http://%s", i, loopback(ports[2*i+1])))
	}
	e := &etcdCluster{}
	for i := range etcdMembers {
		client, peer := "http://"+loopback(ports[2*i]), "http://"+loopback(ports[2*i+1])
		args := []string{
			"--name", fmt.Sprintf("m%d", i), "--data-dir", filepath.Join(dir, fmt.Sprintf("m%d", i)),
			"--listen-client-urls", client, "--advertise-client-urls", client,
			"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
			"--initial-cluster", strings.Join(initial, ","), "--initial-cluster-state", "new",
			"--initial-cluster-token", "partita-compare", "--log-level", "error",
		}
		p, err := startEtcdMember(bin, filepath.Join(dir, fmt.Sprintf("m%d.log", i)), args)
		if err != nil {
			e.stop()
			return nil, err
		}
		e.procs = append(e.procs, p)
		e.clientURLs = append(e.clientURLs, client)
	}
	if err := e.waitHealthy(ctx); err != nil {
		e.stop()
		return nil, err
	}
	return e, nil
}

// startEtcdMember starts one member; it logs to a file and prints nothing
// to wait for, so readiness is checked over HTTP.
func startEtcdMember(bin, logPath string, args []string) (*process, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	return p, nil
}

func (e *etcdCluster) waitHealthy(ctx context.Context) error {
	deadline := time.Now().Add(etcdReadyTimeout)
	for _, u := range e.clientURLs {
		for !healthy(u) {
			if time.Now().After(deadline) || ctx.Err() != nil {
				return fmt.Errorf("compare: etcd member %s not healthy", u)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	return nil
}

func healthy(url string) bool {
	resp, err := http.Get(url + "/health")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// etcdPut runs etcd's benchmark tool: total puts of valueSize bytes over
// a random key space with clients clients (one gRPC connection each).
func etcdPut(ctx context.Context, bin string, e *etcdCluster, clients, total, valueSize int) (result, error) {
	var hosts []string
	for _, u := range e.clientURLs {
		hosts = append(hosts, strings.TrimPrefix(u, "http://"))
	}
	n := strconv.Itoa(clients)
	cmd := exec.CommandContext(ctx, bin, "--endpoints", strings.Join(hosts, ","), "--conns", n, "--clients", n,
		"put", "--key-size", "8", "--val-size", strconv.Itoa(valueSize), "--total", strconv.Itoa(total),
		"--sequential-keys=false", "--key-space-size", strconv.Itoa(etcdKeySpace))
	meter := startMeter(func() time.Duration { return 0 }, e.pids())
	out, err := cmd.Output() // the progress bar goes to stderr
	_, serverCPU := meter.stop()
	if err != nil {
		return result{}, fmt.Errorf("compare: etcd benchmark: %w\n%s", err, out)
	}
	r, err := parseEtcdBenchmark(string(out))
	if err != nil {
		return result{}, err
	}
	r.System, r.Workload, r.Clients, r.ValueSize, r.ServerCPU = systemEtcd, "put", clients, valueSize, serverCPU
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.ClientCPU = rusageCPU(ru)
	}
	return r, nil
}

var (
	etcdTotal = regexp.MustCompile(`Total:\s+([0-9.]+) secs`)
	etcdRate  = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	etcdP50   = regexp.MustCompile(`\s50% in ([0-9.]+) secs`)
	etcdP99   = regexp.MustCompile(`\s99% in ([0-9.]+) secs`)
	etcdErr   = regexp.MustCompile(`(?m)^\s+\[(\d+)\]\t`) // "Error distribution:" lines
)

// parseEtcdBenchmark reads the benchmark tool's summary.
func parseEtcdBenchmark(out string) (result, error) {
	var r result
	vals := make([]float64, 4)
	for i, re := range []*regexp.Regexp{etcdTotal, etcdRate, etcdP50, etcdP99} {
		m := re.FindStringSubmatch(out)
		if m == nil {
			return r, fmt.Errorf("compare: no %q in the etcd benchmark's output:\n%s", re, out)
		}
		vals[i], _ = strconv.ParseFloat(m[1], 64)
	}
	secs := func(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }
	r.Elapsed, r.OpsPerSec, r.P50, r.P99 = secs(vals[0]), vals[1], secs(vals[2]), secs(vals[3])
	r.Ops = int64(vals[0]*vals[1] + 0.5)
	for _, m := range etcdErr.FindAllStringSubmatch(out, -1) {
		n, _ := strconv.ParseInt(m[1], 10, 64)
		r.Errors += n
	}
	return r, nil
}
