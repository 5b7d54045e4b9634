package main

import (
	"os"
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

func TestMarkdown(t *testing.T) {
	c := &comparison{duration: 10 * time.Second, valueSize: 1024, records: 100, clients: []int{1, 64}, started: time.Now()}
	run := func(system, workload string, clients int, ops float64, p50, p99 time.Duration) result {
		return result{System: system, Workload: workload, Clients: clients, OpsPerSec: ops, P50: p50, P99: p99,
			Ops: int64(ops * 10), Elapsed: 10 * time.Second, ClientCPU: 5 * time.Second, ServerCPU: 10 * time.Second}
	}
	c.results = results{
		run(systemFloor, "put", 64, 10000, time.Millisecond, 4*time.Millisecond),
		run(systemFloor, "get", 64, 12000, time.Millisecond, 4*time.Millisecond),
		run(systemPartitaDev, "put", 64, 7000, 2*time.Millisecond, 8*time.Millisecond),
		run(systemPartitaDev, "get", 64, 8400, 2*time.Millisecond, 8*time.Millisecond),
		{System: systemPartitaCluster, Workload: "put", Clients: 64, Missing: "not available yet (needs `partita start`)"},
		run(systemEtcd, "put", 64, 5000, 4*time.Millisecond, 16*time.Millisecond),
	}
	doc := c.markdown(machine{cpus: 2, cpuModel: "test CPU", goVersion: "go1.26"})
	for _, want := range []string{
		"| floor server | PutItem | 64 | 10000 | 1.00 ms | 4.00 ms | 0 | 0.50 | 1.00 | 100.0 |",
		"| Partita, 1 node (dev) | PutItem | 64 | 0.70 | 2.00 | 2.00 | 1.40 | 0.50 | 0.50 |",
		"| Partita, 1 node (dev) | GetItem | 64 | 0.70 | 2.00 | 2.00 | – | – | – |",
		"| Partita, 3 processes | PutItem | 64 | not available yet (needs `partita start`) |",
		"| 1 node, durable, 64 clients, PutItem: at least 65% of the floor | 70% (7000 of 10000 ops/s) | yes |",
		"| 1 node, durable, 64 clients, GetItem: at least 75% of the floor | 70% (8400 of 12000 ops/s) | no |",
		"| CPU model | test CPU |",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(doc)
	}
}
