package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/store"
)

// TestMembershipChangesAndLeaderRemoval grows a group from {1,2,3} with a
// learner that catches up by snapshot and is promoted, then removes the
// leader: leadership moves first, costing exactly one election, and the
// term stays put afterwards.
func TestMembershipChangesAndLeaderRemoval(t *testing.T) {
	inBothLayouts(t, testMembershipChangesAndLeaderRemoval)
}

func testMembershipChangesAndLeaderRemoval(t *testing.T) {
	c := newTestCluster(t, 4, func(cfg *store.Config) {
		cfg.Replica.MaxLogEntries, cfg.Replica.TruncateStep = 20, 5
	})
	const p = 2
	start, end := engine.HashSpan(1, 0, 0)
	for _, s := range c.stores[:3] {
		if err := s.Bootstrap(p, []uint64{1, 2, 3}, &partitapb.Span{Start: start, End: end}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.stores[3].AddEmptyReplica(p); err != nil {
		t.Fatal(err)
	}
	for i := range 60 {
		c.propose(p, addCommand(t, fmt.Sprint("m", i)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	l := c.leader(p)
	if err := c.stores[l].AddLearner(ctx, p, 4); err != nil {
		t.Fatal(err)
	}
	if err := c.stores[l].PromoteLearner(ctx, p, 4); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "new voter has the data", func() bool { return counterOn(t, c.engs[3]) == "60" })

	termBefore := c.stores[l].Replica(p).Status().Term
	if err := c.stores[l].RemoveReplica(ctx, p, uint64(l+1)); !errors.Is(err, store.ErrLeadershipMoved) {
		t.Fatalf("removing the leader: %v, want ErrLeadershipMoved", err)
	}
	nl := c.leader(p)
	if nl == l {
		t.Fatal("leadership did not move")
	}
	if err := c.stores[nl].RemoveReplica(ctx, p, uint64(l+1)); err != nil {
		t.Fatal(err)
	}
	termAfter := c.stores[nl].Replica(p).Status().Term
	if termAfter != termBefore+1 {
		t.Fatalf("term went from %d to %d: want exactly one election", termBefore, termAfter)
	}
	time.Sleep(50 * 10 * time.Millisecond) // 50 ticks: several election timeouts
	if now := c.stores[nl].Replica(p).Status().Term; now != termAfter {
		t.Fatalf("term climbed from %d to %d after the removal", termAfter, now)
	}
	c.propose(p, addCommand(t, "after-removal"))
	for _, i := range []int{0, 1, 2, 3} {
		if i == l {
			continue
		}
		waitFor(t, "remaining replicas apply", func() bool { return counterOn(t, c.engs[i]) == "61" })
	}
}
