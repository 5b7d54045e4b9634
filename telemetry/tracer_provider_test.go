package telemetry_test

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	collectorpb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"

	"github.com/partitadb/partita/telemetry"
)

func TestNoEndpointIsNoop(t *testing.T) {
	tp, err := telemetry.NewTracerProvider(context.Background(), telemetry.TracingConfig{})
	if err != nil {
		t.Fatal(err)
	}
	_, span := tp.Tracer("test").Start(context.Background(), "op")
	if span.IsRecording() || span.SpanContext().IsValid() {
		t.Fatal("a span of the provider without endpoint records")
	}
	span.End()
	if err := tp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// collector is an OTLP trace collector that remembers span names.
type collector struct {
	collectorpb.UnimplementedTraceServiceServer
	mu    sync.Mutex
	names []string
}

func (c *collector) Export(_ context.Context, req *collectorpb.ExportTraceServiceRequest) (*collectorpb.ExportTraceServiceResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				c.names = append(c.names, s.GetName())
			}
		}
	}
	return &collectorpb.ExportTraceServiceResponse{}, nil
}

func TestOTLPExportOnShutdown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	col := &collector{}
	collectorpb.RegisterTraceServiceServer(srv, col)
	go srv.Serve(ln)
	defer srv.Stop()

	for _, endpoint := range []string{ln.Addr().String(), "http://" + ln.Addr().String()} {
		tp, err := telemetry.NewTracerProvider(context.Background(), telemetry.TracingConfig{Endpoint: endpoint, Instance: "n1"})
		if err != nil {
			t.Fatal(err)
		}
		_, span := tp.Tracer("test").Start(context.Background(), "exported "+endpoint)
		span.End()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err = tp.Shutdown(ctx) // flushes the batch
		cancel()
		if err != nil {
			t.Fatal(err)
		}
	}
	col.mu.Lock()
	defer col.mu.Unlock()
	if len(col.names) != 2 || col.names[0] != "exported "+ln.Addr().String() {
		t.Fatalf("collector got %v", col.names)
	}
}
