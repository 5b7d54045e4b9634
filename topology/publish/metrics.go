package publish

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the pipeline's Prometheus collectors (partita_topology_*).
type metrics struct {
	published     prometheus.Counter
	publishTime   prometheus.Histogram
	queueDepth    prometheus.Gauge
	queueBytes    prometheus.Gauge
	dropped       prometheus.Counter
	bucketErrors  *prometheus.CounterVec // by op: write, list, delete
	deletedBlobs  prometheus.Counter
	deletedBytes  prometheus.Counter
	retentionErrs prometheus.Counter
	reports       *prometheus.CounterVec // by outcome: sent, failed, no_target
}

func newMetrics() *metrics {
	return &metrics{
		published: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "partita_topology_snapshots_published_total", Help: "Topology snapshots written to the bucket.",
		}),
		publishTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "partita_topology_publish_duration_seconds", Help: "Duration of successful snapshot writes to the bucket.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}),
		queueDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "partita_topology_queue_depth", Help: "Topology snapshots waiting for the bucket.",
		}),
		queueBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "partita_topology_queue_bytes", Help: "Bytes of the topology snapshots waiting for the bucket.",
		}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "partita_topology_snapshots_dropped_total", Help: "Unsent topology snapshots dropped from a full queue (oldest first).",
		}),
		bucketErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "partita_topology_bucket_errors_total", Help: "Failed bucket calls of the topology pipeline, by operation (write, list, delete).",
		}, []string{"op"}),
		deletedBlobs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "partita_topology_retention_deleted_blobs_total", Help: "Topology snapshots deleted by retention.",
		}),
		deletedBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "partita_topology_retention_deleted_bytes_total", Help: "Bytes of the topology snapshots deleted by retention.",
		}),
		retentionErrs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "partita_topology_retention_errors_total", Help: "Retention cycles that ended with an error.",
		}),
		reports: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "partita_topology_reports_total", Help: "Fast-path topology reports to the active Doctor, by outcome (sent, failed, no_target).",
		}, []string{"outcome"}),
	}
}

// Metrics are the collectors of one node's pipeline: create them once with
// NewMetrics, register them, and share them between the Publisher, the
// Retention job and the Reporter.
type Metrics struct{ m *metrics }

// NewMetrics returns the pipeline's collectors, registered on reg (nil:
// not registered).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := newMetrics()
	if reg != nil {
		for _, c := range []prometheus.Collector{m.published, m.publishTime, m.queueDepth, m.queueBytes, m.dropped,
			m.bucketErrors, m.deletedBlobs, m.deletedBytes, m.retentionErrs, m.reports} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("publish: register metrics: %w", err)
			}
		}
	}
	// Every label's series exists from the start, so rates read 0, not nothing.
	for _, op := range []string{"write", "list", "delete"} {
		m.bucketErrors.WithLabelValues(op)
	}
	for _, o := range []string{"sent", "failed", "no_target"} {
		m.reports.WithLabelValues(o)
	}
	return &Metrics{m: m}, nil
}
