// Package telemetry holds what a node needs to make its traces leave the
// process and meet its logs:
//
//   - NewTracerProvider builds the node's OpenTelemetry TracerProvider:
//     batches of spans exported over OTLP/gRPC when an endpoint is given,
//     else a noop provider whose spans cost nothing.
//   - LogHandler wraps a slog.Handler so that every record logged with a
//     context (slog's ...Context methods) inside a sampled span carries
//     trace_id and span_id, the ids a tracing backend looks traces up by.
//
// Libraries (dynamo, router, store, daemon) never use the global
// providers: each takes a trace.Tracer in its Config, which the node
// fills from the provider built here.
//
//	tp, err := telemetry.NewTracerProvider(ctx, telemetry.TracingConfig{
//		Endpoint: "otel-collector:4317", Service: "partita",
//	})
//	...
//	log := slog.New(telemetry.NewLogHandler(slog.NewJSONHandler(os.Stderr, nil)))
//	cfg.Tracer = tp.Tracer("github.com/partitadb/partita/router")
//	...
//	defer tp.Shutdown(ctx) // flushes the spans still buffered
package telemetry
