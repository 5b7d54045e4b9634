package transport

import (
	"context"
	"testing"
	"time"
)

func TestTokenBucketPacesToTheRate(t *testing.T) {
	now := time.Unix(1000, 0)
	b := newTokenBucket(1000, 500, func() time.Time { return now }) // 1000 B/s, burst 500
	steps := []struct {
		advance time.Duration
		take    int
		want    time.Duration
	}{
		{0, 500, 0},                      // the burst passes at once
		{0, 250, 250 * time.Millisecond}, // then debt: 250 B at 1000 B/s
		{0, 250, 500 * time.Millisecond}, // debts add up
		{time.Second, 100, 0},            // 1 s repaid the 500 B debt and refilled 500 B
		{0, 400, 0},                      // exactly the rest of the bucket
		{10 * time.Second, 2000, 1500 * time.Millisecond}, // refills cap at the burst
	}
	for i, s := range steps {
		now = now.Add(s.advance)
		if got := b.reserve(s.take); got != s.want {
			t.Fatalf("step %d: reserve(%d) = %v, want %v", i, s.take, got, s.want)
		}
	}
}

func TestTokenBucketWaitGivesUpWithItsContext(t *testing.T) {
	b := newTokenBucket(1, 1, time.Now)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := b.wait(ctx, 1000); err == nil {
		t.Fatal("wait ignored a cancelled context")
	}
	if d, err := newTokenBucket(1, 10, time.Now).wait(context.Background(), 10); d != 0 || err != nil {
		t.Fatalf("wait within the burst = %v, %v", d, err)
	}
}

// setRate: unlimited at 0, then paced at the new rate from where it
// stands.
func TestTokenBucketSetRate(t *testing.T) {
	now := time.Unix(1000, 0)
	b := newTokenBucket(0, 500, func() time.Time { return now })
	if got := b.reserve(1 << 20); got != 0 {
		t.Fatalf("rate 0: a 1 MiB take waits %v, want no wait", got)
	}
	b.setRate(1000)
	if got := b.reserve(1500); got != time.Second {
		t.Fatalf("at 1000 B/s with a full 500 B burst: 1500 B wait %v, want 1s", got)
	}
	now = now.Add(time.Second) // repays the debt
	b.setRate(100)
	if got := b.reserve(100); got != time.Second {
		t.Fatalf("at 100 B/s from an empty bucket: 100 B wait %v, want 1s", got)
	}
	b.setRate(0)
	if got := b.reserve(1 << 20); got != 0 {
		t.Fatalf("back to unlimited: a take waits %v", got)
	}
}
