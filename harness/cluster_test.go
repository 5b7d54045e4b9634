package harness_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/harness"
)

// TestCrashLosesUnsyncedWrites checks the crash is a power cut: a write
// committed without sync is gone after a crash, a synced one stays.
func TestCrashLosesUnsyncedWrites(t *testing.T) {
	c := harness.New(t, harness.Config{Nodes: 1})
	write := func(key string, sync bool) {
		t.Helper()
		if _, err := c.WithEngine(1, nil, func(eng *engine.Engine) error {
			b := eng.NewIndexedBatch()
			if err := b.Set([]byte(key), []byte("x")); err != nil {
				return errors.Join(err, b.Close())
			}
			if sync {
				return eng.Commit(b)
			}
			return eng.CommitNoSync(b)
		}); err != nil {
			t.Fatal(err)
		}
	}
	write("zsynced", true)
	write("zunsynced", false)
	c.Crash(1)
	c.Restart(1)
	c.WithEngine(1, nil, func(eng *engine.Engine) error {
		if _, err := eng.Get([]byte("zsynced")); err != nil {
			t.Errorf("synced write: %v", err)
		}
		if _, err := eng.Get([]byte("zunsynced")); err == nil {
			t.Errorf("unsynced write survived the crash")
		}
		return nil
	})
}

// TestPauseHoldsMessages checks a paused leader is deposed and that the
// cluster works on; once resumed, the old leader follows.
func TestPauseHoldsMessages(t *testing.T) {
	c := harness.New(t, harness.Config{Seed: 1})
	c.Bootstrap(testPartition)
	old := c.Leader(testPartition)
	cl := c.NewClient()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := cl.Put(ctx, testPartition, "a", "1"); err != nil {
		t.Fatal(err)
	}
	c.Pause(old)
	if err := cl.Put(ctx, testPartition, "a", "2"); err != nil {
		t.Fatal(err)
	}
	if l := c.Leader(testPartition); l == old {
		t.Fatalf("paused node %d still leads", old)
	}
	c.Resume(old)
	if v, err := cl.Get(ctx, testPartition, "a"); err != nil || v != "2" {
		t.Fatalf("get: %q, %v", v, err)
	}
	c.RequireConsistent(t, testPartition)
}

// TestPartitionedLeaderCannotServe checks that a leader cut off from the
// majority neither commits writes nor serves linearizable reads, and that
// a partition set up while a node is down still applies when it restarts.
func TestPartitionedLeaderCannotServe(t *testing.T) {
	c := harness.New(t, harness.Config{Seed: 2})
	c.Bootstrap(testPartition)
	old := c.Leader(testPartition)
	c.Partition(old)
	st := c.Store(old)
	ctx, cancel := context.WithTimeout(context.Background(), 30*c.Config().TickInterval)
	defer cancel()
	cl := c.NewClient()
	cmd := cl.PutCommand(testPartition, "a", "lost", false, "")
	if _, err := st.Propose(ctx, testPartition, cmd); err == nil {
		t.Fatal("an isolated leader committed a write")
	}
	if err := st.ReadIndex(ctx, testPartition); err == nil {
		t.Fatal("an isolated leader served a linearizable read")
	}
	c.Crash(old)
	c.Restart(old)
	wctx, wcancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer wcancel()
	if err := cl.Put(wctx, testPartition, "a", "1"); err != nil {
		t.Fatal(err)
	}
	if l := c.Leader(testPartition); l == old {
		t.Fatalf("isolated node %d leads after restart", old)
	}
	c.Heal()
	if v, err := cl.Get(wctx, testPartition, "a"); err != nil || v != "1" {
		t.Fatalf("get: %q, %v; want the acknowledged write", v, err)
	}
	c.RequireConsistent(t, testPartition)
}
