package telemetry

import (
	"context"
	"fmt"
	"sync/atomic"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// LiveRatio samples a fraction of new traces that can change while the
// process runs (the trace.sample-rate setting). A span with a sampled
// parent is decided by the parent, as with TracingConfig.SampleRatio.
type LiveRatio struct {
	cur atomic.Pointer[ratioSampler]
}

type ratioSampler struct {
	ratio float64
	s     sdktrace.Sampler
}

// NewLiveRatio returns a sampler of ratio of new traces.
func NewLiveRatio(ratio float64) (*LiveRatio, error) {
	l := &LiveRatio{}
	if err := l.Set(ratio); err != nil {
		return nil, err
	}
	return l, nil
}

// Set changes the fraction of new traces sampled from now on.
func (l *LiveRatio) Set(ratio float64) error {
	if ratio < 0 || ratio > 1 {
		return fmt.Errorf("telemetry: sample ratio %v out of [0, 1]", ratio)
	}
	l.cur.Store(&ratioSampler{ratio: ratio, s: sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio))})
	return nil
}

// Ratio is the fraction in force.
func (l *LiveRatio) Ratio() float64 { return l.cur.Load().ratio }

// ShouldSample decides by the ratio in force.
func (l *LiveRatio) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	return l.cur.Load().s.ShouldSample(p)
}

// Description names the sampler and its ratio.
func (l *LiveRatio) Description() string {
	return fmt.Sprintf("LiveRatio{%v}", l.Ratio())
}

// UnsampledParent returns ctx's span when its trace was decided and not
// sampled. A child of it would record nothing, yet starting one still
// draws a span id and asks the sampler, for every request: callers start
// no span and go on with the parent's, whose methods do nothing.
func UnsampledParent(ctx context.Context) (trace.Span, bool) {
	span := trace.SpanFromContext(ctx)
	sc := span.SpanContext()
	if !sc.IsValid() || sc.IsSampled() || span.IsRecording() {
		return nil, false
	}
	return span, true
}
