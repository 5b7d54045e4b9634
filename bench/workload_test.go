package bench

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestMixProportions(t *testing.T) {
	const draws = 100_000
	for _, name := range WorkloadNames() {
		w := Workloads[name]
		m := newMix(w)
		rng := rand.New(rand.NewPCG(3, 4))
		var counts [numOps]int
		for range draws {
			counts[m.next(rng)]++
		}
		for op, want := range w.weights() {
			got := float64(counts[op]) / draws
			if math.Abs(got-want) > 0.01 {
				t.Errorf("workload %s: %s is %.3f of the operations; want %.3f", name, Op(op), got, want)
			}
			if want == 0 && counts[op] != 0 {
				t.Errorf("workload %s issued %d %s operations; want none", name, counts[op], Op(op))
			}
		}
	}
}

func TestWorkloadsSumToOne(t *testing.T) {
	for name, w := range Workloads {
		s := 0.0
		for _, p := range w.weights() {
			s += p
		}
		if math.Abs(s-1) > 1e-9 || !validDistribution(w.Distribution) {
			t.Errorf("workload %s: proportions sum to %v, distribution %q", name, s, w.Distribution)
		}
	}
}

func TestValidate(t *testing.T) {
	bad := map[string]func(*Config){
		"unknown workload":     func(c *Config) { c.Workload = "z" },
		"unknown distribution": func(c *Config) { c.Distribution = "pareto" },
		"unbounded":            func(c *Config) { c.Duration, c.Operations = 0, 0 },
		"no clients":           func(c *Config) { c.Clients = 0 },
		"no endpoint":          func(c *Config) { c.Endpoints = nil },
		"not a URL":            func(c *Config) { c.Endpoints = []string{"127.0.0.1:8000"} },
		"reads without items":  func(c *Config) { c.Workload, c.Records = "a", 0 },
		"scans of nothing":     func(c *Config) { c.Workload, c.MaxScanLength = "e", 0 },
		"empty transactions":   func(c *Config) { c.Workload, c.TxnItems = "txn", 0 },
		"huge transactions":    func(c *Config) { c.Workload, c.TxnItems = "txn", 101 },
	}
	for name, mutate := range bad {
		c := DefaultConfig()
		mutate(&c)
		if c.Validate() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	c := DefaultConfig()
	c.Records = 0 // inserts need no items
	if err := c.Validate(); err != nil {
		t.Fatalf("default put without records: %v", err)
	}
}

func TestTableAndDistributionDefaults(t *testing.T) {
	c := DefaultConfig()
	c.Workload = "e"
	if c.table() != DefaultRangeTable || c.distribution() != Zipfian {
		t.Fatalf("workload e: table %q distribution %q", c.table(), c.distribution())
	}
	c.Workload, c.Distribution, c.Table = "d", Uniform, "t"
	if c.table() != "t" || c.distribution() != Uniform {
		t.Fatalf("overrides ignored: table %q distribution %q", c.table(), c.distribution())
	}
}
