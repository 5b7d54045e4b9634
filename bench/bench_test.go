package bench_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/partitadb/partita/bench"
	"github.com/partitadb/partita/bench/floor"
	"github.com/partitadb/partita/node"
)

// runAll runs every workload briefly against endpoints and requires every
// operation to succeed. Transactions run only against a node (the floor
// serves single-item operations), one client at a time (two could
// conflict, which cancels one).
func runAll(t *testing.T, node bool, endpoints ...string) {
	t.Helper()
	for _, w := range bench.WorkloadNames() {
		if w == "txn" && !node {
			continue
		}
		t.Run(w, func(t *testing.T) {
			b := bench.DefaultConfig()
			b.Endpoints, b.Workload, b.Clients, b.Records, b.ValueSize = endpoints, w, 3, 40, 100
			if w == "txn" {
				b.Clients, b.TxnItems = 1, 3
			}
			b.Duration, b.Operations, b.MaxScanLength = time.Minute, 61, 10
			r, err := bench.Run(context.Background(), b)
			if err != nil {
				t.Fatal(err)
			}
			if r.Operations != 61 || len(r.Errors) != 0 {
				t.Fatalf("%d operations, errors %v; want 61 and none", r.Operations, r.Errors)
			}
			if r.P50 <= 0 || r.P99 < r.P50 || r.Max < r.P99 {
				t.Fatalf("inconsistent percentiles %v", r)
			}
			var n int64
			for _, o := range r.Ops {
				n += o.Operations
			}
			if n != r.Operations {
				t.Fatalf("operations by kind sum to %d, not %d", n, r.Operations)
			}
		})
	}
}

func TestWorkloadsAgainstANode(t *testing.T) {
	cfg := node.DefaultConfig()
	cfg.DataDir, cfg.APIAddr = t.TempDir(), "127.0.0.1:0"
	n, err := node.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	runAll(t, true, n.APIURL())
}

func TestWorkloadsAgainstTheFloor(t *testing.T) {
	a, b := httptest.NewServer(floor.NewHandler(100)), httptest.NewServer(floor.NewHandler(100))
	defer a.Close()
	defer b.Close()
	runAll(t, false, a.URL, b.URL)
}

func TestRangeWorkloadRefusesAHashTable(t *testing.T) {
	srv := httptest.NewServer(floor.NewHandler(10))
	defer srv.Close()
	c := bench.DefaultConfig()
	c.Endpoints, c.Operations, c.Records, c.Table = []string{srv.URL}, 1, 1, "t"
	if _, err := bench.Run(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	c.Workload = "e"
	_, err := bench.Run(context.Background(), c)
	if err == nil || !strings.Contains(err.Error(), "sort key") {
		t.Fatalf("workload e on a table without sort key: %v", err)
	}
}

func TestProgressLineIsClearedAtTheEnd(t *testing.T) {
	srv := httptest.NewServer(floor.NewHandler(10))
	defer srv.Close()
	var out bytes.Buffer
	c := bench.DefaultConfig()
	c.Endpoints, c.Operations, c.Progress = []string{srv.URL}, 10, &out
	if _, err := bench.Run(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(out.String(), "\r\033[K") {
		t.Fatalf("progress output %q does not end by clearing the line", out.String())
	}
}

func TestLoadThenRunWithoutLoad(t *testing.T) {
	srv := httptest.NewServer(floor.NewHandler(10))
	defer srv.Close()
	c := bench.DefaultConfig()
	c.Endpoints, c.Workload, c.Records, c.Operations = []string{srv.URL}, "get", 10, 5
	if err := bench.Load(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	c.Load = false
	r, err := bench.Run(context.Background(), c)
	if err != nil || r.Operations != 5 {
		t.Fatalf("%v, %d operations", err, r.Operations)
	}
}
