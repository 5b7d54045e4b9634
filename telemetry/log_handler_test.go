package telemetry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/partitadb/partita/telemetry"
)

// decode parses the JSON log lines in buf.
func decode(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	dec := json.NewDecoder(buf)
	for dec.More() {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func TestLogHandlerAddsTraceIDs(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(telemetry.NewLogHandler(slog.NewJSONHandler(&buf, nil)))
	tp := sdktrace.NewTracerProvider()
	defer tp.Shutdown(context.Background())
	ctx, span := tp.Tracer("test").Start(context.Background(), "op")
	defer span.End()
	sc := span.SpanContext()

	log.InfoContext(ctx, "in a span", "k", "v")
	log.With("node", 1).WithGroup("g").InfoContext(ctx, "grouped", "k", "v")
	log.InfoContext(context.Background(), "no span")
	log.Info("no context")

	lines := decode(t, &buf)
	if len(lines) != 4 {
		t.Fatalf("%d lines: %v", len(lines), lines)
	}
	if lines[0]["trace_id"] != sc.TraceID().String() || lines[0]["span_id"] != sc.SpanID().String() || lines[0]["k"] != "v" {
		t.Errorf("record in a span: %v, want trace %s span %s", lines[0], sc.TraceID(), sc.SpanID())
	}
	g, _ := lines[1]["g"].(map[string]any)
	if lines[1]["node"] != float64(1) || g["trace_id"] != sc.TraceID().String() {
		t.Errorf("record through With and WithGroup: %v", lines[1])
	}
	for _, l := range lines[2:] {
		if _, ok := l["trace_id"]; ok {
			t.Errorf("record outside a span has a trace id: %v", l)
		}
	}
}

func TestLogHandlerWrapsOnce(t *testing.T) {
	var buf bytes.Buffer
	h := telemetry.NewLogHandler(slog.NewJSONHandler(&buf, nil))
	if telemetry.NewLogHandler(h) != h {
		t.Fatal("wrapping a LogHandler again made a new handler")
	}
	lv := &slog.LevelVar{}
	lv.Set(slog.LevelWarn)
	quiet := slog.New(telemetry.NewLogHandler(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: lv})))
	quiet.Info("dropped")
	if buf.Len() != 0 {
		t.Fatalf("the wrapped handler's level is not honoured: %s", buf.String())
	}
}
