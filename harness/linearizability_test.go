package harness_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/partitadb/partita/harness"
	"github.com/partitadb/partita/store"
)

const testPartition = 5

// TestLinearizable runs the randomized key/value workload against a
// 3-node cluster under each fault alone, then under all of them mixed, and
// checks every history with porcupine and the replicas' final states for
// divergence. The log-truncation scenario keeps raft logs short, so that
// followers that fall behind (crashed, cut off, losing messages) catch up
// by snapshot.
func TestLinearizable(t *testing.T) {
	type scenario struct {
		faults []harness.Fault
		tune   func(*store.Config)
		opTime time.Duration // 0: the workload's default
		nodes  int           // 0: 3
		voters []uint64      // nil: every node
		keys   int           // 0: the workload's default
		// clients, gets and cases override the workload's mix (0: its
		// defaults).
		clients     int
		gets, cases float64
		// split: the run must end with the table split (its first
		// fault); saw: a fault whose description starts with saw[0] and
		// ends with saw[1] (it worked) must have been injected.
		split bool
		saw   [2]string
	}
	scenarios := map[string]scenario{
		// Impatient clients: operations caught by a fault often end
		// unknown, exercising the open-ended part of the history.
		"mixed": {faults: harness.AllFaults, opTime: 300 * time.Millisecond},
		// A fourth node: voters are replaced one by one, each new one
		// catching up by snapshot, leaders included (moved first).
		"membership": {
			faults: []harness.Fault{harness.FaultMembership, harness.FaultMembership, harness.FaultNodeCrash},
			tune:   func(sc *store.Config) { sc.Replica.MaxLogEntries, sc.Replica.TruncateStep = 100, 10 },
			nodes:  4, voters: []uint64{1, 2, 3}, saw: [2]string{"replace ", ": ok"},
		},
		// Splits under load, with crashes and partitions: each key's
		// history goes on in whichever half owns it.
		"split": {
			faults: []harness.Fault{harness.FaultSplit, harness.FaultSplit, harness.FaultNodeCrash, harness.FaultMinorityPartition, harness.FaultLeaderCrash},
			keys:   8, split: true,
		},
		// Short logs: a replica down across a split finds both halves'
		// logs trimmed past it, and recovers by snapshots.
		"split-trim": {
			faults: []harness.Fault{harness.FaultSplit, harness.FaultNodeCrash, harness.FaultNodeCrash, harness.FaultPause},
			tune:   func(sc *store.Config) { sc.Replica.MaxLogEntries, sc.Replica.TruncateStep = 60, 10 },
			keys:   8, split: true,
		},
		// Conditional writes racing on one key from many clients while
		// leadership moves and leaders crash: the leader evaluates each
		// condition under the key's latch, and a write evaluated by a
		// deposed leader must never apply. A lost update would show as a
		// compare-and-set that succeeded against a value already
		// overwritten.
		"cas-one-key": {
			faults:  []harness.Fault{harness.FaultLeaderTransfer, harness.FaultLeaderCrash, harness.FaultLeaderTransfer, harness.FaultPause},
			keys:    1,
			clients: 8, gets: 0.2, cases: 0.6, saw: [2]string{"transfer leader", "(true)"},
		},
		"log-truncation": {
			faults: []harness.Fault{harness.FaultNodeCrash, harness.FaultMinorityPartition, harness.FaultLossyNetwork, harness.FaultPause},
			tune:   func(sc *store.Config) { sc.Replica.MaxLogEntries, sc.Replica.TruncateStep = 100, 10 },
		},
	}
	for _, f := range harness.AllFaults {
		scenarios[string(f)] = scenario{faults: []harness.Fault{f}}
	}
	for _, name := range append(faultNames(), "cas-one-key", "log-truncation", "membership", "mixed", "split", "split-trim") {
		t.Run(name, func(t *testing.T) {
			for _, seed := range seeds() {
				t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
					sc := scenarios[name]
					c, h := runLinearizable(t, harness.Config{Seed: seed, Tune: sc.tune, Nodes: sc.nodes}, sc.voters, sc.faults,
						harness.Workload{Partition: testPartition, Seed: seed, OpTimeout: sc.opTime, Keys: sc.keys,
							Clients: sc.clients, Gets: sc.gets, CASes: sc.cases})
					if n := len(c.Layout(testPartition)); sc.split && n < 2 {
						t.Errorf("the table never split (%d partition): faults %q", n, h.Faults())
					}
					if sc.saw != [2]string{} && !slices.ContainsFunc(h.Faults(), func(f string) bool {
						return strings.HasPrefix(f, sc.saw[0]) && strings.HasSuffix(f, sc.saw[1])
					}) {
						t.Errorf("no fault %q...%q injected: %q", sc.saw[0], sc.saw[1], h.Faults())
					}
				})
			}
		})
	}
}

func faultNames() []string {
	var out []string
	for _, f := range harness.AllFaults {
		out = append(out, string(f))
	}
	return out
}

// runLinearizable runs workload w against a cluster of cfg under the
// faults, checks the history, and returns the cluster and the history.
func runLinearizable(t *testing.T, cfg harness.Config, voters []uint64, faults []harness.Fault, w harness.Workload) (*harness.Cluster, *harness.History) {
	seed := cfg.Seed
	c := harness.New(t, cfg)
	c.Bootstrap(testPartition, voters...)
	c.Leader(testPartition)
	h := harness.NewHistory()
	ctx, cancel := context.WithTimeout(context.Background(), workloadDuration())
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() {
		c.RunNemesis(ctx, harness.Nemesis{Partition: testPartition, Faults: faults, Seed: seed}, h)
	})
	err := c.RunKV(ctx, w, h)
	cancel()
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	n, unknown, nfaults := h.Stats()
	t.Logf("seed %d: %d operations, %d unknown, %d faults: %q", seed, n, unknown, nfaults, h.Faults())
	if n-unknown < 10 {
		t.Fatalf("only %d operations completed: the cluster made no progress", n-unknown)
	}
	h.RequireLinearizable(t, 60*time.Second)
	c.RequireConsistentTable(t, testPartition)
	if n := len(c.Layout(testPartition)); n > 1 {
		t.Logf("the table ended in %d partitions", n)
	}
	return c, h
}
