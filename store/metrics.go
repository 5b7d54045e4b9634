package store

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the store's Prometheus collectors. Counters are updated as
// things happen; per-replica figures are gathered at scrape time.
type metrics struct {
	proposals       *prometheus.CounterVec // by outcome
	consistentReads *prometheus.CounterVec // by path: lease, read_index
	snapshotsSent   *prometheus.CounterVec // by outcome
	snapshotsRecv   *prometheus.CounterVec // by outcome
	roundDuration   prometheus.Histogram
	roundReplicas   prometheus.Histogram
	orphansCleared  prometheus.Counter
	misaddressed    prometheus.Counter // raft messages for another node, dropped
	replicasDesc    *prometheus.Desc
	leadersDesc     *prometheus.Desc
	logEntriesDesc  *prometheus.Desc
	logBytesDesc    *prometheus.Desc
	leaderChgDesc   *prometheus.Desc
	maxLogBytesDesc *prometheus.Desc
	underReplDesc   *prometheus.Desc
	leaderlessDesc  *prometheus.Desc
	store           *Store
}

func newMetrics(s *Store) *metrics {
	return &metrics{
		store: s,
		proposals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "partita_raft_proposals_total", Help: "Proposals by outcome (applied, not_leader, ambiguous, throttled, error).",
		}, []string{"outcome"}),
		consistentReads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "partita_store_consistent_reads_total",
			Help: "Strongly consistent reads, by how their leader made sure of its state: lease (no round trip) or read_index.",
		}, []string{"path"}),
		snapshotsSent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "partita_raft_snapshots_sent_total", Help: "Snapshots streamed to followers, by outcome.",
		}, []string{"outcome"}),
		snapshotsRecv: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "partita_raft_snapshots_received_total", Help: "Snapshots received from leaders, by outcome.",
		}, []string{"outcome"}),
		misaddressed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "partita_raft_messages_misaddressed_total",
			Help: "Raft messages and snapshots received for another node, and dropped: a peer reached this node at an address another node had.",
		}),
		roundDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "partita_store_round_duration_seconds", Help: "Duration of one processing round (collect, fsync, apply).",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}),
		roundReplicas: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "partita_store_round_replicas", Help: "Replicas processed together in one round (one fsync).",
			Buckets: prometheus.ExponentialBuckets(1, 2, 8),
		}),
		orphansCleared: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "partita_store_orphaned_spans_cleared_total",
			Help: "Spans of data that no replica on this node owned, cleared by the orphaned-data sweep.",
		}),
		replicasDesc:    prometheus.NewDesc("partita_raft_replicas", "Replicas hosted by this node.", nil, nil),
		leadersDesc:     prometheus.NewDesc("partita_raft_leaders", "Replicas this node leads.", nil, nil),
		logEntriesDesc:  prometheus.NewDesc("partita_raft_log_entries", "Raft log entries kept, summed over replicas.", nil, nil),
		logBytesDesc:    prometheus.NewDesc("partita_raft_log_bytes", "Estimated raft log bytes kept, summed over replicas.", nil, nil),
		maxLogBytesDesc: prometheus.NewDesc("partita_raft_log_max_replica_bytes", "Largest estimated raft log of one replica.", nil, nil),
		leaderChgDesc:   prometheus.NewDesc("partita_raft_leader_changes_total", "Leader changes seen, summed over replicas.", nil, nil),
		underReplDesc: prometheus.NewDesc("partita_raft_under_replicated",
			"Partitions this node leads with fewer voters recently active than configured.", nil, nil),
		leaderlessDesc: prometheus.NewDesc("partita_raft_leaderless_replicas",
			"Replicas hosted by this node that know of no leader of their partition.", nil, nil),
	}
}

// register adds the collectors to reg (nil: none).
func (m *metrics) register(reg prometheus.Registerer) error {
	if reg == nil {
		return nil
	}
	for _, c := range []prometheus.Collector{m.proposals, m.consistentReads, m.snapshotsSent, m.snapshotsRecv, m.roundDuration, m.roundReplicas, m.orphansCleared, m.misaddressed, m} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	// Every outcome's series exists from the start, so rates and alerts
	// over them see 0 rather than nothing.
	for _, o := range []string{"applied", "not_leader", "ambiguous", "throttled", "error"} {
		m.proposals.WithLabelValues(o)
	}
	for _, p := range []string{"lease", "read_index"} {
		m.consistentReads.WithLabelValues(p)
	}
	for _, o := range []string{"ok", "error"} {
		m.snapshotsSent.WithLabelValues(o)
		m.snapshotsRecv.WithLabelValues(o)
	}
	return nil
}

// Describe implements prometheus.Collector for the scrape-time figures.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{m.replicasDesc, m.leadersDesc, m.logEntriesDesc, m.logBytesDesc, m.maxLogBytesDesc, m.leaderChgDesc, m.underReplDesc, m.leaderlessDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	var leaders, entries, bytes, maxBytes, changes, underRepl, leaderless float64
	replicas := m.store.Replicas()
	for _, r := range replicas {
		st := r.Stats()
		if st.Leader {
			leaders++
		}
		if st.Leader && st.ActiveVoters < st.Voters {
			underRepl++
		}
		if st.Lead == 0 {
			leaderless++
		}
		entries += float64(st.LogEntries)
		bytes += float64(st.LogBytes)
		maxBytes = max(maxBytes, float64(st.LogBytes))
		changes += float64(st.LeaderChanges)
	}
	ch <- prometheus.MustNewConstMetric(m.replicasDesc, prometheus.GaugeValue, float64(len(replicas)))
	ch <- prometheus.MustNewConstMetric(m.leadersDesc, prometheus.GaugeValue, leaders)
	ch <- prometheus.MustNewConstMetric(m.logEntriesDesc, prometheus.GaugeValue, entries)
	ch <- prometheus.MustNewConstMetric(m.logBytesDesc, prometheus.GaugeValue, bytes)
	ch <- prometheus.MustNewConstMetric(m.maxLogBytesDesc, prometheus.GaugeValue, maxBytes)
	ch <- prometheus.MustNewConstMetric(m.leaderChgDesc, prometheus.CounterValue, changes)
	ch <- prometheus.MustNewConstMetric(m.underReplDesc, prometheus.GaugeValue, underRepl)
	ch <- prometheus.MustNewConstMetric(m.leaderlessDesc, prometheus.GaugeValue, leaderless)
}
