package telemetry

import (
	"context"
	"encoding/binary"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// SpanRingConfig bounds a SpanRing.
type SpanRingConfig struct {
	// SlowThreshold makes a request trace notable when its root span
	// lasts at least this long.
	SlowThreshold time.Duration
	// Notable bounds the slow and failed traces kept, in count and in
	// (estimated) bytes of their spans; the oldest go first.
	Notable      int
	NotableBytes int
	// Recent is how many of the latest ordinary (fast, successful)
	// request traces are kept beside them.
	Recent int
	// Pending bounds the spans held for traces whose root span has not
	// ended yet; past it the oldest such traces are dropped.
	Pending int
}

// DefaultSpanRingConfig keeps 256 notable traces in at most 4 MiB, the
// 32 latest ordinary ones, and requests of 25 ms or more count as slow.
func DefaultSpanRingConfig() SpanRingConfig {
	return SpanRingConfig{SlowThreshold: 25 * time.Millisecond, Notable: 256, NotableBytes: 4 << 20, Recent: 32, Pending: 8192}
}

// SpanRecord is one ended span as the console shows it.
type SpanRecord struct {
	TraceID  string            `json:"trace_id"`
	SpanID   string            `json:"span_id"`
	ParentID string            `json:"parent_id,omitempty"`
	Name     string            `json:"name"`
	Kind     string            `json:"kind"`
	Start    time.Time         `json:"start"`
	Duration time.Duration     `json:"duration_ns"`
	Error    string            `json:"error,omitempty"`
	Failed   bool              `json:"failed,omitempty"`
	Attrs    map[string]string `json:"attrs,omitempty"`
	// Node is the node that recorded the span (set by whoever merges the
	// spans of several nodes).
	Node uint64 `json:"node,omitempty"`
}

// size estimates the bytes s holds.
func (s SpanRecord) size() int {
	n := 160 + len(s.Name) + len(s.Error)
	for k, v := range s.Attrs {
		n += len(k) + len(v) + 16
	}
	return n
}

// TraceSummary describes a kept trace.
type TraceSummary struct {
	TraceID  string        `json:"trace_id"`
	Root     string        `json:"root"`
	Start    time.Time     `json:"start"`
	Duration time.Duration `json:"duration_ns"`
	Spans    int           `json:"spans"`
	Slow     bool          `json:"slow,omitempty"`
	Failed   bool          `json:"failed,omitempty"`
	Error    string        `json:"error,omitempty"`
	Node     uint64        `json:"node,omitempty"`
}

// keptTrace is a kept trace. A notable one holds its spans as records
// (their size counts against the bound); an ordinary one holds the ended
// spans as the tracer gave them, copied out only if someone reads them:
// most are pushed out by newer ones unread.
type keptTrace struct {
	id    trace.TraceID
	sum   TraceSummary // without TraceID, filled in when listed
	spans []SpanRecord
	raw   []sdktrace.ReadOnlySpan
	bytes int
}

// records returns kt's spans as records, copying the raw ones out once.
func (kt *keptTrace) records() []SpanRecord {
	for _, s := range kt.raw {
		kt.spans = append(kt.spans, record(s))
	}
	kt.raw = nil
	return kt.spans
}

type pendingTrace struct {
	spans []sdktrace.ReadOnlySpan
}

// SpanRing is a SpanProcessor that keeps, in memory, the spans of recent
// request traces (those whose local root span is of kind server, or
// continues a trace of another process): the
// slow and the failed ones, and a few of the latest ordinary ones, so that
// a node shows its traces with no collector. Spans of a trace wait until
// its local root span ends; the trace is then kept or dropped whole. A
// span that ends after its root joins the trace if it is kept. Every
// bound holds at all times; its methods are safe for concurrent use.
type SpanRing struct {
	cfg SpanRingConfig

	mu           sync.Mutex
	pending      map[trace.TraceID]*pendingTrace
	order        []trace.TraceID // pending traces, oldest first (may name finished ones)
	pendingSpans int
	notable      []*keptTrace // oldest first
	notableBytes int
	recent       []*keptTrace // oldest first
	byID         map[trace.TraceID]*keptTrace
	// unsampled numbers the traces of unsampled requests (their ids).
	unsampled atomic.Uint64
}

var _ sdktrace.SpanProcessor = (*SpanRing)(nil)

// NewSpanRing returns an empty ring bounded by cfg (zero fields take the
// defaults).
func NewSpanRing(cfg SpanRingConfig) *SpanRing {
	d := DefaultSpanRingConfig()
	if cfg.SlowThreshold <= 0 {
		cfg.SlowThreshold = d.SlowThreshold
	}
	if cfg.Notable <= 0 {
		cfg.Notable = d.Notable
	}
	if cfg.NotableBytes <= 0 {
		cfg.NotableBytes = d.NotableBytes
	}
	if cfg.Recent <= 0 {
		cfg.Recent = d.Recent
	}
	if cfg.Pending <= 0 {
		cfg.Pending = d.Pending
	}
	return &SpanRing{cfg: cfg, pending: map[trace.TraceID]*pendingTrace{}, byID: map[trace.TraceID]*keptTrace{}}
}

// OnStart does nothing: spans are taken when they end.
func (r *SpanRing) OnStart(context.Context, sdktrace.ReadWriteSpan) {}

// Shutdown does nothing: the ring holds no resources.
func (r *SpanRing) Shutdown(context.Context) error { return nil }

// ForceFlush does nothing: the ring exports nowhere.
func (r *SpanRing) ForceFlush(context.Context) error { return nil }

// OnEnd files s under its trace; a local root closes the trace.
func (r *SpanRing) OnEnd(s sdktrace.ReadOnlySpan) {
	id := s.SpanContext().TraceID()
	root := !s.Parent().IsValid() || s.Parent().IsRemote()
	r.mu.Lock()
	defer r.mu.Unlock()
	if kt := r.byID[id]; kt != nil { // a straggler of a kept trace
		kt.sum.Spans++
		if !slices.Contains(r.notable, kt) {
			kt.raw = append(kt.raw, s)
			return
		}
		rec := record(s)
		kt.spans = append(kt.spans, rec)
		kt.bytes += rec.size()
		r.notableBytes += rec.size()
		r.trimNotable()
		return
	}
	p := r.pending[id]
	if p == nil {
		p = &pendingTrace{}
		r.pending[id] = p
		r.order = append(r.order, id)
	}
	p.spans = append(p.spans, s)
	r.pendingSpans++
	if root {
		r.finish(id, p, s, s.SpanKind() == trace.SpanKindServer || s.Parent().IsRemote())
	}
	r.trimPending()
}

// finish decides the fate of a trace whose local root ended.
func (r *SpanRing) finish(id trace.TraceID, p *pendingTrace, root sdktrace.ReadOnlySpan, request bool) {
	delete(r.pending, id)
	r.pendingSpans -= len(p.spans)
	if !request {
		return
	}
	d := root.EndTime().Sub(root.StartTime())
	kt := &keptTrace{id: id, raw: p.spans, sum: TraceSummary{Root: root.Name(), Start: root.StartTime(),
		Duration: d, Spans: len(p.spans), Slow: d >= r.cfg.SlowThreshold}}
	for _, s := range p.spans {
		if failed, why := failure(s); failed && !kt.sum.Failed {
			kt.sum.Failed, kt.sum.Error = true, why
		}
	}
	r.byID[id] = kt
	if kt.sum.Slow || kt.sum.Failed {
		for _, rec := range kt.records() {
			kt.bytes += rec.size()
		}
		r.notable = append(r.notable, kt)
		r.notableBytes += kt.bytes
		r.trimNotable()
		return
	}
	r.recent = append(r.recent, kt)
	for len(r.recent) > r.cfg.Recent {
		delete(r.byID, traceIDOf(r.recent[0]))
		r.recent = r.recent[1:]
	}
}

// Unsampled is a request the tracer did not sample: what its server
// knows of it without spans.
type Unsampled struct {
	Name     string // the root span's name it would have had
	Start    time.Time
	Duration time.Duration
	// Failure is why it failed (a DynamoDB error type), "" if it did
	// not.
	Failure string
	// Method is its operation (the rpc.method attribute).
	Method string
}

// AddUnsampled keeps a slow or failed request the tracer did not sample
// as a trace of one span, its root, marked sampled=false: the console
// lists it among the notable traces, without a waterfall. An ordinary
// one is not kept (the latest sampled ones stand for those).
func (r *SpanRing) AddUnsampled(u Unsampled) {
	slow := u.Duration >= r.cfg.SlowThreshold
	if !slow && u.Failure == "" {
		return
	}
	var id trace.TraceID
	binary.BigEndian.PutUint64(id[:8], uint64(u.Start.UnixNano()))
	binary.BigEndian.PutUint64(id[8:], r.unsampled.Add(1))
	attrs := map[string]string{"sampled": "false", "rpc.method": u.Method}
	if u.Failure != "" {
		attrs["aws.dynamodb.error_type"] = u.Failure
	}
	rec := SpanRecord{TraceID: id.String(), SpanID: "0000000000000001", Name: u.Name, Kind: trace.SpanKindServer.String(),
		Start: u.Start, Duration: u.Duration, Failed: u.Failure != "", Error: u.Failure, Attrs: attrs}
	kt := &keptTrace{id: id, spans: []SpanRecord{rec}, bytes: rec.size(), sum: TraceSummary{Root: u.Name, Start: u.Start,
		Duration: u.Duration, Spans: 1, Slow: slow, Failed: u.Failure != "", Error: u.Failure}}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.byID[id] = kt
	r.notable = append(r.notable, kt)
	r.notableBytes += kt.bytes
	r.trimNotable()
}

func (r *SpanRing) trimNotable() {
	for len(r.notable) > 0 && (len(r.notable) > r.cfg.Notable || r.notableBytes > r.cfg.NotableBytes) {
		old := r.notable[0]
		r.notable = r.notable[1:]
		r.notableBytes -= old.bytes
		delete(r.byID, traceIDOf(old))
	}
}

func (r *SpanRing) trimPending() {
	for r.pendingSpans > r.cfg.Pending && len(r.order) > 0 {
		id := r.order[0]
		r.order = r.order[1:]
		if p := r.pending[id]; p != nil {
			r.pendingSpans -= len(p.spans)
			delete(r.pending, id)
		}
	}
	if len(r.order) > 2*len(r.pending)+64 { // forget finished traces
		r.order = slices.DeleteFunc(r.order, func(id trace.TraceID) bool { return r.pending[id] == nil })
	}
}

func traceIDOf(kt *keptTrace) trace.TraceID { return kt.id }

// Traces lists the kept traces, newest first.
func (r *SpanRing) Traces() []TraceSummary {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]TraceSummary, 0, len(r.notable)+len(r.recent))
	for _, kt := range slices.Concat(r.notable, r.recent) {
		sum := kt.sum
		sum.TraceID = kt.id.String()
		out = append(out, sum)
	}
	slices.SortFunc(out, func(a, b TraceSummary) int { return b.Start.Compare(a.Start) })
	return out
}

// Trace returns the spans kept of the trace of hex id, in start order,
// or nil.
func (r *SpanRing) Trace(id string) []SpanRecord {
	tid, err := trace.TraceIDFromHex(id)
	if err != nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	kt := r.byID[tid]
	if kt == nil {
		return nil
	}
	out := slices.Clone(kt.records())
	slices.SortStableFunc(out, func(a, b SpanRecord) int { return a.Start.Compare(b.Start) })
	return out
}

// Bytes is the estimated size of the notable traces' spans.
func (r *SpanRing) Bytes() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.notableBytes
}

// failure says whether s failed, and why: an error status, or a DynamoDB
// error type (what record reports, without copying the attributes).
func failure(s sdktrace.ReadOnlySpan) (bool, string) {
	if st := s.Status(); st.Code == codes.Error {
		return true, st.Description
	}
	for _, kv := range s.Attributes() {
		if kv.Key == "aws.dynamodb.error_type" {
			return true, kv.Value.String()
		}
	}
	return false, ""
}

// record copies what the console shows of s.
func record(s sdktrace.ReadOnlySpan) SpanRecord {
	rec := SpanRecord{TraceID: s.SpanContext().TraceID().String(), SpanID: s.SpanContext().SpanID().String(),
		Name: s.Name(), Kind: s.SpanKind().String(), Start: s.StartTime(), Duration: s.EndTime().Sub(s.StartTime())}
	if s.Parent().IsValid() {
		rec.ParentID = s.Parent().SpanID().String()
	}
	if st := s.Status(); st.Code == codes.Error {
		rec.Failed, rec.Error = true, st.Description
	}
	if attrs := s.Attributes(); len(attrs) > 0 {
		rec.Attrs = make(map[string]string, len(attrs))
		for _, kv := range attrs {
			rec.Attrs[string(kv.Key)] = kv.Value.String()
		}
		if t, ok := rec.Attrs["aws.dynamodb.error_type"]; ok && !rec.Failed {
			rec.Failed, rec.Error = true, t
		}
	}
	return rec
}
