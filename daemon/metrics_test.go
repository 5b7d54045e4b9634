package daemon

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

func TestMetrics(t *testing.T) {
	h := newHarness(t)
	var calls atomic.Int64
	h.register(JobSpec{
		Name: "job", Kind: Periodic, Interval: time.Minute, RunAtStart: true,
		Backoff: Backoff{Initial: 2 * time.Second},
		Run: func(ctx context.Context, c *Cycle) error {
			switch calls.Add(1) {
			case 1:
				return errors.New("first fails")
			case 2:
				panic("second panics")
			}
			return nil
		},
	})
	h.register(JobSpec{Name: "idle", Kind: Triggered, Run: ok})
	h.start()
	h.next()
	h.step(2 * time.Second)
	h.next()
	h.step(4 * time.Second)
	h.next() // succeeds at t0+6s
	h.block(1)

	for _, c := range []struct {
		name, job string
		want      float64
	}{
		{"partita_daemon_runs_total", "job", 3},
		{"partita_daemon_failures_total", "job", 2},
		{"partita_daemon_retries_total", "job", 2},
		{"partita_daemon_panics_total", "job", 1},
		{"partita_daemon_job_state", "job", float64(StateIdle)},
		{"partita_daemon_cycle_duration_seconds", "job", 3},
		{"partita_daemon_last_success_timestamp_seconds", "job", unixSeconds(t0.Add(6 * time.Second))},
		// A job that never ran has zeroed series, and no duration.
		{"partita_daemon_runs_total", "idle", 0},
		{"partita_daemon_failures_total", "idle", 0},
		{"partita_daemon_retries_total", "idle", 0},
		{"partita_daemon_panics_total", "idle", 0},
		{"partita_daemon_job_state", "idle", float64(StateIdle)},
	} {
		if got := metric(t, h.reg, c.name, c.job, ""); got != c.want {
			t.Errorf("%s{job_name=%q} = %v, want %v", c.name, c.job, got, c.want)
		}
	}
	if _, ok := metricValue(t, h.reg, "partita_daemon_cycle_duration_seconds", "idle", ""); ok {
		t.Error("a duration series exists for a job that never ran")
	}
	must(t, h.m.Pause("job"))
	if v := metric(t, h.reg, "partita_daemon_job_state", "job", ""); v != float64(StatePaused) {
		t.Fatalf("state gauge after Pause = %v", v)
	}
}

func TestMetricsStayOffTheGlobalRegistry(t *testing.T) {
	h := newHarness(t)
	h.register(JobSpec{Name: "job", Kind: Triggered, Run: ok})
	families, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if strings.HasPrefix(f.GetName(), "partita_daemon_") {
			t.Fatalf("%s registered globally", f.GetName())
		}
	}
	if _, ok := metricValue(t, h.reg, "partita_daemon_runs_total", "job", ""); !ok {
		t.Fatal("runs series missing from the injected registry")
	}
}

// recordingTracer keeps the spans it starts; the SDK's recorder needs a
// module the project does not depend on.
type recordingTracer struct {
	noop.Tracer
	mu    sync.Mutex
	spans []*recordedSpan
}

type recordedSpan struct {
	noop.Span
	name  string
	attrs map[attribute.Key]attribute.Value
	code  codes.Code
	errs  []error
	ended bool
}

func (r *recordingTracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	s := &recordedSpan{name: name, attrs: map[attribute.Key]attribute.Value{}}
	cfg := trace.NewSpanStartConfig(opts...)
	s.SetAttributes(cfg.Attributes()...)
	r.mu.Lock()
	r.spans = append(r.spans, s)
	r.mu.Unlock()
	return trace.ContextWithSpan(ctx, s), s
}

func (r *recordingTracer) ended() []*recordedSpan {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*recordedSpan
	for _, s := range r.spans {
		if s.ended {
			out = append(out, s)
		}
	}
	return out
}

func (s *recordedSpan) SetAttributes(kv ...attribute.KeyValue) {
	for _, a := range kv {
		s.attrs[a.Key] = a.Value
	}
}
func (s *recordedSpan) SetStatus(c codes.Code, _ string)              { s.code = c }
func (s *recordedSpan) RecordError(err error, _ ...trace.EventOption) { s.errs = append(s.errs, err) }
func (s *recordedSpan) End(...trace.SpanEndOption)                    { s.ended = true }

func TestSpanPerCycle(t *testing.T) {
	tr := &recordingTracer{}
	h := newHarness(t, withTracer(tr))
	var calls atomic.Int64
	var spanInCycle atomic.Bool
	h.register(JobSpec{Name: "traced", Kind: Triggered, Backoff: Backoff{Initial: time.Second},
		Run: func(ctx context.Context, c *Cycle) error {
			_, isRecorded := trace.SpanFromContext(ctx).(*recordedSpan)
			spanInCycle.Store(isRecorded)
			return flaky(1, &calls)(ctx, c)
		}})
	h.start()
	must(t, h.m.Trigger("traced"))
	h.next()
	h.step(time.Second)
	h.next()

	spans := tr.ended()
	if len(spans) != 2 || !spanInCycle.Load() {
		t.Fatalf("%d spans ended (in cycle context: %v), want 2", len(spans), spanInCycle.Load())
	}
	first, second := spans[0], spans[1]
	if first.name != "daemon.cycle" || first.attrs["daemon.job"].AsString() != "traced" ||
		first.attrs["daemon.outcome"].AsString() != "failure" || first.code != codes.Error || len(first.errs) != 1 {
		t.Fatalf("failed cycle span: %+v", first)
	}
	if second.attrs["daemon.attempt"].AsInt64() != 2 || second.attrs["daemon.reason"].AsString() != "retry" ||
		second.code == codes.Error || len(second.errs) != 0 {
		t.Fatalf("retry span: %+v", second)
	}
}
