package harness_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/partitadb/partita/harness"
	"github.com/partitadb/partita/store"
)

// TestSplitWhileReplicaDownRecoversBySnapshot: under a key/value load, a
// follower crashes; its partition splits, and the right half splits
// again, while the writes go on until every log is trimmed past the
// splits. Restarted, the node gets a snapshot of the left half (which
// clears the stale range), and empty replicas of the right halves that
// their leaders fill by snapshot. The history stays linearizable per key
// and every half's replicas agree.
func TestSplitWhileReplicaDownRecoversBySnapshot(t *testing.T) {
	c := harness.New(t, harness.Config{Seed: 11, Tune: func(sc *store.Config) {
		sc.Replica.MaxLogEntries, sc.Replica.TruncateStep = 40, 8
		sc.Replica.NewGroupGrace = 0 // the right halves trim at once too
	}})
	c.Bootstrap(testPartition)
	leader := c.Leader(testPartition)
	h := harness.NewHistory()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	var runErr error
	wg.Go(func() {
		runErr = c.RunKV(ctx, harness.Workload{Partition: testPartition, Seed: 11, Keys: 8}, h)
	})
	time.Sleep(300 * time.Millisecond)
	down := leader%3 + 1
	c.Crash(down)
	born := map[uint64]uint64{} // the index each group's log must be trimmed past
	for _, p := range []uint64{testPartition, 1001} {
		c.Leader(p) // the right half of the first split runs once its batch commits
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		desc := c.Split(sctx, testPartition, p)
		scancel()
		if !strings.HasSuffix(desc, ": ok") {
			t.Fatalf("%s", desc)
		}
		t.Log(desc)
		born[p] = c.Store(c.LeaderNow(p)).Replica(p).Applied() // at or past the split
	}
	// Writes until the logs of every half move past the splits by more
	// than their bound.
	trimmed := func() bool {
		for p := range c.Layout(testPartition) {
			st := c.Store(c.LeaderNow(p))
			if st == nil {
				return false
			}
			r := st.Replica(p)
			if first := r.Status().Commit - r.Stats().LogEntries; first <= max(born[p], 10) {
				return false // the log still holds the split, or the group's birth
			}
		}
		return true
	}
	for deadline := time.Now().Add(10 * time.Second); !trimmed(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the halves' logs were not trimmed past the splits")
		}
	}
	c.Restart(down)
	time.Sleep(500 * time.Millisecond)
	cancel()
	wg.Wait()
	if runErr != nil {
		t.Fatal(runErr)
	}
	n, unknown, _ := h.Stats()
	t.Logf("%d operations, %d unknown", n, unknown)
	h.RequireLinearizable(t, 60*time.Second)
	c.RequireConsistentTable(t, testPartition)
	if got := len(c.Layout(testPartition)); got != 3 {
		t.Fatalf("the table has %d partitions, want 3", got)
	}
	for p := range c.Layout(testPartition) {
		if st := c.Store(down); st == nil || st.Replica(p) == nil {
			t.Fatalf("node %d has no replica of partition %d", down, p)
		}
	}
}
