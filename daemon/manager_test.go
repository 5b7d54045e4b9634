package daemon

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestStopIsGraceful(t *testing.T) {
	h := newHarness(t)
	running := make(chan struct{}, 1)
	h.register(JobSpec{Name: "periodic", Kind: Periodic, Interval: time.Minute, Run: ok})
	h.register(JobSpec{Name: "triggered", Kind: Triggered, Run: ok})
	h.register(JobSpec{Name: "continuous", Kind: Continuous, Run: func(ctx context.Context, _ *Cycle) error {
		running <- struct{}{}
		<-ctx.Done()
		return ctx.Err()
	}})
	h.register(JobSpec{Name: "consumer", Kind: Triggered, Workers: 4,
		Handle: func(context.Context, any) error { return nil }})
	must(t, h.m.Start(context.Background()))
	recv(t, running)
	h.block(1)

	must(t, h.m.Stop(context.Background()))
	for _, info := range h.m.List() {
		if info.State != StateStopped {
			t.Errorf("%s: state %v after Stop", info.Name, info.State)
		}
	}
	if r := h.next(); r.Job != "continuous" || r.Outcome != OutcomeCanceled {
		t.Fatalf("cycle interrupted by Stop = %+v, want canceled", r)
	}
	if h.clk.Waiters() != 0 {
		t.Fatalf("%d timers left after Stop", h.clk.Waiters())
	}
	if err := h.m.Start(context.Background()); !errors.Is(err, ErrStopped) {
		t.Fatalf("Start after Stop = %v", err)
	}
	if err := h.m.Register(JobSpec{Name: "late", Kind: Triggered, Run: ok}); !errors.Is(err, ErrStopped) {
		t.Fatalf("Register after Stop = %v", err)
	}
}

func TestStopDeadlineReportsStuckJobs(t *testing.T) {
	h := newHarness(t)
	running := make(chan struct{}, 1)
	release := make(chan struct{})
	h.register(JobSpec{Name: "stubborn", Kind: Continuous, Run: func(ctx context.Context, _ *Cycle) error {
		running <- struct{}{}
		<-release // ignores ctx
		return nil
	}})
	must(t, h.m.Start(context.Background()))
	recv(t, running)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := h.m.Stop(ctx)
	var se *StopError
	if !errors.As(err, &se) || !slices.Equal(se.Jobs, []string{"stubborn"}) {
		t.Fatalf("Stop = %v, want a StopError naming stubborn", err)
	}
	if !errors.Is(err, ErrStopTimeout) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Stop error %v does not match ErrStopTimeout and the context's error", err)
	}
	if !strings.Contains(h.logs.String(), "jobs did not stop") {
		t.Fatal("stuck jobs not logged")
	}
	close(release)
	if err := h.m.Stop(context.Background()); err != nil {
		t.Fatalf("second Stop = %v, want nil once the job returned", err)
	}
}

func TestStartContextCancelsJobs(t *testing.T) {
	h := newHarness(t)
	h.register(JobSpec{Name: "tick", Kind: Periodic, Interval: time.Minute, Run: ok})
	ctx, cancel := context.WithCancel(context.Background())
	must(t, h.m.Start(ctx))
	h.block(1)
	cancel()
	h.block(0)
	must(t, h.m.Stop(context.Background()))
}

func TestLifecycleErrors(t *testing.T) {
	h := newHarness(t)
	h.register(JobSpec{Name: "a", Kind: Triggered, Run: ok})
	if err := h.m.Register(JobSpec{Name: "a", Kind: Triggered, Run: ok}); !errors.Is(err, ErrDuplicateJob) {
		t.Fatalf("duplicate Register = %v", err)
	}
	h.start()
	if err := h.m.Start(context.Background()); !errors.Is(err, ErrStarted) {
		t.Fatalf("second Start = %v", err)
	}
	// A job registered after Start starts at once.
	h.register(JobSpec{Name: "b", Kind: Periodic, Interval: time.Second, RunAtStart: true, Run: ok})
	if r := h.next(); r.Job != "b" {
		t.Fatalf("cycle = %+v", r)
	}
	if got := names(h.m.List()); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("List = %v", got)
	}
}

func TestStopWithoutStart(t *testing.T) {
	h := newHarness(t)
	h.register(JobSpec{Name: "a", Kind: Triggered, Run: ok})
	h.register(JobSpec{Name: "q", Kind: Triggered, Workers: 1, QueueSize: 3,
		Handle: func(context.Context, any) error { return nil }})
	must(t, h.m.Submit(context.Background(), "q", 1)) // queued before Start
	must(t, h.m.Stop(context.Background()))
	if info := h.info("a"); info.State != StateStopped {
		t.Fatalf("state %v", info.State)
	}
	if q := h.info("q").Queue; q.Dropped != 1 || q.Length != 0 {
		t.Fatalf("queue after Stop without Start: %+v", q)
	}
}

func names(infos []JobInfo) []string {
	var out []string
	for _, i := range infos {
		out = append(out, i.Name)
	}
	return out
}

func TestSpecValidation(t *testing.T) {
	noop := func(context.Context, any) error { return nil }
	bad := map[string]JobSpec{
		"empty name":       {Kind: Triggered, Run: ok},
		"slash in name":    {Name: "a/b", Kind: Triggered, Run: ok},
		"long name":        {Name: strings.Repeat("x", 65), Kind: Triggered, Run: ok},
		"no kind":          {Name: "a", Run: ok},
		"no run":           {Name: "a", Kind: Periodic, Interval: time.Second},
		"no interval":      {Name: "a", Kind: Periodic, Run: ok},
		"negative jitter":  {Name: "a", Kind: Periodic, Interval: time.Second, Jitter: -1, Run: ok},
		"interval on cont": {Name: "a", Kind: Continuous, Interval: time.Second, Run: ok},
		"events on cont":   {Name: "a", Kind: Continuous, Events: make(chan any), Run: ok},
		"negative timeout": {Name: "a", Kind: Triggered, Timeout: -1, Run: ok},
		"workers no fn":    {Name: "a", Kind: Triggered, Workers: 1, Run: ok},
		"fn no workers":    {Name: "a", Kind: Triggered, Handle: noop, Run: ok},
		"queue no workers": {Name: "a", Kind: Triggered, QueueSize: 3, Run: ok},
		"periodic no run":  {Name: "a", Kind: Periodic, Interval: time.Second, Workers: 1, Handle: noop},
		"bad backoff":      {Name: "a", Kind: Triggered, Backoff: Backoff{Multiplier: 0.1}, Run: ok},
	}
	h := newHarness(t)
	for name, spec := range bad {
		if err := h.m.Register(spec); !errors.Is(err, ErrInvalidSpec) {
			t.Errorf("%s: Register = %v, want ErrInvalidSpec", name, err)
		}
	}
	good := JobSpec{Name: "Good_name-1.x", Kind: Triggered, Workers: 1, Handle: noop}
	if err := good.Validate(); err != nil {
		t.Errorf("valid pure consumer rejected: %v", err)
	}
}

func TestNewNeedsItsOwnRegisterer(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := New(Config{Registerer: reg}); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{Registerer: reg}); err == nil {
		t.Fatal("a second manager registered the same metrics")
	}
	m, err := New(Config{})
	if err != nil {
		t.Fatalf("New with defaults: %v", err)
	}
	if m.cfg.Clock == nil || m.cfg.Rand == nil || m.cfg.TimelineSize != DefaultTimelineSize {
		t.Fatalf("defaults not applied: %+v", m.cfg)
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("DefaultConfig invalid: %v", err)
	}
	if err := (Config{}).Validate(); err == nil {
		t.Fatal("Validate accepted a config without dependencies")
	}
}

func TestRealClock(t *testing.T) {
	clk := RealClock()
	start := clk.Now()
	<-clk.After(time.Millisecond)
	if clk.Since(start) < time.Millisecond {
		t.Fatal("After fired early")
	}
	tm := clk.NewTimer(time.Hour)
	if !tm.Stop() {
		t.Fatal("Stop of a pending real timer returned false")
	}
	fired := make(chan struct{})
	clk.AfterFunc(time.Millisecond, func() { close(fired) })
	recv(t, fired)
}
