package dynamo_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/partitadb/partita/dynamo"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

// instrumented returns a fixture whose server reports to a fresh registry
// and an in-memory span exporter.
func instrumented(t *testing.T) (*fixture, *prometheus.Registry, *tracetest.InMemoryExporter) {
	t.Helper()
	f := newFixture(t)
	reg := prometheus.NewRegistry()
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	cfg := dynamo.DefaultConfig()
	cfg.Backend, cfg.Logger, cfg.Registerer, cfg.Tracer = f.backend, newTextLogger(f.logs), reg, tp.Tracer("test")
	f.srv = mustServer(t, cfg)
	return f, reg, spans
}

func counterValue(t *testing.T, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for i := 0; i < len(labels); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					found = found || lp.GetName() == labels[i] && lp.GetValue() == labels[i+1]
				}
				if !found {
					continue metrics
				}
			}
			if h := m.GetHistogram(); h != nil {
				return float64(h.GetSampleCount())
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

func TestRequestMetrics(t *testing.T) {
	f, reg, _ := instrumented(t)
	f.createTable("tab", "")
	f.ok("PutItem", `{"TableName":"tab","Item":{"pk":{"S":"a"}}}`)
	f.ok("GetItem", `{"TableName":"tab","Key":{"pk":{"S":"a"}}}`)
	f.fails("GetItem", `{"TableName":"missing","Key":{"pk":{"S":"a"}}}`, "ResourceNotFoundException", "")
	f.fails("GetItem", `{"TableName":"tab"}`, "ValidationException", "")
	f.fails("Frobnicate", `{}`, "UnknownOperationException", "")

	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"partita_dynamo_requests_total", []string{"operation", "CreateTable"}, 1},
		{"partita_dynamo_requests_total", []string{"operation", "GetItem"}, 3},
		{"partita_dynamo_requests_total", []string{"operation", "unknown"}, 1},
		{"partita_dynamo_requests_total", []string{"operation", "Scan"}, 0},
		{"partita_dynamo_request_duration_seconds", []string{"operation", "GetItem"}, 3},
		{"partita_dynamo_errors_total", []string{"operation", "GetItem", "type", "ResourceNotFoundException"}, 1},
		{"partita_dynamo_errors_total", []string{"operation", "GetItem", "type", "ValidationException"}, 1},
		{"partita_dynamo_errors_total", []string{"operation", "unknown", "type", "UnknownOperationException"}, 1},
		{"partita_dynamo_errors_total", []string{"operation", "PutItem"}, 0},
	} {
		if got := counterValue(t, reg, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	// Every operation's series exists before its first request.
	if n := testutil.CollectAndCount(reg, "partita_dynamo_requests_total"); n < 18 {
		t.Errorf("%d request series, want one per operation", n)
	}
}

func TestPanicCountsAsInternalServerError(t *testing.T) {
	f := newFixture(t)
	reg := prometheus.NewRegistry()
	cfg := dynamo.DefaultConfig()
	cfg.Backend, cfg.Logger, cfg.Registerer = panicBackend{f.backend}, newTextLogger(f.logs), reg
	f.srv = mustServer(t, cfg)
	f.fails("DescribeTable", `{"TableName":"abc"}`, "InternalServerError", "")
	if got := counterValue(t, reg, "partita_dynamo_errors_total", "operation", "DescribeTable", "type", "InternalServerError"); got != 1 {
		t.Fatalf("panics counted %v, want 1", got)
	}
}

func TestOperationSpans(t *testing.T) {
	f, _, spans := instrumented(t)
	f.createTable("tab", "")
	spans.Reset()
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(
		`{"RequestItems":{"tab":{"Keys":[{"pk":{"S":"a"}}]},"uuu":{"Keys":[{"pk":{"S":"b"}}]}}}`))
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.BatchGetItem")
	req.Header.Set("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	f.send(req)
	got := spans.GetSpans()
	if len(got) != 1 {
		t.Fatalf("%d spans, want 1: %v", len(got), got)
	}
	s := got[0]
	if s.Name != "dynamo.BatchGetItem" {
		t.Errorf("span name %q", s.Name)
	}
	if s.SpanContext.TraceID().String() != "0af7651916cd43dd8448eb211c80319c" || s.Parent.SpanID().String() != "b7ad6b7169203331" {
		t.Errorf("span does not continue the client's trace: trace %s parent %s", s.SpanContext.TraceID(), s.Parent.SpanID())
	}
	attrs := attribute.NewSet(s.Attributes...)
	if v, ok := attrs.Value("aws.dynamodb.table_names"); !ok || strings.Join(v.AsStringSlice(), ",") != "tab,uuu" {
		t.Errorf("table names %v", v.AsStringSlice())
	}
	if _, ok := attrs.Value("aws.dynamodb.error_type"); !ok { // table uuu does not exist
		t.Errorf("no error type on a failed request: %v", s.Attributes)
	}
}

// slowBackend is a real backend whose item writes wait a moment
// for their partition and give up, as a write whose partition has no
// leader does at its deadline.
type slowBackend struct{ dynamo.Backend }

func (slowBackend) Write(ctx context.Context, _ *partitapb.Table, _ item.Item, _ *partitapb.Command) (*partitapb.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	<-ctx.Done()
	return nil, fmt.Errorf("backend: no leader: %w", ctx.Err())
}

// TestAbandonedRequestsAreNoErrors: a request whose client went away
// before its answer is counted as abandoned, not as an error (its span
// is no error either); the same failure with the client still waiting is
// an InternalServerError.
func TestAbandonedRequestsAreNoErrors(t *testing.T) {
	f := newFixture(t)
	f.createTable("tab", "")
	reg := prometheus.NewRegistry()
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	cfg := dynamo.DefaultConfig()
	cfg.Backend, cfg.Logger, cfg.Registerer, cfg.Tracer = slowBackend{f.backend}, newTextLogger(f.logs), reg, tp.Tracer("test")
	f.srv = mustServer(t, cfg)
	put := func(ctx context.Context) {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"TableName":"tab","Item":{"pk":{"S":"a"}}}`)).WithContext(ctx)
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		req.Header.Set("X-Amz-Target", "DynamoDB_20120810.PutItem")
		f.srv.ServeHTTP(httptest.NewRecorder(), req)
	}
	put(context.Background())
	gone, leave := context.WithCancel(context.Background())
	time.AfterFunc(5*time.Millisecond, leave)
	put(gone)

	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"partita_dynamo_requests_total", []string{"operation", "PutItem"}, 2},
		{"partita_dynamo_errors_total", []string{"operation", "PutItem", "type", "InternalServerError"}, 1},
		{"partita_dynamo_requests_abandoned_total", []string{"operation", "PutItem"}, 1},
	} {
		if got := counterValue(t, reg, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	var failed int
	for _, s := range spans.GetSpans() {
		if s.Status.Code == codes.Error {
			failed++
		}
	}
	if failed != 1 {
		t.Errorf("%d spans with an error status, want 1 (the request whose client waited)", failed)
	}
}
