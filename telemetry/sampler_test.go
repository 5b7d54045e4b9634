package telemetry

import (
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
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
