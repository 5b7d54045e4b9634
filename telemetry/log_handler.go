package telemetry

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/otel/trace"
)

// LogHandler adds the trace_id and span_id of the span in a record's
// context to the record, then hands it to the wrapped handler.
type LogHandler struct {
	next slog.Handler
}

var _ slog.Handler = (*LogHandler)(nil)

// NewLogHandler wraps next; a handler that is already a *LogHandler is
// returned as it is, so wrapping twice adds the ids once.
func NewLogHandler(next slog.Handler) slog.Handler {
	if h, ok := next.(*LogHandler); ok {
		return h
	}
	return &LogHandler{next: next}
}

// Enabled implements slog.Handler.
func (h *LogHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// Handle implements slog.Handler.
func (h *LogHandler) Handle(ctx context.Context, r slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r = r.Clone()
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return h.next.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (h *LogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &LogHandler{next: h.next.WithAttrs(attrs)}
}

// WithGroup implements slog.Handler. The ids stay inside the group, as
// every attribute added after WithGroup does.
func (h *LogHandler) WithGroup(name string) slog.Handler {
	return &LogHandler{next: h.next.WithGroup(name)}
}
