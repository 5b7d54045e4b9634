package dynamo

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// errPanicked is the outcome of an operation whose handler panicked (the
// panic itself is answered by recoverPanic).
var errPanicked = &apiError{Kind: kindInternal, Message: msgInternal}

// startSpan starts the server span of operation op, continuing the trace
// of a client that sent W3C trace context headers.
func (s *Server) startSpan(ctx context.Context, op string) (context.Context, trace.Span) {
	return s.cfg.Tracer.Start(ctx, "dynamo."+op,
		trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("rpc.method", op)))
}

// extractTrace returns ctx carrying the remote span context of r's
// traceparent header, if any.
func extractTrace(r *http.Request) context.Context {
	return propagation.TraceContext{}.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
}

// finish measures an operation and ends its span. err is the error the
// client was sent (nil: success).
func (s *Server) finish(span trace.Span, op string, d time.Duration, err error) {
	var errType string
	if err != nil {
		ae, _ := toAPIError(err)
		errType = shortType(ae.Kind)
		span.SetAttributes(attribute.String("aws.dynamodb.error_type", errType))
		if ae.Kind.Status >= http.StatusInternalServerError {
			span.SetStatus(codes.Error, ae.Message)
		}
	}
	span.End()
	s.m.observe(op, d, errType)
}

// traceTables records the tables a request names on ctx's span, when it
// is sampled: TableName, or the keys of a batch's RequestItems.
func traceTables(ctx context.Context, body []byte) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	var req struct {
		TableName    string
		RequestItems map[string]json.RawMessage
	}
	if json.Unmarshal(body, &req) != nil {
		return
	}
	var names []string
	if req.TableName != "" {
		names = append(names, req.TableName)
	}
	for name := range req.RequestItems {
		names = append(names, name)
	}
	if len(names) > 0 {
		slices.Sort(names)
		span.SetAttributes(attribute.StringSlice("aws.dynamodb.table_names", names))
	}
}
