package daemon

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestPanicRecoveredCountedAndRestarted(t *testing.T) {
	h := newHarness(t)
	var calls atomic.Int64
	running := make(chan struct{}, 1)
	h.register(JobSpec{
		Name: "crashy", Kind: Continuous,
		Backoff: Backoff{Initial: time.Second, Max: time.Minute},
		Run: func(ctx context.Context, c *Cycle) error {
			if calls.Add(1) <= 2 {
				panic("bad state")
			}
			running <- struct{}{}
			<-ctx.Done()
			return ctx.Err()
		},
	})
	h.start()

	r := h.next()
	if r.Outcome != OutcomePanic || r.Reason != ReasonStart || !strings.Contains(r.Err, "bad state") {
		t.Fatalf("first cycle = %+v", r)
	}
	h.step(time.Second)
	if r := h.next(); r.Outcome != OutcomePanic || r.Attempt != 2 || r.Reason != ReasonRetry {
		t.Fatalf("second cycle = %+v", r)
	}
	h.step(2 * time.Second)
	recv(t, running)

	info := h.info("crashy")
	if info.Panics != 2 || info.Failures != 2 || info.State != StateRunning {
		t.Fatalf("info = %+v", info)
	}
	logs := h.logs.String()
	if !strings.Contains(logs, "cycle panicked") || !strings.Contains(logs, "continuous_test.go") {
		t.Fatalf("panic not logged with its stack:\n%s", logs)
	}
}

func TestPanicErrorMatchesErrPanic(t *testing.T) {
	err := call(func() error { panic(42) })
	if !errors.Is(err, ErrPanic) || !strings.Contains(err.Error(), "42") {
		t.Fatalf("call(panic) = %v", err)
	}
	if err := call(func() error { return nil }); err != nil {
		t.Fatalf("call(nil) = %v", err)
	}
}

func TestContinuousRestartsAfterReturn(t *testing.T) {
	h := newHarness(t)
	h.register(JobSpec{Name: "loop", Kind: Continuous, Backoff: Backoff{Initial: 3 * time.Second}, Run: ok})
	h.start()
	if r := h.next(); r.Reason != ReasonStart || !r.Start.Equal(t0) {
		t.Fatalf("first cycle = %+v", r)
	}
	h.step(3 * time.Second)
	if r := h.next(); r.Reason != ReasonRestart || r.Attempt != 1 || r.Outcome != OutcomeSuccess {
		t.Fatalf("restart = %+v", r)
	}
}

func TestContinuousRetriesWithoutLimit(t *testing.T) {
	h := newHarness(t)
	h.register(JobSpec{
		Name: "stream", Kind: Continuous,
		Backoff: Backoff{Initial: time.Second, Max: 2 * time.Second, MaxRetries: 1},
		Run:     func(context.Context, *Cycle) error { return errors.New("stream broken") },
	})
	h.start()
	for i, w := range []time.Duration{time.Second, 2 * time.Second, 2 * time.Second, 2 * time.Second} {
		if r := h.next(); r.Attempt != i+1 {
			t.Fatalf("cycle %d = %+v", i+1, r)
		}
		h.step(w)
	}
}

func TestPauseCancelsContinuousCycle(t *testing.T) {
	h := newHarness(t)
	running := make(chan struct{}, 1)
	causes := make(chan error, 1)
	h.register(JobSpec{
		Name: "consumer", Kind: Continuous,
		Run: func(ctx context.Context, c *Cycle) error {
			running <- struct{}{}
			<-ctx.Done()
			causes <- context.Cause(ctx)
			return ctx.Err()
		},
	})
	h.start()
	recv(t, running)
	if err := h.m.Pause("consumer"); err != nil {
		t.Fatal(err)
	}
	if cause := recv(t, causes); !errors.Is(cause, ErrPaused) {
		t.Fatalf("cycle canceled with %v, want ErrPaused", cause)
	}
	r := h.next()
	if r.Outcome != OutcomeCanceled {
		t.Fatalf("paused cycle = %+v, want canceled", r)
	}
	if info := h.info("consumer"); info.Failures != 0 {
		t.Fatalf("a paused cycle counted as a failure: %+v", info)
	}
	if err := h.m.Resume("consumer"); err != nil {
		t.Fatal(err)
	}
	recv(t, running)
	if info := h.info("consumer"); info.State != StateRunning || info.Runs != 1 {
		t.Fatalf("after Resume: %+v", info)
	}
}
