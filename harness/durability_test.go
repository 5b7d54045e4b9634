package harness_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/harness"
)

// TestDurability writes distinct keys while nodes crash (losing their
// unsynced writes) and restart, then crashes every node at once, and
// checks that every acknowledged write is still there, on the leader and,
// once caught up, on every replica.
func TestDurability(t *testing.T) {
	cases := []struct {
		name   string
		cfg    harness.Config
		faults []harness.Fault
	}{
		{"minority-crash", harness.Config{}, []harness.Fault{harness.FaultLeaderCrash, harness.FaultNodeCrash}},
		{"all-crash", harness.Config{}, []harness.Fault{harness.FaultCrashAll}},
		{"all-crash-torn", harness.Config{UnsyncedSurvivalPercent: 50}, []harness.Fault{harness.FaultCrashAll, harness.FaultLeaderCrash}},
		{"on-disk", harness.Config{OnDisk: true}, []harness.Fault{harness.FaultLeaderCrash, harness.FaultCrashAll}},
		// A raft log of its own: Pebble, synced only before the log is
		// trimmed, loses applies a crash must give back from the log.
		{"all-crash-torn-separate-log", harness.Config{UnsyncedSurvivalPercent: 50, SeparateRaftLog: true}, []harness.Fault{harness.FaultCrashAll, harness.FaultLeaderCrash}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, seed := range seeds() {
				t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
					cfg := tc.cfg
					cfg.Seed = seed
					runDurability(t, cfg, tc.faults)
				})
			}
		})
	}
}

func runDurability(t *testing.T, cfg harness.Config, faults []harness.Fault) {
	c := harness.New(t, cfg)
	c.Bootstrap(testPartition)
	c.Leader(testPartition)
	ctx, cancel := context.WithTimeout(context.Background(), workloadDuration())
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() {
		c.RunNemesis(ctx, harness.Nemesis{Partition: testPartition, Faults: faults, Seed: cfg.Seed}, nil)
	})
	acked := writeDistinct(t, ctx, c, 4)
	cancel()
	wg.Wait()
	// A last power cut of the whole cluster, with no time to settle.
	for _, id := range c.Nodes() {
		c.Crash(id)
	}
	for _, id := range c.Nodes() {
		c.Restart(id)
	}
	t.Logf("%d acknowledged writes", len(acked))
	if len(acked) < 10 {
		t.Fatalf("only %d writes acknowledged: the cluster made no progress", len(acked))
	}
	rctx, rcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer rcancel()
	err := c.NewClient().Read(rctx, testPartition, func(eng *engine.Engine) error { return hasAll(eng, acked) })
	if err != nil {
		t.Fatalf("after restart, the leader: %v\n%s", err, raftStates(c))
	}
	c.RequireConsistent(t, testPartition)
	for _, id := range c.Nodes() {
		if _, err := c.WithEngine(id, nil, func(eng *engine.Engine) error { return hasAll(eng, acked) }); err != nil {
			t.Fatalf("node %d: %v", id, err)
		}
	}
}

// writeDistinct has writers put distinct keys until ctx ends, and returns
// the acknowledged ones with their values.
func writeDistinct(t *testing.T, ctx context.Context, c *harness.Cluster, writers int) map[string]string {
	var mu sync.Mutex
	acked := make(map[string]string)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			cl := c.NewClient()
			for i := 0; ctx.Err() == nil; i++ {
				k, v := fmt.Sprintf("w%d-%d", w, i), fmt.Sprintf("v%d", i)
				octx, cancel := context.WithTimeout(context.Background(), 150*c.Config().TickInterval)
				err := cl.Put(octx, testPartition, k, v)
				cancel()
				switch {
				case err == nil:
					mu.Lock()
					acked[k] = v
					mu.Unlock()
				case !errors.Is(err, harness.ErrUnknown) && !errors.Is(err, harness.ErrNotApplied):
					t.Errorf("put %s: %v", k, err)
					return
				}
			}
		})
	}
	wg.Wait()
	return acked
}

func hasAll(eng *engine.Engine, want map[string]string) error {
	for k, v := range want {
		got, err := harness.ValueOf(eng, testPartition, k)
		if err != nil {
			return err
		}
		if got != v {
			return fmt.Errorf("acknowledged write %s=%s lost (found %q)", k, v, got)
		}
	}
	return nil
}

// raftStates describes each node's replica of the test partition: its
// raft state, term, leader, commit and applied indexes.
func raftStates(c *harness.Cluster) string {
	var b strings.Builder
	for _, id := range c.Nodes() {
		st := c.Store(id)
		if st == nil {
			fmt.Fprintf(&b, "node %d: down\n", id)
			continue
		}
		r := st.Replica(testPartition)
		if r == nil {
			fmt.Fprintf(&b, "node %d: no replica\n", id)
			continue
		}
		s := r.Status()
		fmt.Fprintf(&b, "node %d: %s term %d lead %d commit %d applied %d (replica %d) transferee %d\n",
			id, s.RaftState, s.Term, s.Lead, s.Commit, s.Applied, r.Applied(), s.LeadTransferee)
	}
	return b.String()
}
