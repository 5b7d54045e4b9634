package telemetry

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// A provider with a LiveRatio records every new trace at 1, none at 0,
// and about half at 0.5: the ratio changes without a new provider.
func TestLiveRatioChangesSampling(t *testing.T) {
	l, err := NewLiveRatio(1)
	if err != nil {
		t.Fatal(err)
	}
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(l), sdktrace.WithSpanProcessor(rec))
	defer tp.Shutdown(context.Background())
	tr := tp.Tracer("test")
	spans := func(n int) int {
		before := len(rec.Ended())
		for range n {
			_, s := tr.Start(context.Background(), "op")
			s.End()
		}
		return len(rec.Ended()) - before
	}
	if got := spans(100); got != 100 {
		t.Fatalf("ratio 1: %d of 100 recorded", got)
	}
	if err := l.Set(0); err != nil {
		t.Fatal(err)
	}
	if got := spans(100); got != 0 {
		t.Fatalf("ratio 0: %d of 100 recorded", got)
	}
	if err := l.Set(0.5); err != nil {
		t.Fatal(err)
	}
	if got := spans(2000); got < 800 || got > 1200 {
		t.Fatalf("ratio 0.5: %d of 2000 recorded", got)
	}
	if err := l.Set(1.5); err == nil || l.Ratio() != 0.5 {
		t.Fatalf("Set(1.5): %v, ratio now %v", err, l.Ratio())
	}
}

// UnsampledParent answers for spans whose trace was decided and not
// sampled only: not for a context without a span (a new trace is decided
// by the sampler) nor for a recorded one.
func TestUnsampledParent(t *testing.T) {
	l, err := NewLiveRatio(0)
	if err != nil {
		t.Fatal(err)
	}
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(l), sdktrace.WithSpanProcessor(rec))
	defer tp.Shutdown(context.Background())
	tr := tp.Tracer("test")
	if _, ok := UnsampledParent(context.Background()); ok {
		t.Fatal("a context without a span has an unsampled parent")
	}
	ctx, root := tr.Start(context.Background(), "root")
	if span, ok := UnsampledParent(ctx); !ok || !span.SpanContext().Equal(root.SpanContext()) {
		t.Fatalf("under an unsampled root: %v, %v", span, ok)
	}
	root.End()
	if err := l.Set(1); err != nil {
		t.Fatal(err)
	}
	ctx, root = tr.Start(context.Background(), "root")
	if _, ok := UnsampledParent(ctx); ok {
		t.Fatal("a sampled root is an unsampled parent")
	}
	root.End()
	if got := len(rec.Ended()); got != 1 {
		t.Fatalf("%d spans recorded, want the sampled root alone", got)
	}
}

// BenchmarkUnsampledRequest: the tracing of a request that is not
// sampled, 64 at once, with its three internal spans started as children
// ("start") or skipped through UnsampledParent ("skip").
func BenchmarkUnsampledRequest(b *testing.B) {
	l, err := NewLiveRatio(0)
	if err != nil {
		b.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(l), sdktrace.WithSpanProcessor(NewSpanRing(SpanRingConfig{})))
	defer tp.Shutdown(context.Background())
	tr := tp.Tracer("bench")
	for _, skip := range []bool{false, true} {
		name := map[bool]string{false: "start", true: "skip"}[skip]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(32)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					ctx, root := tr.Start(context.Background(), "dynamo.PutItem")
					for range 3 {
						if _, ok := UnsampledParent(ctx); ok && skip {
							continue
						}
						_, s := tr.Start(ctx, "child", trace.WithAttributes(attribute.Int64("partita.partition", 7)))
						s.End()
					}
					root.End()
				}
			})
		})
	}
}
