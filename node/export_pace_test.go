package node

import (
	"context"
	"testing"
	"time"
)

// TestReadPacer: at 1,000 bytes a second, 100-byte items are let through
// until the reader is minPace ahead, then held back by how far ahead it
// is; a change of rate starts a new window; 0 lets everything through.
func TestReadPacer(t *testing.T) {
	t.Parallel()
	clock := time.Unix(1000, 0)
	var slept []time.Duration
	p := readPacer{now: func() time.Time { return clock }, sleep: func(_ context.Context, d time.Duration) error {
		slept = append(slept, d)
		clock = clock.Add(d)
		return nil
	}}
	ctx := context.Background()
	for range 10 {
		if err := p.wait(ctx, 1000, 100); err != nil {
			t.Fatal(err)
		}
	}
	// 1,000 bytes at 1,000 bytes a second: due 1 s after the start.
	var total time.Duration
	for _, d := range slept {
		if d < minPace {
			t.Fatalf("a pause of %s, below minPace", d)
		}
		total += d
	}
	if total != time.Second {
		t.Fatalf("paused %s in all (%v), want 1s", total, slept)
	}
	slept = nil
	clock = clock.Add(time.Hour) // idle: no burst is saved up
	for range 20 {
		if err := p.wait(ctx, 1000, 100); err != nil {
			t.Fatal(err)
		}
	}
	total = 0
	for _, d := range slept {
		total += d
	}
	if total != 2*time.Second {
		t.Fatalf("2,000 bytes after an idle hour: paused %s (%v), want 2s", total, slept)
	}
	slept = nil
	if err := p.wait(ctx, 100, 100); err != nil || len(slept) != 1 || slept[0] != time.Second {
		t.Fatalf("a new rate of 100 bytes/s: slept %v, want 1s", slept)
	}
	slept = nil
	for range 100 {
		if err := p.wait(ctx, 0, 1<<20); err != nil {
			t.Fatal(err)
		}
	}
	if len(slept) != 0 {
		t.Fatalf("unlimited: slept %v", slept)
	}
}
