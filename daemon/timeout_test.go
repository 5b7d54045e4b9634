package daemon

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestCycleTimeout(t *testing.T) {
	h := newHarness(t)
	type seen struct {
		deadline time.Time
		err      error
		cause    error
	}
	started := make(chan struct{}, 1)
	ended := make(chan seen, 1)
	h.register(JobSpec{
		Name: "slow", Kind: Triggered, Timeout: 5 * time.Second,
		Backoff: Backoff{MaxRetries: 1},
		Run: func(ctx context.Context, c *Cycle) error {
			if c.Attempt > 1 {
				return nil
			}
			started <- struct{}{}
			<-ctx.Done()
			d, _ := ctx.Deadline()
			ended <- seen{d, ctx.Err(), context.Cause(ctx)}
			return ctx.Err()
		},
	})
	h.start()
	if err := h.m.Trigger("slow"); err != nil {
		t.Fatal(err)
	}
	recv(t, started)
	h.clk.Advance(5*time.Second - time.Nanosecond)
	select {
	case <-ended:
		t.Fatal("cycle canceled before its timeout")
	default:
	}
	h.clk.Advance(time.Nanosecond)
	s := recv(t, ended)
	if !s.deadline.Equal(t0.Add(5*time.Second)) || !errors.Is(s.err, context.DeadlineExceeded) ||
		!errors.Is(s.cause, ErrCycleTimeout) {
		t.Fatalf("cycle saw deadline %v err %v cause %v", s.deadline, s.err, s.cause)
	}
	r := h.next()
	if r.Outcome != OutcomeTimeout || !strings.Contains(r.Err, "timed out after 5s") || r.Duration() != 5*time.Second {
		t.Fatalf("timed-out cycle = %+v", r)
	}
	h.step(time.Second) // a timeout is a failure: retried
	if r := h.next(); r.Outcome != OutcomeSuccess || r.Attempt != 2 {
		t.Fatalf("retry = %+v", r)
	}
	if info := h.info("slow"); info.Timeouts != 1 || info.Failures != 1 {
		t.Fatalf("timeouts %d failures %d, want 1 and 1", info.Timeouts, info.Failures)
	}
}

func TestCycleWithinTimeoutLeavesNoTimer(t *testing.T) {
	h := newHarness(t)
	h.register(JobSpec{Name: "quick", Kind: Triggered, Timeout: time.Minute, Run: ok})
	h.start()
	if err := h.m.Trigger("quick"); err != nil {
		t.Fatal(err)
	}
	if r := h.next(); r.Outcome != OutcomeSuccess {
		t.Fatalf("cycle = %+v", r)
	}
	if d, ok := h.clk.NextDeadline(); ok {
		t.Fatalf("a timer is still pending for %v after the cycle", d)
	}
}

func TestItemTimeout(t *testing.T) {
	h := newHarness(t)
	var timedOut atomic.Bool
	started := make(chan struct{}, 1)
	h.register(JobSpec{
		Name: "items", Kind: Triggered, Workers: 1, Timeout: time.Second,
		Handle: func(ctx context.Context, _ any) error {
			started <- struct{}{}
			<-ctx.Done()
			timedOut.Store(errors.Is(ctx.Err(), context.DeadlineExceeded))
			return ctx.Err()
		},
	})
	h.start()
	if err := h.m.Submit(context.Background(), "items", 1); err != nil {
		t.Fatal(err)
	}
	recv(t, started)
	h.clk.Advance(time.Second)
	waitItems(t, h, "items", func(q *QueueInfo) bool { return q.Failed == 1 })
	if !timedOut.Load() {
		t.Fatal("item context did not end with DeadlineExceeded")
	}
}
