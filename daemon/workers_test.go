package daemon

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// blockingConsumer is a pure consumer whose Handle reports each item and
// then waits for release.
func blockingConsumer(name string, reject bool, got chan<- any, release <-chan struct{}) JobSpec {
	return JobSpec{
		Name: name, Kind: Triggered, Workers: 1, QueueSize: 2, RejectWhenFull: reject,
		Handle: func(ctx context.Context, item any) error {
			got <- item
			select {
			case <-release:
			case <-ctx.Done():
			}
			return nil
		},
	}
}

func TestSubmitRejectsWhenFull(t *testing.T) {
	h := newHarness(t)
	got := make(chan any, 8)
	release := make(chan struct{})
	h.register(blockingConsumer("sink", true, got, release))
	h.start()
	ctx, cancel := context.WithTimeout(context.Background(), failsafe) // fail, not hang, if Submit blocks
	defer cancel()
	must(t, h.m.Submit(ctx, "sink", 1))
	recv(t, got) // the worker holds item 1
	must(t, h.m.Submit(ctx, "sink", 2))
	must(t, h.m.Submit(ctx, "sink", 3))
	if err := h.m.Submit(ctx, "sink", 4); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("Submit to a full queue = %v, want ErrQueueFull", err)
	}
	if q := h.info("sink").Queue; q.Length != 2 || q.Capacity != 2 || q.Busy != 1 || q.Rejected != 1 {
		t.Fatalf("queue = %+v", q)
	}
	close(release)
	for _, want := range []any{2, 3} {
		if item := recv(t, got); item != want {
			t.Fatalf("handled %v, want %v (FIFO)", item, want)
		}
	}
	waitItems(t, h, "sink", func(q *QueueInfo) bool { return q.Handled == 3 })
	if v := metric(t, h.reg, "partita_daemon_items_total", "sink", "rejected"); v != 1 {
		t.Fatalf("rejected items metric = %v, want 1", v)
	}
}

func TestSubmitBlocksWhenFull(t *testing.T) {
	h := newHarness(t)
	got := make(chan any, 8)
	release := make(chan struct{})
	h.register(blockingConsumer("sink", false, got, release))
	h.start()
	bg := context.Background()
	must(t, h.m.Submit(bg, "sink", 1))
	recv(t, got)
	must(t, h.m.Submit(bg, "sink", 2))
	must(t, h.m.Submit(bg, "sink", 3))

	ctx, cancel := context.WithCancel(bg)
	cancel()
	if err := h.m.Submit(ctx, "sink", 4); !errors.Is(err, context.Canceled) {
		t.Fatalf("Submit to a full queue with a canceled context = %v", err)
	}
	blocked := make(chan error, 1)
	go func() { blocked <- h.m.Submit(bg, "sink", 5) }()
	close(release)
	if err := recv(t, blocked); err != nil {
		t.Fatalf("blocked Submit = %v, want nil once room was made", err)
	}
	waitItems(t, h, "sink", func(q *QueueInfo) bool { return q.Handled == 4 })
}

func TestPausedWorkersTakeNothing(t *testing.T) {
	h := newHarness(t)
	got := make(chan any, 8)
	release := make(chan struct{})
	close(release)
	h.register(blockingConsumer("sink", true, got, release))
	h.start()
	ctx, cancel := context.WithTimeout(context.Background(), failsafe) // fail, not hang, if Submit blocks
	defer cancel()
	// Let the worker handle an item and go back to waiting for the next.
	must(t, h.m.Submit(ctx, "sink", 0))
	waitItems(t, h, "sink", func(q *QueueInfo) bool { return q.Handled == 1 })

	must(t, h.m.Pause("sink"))
	must(t, h.m.Submit(ctx, "sink", 1))
	must(t, h.m.Submit(ctx, "sink", 2))
	if err := h.m.Submit(ctx, "sink", 3); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("third Submit while paused = %v, want ErrQueueFull (a paused worker took an item)", err)
	}
	if info := h.info("sink"); info.State != StatePaused || info.Queue.Handled != 1 || info.Queue.Length != 2 {
		t.Fatalf("paused consumer: %+v %+v", info, info.Queue)
	}
	must(t, h.m.Resume("sink"))
	waitItems(t, h, "sink", func(q *QueueInfo) bool { return q.Handled == 3 })
}

func TestConsumerStateBeforeRunnerStarts(t *testing.T) {
	h := newHarness(t)
	h.register(JobSpec{Name: "sink", Kind: Triggered, Workers: 1,
		Handle: func(context.Context, any) error { return nil }})
	must(t, h.m.Pause("sink"))
	h.start()
	if info := h.info("sink"); info.State != StatePaused {
		t.Fatalf("state right after Start = %v, want paused", info.State)
	}
}

func TestWorkerPanicIsRecovered(t *testing.T) {
	h := newHarness(t)
	var sum atomic.Int64
	h.register(JobSpec{
		Name: "sum", Kind: Triggered, Workers: 2, QueueSize: 8,
		Handle: func(ctx context.Context, item any) error {
			n := item.(int)
			switch n {
			case 0:
				panic("zero")
			case 13:
				return errors.New("unlucky")
			}
			sum.Add(int64(n))
			return nil
		},
	})
	h.start()
	for _, n := range []int{1, 0, 2, 13, 3} {
		must(t, h.m.Submit(context.Background(), "sum", n))
	}
	q := waitItems(t, h, "sum", func(q *QueueInfo) bool { return q.Handled+q.Failed == 5 })
	if q.Handled != 3 || q.Failed != 2 || q.Panics != 1 || sum.Load() != 6 {
		t.Fatalf("queue %+v sum %d", q, sum.Load())
	}
	for outcome, want := range map[string]float64{"success": 3, "failure": 1, "panic": 1} {
		if v := metric(t, h.reg, "partita_daemon_items_total", "sum", outcome); v != want {
			t.Errorf("items_total{outcome=%q} = %v, want %v", outcome, v, want)
		}
	}
	if v := metric(t, h.reg, "partita_daemon_panics_total", "sum", ""); v != 1 {
		t.Fatalf("panics metric = %v, want 1", v)
	}
}

func TestProducerConsumer(t *testing.T) {
	h := newHarness(t)
	var sum atomic.Int64
	h.register(JobSpec{
		Name: "sweep", Kind: Periodic, Interval: time.Minute, RunAtStart: true,
		Workers: 3, QueueSize: 2,
		Run: func(ctx context.Context, c *Cycle) error {
			for i := 1; i <= 10; i++ {
				if err := c.Submit(ctx, i); err != nil {
					return err
				}
			}
			return nil
		},
		Handle: func(ctx context.Context, item any) error {
			sum.Add(int64(item.(int)))
			return nil
		},
	})
	h.start()
	if r := h.next(); r.Outcome != OutcomeSuccess {
		t.Fatalf("producer cycle = %+v", r)
	}
	waitItems(t, h, "sweep", func(q *QueueInfo) bool { return q.Handled == 10 })
	if sum.Load() != 55 {
		t.Fatalf("sum = %d, want 55", sum.Load())
	}
}

func TestStopDropsQueuedItems(t *testing.T) {
	h := newHarness(t)
	got := make(chan any, 8)
	h.register(blockingConsumer("sink", false, got, make(chan struct{})))
	h.start()
	ctx := context.Background()
	for i := 1; i <= 3; i++ {
		must(t, h.m.Submit(ctx, "sink", i))
	}
	recv(t, got)
	must(t, h.m.Stop(ctx))
	q := h.info("sink").Queue
	if q.Dropped != 2 || q.Length != 0 {
		t.Fatalf("after Stop: %+v, want 2 dropped", q)
	}
	if err := h.m.Submit(ctx, "sink", 4); !errors.Is(err, ErrStopped) {
		t.Fatalf("Submit after Stop = %v, want ErrStopped", err)
	}
}

func TestSubmitWithoutQueue(t *testing.T) {
	h := newHarness(t)
	var cycleErr atomic.Value
	h.register(JobSpec{Name: "plain", Kind: Triggered, Run: func(ctx context.Context, c *Cycle) error {
		cycleErr.Store(c.Submit(ctx, 1))
		return nil
	}})
	h.start()
	if err := h.m.Submit(context.Background(), "plain", 1); !errors.Is(err, ErrNoQueue) {
		t.Fatalf("Submit = %v, want ErrNoQueue", err)
	}
	must(t, h.m.Trigger("plain"))
	h.next()
	if err, _ := cycleErr.Load().(error); !errors.Is(err, ErrNoQueue) {
		t.Fatalf("Cycle.Submit = %v, want ErrNoQueue", err)
	}
}
