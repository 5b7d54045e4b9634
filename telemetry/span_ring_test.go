package telemetry

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// request records a request trace: a server root span and one child,
// with the given duration and failure.
func request(tp *sdktrace.TracerProvider, d time.Duration, fail bool) string {
	tr := tp.Tracer("test")
	start := time.Unix(1000, 0)
	ctx, root := tr.Start(context.Background(), "dynamo.PutItem", trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(start))
	_, child := tr.Start(ctx, "router.propose", trace.WithTimestamp(start))
	if fail {
		child.RecordError(errors.New("boom"))
		child.SetStatus(codes.Error, "boom")
	}
	child.End(trace.WithTimestamp(start.Add(d / 2)))
	root.End(trace.WithTimestamp(start.Add(d)))
	return root.SpanContext().TraceID().String()
}

func TestSpanRingKeepsSlowFailedAndRecent(t *testing.T) {
	ring := NewSpanRing(SpanRingConfig{SlowThreshold: 10 * time.Millisecond, Notable: 2, Recent: 1})
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(ring))
	slow := request(tp, 20*time.Millisecond, false)
	failed := request(tp, time.Millisecond, true)
	fast1 := request(tp, time.Millisecond, false)
	fast2 := request(tp, time.Millisecond, false)

	if got := ring.Trace(fast1); got != nil {
		t.Errorf("the older ordinary trace is kept past Recent=1: %v", got)
	}
	for _, id := range []string{slow, failed, fast2} {
		if got := len(ring.Trace(id)); got != 2 {
			t.Errorf("trace %s has %d spans kept, want 2", id, got)
		}
	}
	byID := map[string]TraceSummary{}
	for _, s := range ring.Traces() {
		byID[s.TraceID] = s
	}
	if s := byID[slow]; !s.Slow || s.Failed || s.Root != "dynamo.PutItem" || s.Duration != 20*time.Millisecond {
		t.Errorf("slow trace summary = %+v", s)
	}
	if s := byID[failed]; !s.Failed || s.Error != "boom" {
		t.Errorf("failed trace summary = %+v", s)
	}
	// A third notable trace pushes out the oldest.
	slow2 := request(tp, 30*time.Millisecond, false)
	if ring.Trace(slow) != nil || ring.Trace(slow2) == nil || ring.Trace(failed) == nil {
		t.Errorf("Notable=2 did not evict the oldest notable trace")
	}
}

func TestSpanRingBoundsBytesAndPending(t *testing.T) {
	ring := NewSpanRing(SpanRingConfig{SlowThreshold: time.Nanosecond, NotableBytes: 1000, Pending: 10})
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(ring))
	for range 50 {
		request(tp, time.Millisecond, false)
	}
	if b := ring.Bytes(); b > 1000 || b == 0 {
		t.Errorf("notable bytes = %d, want in (0, 1000]", b)
	}
	// Children whose root never ends are dropped past Pending.
	tr := tp.Tracer("test")
	for range 30 {
		ctx, _ := tr.Start(context.Background(), "root", trace.WithSpanKind(trace.SpanKindServer))
		_, c := tr.Start(ctx, "child")
		c.End()
	}
	ring.mu.Lock()
	n := ring.pendingSpans
	ring.mu.Unlock()
	if n > 10 {
		t.Errorf("%d pending spans held, want at most 10", n)
	}
}

func TestSpanRingIgnoresNonRequestTraces(t *testing.T) {
	ring := NewSpanRing(SpanRingConfig{SlowThreshold: time.Nanosecond})
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(ring))
	_, span := tp.Tracer("test").Start(context.Background(), "daemon.cycle")
	span.End()
	if got := ring.Traces(); len(got) != 0 {
		t.Errorf("a background job's trace was kept: %+v", got)
	}
}

// TestSpanRingKeepsUnsampledNotable: a request the tracer did not sample
// is kept as a trace of its root alone, marked unsampled, when it was
// slow or failed, and not kept otherwise; it counts against the notable
// bound like any other.
func TestSpanRingKeepsUnsampledNotable(t *testing.T) {
	ring := NewSpanRing(SpanRingConfig{SlowThreshold: 10 * time.Millisecond, Notable: 2, Recent: 1})
	start := time.Unix(2000, 0)
	ring.AddUnsampled(Unsampled{Name: "dynamo.GetItem", Method: "GetItem", Start: start, Duration: time.Millisecond})
	if got := ring.Traces(); len(got) != 0 {
		t.Fatalf("an ordinary unsampled request was kept: %+v", got)
	}
	ring.AddUnsampled(Unsampled{Name: "dynamo.PutItem", Method: "PutItem", Start: start, Duration: 20 * time.Millisecond})
	ring.AddUnsampled(Unsampled{Name: "dynamo.PutItem", Method: "PutItem", Start: start.Add(time.Second), Duration: time.Millisecond,
		Failure: "ConditionalCheckFailedException"})
	got := ring.Traces()
	if len(got) != 2 || !got[1].Slow || got[1].Failed || !got[0].Failed || got[0].Error != "ConditionalCheckFailedException" || got[0].Spans != 1 {
		t.Fatalf("traces %+v: want the failed one, then the slow one", got)
	}
	spans := ring.Trace(got[0].TraceID)
	if len(spans) != 1 || spans[0].Name != "dynamo.PutItem" || spans[0].Attrs["sampled"] != "false" || !spans[0].Failed ||
		spans[0].Attrs["aws.dynamodb.error_type"] != "ConditionalCheckFailedException" {
		t.Fatalf("the failed request's trace: %+v", spans)
	}
	if got[0].TraceID == got[1].TraceID {
		t.Fatal("two unsampled requests share a trace id")
	}
	ring.AddUnsampled(Unsampled{Name: "dynamo.Query", Method: "Query", Start: start.Add(2 * time.Second), Duration: time.Second})
	if n := len(ring.Traces()); n != 2 {
		t.Fatalf("%d traces kept past Notable=2", n)
	}
}
