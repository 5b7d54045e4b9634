package store_test

import (
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/partitadb/partita/store"
)

// gaugeValue returns the value of the unlabelled gauge name in reg.
func gaugeValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// TestReplicationHealthMetrics stops followers one by one: the leader
// reports its partition under-replicated, then, without a quorum, the
// last replica knows no leader.
func TestReplicationHealthMetrics(t *testing.T) {
	var mu sync.Mutex
	regs := make(map[uint64]*prometheus.Registry)
	c := newTestCluster(t, 3, func(cfg *store.Config) {
		reg := prometheus.NewRegistry()
		mu.Lock()
		regs[cfg.NodeID] = reg
		mu.Unlock()
		cfg.Registerer = reg
	})
	reg := func(i int) *prometheus.Registry {
		mu.Lock()
		defer mu.Unlock()
		return regs[uint64(i+1)]
	}
	const p = 2
	for _, s := range c.stores {
		if err := s.Bootstrap(p, []uint64{1, 2, 3}, tableSpan()); err != nil {
			t.Fatal(err)
		}
	}
	c.propose(p, addCommand(t, "a"))
	l := c.leader(p)
	waitFor(t, "every voter active", func() bool { return gaugeValue(t, reg(l), "partita_raft_under_replicated") == 0 })
	for i := range c.stores {
		if v := gaugeValue(t, reg(i), "partita_raft_leaderless_replicas"); v != 0 {
			t.Fatalf("node %d: %v leaderless replicas with a leader elected", i+1, v)
		}
	}

	followers := []int{(l + 1) % 3, (l + 2) % 3}
	c.stop(followers[0])
	waitFor(t, "under-replicated partition", func() bool { return gaugeValue(t, reg(l), "partita_raft_under_replicated") == 1 })
	if v := gaugeValue(t, reg(l), "partita_raft_leaderless_replicas"); v != 0 {
		t.Fatalf("%v leaderless replicas with a quorum up", v)
	}

	c.stop(followers[1])
	waitFor(t, "leader steps down without quorum", func() bool {
		return gaugeValue(t, reg(l), "partita_raft_leaderless_replicas") == 1
	})
	if v := gaugeValue(t, reg(l), "partita_raft_leaders"); v != 0 {
		t.Fatalf("%v leaders without quorum", v)
	}
}
