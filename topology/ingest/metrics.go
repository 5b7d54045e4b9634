package ingest

import (
	"fmt"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the ingester's Prometheus collectors.
type metrics struct {
	ingested  *prometheus.CounterVec
	skipped   *prometheus.CounterVec
	lag       *prometheus.GaugeVec
	build     prometheus.Histogram
	viewNodes *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		ingested: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "partita_topology_ingest_blobs_total",
			Help: "Topology snapshots ingested, by source (report: the fast path; bucket: the history).",
		}, []string{"source"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "partita_topology_ingest_skipped_total",
			Help: "Topology snapshots skipped, by reason (corrupt, truncated, unknown_version, invalid, duplicate, future, past).",
		}, []string{"reason"}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "partita_topology_ingest_lag_seconds",
			Help: "Age of each node's newest topology snapshot at the last view build (now minus snapshot time).",
		}, []string{"node"}),
		build: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "partita_topology_view_build_seconds",
			Help:    "Time to build one cluster view from the ingested snapshots.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
		}),
		viewNodes: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "partita_topology_view_nodes",
			Help: "Nodes in the last cluster view, by liveness.",
		}, []string{"liveness"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.ingested, m.skipped, m.lag, m.build, m.viewNodes} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("ingest: metrics: %w", err)
		}
	}
	return m, nil
}

// observeView records a built view.
func (m *metrics) observeView(v *ClusterView, took time.Duration) {
	m.build.Observe(took.Seconds())
	counts := map[string]float64{"alive": 0, "suspect": 0, "dead": 0}
	for _, n := range v.Nodes {
		m.lag.WithLabelValues(strconv.FormatUint(n.ID, 10)).Set(n.Age.Seconds())
		counts[string(n.Liveness)]++
	}
	for l, c := range counts {
		m.viewNodes.WithLabelValues(l).Set(c)
	}
}

// forget drops the series of a node the ingester forgot.
func (m *metrics) forget(node uint64) {
	m.lag.DeleteLabelValues(strconv.FormatUint(node, 10))
}
