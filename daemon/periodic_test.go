package daemon

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"time"
)

func TestPeriodicSchedule(t *testing.T) {
	h := newHarness(t)
	h.register(JobSpec{Name: "tick", Kind: Periodic, Interval: time.Minute, Run: ok})
	h.start()

	h.block(1)
	if got := h.wait(); got != time.Minute {
		t.Fatalf("first cycle due in %v, want 1m", got)
	}
	if info := h.info("tick"); info.State != StateIdle || !info.NextRun.Equal(t0.Add(time.Minute)) {
		t.Fatalf("before first cycle: state %v next %v", info.State, info.NextRun)
	}
	h.clk.Advance(time.Minute - time.Nanosecond)
	if h.clk.Waiters() != 1 || len(h.cycles) != 0 {
		t.Fatal("cycle ran before its interval")
	}
	h.clk.Advance(time.Nanosecond)
	for i := 1; i <= 3; i++ {
		if i > 1 {
			h.step(time.Minute)
		}
		r := h.next()
		want := t0.Add(time.Duration(i) * time.Minute)
		if !r.Start.Equal(want) || r.Reason != ReasonSchedule || r.Attempt != 1 || r.Outcome != OutcomeSuccess {
			t.Fatalf("cycle %d = %+v, want a successful scheduled cycle at %v", i, r, want)
		}
		if info := h.info("tick"); info.State != StateIdle || !info.NextRun.Equal(r.End.Add(time.Minute)) {
			t.Fatalf("after cycle %d: state %v next %v", i, info.State, info.NextRun)
		}
	}
	if info := h.info("tick"); info.Runs != 3 || info.LastSuccess.IsZero() {
		t.Fatalf("info after 3 cycles: %+v", info)
	}
}

func TestPeriodicRunAtStart(t *testing.T) {
	h := newHarness(t)
	h.register(JobSpec{Name: "eager", Kind: Periodic, Interval: time.Hour, RunAtStart: true, Run: ok})
	h.start()
	if r := h.next(); !r.Start.Equal(t0) {
		t.Fatalf("first cycle at %v, want at Start (%v)", r.Start, t0)
	}
	h.block(1)
	if got := h.wait(); got != time.Hour {
		t.Fatalf("second cycle due in %v, want 1h", got)
	}
}

// jitterWaits runs n cycles of a jittered job and returns the wait before
// each.
func jitterWaits(t *testing.T, n int) []time.Duration {
	h := newHarness(t)
	h.register(JobSpec{Name: "jit", Kind: Periodic, Interval: 10 * time.Second, Jitter: 5 * time.Second, Run: ok})
	h.start()
	var waits []time.Duration
	for range n {
		h.block(1)
		d := h.wait()
		waits = append(waits, d)
		h.clk.Advance(d)
		h.next()
	}
	return waits
}

func TestPeriodicJitterBounds(t *testing.T) {
	waits := jitterWaits(t, 40)
	distinct := map[time.Duration]bool{}
	for i, d := range waits {
		if d < 10*time.Second || d >= 15*time.Second {
			t.Fatalf("wait %d = %v, outside [10s, 15s)", i, d)
		}
		distinct[d] = true
	}
	if len(distinct) < 20 {
		t.Fatalf("only %d distinct waits in 40: jitter not applied", len(distinct))
	}
	// The same seed gives the same schedule.
	again := jitterWaits(t, 40)
	for i := range waits {
		if waits[i] != again[i] {
			t.Fatalf("wait %d differs between runs with one seed: %v vs %v", i, waits[i], again[i])
		}
	}
}

func TestJitterDrawsFromInjectedRand(t *testing.T) {
	m, err := New(Config{Clock: NewFakeClock(t0), Rand: rand.New(rand.NewPCG(7, 7))})
	if err != nil {
		t.Fatal(err)
	}
	want := rand.New(rand.NewPCG(7, 7))
	for range 10 {
		if got, w := m.jitter(time.Second), time.Duration(want.Int64N(int64(time.Second))); got != w {
			t.Fatalf("jitter = %v, want %v from the injected rand", got, w)
		}
	}
	if m.jitter(0) != 0 {
		t.Fatal("jitter(0) != 0")
	}
}

func TestRunNowRestartsSchedule(t *testing.T) {
	h := newHarness(t)
	h.register(JobSpec{Name: "tick", Kind: Periodic, Interval: time.Hour, Run: ok})
	h.start()
	h.block(1)
	h.clk.Advance(10 * time.Minute)
	if err := h.m.RunNow("tick"); err != nil {
		t.Fatal(err)
	}
	r := h.next()
	if r.Reason != ReasonRunNow || !r.Start.Equal(t0.Add(10*time.Minute)) {
		t.Fatalf("run-now cycle = %+v", r)
	}
	h.block(1)
	if got := h.wait(); got != time.Hour {
		t.Fatalf("after RunNow next cycle due in %v, want a full interval", got)
	}
}

func TestPauseResume(t *testing.T) {
	h := newHarness(t)
	h.register(JobSpec{Name: "tick", Kind: Periodic, Interval: time.Minute, Run: ok})
	h.start()
	h.block(1)

	if err := h.m.Pause("tick"); err != nil {
		t.Fatal(err)
	}
	if info := h.info("tick"); info.State != StatePaused || !info.Paused || !info.NextRun.IsZero() {
		t.Fatalf("after Pause: state %v paused %v next %v", info.State, info.Paused, info.NextRun)
	}
	h.block(0) // the runner dropped its timer
	h.clk.Advance(10 * time.Minute)

	// RunNow runs one cycle even while paused, and the job stays paused.
	if err := h.m.RunNow("tick"); err != nil {
		t.Fatal(err)
	}
	if r := h.next(); r.Reason != ReasonRunNow {
		t.Fatalf("cycle while paused = %+v, want only the run-now one", r)
	}
	h.block(0)
	h.clk.Advance(10 * time.Minute)
	if info := h.info("tick"); info.State != StatePaused || info.Runs != 1 {
		t.Fatalf("while paused: state %v runs %d", info.State, info.Runs)
	}

	// Resuming past the due time runs the overdue cycle at once.
	if err := h.m.Resume("tick"); err != nil {
		t.Fatal(err)
	}
	r := h.next()
	if r.Reason != ReasonSchedule || !r.Start.Equal(t0.Add(20*time.Minute)) {
		t.Fatalf("cycle after Resume = %+v, want the overdue scheduled one", r)
	}
	h.step(time.Minute)
	if r := h.next(); r.Reason != ReasonSchedule {
		t.Fatalf("cycle after resume = %+v", r)
	}
}

func TestControlUnknownJob(t *testing.T) {
	h := newHarness(t)
	for name, f := range map[string]func(string) error{
		"Pause": h.m.Pause, "Resume": h.m.Resume, "RunNow": h.m.RunNow, "Trigger": h.m.Trigger,
		"Info":     func(n string) error { _, err := h.m.Info(n); return err },
		"Timeline": func(n string) error { _, err := h.m.Timeline(n); return err },
		"Cache":    func(n string) error { _, err := h.m.Cache(n); return err },
		"Submit":   func(n string) error { return h.m.Submit(context.Background(), n, 1) },
	} {
		if err := f("nope"); !errors.Is(err, ErrUnknownJob) {
			t.Errorf("%s(unknown) = %v, want ErrUnknownJob", name, err)
		}
	}
}

// SetInterval: a job waiting out an hour runs a minute after its interval
// is cut to a minute, then every minute; back to 0, its spec's hour.
func TestPeriodicSetInterval(t *testing.T) {
	h := newHarness(t)
	h.register(JobSpec{Name: "slow", Kind: Periodic, Interval: time.Hour, Run: ok})
	h.start()
	h.block(1)
	h.clk.Advance(10 * time.Minute)
	if err := h.m.SetInterval("slow", time.Minute); err != nil {
		t.Fatal(err)
	}
	// The job re-arms its timer: wait for the new one.
	deadline := time.Now().Add(failsafe)
	for {
		if d, ok := h.clk.NextDeadline(); ok && d.Sub(h.clk.Now()) == time.Minute {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the next cycle is not due a minute after SetInterval")
		}
		time.Sleep(time.Millisecond)
	}
	h.clk.Advance(time.Minute)
	if r := h.next(); !r.Start.Equal(t0.Add(11 * time.Minute)) {
		t.Fatalf("cycle at %v, want at 11m", r.Start.Sub(t0))
	}
	h.step(time.Minute)
	h.next()
	if err := h.m.SetInterval("slow", 0); err != nil {
		t.Fatal(err)
	}
	h.step(time.Minute) // due before the change: a longer interval does not delay it
	h.next()
	h.step(time.Hour)
	h.next()
	if err := h.m.SetInterval("nope", time.Second); err == nil {
		t.Error("SetInterval of an unknown job succeeded")
	}
}

func TestSetIntervalRefusesOtherKinds(t *testing.T) {
	h := newHarness(t)
	h.register(JobSpec{Name: "loop", Kind: Continuous, Run: func(ctx context.Context, _ *Cycle) error { <-ctx.Done(); return nil }})
	if err := h.m.SetInterval("loop", time.Second); !errors.Is(err, ErrInvalidSpec) {
		t.Fatalf("SetInterval of a continuous job: %v, want ErrInvalidSpec", err)
	}
}
