package daemon

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// queue is a job's bounded work queue. Submit pushes back when it is full,
// by blocking or failing; closing it (at Stop) refuses new items.
type queue struct {
	job     string
	ch      chan any
	workers int
	reject  bool
	metrics *metrics

	mu       sync.RWMutex // held shared by submitters, exclusively to close
	closed   bool
	stopping chan struct{}
	once     sync.Once

	busy                    atomic.Int64
	handled, failed, panics atomic.Uint64
	rejected, dropped       atomic.Uint64
}

func newQueue(spec JobSpec, m *metrics) *queue {
	return &queue{
		job:      spec.Name,
		ch:       make(chan any, spec.QueueSize),
		workers:  spec.Workers,
		reject:   spec.RejectWhenFull,
		metrics:  m,
		stopping: make(chan struct{}),
	}
}

// submit enqueues item, blocking while the queue is full unless the job
// rejects instead.
func (q *queue) submit(ctx context.Context, item any) error {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.closed {
		return ErrStopped
	}
	if q.reject {
		select {
		case q.ch <- item:
			q.metrics.setQueueLength(q.job, len(q.ch))
			return nil
		default:
			q.rejected.Add(1)
			q.metrics.observeItem(q.job, "rejected", 1)
			return fmt.Errorf("%w: %q", ErrQueueFull, q.job)
		}
	}
	select {
	case q.ch <- item:
		q.metrics.setQueueLength(q.job, len(q.ch))
		return nil
	case <-ctx.Done():
		return fmt.Errorf("daemon: submit to %q: %w", q.job, ctx.Err())
	case <-q.stopping:
		return ErrStopped
	}
}

// close refuses new items and releases blocked submitters; it returns once
// no submit is in progress.
func (q *queue) close() {
	q.once.Do(func() {
		close(q.stopping)
		q.mu.Lock()
		q.closed = true
		q.mu.Unlock()
	})
}

// drop discards the queued items, counting them as dropped.
func (q *queue) drop() {
	n := 0
	for {
		select {
		case <-q.ch:
			n++
		default:
			q.dropped.Add(uint64(n))
			q.metrics.observeItem(q.job, "dropped", n)
			q.metrics.setQueueLength(q.job, 0)
			return
		}
	}
}

func (q *queue) info() *QueueInfo {
	return &QueueInfo{
		Workers: q.workers, Capacity: cap(q.ch), Length: len(q.ch), Busy: int(q.busy.Load()),
		Handled: q.handled.Load(), Failed: q.failed.Load(), Panics: q.panics.Load(),
		Rejected: q.rejected.Load(), Dropped: q.dropped.Load(),
	}
}

// Submit enqueues item for the named job's workers. When the queue is
// full it blocks until there is room, ctx ends or the manager stops, or,
// for a job with RejectWhenFull, fails at once with ErrQueueFull. Items
// may be submitted before Start; they wait in the queue.
func (m *Manager) Submit(ctx context.Context, name string, item any) error {
	j, err := m.job(name)
	if err != nil {
		return err
	}
	if j.queue == nil {
		return fmt.Errorf("%w: %q", ErrNoQueue, name)
	}
	return j.queue.submit(ctx, item)
}

// closeQueue refuses new items, if the job has a queue.
func (j *job) closeQueue() {
	if j.queue != nil {
		j.queue.close()
	}
}

// startWorkers starts the job's workers and returns a function that waits
// for them to exit, then drops what is left in the queue.
func (j *job) startWorkers(ctx context.Context) (wait func()) {
	if j.queue == nil {
		return func() {}
	}
	var wg sync.WaitGroup
	for range j.queue.workers {
		wg.Go(func() { j.work(ctx) })
	}
	return func() {
		wg.Wait()
		j.queue.close()
		j.queue.drop()
	}
}

// work is one worker: it takes items while the job is not paused.
func (j *job) work(ctx context.Context) {
	for {
		item, ok := j.take(ctx)
		if !ok {
			return
		}
		// Paused as it was taken: hold the item until resumed.
		if !j.gate.waitOpen(ctx) {
			j.queue.dropped.Add(1)
			j.m.metrics.observeItem(j.spec.Name, "dropped", 1)
			return
		}
		j.handle(ctx, item)
	}
}

// take returns the next item once the job is not paused; false when ctx
// ends.
func (j *job) take(ctx context.Context) (any, bool) {
	for {
		if ctx.Err() != nil || !j.gate.waitOpen(ctx) {
			return nil, false
		}
		_, shut := j.gate.chans()
		select {
		case item := <-j.queue.ch:
			j.m.metrics.setQueueLength(j.spec.Name, len(j.queue.ch))
			return item, true
		case <-shut:
		case <-ctx.Done():
			return nil, false
		}
	}
}

// handle runs Handle on one item with the job's timeout, recovering
// panics, and records the outcome.
func (j *job) handle(ctx context.Context, item any) {
	q := j.queue
	q.busy.Add(1)
	defer q.busy.Add(-1)
	cctx, release := newCycleCtx(ctx, j.clock(), j.spec.Timeout)
	sctx, span := j.m.cfg.Tracer.Start(cctx, "daemon.item",
		trace.WithAttributes(attribute.String("daemon.job", j.spec.Name)))
	outcome, err := classify(call(func() error { return j.spec.Handle(sctx, item) }), cctx)
	release()
	endSpan(span, outcome, err)
	// Metrics first: a reader that sees the counters sees the metrics.
	j.m.metrics.observeItem(j.spec.Name, string(outcome), 1)
	switch {
	case outcome == OutcomeSuccess:
		q.handled.Add(1)
	case outcome.Failed():
		q.failed.Add(1)
		if outcome == OutcomePanic {
			q.panics.Add(1)
		}
		j.logItem(outcome, err)
	}
}

func (j *job) logItem(outcome Outcome, err error) {
	var p *panicError
	if errors.As(err, &p) {
		j.log.Error("work item panicked", "err", err, "stack", string(p.stack))
		return
	}
	j.log.Warn("work item failed", "outcome", outcome, "err", err)
}
