package cluster

import (
	"context"

	"go.opentelemetry.io/otel/trace"

	"github.com/partitadb/partita/cluster/clusterpb"
)

// traceParent is ctx's span as a call to another node carries it; nil
// without one. A forwarded write then joins the trace of the request that
// forwarded it, and a write of an unsampled request starts no span on its
// leader: without a parent the leader used to start a trace of its own
// (and ask the sampler) for every forwarded write.
func traceParent(ctx context.Context) *clusterpb.TraceParent {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return nil
	}
	tid, sid := sc.TraceID(), sc.SpanID()
	return &clusterpb.TraceParent{TraceId: tid[:], SpanId: sid[:], Sampled: sc.IsSampled()}
}

// withTraceParent returns ctx with the sender's span p as its remote
// parent; ctx as it is when p is absent or malformed.
func withTraceParent(ctx context.Context, p *clusterpb.TraceParent) context.Context {
	if p == nil || len(p.GetTraceId()) != 16 || len(p.GetSpanId()) != 8 {
		return ctx
	}
	cfg := trace.SpanContextConfig{Remote: true}
	copy(cfg.TraceID[:], p.GetTraceId())
	copy(cfg.SpanID[:], p.GetSpanId())
	if p.GetSampled() {
		cfg.TraceFlags = trace.FlagsSampled
	}
	sc := trace.NewSpanContext(cfg)
	if !sc.IsValid() {
		return ctx
	}
	return trace.ContextWithRemoteSpanContext(ctx, sc)
}
