package store

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/partitadb/partita/replica"
	"github.com/partitadb/partita/telemetry"
)

// startSpan starts a span of a raft operation on partition.
func (s *Store) startSpan(ctx context.Context, name string, partition uint64) (context.Context, trace.Span) {
	if parent, ok := telemetry.UnsampledParent(ctx); ok {
		return ctx, parent
	}
	return s.cfg.Tracer.Start(ctx, name,
		trace.WithAttributes(attribute.Int64("partita.partition", int64(partition))))
}

// traceApply records the apply of a proposal on this node, from the times
// the replica stamped on its outcome, as a child of ctx's span. The
// replica stays free of tracing: it only reports when apply ran.
func (s *Store) traceApply(ctx context.Context, partition uint64, o replica.Outcome) {
	if o.ApplyStart.IsZero() || !trace.SpanFromContext(ctx).IsRecording() {
		return
	}
	_, span := s.cfg.Tracer.Start(ctx, "raft.apply", trace.WithTimestamp(o.ApplyStart),
		trace.WithAttributes(attribute.Int64("partita.partition", int64(partition))))
	if e := o.Result.GetError(); e != nil {
		span.SetAttributes(attribute.String("partita.apply.rejected", e.GetCode().String()))
	}
	span.End(trace.WithTimestamp(o.ApplyEnd))
}

// endSpan ends span, marking it failed when err is set.
func endSpan(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}
