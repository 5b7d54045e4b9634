package telemetry

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// TracingConfig says where a node's spans go.
type TracingConfig struct {
	// Endpoint is the OTLP/gRPC collector: "host:4317" or
	// "http://host:4317" send spans in plain text (a collector on the same
	// host or inside the cluster's network), "https://host:4317" over TLS.
	// Empty turns tracing off.
	Endpoint string
	// Service and Instance name the process in every span
	// (service.name, service.instance.id).
	Service  string
	Instance string
	// SampleRatio is the fraction of new traces recorded (a request that
	// arrives with a sampled parent is always recorded). 0 means 1.
	SampleRatio float64
	// Sampler, if set, decides instead of SampleRatio: a ratio that can
	// change at run time.
	Sampler *LiveRatio
	// Ring, if set, also receives every sampled span, so that the node
	// keeps its recent slow and failed request traces in memory (the
	// console's traces) with or without a collector.
	Ring *SpanRing
}

// TracerProvider is a trace.TracerProvider that can be flushed and shut
// down.
type TracerProvider interface {
	trace.TracerProvider
	// Shutdown exports the spans still buffered and stops exporting.
	Shutdown(ctx context.Context) error
}

// NewTracerProvider returns a provider exporting over OTLP/gRPC to
// cfg.Endpoint in batches and keeping spans in cfg.Ring, or a noop
// provider when there is neither. The exporter connects lazily: an
// unreachable collector drops spans, it does not fail the node.
func NewTracerProvider(ctx context.Context, cfg TracingConfig) (TracerProvider, error) {
	if cfg.Endpoint == "" && cfg.Ring == nil {
		return noopProvider{noop.NewTracerProvider()}, nil
	}
	if cfg.SampleRatio < 0 || cfg.SampleRatio > 1 {
		return nil, fmt.Errorf("telemetry: SampleRatio %v out of [0, 1]", cfg.SampleRatio)
	}
	var opts []sdktrace.TracerProviderOption
	if cfg.Endpoint != "" {
		eopts := append(endpointOptions(cfg.Endpoint), otlptracegrpc.WithTimeout(10*time.Second))
		exp, err := otlptracegrpc.New(ctx, eopts...)
		if err != nil {
			return nil, fmt.Errorf("telemetry: OTLP exporter: %w", err)
		}
		opts = append(opts, sdktrace.WithBatcher(exp))
	}
	if cfg.Ring != nil {
		opts = append(opts, sdktrace.WithSpanProcessor(cfg.Ring))
	}
	ratio := cfg.SampleRatio
	if ratio == 0 {
		ratio = 1
	}
	var sampler sdktrace.Sampler = sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio))
	if cfg.Sampler != nil {
		sampler = cfg.Sampler
	}
	opts = append(opts, sdktrace.WithResource(newResource(cfg)), sdktrace.WithSampler(sampler))
	return sdktrace.NewTracerProvider(opts...), nil
}

// endpointOptions point the exporter at endpoint: a URL (its scheme
// chooses TLS) or a bare host:port (plain text).
func endpointOptions(endpoint string) []otlptracegrpc.Option {
	if u, err := url.Parse(endpoint); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		return []otlptracegrpc.Option{otlptracegrpc.WithEndpointURL(endpoint)}
	}
	return []otlptracegrpc.Option{otlptracegrpc.WithEndpoint(endpoint), otlptracegrpc.WithInsecure()}
}

// newResource describes the process to the tracing backend.
func newResource(cfg TracingConfig) *resource.Resource {
	service := cfg.Service
	if service == "" {
		service = "partita"
	}
	attrs := []attribute.KeyValue{attribute.String("service.name", service)}
	if cfg.Instance != "" {
		attrs = append(attrs, attribute.String("service.instance.id", cfg.Instance))
	}
	return resource.NewSchemaless(attrs...)
}

// noopProvider is the provider of a node without tracing.
type noopProvider struct{ noop.TracerProvider }

func (noopProvider) Shutdown(context.Context) error { return nil }

// Borrow wraps a provider its user does not own (a test's) so that
// shutting it down only flushes it.
func Borrow(tp trace.TracerProvider) TracerProvider {
	return borrowed{tp}
}

type borrowed struct{ trace.TracerProvider }

func (b borrowed) Shutdown(ctx context.Context) error {
	if f, ok := b.TracerProvider.(interface{ ForceFlush(context.Context) error }); ok {
		return f.ForceFlush(ctx)
	}
	return nil
}
