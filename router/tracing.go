package router

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/partitadb/partita/telemetry"
)

// startSpan starts the span of a routed operation on partition.
func (r *Router) startSpan(ctx context.Context, name string, partition uint64) (context.Context, trace.Span) {
	if parent, ok := telemetry.UnsampledParent(ctx); ok {
		return ctx, parent
	}
	return r.cfg.Tracer.Start(ctx, name,
		trace.WithAttributes(attribute.Int64("partita.partition", int64(partition))))
}

// endSpan ends span, marking it failed when err is set.
func endSpan(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}
