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

	"github.com/partitadb/partita/telemetry"
)

// errPanicked is the outcome of an operation whose handler panicked (the
// panic itself is answered by recoverPanic).
var errPanicked = &apiError{Kind: kindInternal, Message: msgInternal}

// spanNames are the operations' span names, built once: a request names
// its span twice (started, and told to the ring when not sampled).
var spanNames = func() map[string]string {
	out := map[string]string{unknownOperation: "dynamo." + unknownOperation}
	for op := range operations {
		out[op] = "dynamo." + op
	}
	return out
}()

// spanName is the span name of operation op.
func spanName(op string) string {
	if n, ok := spanNames[op]; ok {
		return n
	}
	return "dynamo." + op
}

// startSpan starts the server span of operation op, continuing the trace
// of a client that sent W3C trace context headers. Its attribute is set
// only on a span that records: most requests are not sampled, and the
// sampler decides by the trace alone.
func (s *Server) startSpan(ctx context.Context, op string) (context.Context, trace.Span) {
	ctx, span := s.cfg.Tracer.Start(ctx, spanName(op), trace.WithSpanKind(trace.SpanKindServer))
	if span.IsRecording() {
		span.SetAttributes(attribute.String("rpc.method", op))
	}
	return ctx, span
}

// extractTrace returns ctx carrying the remote span context of r's
// traceparent header, if any.
func extractTrace(r *http.Request) context.Context {
	return propagation.TraceContext{}.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
}

// finish measures an operation and ends its span. err is the error the
// client was sent (nil: success); gone says the client went away before
// its answer. A failure it was never sent (most often the cancellation
// itself) is counted as abandoned, not as an error: a load generator's end
// or a client's own timeout is no sign of the server's health.
func (s *Server) finish(span trace.Span, op string, start time.Time, d time.Duration, err error, gone bool) {
	var errType string
	abandoned := err != nil && gone
	if err != nil {
		ae, _ := toAPIError(err)
		errType = shortType(ae.Kind)
		span.SetAttributes(attribute.String("aws.dynamodb.error_type", errType))
		if abandoned {
			span.SetAttributes(attribute.Bool("partita.client_gone", true))
		} else if ae.Kind.Status >= http.StatusInternalServerError {
			span.SetStatus(codes.Error, ae.Message)
		}
	}
	span.End()
	s.m.observe(op, d, errType, abandoned)
	if s.cfg.Unsampled != nil && !span.SpanContext().IsSampled() {
		s.cfg.Unsampled(telemetry.Unsampled{Name: spanName(op), Method: op, Start: start, Duration: d, Failure: errType})
	}
}

// traceTables records the tables a request names on ctx's span, when it
// is sampled: TableName, or the keys of a batch's RequestItems. It reads
// only the body's top level (requestTables), skipping item values
// unparsed: a request's own decoding comes later.
func traceTables(ctx context.Context, body []byte) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	if names := requestTables(body); len(names) > 0 {
		slices.Sort(names)
		span.SetAttributes(attribute.StringSlice("aws.dynamodb.table_names", names))
	}
}

// requestTables returns the TableName of a JSON request body and the keys
// of its RequestItems, reading its top level and skipping every other
// value without decoding it. A body that is not a JSON object names no
// table (its decoding answers the error).
func requestTables(body []byte) []string {
	sc := jsonScan{b: body}
	var names []string
	if !sc.consume('{') {
		return nil
	}
	for !sc.consume('}') {
		key, ok := sc.str()
		if !ok || !sc.consume(':') {
			return nil
		}
		switch string(key) {
		case `"TableName"`:
			raw, ok := sc.str()
			var name string
			if !ok || json.Unmarshal(raw, &name) != nil {
				return nil
			}
			names = append(names, name)
		case `"RequestItems"`:
			if !sc.consume('{') {
				return nil
			}
			for !sc.consume('}') {
				raw, ok := sc.str()
				var name string
				if !ok || json.Unmarshal(raw, &name) != nil || !sc.consume(':') || !sc.skip() {
					return nil
				}
				names = append(names, name)
				sc.consume(',')
			}
		default:
			if !sc.skip() {
				return nil
			}
		}
		sc.consume(',')
	}
	return names
}

// jsonScan walks a JSON text without decoding it. Its methods report
// false on anything that is not JSON where they look.
type jsonScan struct {
	b []byte
	i int
}

func (s *jsonScan) space() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\n' || s.b[s.i] == '\r') {
		s.i++
	}
}

// consume skips c (after white space) if it comes next.
func (s *jsonScan) consume(c byte) bool {
	s.space()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// str returns the next string token, quotes and escapes included.
func (s *jsonScan) str() ([]byte, bool) {
	s.space()
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false
	}
	start := s.i
	for s.i++; s.i < len(s.b); s.i++ {
		switch s.b[s.i] {
		case '\\':
			s.i++
		case '"':
			s.i++
			return s.b[start:s.i], true
		}
	}
	return nil, false
}

// skip passes over the next value: a string, or anything up to the
// comma or closing bracket that ends it, nested objects and arrays whole.
func (s *jsonScan) skip() bool {
	s.space()
	depth := 0
	for s.i < len(s.b) {
		switch c := s.b[s.i]; c {
		case '"':
			if _, ok := s.str(); !ok {
				return false
			}
			if depth == 0 {
				return true
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return true // the end of the enclosing value
			}
			depth--
			if depth == 0 {
				s.i++
				return true
			}
		case ',':
			if depth == 0 {
				return true
			}
		}
		s.i++
	}
	return depth == 0
}
