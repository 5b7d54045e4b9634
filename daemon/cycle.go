package daemon

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// runCycle runs one cycle of the job and records it.
func (j *job) runCycle(ctx context.Context, reason Reason, attempt int, event any) CycleRecord {
	clk := j.clock()
	cctx, release := newCycleCtx(ctx, clk, j.spec.Timeout)
	rec := CycleRecord{Job: j.spec.Name, Attempt: attempt, Reason: reason, Start: clk.Now()}
	j.begin(cctx.cancel, rec)

	sctx, span := j.m.cfg.Tracer.Start(cctx, "daemon.cycle", trace.WithAttributes(
		attribute.String("daemon.job", j.spec.Name),
		attribute.String("daemon.kind", j.spec.Kind.String()),
		attribute.String("daemon.reason", string(reason)),
		attribute.Int("daemon.attempt", attempt),
	))
	c := &Cycle{Job: j.spec.Name, Attempt: attempt, Reason: reason, Event: event,
		Cache: j.cache, Logger: j.log, queue: j.queue}
	err := call(func() error { return j.spec.Run(sctx, c) })
	rec.Outcome, err = classify(err, cctx)
	release()
	rec.End = clk.Now()
	if err != nil {
		rec.Err = err.Error()
	}
	endSpan(span, rec.Outcome, err)
	j.record(rec, err)
	return rec
}

// call runs f, turning a panic into an error wrapping ErrPanic.
func call(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &panicError{value: r, stack: debug.Stack()}
		}
	}()
	return f()
}

// panicError is a recovered panic.
type panicError struct {
	value any
	stack []byte
}

func (p *panicError) Error() string        { return fmt.Sprintf("%v: %v", ErrPanic, p.value) }
func (p *panicError) Is(target error) bool { return target == ErrPanic }

// classify returns the outcome of a cycle or item that returned err under
// c, and the error to report, which names the timeout if there was one.
func classify(err error, c *cycleCtx) (Outcome, error) {
	var p *panicError
	switch {
	case err == nil:
		return OutcomeSuccess, nil
	case errors.As(err, &p):
		return OutcomePanic, err
	case c.expired():
		if errors.Is(err, ErrCycleTimeout) {
			return OutcomeTimeout, err
		}
		return OutcomeTimeout, fmt.Errorf("%w: %w", context.Cause(c), err)
	case c.Context.Err() != nil:
		return OutcomeCanceled, err
	}
	return OutcomeFailure, err
}

func endSpan(span trace.Span, o Outcome, err error) {
	span.SetAttributes(attribute.String("daemon.outcome", string(o)))
	if o.Failed() {
		span.RecordError(err)
		span.SetStatus(codes.Error, string(o))
	}
	span.End()
}

// begin marks the job running a cycle canceled by cancel.
func (j *job) begin(cancel context.CancelCauseFunc, rec CycleRecord) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.cancel = cancel
	j.st.lastStart = rec.Start
	j.setStateLocked(StateRunning)
	if j.st.paused && j.spec.Kind == Continuous && rec.Reason != ReasonRunNow {
		// Paused since the runner decided to start this cycle.
		cancel(ErrPaused)
	}
}

// record publishes a finished cycle: status, metrics, timeline and log.
func (j *job) record(rec CycleRecord, err error) {
	j.mu.Lock()
	j.cancel = nil
	j.count(rec)
	j.mu.Unlock()
	j.m.metrics.observeCycle(rec)
	j.tl.add(rec)
	j.logCycle(rec, err)
}

// notify calls the OnCycle hook, if any; a panic in it is logged.
func (j *job) notify(rec CycleRecord) {
	hook := j.m.cfg.OnCycle
	if hook == nil {
		return
	}
	if err := call(func() error { hook(rec); return nil }); err != nil {
		j.log.Error("OnCycle hook panicked", "err", err)
	}
}

// count updates the status counters for rec. j.mu is held.
func (j *job) count(rec CycleRecord) {
	st := &j.st
	st.runs++
	st.lastOutcome, st.lastErr = rec.Outcome, rec.Err
	if rec.Attempt > 1 {
		st.retries++
	}
	switch rec.Outcome {
	case OutcomeSuccess:
		st.lastSuccess, st.consecutive = rec.End, 0
	case OutcomePanic:
		st.panics++
	case OutcomeTimeout:
		st.timeouts++
	}
	if rec.Outcome.Failed() {
		st.failures++
		st.consecutive++
	}
}

func (j *job) logCycle(rec CycleRecord, err error) {
	attrs := []any{"attempt", rec.Attempt, "reason", rec.Reason, "outcome", rec.Outcome,
		"duration", rec.Duration()}
	var p *panicError
	switch {
	case errors.As(err, &p):
		j.log.Error("cycle panicked", append(attrs, "err", err, "stack", string(p.stack))...)
	case rec.Outcome.Failed():
		j.log.Warn("cycle failed", append(attrs, "err", err)...)
	default:
		j.log.Debug("cycle done", append(attrs, "err", err)...)
	}
}
