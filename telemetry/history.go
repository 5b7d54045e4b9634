package telemetry

import (
	"context"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// The metrics a History reads from the registry.
const (
	metricRequests  = "partita_dynamo_requests_total"
	metricErrors    = "partita_dynamo_errors_total"
	metricLatency   = "partita_dynamo_request_duration_seconds"
	metricProposals = "partita_raft_proposals_total"
	metricDisk      = "partita_storage_disk_usage_bytes"
	metricCPU       = "process_cpu_seconds_total"
	metricRSS       = "process_resident_memory_bytes"
)

// Point is one sample of a node's metrics: rates over the interval that
// ends at Time, levels at Time. Per-operation maps hold only the
// operations that served requests in the interval.
type Point struct {
	Time time.Time `json:"t"`
	// Ops, Errors: requests and errors per second, by DynamoDB operation.
	Ops    map[string]float64 `json:"ops,omitempty"`
	Errors map[string]float64 `json:"errors,omitempty"`
	// P50 and P99 are latencies in seconds over all operations, from the
	// histogram's buckets (the upper bound of the bucket holding the
	// quantile); 0 without requests.
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
	// Proposals is raft proposals per second, all outcomes.
	Proposals float64 `json:"proposals"`
	// DiskBytes is the storage engine's disk use; CPU the cores the
	// process used; RSS its resident memory.
	DiskBytes float64 `json:"disk_bytes"`
	CPU       float64 `json:"cpu"`
	RSS       float64 `json:"rss_bytes"`
}

// HistoryConfig configures a History.
type HistoryConfig struct {
	// Gatherer is the registry sampled.
	Gatherer prometheus.Gatherer
	// Keep is the number of points kept (720: an hour at 5 s).
	Keep int
	// Now reads the clock (nil: time.Now).
	Now func() time.Time
}

// History is a node's short memory of the metrics that matter, sampled
// from its registry: a ring of Points the console charts without
// Prometheus. Sample is called periodically by its owner (a node's job);
// its methods are safe for concurrent use.
type History struct {
	cfg HistoryConfig

	mu     sync.Mutex
	points []Point // oldest first, at most cfg.Keep
	prev   *counters
}

// counters are the cumulative values a Point is the difference of.
type counters struct {
	at        time.Time
	ops, errs map[string]float64
	buckets   map[float64]float64 // upper bound -> cumulative count, all operations
	count     float64
	proposals float64
	cpu       float64
}

// NewHistory returns an empty history of cfg.Gatherer.
func NewHistory(cfg HistoryConfig) *History {
	if cfg.Keep <= 0 {
		cfg.Keep = 720
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &History{cfg: cfg}
}

// Sample reads the registry and appends a point (the first sample only
// sets the baseline of the rates).
func (h *History) Sample(context.Context) error {
	mfs, err := h.cfg.Gatherer.Gather()
	if err != nil && len(mfs) == 0 {
		return err
	}
	cur, disk, rss := read(mfs)
	cur.at = h.cfg.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	prev := h.prev
	h.prev = cur
	if prev == nil || !cur.at.After(prev.at) {
		return nil
	}
	h.points = append(h.points, diff(prev, cur, disk, rss))
	if len(h.points) > h.cfg.Keep {
		h.points = append(h.points[:0:0], h.points[len(h.points)-h.cfg.Keep:]...)
	}
	return nil
}

// Points returns the points newer than since, oldest first.
func (h *History) Points(since time.Time) []Point {
	h.mu.Lock()
	defer h.mu.Unlock()
	i := sort.Search(len(h.points), func(i int) bool { return h.points[i].Time.After(since) })
	return append([]Point(nil), h.points[i:]...)
}

// read extracts the cumulative counters and the levels from mfs.
func read(mfs []*dto.MetricFamily) (c *counters, disk, rss float64) {
	c = &counters{ops: map[string]float64{}, errs: map[string]float64{}, buckets: map[float64]float64{}}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch mf.GetName() {
			case metricRequests:
				c.ops[label(m, "operation")] += m.GetCounter().GetValue()
			case metricErrors:
				c.errs[label(m, "operation")] += m.GetCounter().GetValue()
			case metricLatency:
				c.count += float64(m.GetHistogram().GetSampleCount())
				for _, b := range m.GetHistogram().GetBucket() {
					c.buckets[b.GetUpperBound()] += float64(b.GetCumulativeCount())
				}
			case metricProposals:
				c.proposals += m.GetCounter().GetValue()
			case metricCPU:
				c.cpu += m.GetCounter().GetValue()
			case metricDisk:
				disk += m.GetGauge().GetValue()
			case metricRSS:
				rss += m.GetGauge().GetValue()
			}
		}
	}
	return c, disk, rss
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// diff is the point between two readings.
func diff(a, b *counters, disk, rss float64) Point {
	secs := b.at.Sub(a.at).Seconds()
	p := Point{Time: b.at, Proposals: max(0, b.proposals-a.proposals) / secs, CPU: max(0, b.cpu-a.cpu) / secs,
		DiskBytes: disk, RSS: rss}
	p.Ops = rates(a.ops, b.ops, secs)
	p.Errors = rates(a.errs, b.errs, secs)
	if n := b.count - a.count; n > 0 {
		bounds := make([]float64, 0, len(b.buckets))
		for ub := range b.buckets {
			bounds = append(bounds, ub)
		}
		sort.Float64s(bounds)
		p.P50, p.P99 = quantile(bounds, a.buckets, b.buckets, n, 0.5), quantile(bounds, a.buckets, b.buckets, n, 0.99)
	}
	return p
}

func rates(a, b map[string]float64, secs float64) map[string]float64 {
	var out map[string]float64
	for k, v := range b {
		if d := v - a[k]; d > 0 {
			if out == nil {
				out = map[string]float64{}
			}
			out[k] = d / secs
		}
	}
	return out
}

// quantile is the upper bound of the first bucket whose count over the
// interval reaches q of n (the largest finite bound when it is +Inf).
func quantile(bounds []float64, a, b map[float64]float64, n, q float64) float64 {
	last := 0.0
	for _, ub := range bounds {
		if math.IsInf(ub, 1) {
			break
		}
		last = ub
		if b[ub]-a[ub] >= q*n {
			return ub
		}
	}
	return last
}
