package daemon

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestFakeClockFiresInDeadlineOrder(t *testing.T) {
	clk := NewFakeClock(t0)
	var fired []string
	var at []time.Duration
	add := func(name string, d time.Duration) {
		clk.AfterFunc(d, func() {
			fired = append(fired, name)
			at = append(at, clk.Since(t0))
		})
	}
	add("c", 3*time.Second)
	add("a", time.Second)
	add("b1", 2*time.Second)
	add("b2", 2*time.Second)
	add("late", 10*time.Second)

	clk.Advance(5 * time.Second)
	if want := []string{"a", "b1", "b2", "c"}; !slices.Equal(fired, want) {
		t.Fatalf("fired %v, want %v", fired, want)
	}
	if want := []time.Duration{time.Second, 2 * time.Second, 2 * time.Second, 3 * time.Second}; !slices.Equal(at, want) {
		t.Fatalf("fired at %v, want %v", at, want)
	}
	if got := clk.Since(t0); got != 5*time.Second {
		t.Fatalf("clock at %v after Advance, want 5s", got)
	}
	if d, ok := clk.NextDeadline(); !ok || !d.Equal(t0.Add(10*time.Second)) {
		t.Fatalf("NextDeadline = %v, %v; want t0+10s", d, ok)
	}
}

func TestFakeClockTimerChannel(t *testing.T) {
	clk := NewFakeClock(t0)
	tm := clk.NewTimer(time.Minute)
	clk.Advance(time.Minute - time.Nanosecond)
	select {
	case v := <-tm.C():
		t.Fatalf("fired early at %v", v)
	default:
	}
	clk.Advance(time.Nanosecond)
	if v := <-tm.C(); !v.Equal(t0.Add(time.Minute)) {
		t.Fatalf("fired with %v, want t0+1m", v)
	}
	if tm.Stop() {
		t.Fatal("Stop of a fired timer reported it pending")
	}
}

func TestFakeClockStopAndReset(t *testing.T) {
	clk := NewFakeClock(t0)
	tm := clk.NewTimer(time.Second)
	if !tm.Stop() {
		t.Fatal("Stop of a pending timer reported it not pending")
	}
	clk.Advance(time.Hour)
	select {
	case <-tm.C():
		t.Fatal("stopped timer fired")
	default:
	}

	// A fired, unreceived value is discarded by Reset.
	tm = clk.NewTimer(time.Second)
	clk.Advance(time.Second)
	if tm.Reset(time.Second) {
		t.Fatal("Reset of a fired timer reported it pending")
	}
	select {
	case <-tm.C():
		t.Fatal("stale value after Reset")
	default:
	}
	clk.Advance(time.Second)
	if v := <-tm.C(); !v.Equal(t0.Add(time.Hour + 2*time.Second)) {
		t.Fatalf("reset timer fired with %v", v)
	}
}

func TestFakeClockNonPositiveDurationFiresAtOnce(t *testing.T) {
	clk := NewFakeClock(t0)
	if v := <-clk.After(0); !v.Equal(t0) {
		t.Fatalf("After(0) sent %v", v)
	}
	if v := <-clk.NewTimer(-time.Second).C(); !v.Equal(t0) {
		t.Fatalf("NewTimer(-1s) sent %v", v)
	}
	done := make(chan struct{})
	clk.AfterFunc(0, func() { close(done) })
	recv(t, done)
	if clk.Waiters() != 0 {
		t.Fatalf("Waiters = %d, want 0", clk.Waiters())
	}
}

func TestFakeClockBlockUntil(t *testing.T) {
	clk := NewFakeClock(t0)
	got := make(chan time.Time)
	for range 2 {
		go func() { got <- <-clk.After(time.Second) }()
	}
	clk.BlockUntil(2)
	if n := clk.Waiters(); n != 2 {
		t.Fatalf("Waiters = %d, want 2", n)
	}
	// AfterFunc timers block no goroutine.
	stop := clk.AfterFunc(time.Second, func() {})
	if n := clk.Waiters(); n != 2 {
		t.Fatalf("Waiters = %d with an AfterFunc, want 2", n)
	}
	stop.Stop()
	clk.Advance(time.Second)
	clk.BlockUntil(0)
	for range 2 {
		if v := recv(t, got); !v.Equal(t0.Add(time.Second)) {
			t.Fatalf("woke with %v", v)
		}
	}
}

func TestFakeClockBlockUntilContext(t *testing.T) {
	clk := NewFakeClock(t0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := clk.BlockUntilContext(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("BlockUntilContext = %v, want context.Canceled", err)
	}
	if err := clk.BlockUntilContext(ctx, 0); err != nil {
		t.Fatalf("BlockUntilContext(0) with no waiters = %v", err)
	}
}

func TestCycleContextTimeout(t *testing.T) {
	clk := NewFakeClock(t0)
	ctx, release := newCycleCtx(context.Background(), clk, 5*time.Second)
	defer release()
	if d, ok := ctx.Deadline(); !ok || !d.Equal(t0.Add(5*time.Second)) {
		t.Fatalf("Deadline = %v, %v", d, ok)
	}
	clk.Advance(5*time.Second - 1)
	if ctx.Err() != nil {
		t.Fatalf("canceled early: %v", ctx.Err())
	}
	clk.Advance(1)
	<-ctx.Done()
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("Err = %v, want DeadlineExceeded", ctx.Err())
	}
	cause := context.Cause(ctx)
	if !errors.Is(cause, ErrCycleTimeout) || !errors.Is(cause, context.DeadlineExceeded) {
		t.Fatalf("Cause = %v, want ErrCycleTimeout and DeadlineExceeded", cause)
	}
}

func TestCycleContextReleaseStopsTimer(t *testing.T) {
	clk := NewFakeClock(t0)
	ctx, release := newCycleCtx(context.Background(), clk, time.Second)
	release()
	if _, ok := clk.NextDeadline(); ok {
		t.Fatal("timeout timer still pending after release")
	}
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Fatalf("Err after release = %v, want Canceled", ctx.Err())
	}
}

func TestCycleContextKeepsEarlierParentDeadline(t *testing.T) {
	clk := NewFakeClock(t0)
	parentDeadline := t0.Add(time.Second)
	parent, cancel := context.WithDeadline(context.Background(), parentDeadline)
	defer cancel()
	ctx, release := newCycleCtx(parent, clk, time.Minute)
	defer release()
	if d, ok := ctx.Deadline(); !ok || !d.Equal(parentDeadline) {
		t.Fatalf("Deadline = %v, %v; want the parent's earlier one", d, ok)
	}
	none, release2 := newCycleCtx(context.Background(), clk, 0)
	defer release2()
	if _, ok := none.Deadline(); ok {
		t.Fatal("a cycle without timeout has a deadline")
	}
}
