package daemon

import (
	"bytes"
	"context"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// t0 is the fake clock's start in every test.
var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

// failsafe bounds every wait of a test in real time, so that a broken
// implementation fails instead of hanging. Passing runs never get near it.
const failsafe = 20 * time.Second

// harness is a manager on a fake clock with a private registry, a captured
// log and a channel of finished cycles.
type harness struct {
	t      *testing.T
	clk    *FakeClock
	reg    *prometheus.Registry
	logs   *syncBuffer
	cycles chan CycleRecord
	m      *Manager
}

type harnessOption func(*Config)

func withTracer(tr trace.Tracer) harnessOption { return func(c *Config) { c.Tracer = tr } }
func withTimeline(n int) harnessOption         { return func(c *Config) { c.TimelineSize = n } }

func newHarness(t *testing.T, opts ...harnessOption) *harness {
	t.Helper()
	h := &harness{
		t:      t,
		clk:    NewFakeClock(t0),
		reg:    prometheus.NewRegistry(),
		logs:   &syncBuffer{},
		cycles: make(chan CycleRecord, 1024),
	}
	cfg := Config{
		Clock:      h.clk,
		Rand:       rand.New(rand.NewPCG(1, 2)),
		Logger:     slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Registerer: h.reg,
		OnCycle:    func(r CycleRecord) { h.cycles <- r },
	}
	for _, o := range opts {
		o(&cfg)
	}
	m, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.m = m
	return h
}

// register registers spec or fails the test.
func (h *harness) register(spec JobSpec) {
	h.t.Helper()
	if err := h.m.Register(spec); err != nil {
		h.t.Fatalf("Register(%q): %v", spec.Name, err)
	}
}

// start starts the manager and stops it when the test ends.
func (h *harness) start() {
	h.t.Helper()
	if err := h.m.Start(context.Background()); err != nil {
		h.t.Fatalf("Start: %v", err)
	}
	h.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), failsafe)
		defer cancel()
		if err := h.m.Stop(ctx); err != nil {
			h.t.Errorf("Stop: %v", err)
		}
	})
}

// next returns the next finished cycle.
func (h *harness) next() CycleRecord {
	h.t.Helper()
	select {
	case r := <-h.cycles:
		return r
	case <-time.After(failsafe):
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		h.t.Fatalf("no cycle finished; clock at %v, waiters %d\n%s", h.clk.Since(t0), h.clk.Waiters(), buf)
		return CycleRecord{}
	}
}

// block waits until exactly n goroutines wait on the fake clock.
func (h *harness) block(n int) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), failsafe)
	defer cancel()
	if err := h.clk.BlockUntilContext(ctx, n); err != nil {
		h.t.Fatalf("waiting for %d clock waiters (have %d): %v", n, h.clk.Waiters(), err)
	}
}

// wait is the time until the earliest pending timer.
func (h *harness) wait() time.Duration {
	h.t.Helper()
	d, ok := h.clk.NextDeadline()
	if !ok {
		h.t.Fatal("no timer pending")
	}
	return d.Sub(h.clk.Now())
}

// step waits for the job to block on its timer, checks that it is due in
// want, and advances the clock to fire it.
func (h *harness) step(want time.Duration) {
	h.t.Helper()
	h.block(1)
	if got := h.wait(); got != want {
		h.t.Fatalf("next timer in %v, want %v", got, want)
	}
	h.clk.Advance(want)
}

func (h *harness) info(name string) JobInfo {
	h.t.Helper()
	info, err := h.m.Info(name)
	if err != nil {
		h.t.Fatal(err)
	}
	return info
}

// recv receives from ch within the failsafe.
func recv[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(failsafe):
		t.Fatal("nothing received")
		var zero T
		return zero
	}
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func ok(context.Context, *Cycle) error { return nil }

// waitItems waits until the job's queue counters satisfy cond. Items have
// no hook like OnCycle, so this polls; it asserts nothing about timing.
func waitItems(t *testing.T, h *harness, name string, cond func(*QueueInfo) bool) *QueueInfo {
	t.Helper()
	deadline := time.Now().Add(failsafe)
	for {
		q := h.info(name).Queue
		if cond(q) {
			return q
		}
		if time.Now().After(deadline) {
			t.Fatalf("queue of %q never reached the expected state: %+v", name, q)
		}
		time.Sleep(time.Millisecond)
	}
}
