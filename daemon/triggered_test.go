package daemon

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestTriggerCoalesces(t *testing.T) {
	h := newHarness(t)
	events := make(chan any)
	started := make(chan any, 8)
	release := make(chan struct{})
	h.register(JobSpec{
		Name: "publish", Kind: Triggered, Events: events,
		Run: func(ctx context.Context, c *Cycle) error {
			started <- c.Event
			if c.Reason == ReasonTrigger {
				<-release
			}
			return nil
		},
	})
	h.start()
	must(t, h.m.Trigger("publish"))
	recv(t, started)
	for range 3 {
		must(t, h.m.Trigger("publish")) // while the first cycle runs
	}
	close(release)
	if r := h.next(); r.Reason != ReasonTrigger {
		t.Fatalf("first cycle = %+v", r)
	}
	if r := h.next(); r.Reason != ReasonTrigger {
		t.Fatalf("second cycle = %+v", r)
	}
	// Had the triggers not coalesced, a third trigger cycle would be
	// pending, and the runner would start it before receiving the event.
	events <- "fence"
	if r := h.next(); r.Reason != ReasonEvent {
		t.Fatalf("third cycle = %+v, want the event (three triggers ran as more than one cycle)", r)
	}
	if ev := len(started); ev != 2 {
		t.Fatalf("%d cycles started after the first, want 2", ev)
	}
}

func TestEventsAreDeliveredAndRetried(t *testing.T) {
	h := newHarness(t)
	events := make(chan any, 1)
	seen := make(chan any, 8)
	h.register(JobSpec{
		Name: "apply", Kind: Triggered, Events: events, Backoff: Backoff{Initial: time.Second},
		Run: func(ctx context.Context, c *Cycle) error {
			seen <- c.Event
			if c.Event == "bad" && c.Attempt == 1 {
				return errors.New("transient")
			}
			return nil
		},
	})
	h.start()
	events <- "good"
	if ev := recv(t, seen); ev != "good" {
		t.Fatalf("event %v, want good", ev)
	}
	if r := h.next(); r.Reason != ReasonEvent || r.Outcome != OutcomeSuccess {
		t.Fatalf("cycle = %+v", r)
	}
	events <- "bad"
	recv(t, seen)
	h.next()
	events <- "next" // waits in the channel during the backoff
	h.step(time.Second)
	if ev := recv(t, seen); ev != "bad" {
		t.Fatalf("retry saw event %v, want the failed one", ev)
	}
	if r := h.next(); r.Reason != ReasonRetry || r.Attempt != 2 || r.Outcome != OutcomeSuccess {
		t.Fatalf("retry = %+v", r)
	}
	if ev := recv(t, seen); ev != "next" {
		t.Fatalf("event after the retry = %v, want next", ev)
	}
	h.next()
	must(t, h.m.Trigger("apply"))
	if ev := recv(t, seen); ev != nil {
		t.Fatalf("a trigger after the retry saw event %v, want nil", ev)
	}
}

func TestClosedEventsChannelLeavesTrigger(t *testing.T) {
	h := newHarness(t)
	events := make(chan any)
	h.register(JobSpec{Name: "j", Kind: Triggered, Events: events, Run: ok})
	h.start()
	close(events)
	must(t, h.m.Trigger("j"))
	if r := h.next(); r.Reason != ReasonTrigger {
		t.Fatalf("cycle = %+v", r)
	}
}

func TestPollHonoursPause(t *testing.T) {
	h := newHarness(t)
	h.register(JobSpec{Name: "j", Kind: Triggered, Run: ok})
	j, _ := h.m.job("j")
	l := &loop{j: j}

	j.st.paused, j.st.trigger = true, true
	if _, paused, ready := l.poll(); ready || !paused {
		t.Fatal("a trigger started a paused job")
	}
	j.st.runNow = true
	if r, _, ready := l.poll(); !ready || r != ReasonRunNow {
		t.Fatalf("poll = %q, %v; want run-now despite the pause", r, ready)
	}
	if j.st.trigger || j.st.runNow {
		t.Fatal("run-now did not consume the pending requests")
	}
	j.st.paused, j.st.trigger = false, true
	if r, _, ready := l.poll(); !ready || r != ReasonTrigger {
		t.Fatalf("poll = %q, %v; want trigger", r, ready)
	}
	l.due, l.reason = t0, ReasonSchedule
	if r, _, ready := l.poll(); !ready || r != ReasonSchedule {
		t.Fatalf("poll at the due time = %q, %v", r, ready)
	}
	l.due = t0.Add(time.Second)
	if _, _, ready := l.poll(); ready {
		t.Fatal("poll before the due time is ready")
	}
	if info := h.info("j"); info.State != StateIdle || !info.NextRun.Equal(t0.Add(time.Second)) {
		t.Fatalf("waiting state %v next %v", info.State, info.NextRun)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestArmKeepsTheTimerOfTheSameDueTime(t *testing.T) {
	h := newHarness(t)
	h.register(JobSpec{Name: "j", Kind: Triggered, Run: ok})
	j, _ := h.m.job("j")
	l := &loop{j: j, due: t0.Add(time.Second)}
	c1 := l.arm(false)
	h.clk.Advance(time.Second)
	// A wake between the firing and the select re-arms: the fired value
	// must survive.
	c2 := l.arm(false)
	if c1 != c2 {
		t.Fatal("arm replaced the timer of an unchanged due time")
	}
	select {
	case <-c2:
	default:
		t.Fatal("re-arming lost the fired value")
	}
	l.due = t0.Add(time.Hour)
	if l.arm(false) == c1 || h.clk.Waiters() != 1 {
		t.Fatal("a new due time did not get a new timer")
	}
	if l.arm(true) != nil || h.clk.Waiters() != 0 {
		t.Fatal("a paused loop kept its timer")
	}
}

func TestOnCycleHookPanicIsContained(t *testing.T) {
	logs := &syncBuffer{}
	clk := NewFakeClock(t0)
	done := make(chan struct{})
	m, err := New(Config{
		Clock:  clk,
		Logger: slog.New(slog.NewTextHandler(logs, nil)),
		OnCycle: func(r CycleRecord) {
			defer close(done)
			panic("hook bug")
		},
	})
	must(t, err)
	must(t, m.Register(JobSpec{Name: "j", Kind: Triggered, Run: ok}))
	must(t, m.Start(context.Background()))
	must(t, m.Trigger("j"))
	recv(t, done)
	must(t, m.Stop(context.Background()))
	if !strings.Contains(logs.String(), "OnCycle hook panicked") {
		t.Fatalf("hook panic not logged: %s", logs)
	}
}
