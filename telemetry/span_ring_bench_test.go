package telemetry

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// BenchmarkSpanRingRequest: the ring's share of an ordinary (fast,
// successful) request's tracing: four spans with a few attributes each,
// ended through a tracer provider whose only processor is the ring.
func BenchmarkSpanRingRequest(b *testing.B) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(NewSpanRing(SpanRingConfig{})))
	tr := tp.Tracer("bench")
	attrs := trace.WithAttributes(attribute.String("rpc.method", "PutItem"), attribute.Int64("partita.partition", 7))
	b.ReportAllocs()
	for b.Loop() {
		ctx, root := tr.Start(context.Background(), "dynamo.PutItem", trace.WithSpanKind(trace.SpanKindServer), attrs)
		for _, name := range []string{"router.propose", "raft.propose", "raft.apply"} {
			_, s := tr.Start(ctx, name, attrs)
			s.End()
		}
		root.SetAttributes(attribute.StringSlice("aws.dynamodb.table_names", []string{"bench"}))
		root.End(trace.WithTimestamp(time.Now()))
	}
}
