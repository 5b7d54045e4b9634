package route_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/harness"
	"github.com/partitadb/partita/route"
)

// steppedSender is newSender whose pauses between attempts return at
// once, the deadline's error after limit of them: limit+1 attempts in
// all, whatever the machine's speed.
func steppedSender(t *testing.T, c *harness.Cluster, limit int) *route.Sender {
	t.Helper()
	cfg := route.DefaultConfig()
	cfg.Remote, cfg.Directory = c.Remote(), directory.NewCache()
	cfg.Replicas = func(uint64) []uint64 { return c.Nodes() }
	waits := 0
	cfg.Wait = func(ctx context.Context, _ time.Duration) error {
		if waits++; waits > limit {
			return context.DeadlineExceeded
		}
		return ctx.Err()
	}
	s, err := route.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A request whose partition has no replica on any node asks its
// GoneCheck at the 1st, 2nd, 4th, 8th... such attempt, without the check
// in the check's own context; the check's error ends it at once. One
// whose partition has a replica but no leader asks it at the 8th, 16th,
// 32nd... attempt; one that succeeds never asks.
func TestGoneCheck(t *testing.T) {
	c := harness.New(t, harness.Config{Seed: 7})
	const missing = partition + 1 // no node has a replica
	c.Bootstrap(partition)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	calls := 0
	retry := func(ctx context.Context, p uint64) error {
		calls++
		if p != missing {
			t.Errorf("check asked about partition %d, want %d", p, missing)
		}
		return nil
	}
	s := steppedSender(t, c, 100)
	if _, err := s.Get(route.WithGoneCheck(ctx, retry), missing, []byte("k"), true); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("get with a check that lets it retry: %v, want the deadline", err)
	}
	if calls != 7 { // attempts 1, 2, 4, 8, 16, 32, 64 of 101
		t.Fatalf("101 attempts asked the check %d times, want 7", calls)
	}

	gone := errors.New("gone")
	calls = 0
	var nested error
	end := func(ctx context.Context, p uint64) error {
		calls++
		// The check's own requests are not checked: no recursion.
		_, nested = s.Get(ctx, missing, []byte("k"), true)
		return gone
	}
	s = steppedSender(t, c, 100)
	if _, err := s.Propose(route.WithGoneCheck(ctx, end), missing, put(c, "a")); !errors.Is(err, gone) {
		t.Fatalf("propose with a check that ends it: %v, want its error", err)
	}
	if calls != 1 || !errors.Is(nested, context.DeadlineExceeded) {
		t.Fatalf("check called %d times, its own request ended with %v; want once, the deadline", calls, nested)
	}

	// A partition that serves never asks.
	s = newSender(t, c, time.Second)
	never := func(context.Context, uint64) error { t.Error("check asked for a partition that serves"); return gone }
	if res, err := s.Propose(route.WithGoneCheck(ctx, never), partition, put(c, "b")); err != nil || res.GetError() != nil {
		t.Fatalf("propose: %v %v", err, res.GetError())
	}

	// One replica left of three: no leader.
	leader := c.Leader(partition)
	c.Crash(leader)
	c.Crash(other(c, leader))
	calls = 0
	stuck := func(ctx context.Context, p uint64) error {
		calls++
		if p != partition {
			t.Errorf("check asked about partition %d, want %d", p, partition)
		}
		return nil
	}
	s = steppedSender(t, c, 100)
	if _, err := s.Propose(route.WithGoneCheck(ctx, stuck), partition, put(c, "c")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("propose without a leader: %v, want the deadline", err)
	}
	if calls != 4 { // attempts 8, 16, 32, 64 of 101
		t.Fatalf("101 attempts without a leader asked the check %d times, want 4", calls)
	}
}
