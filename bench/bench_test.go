package bench_test

import (
	"context"
	"testing"
	"time"

	"github.com/partitadb/partita/bench"
	"github.com/partitadb/partita/node"
)

func TestRunAgainstANode(t *testing.T) {
	cfg := node.DefaultConfig()
	cfg.DataDir, cfg.APIAddr = t.TempDir(), "127.0.0.1:0"
	n, err := node.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	for _, workload := range []string{"put", "get"} {
		b := bench.DefaultConfig()
		b.Endpoint, b.Workload, b.Clients, b.Records, b.ValueSize = n.APIURL(), workload, 3, 20, 100
		b.Duration, b.Operations = time.Minute, 61
		r, err := bench.Run(context.Background(), b)
		if err != nil {
			t.Fatal(err)
		}
		if r.Operations != 61 || len(r.Errors) != 0 {
			t.Fatalf("%s: %d operations, errors %v; want 61 and none", workload, r.Operations, r.Errors)
		}
		if r.P50 <= 0 || r.P99 < r.P50 || r.Max < r.P99 {
			t.Fatalf("%s: inconsistent percentiles %v", workload, r)
		}
	}
}

func TestValidate(t *testing.T) {
	c := bench.DefaultConfig()
	c.Workload = "scan"
	if c.Validate() == nil {
		t.Fatal("unknown workload accepted")
	}
	c = bench.DefaultConfig()
	c.Duration, c.Operations = 0, 0
	if c.Validate() == nil {
		t.Fatal("unbounded run accepted")
	}
}
