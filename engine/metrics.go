package engine

import (
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics bridges Pebble's metrics to Prometheus at scrape time, plus the
// write stalls Pebble reports through its event listener.
type metrics struct {
	eng *Engine

	stalls       atomic.Int64
	stallNanos   atomic.Int64
	stallStarted atomic.Int64 // unix nanos of the current stall, 0 if none

	compactions, l0Files, l0Sublevels, disk, memtable, walFiles, stallsDesc, stallSecs *prometheus.Desc
	// The raft log of its own, where the engine keeps one.
	logSegments, logDisk, logLive, logSyncs, logRewritten *prometheus.Desc
}

func newMetrics(e *Engine) *metrics {
	d := func(name, help string) *prometheus.Desc { return prometheus.NewDesc(name, help, nil, nil) }
	return &metrics{
		eng:         e,
		compactions: d("partita_storage_compactions_total", "Pebble compactions."),
		l0Files:     d("partita_storage_l0_files", "Sstables in L0."),
		l0Sublevels: d("partita_storage_l0_sublevels", "L0 sublevels (read amplification from L0)."),
		disk:        d("partita_storage_disk_usage_bytes", "Disk space used by the engine."),
		memtable:    d("partita_storage_memtable_bytes", "Bytes allocated by memtables."),
		walFiles:    d("partita_storage_wal_files", "Live WAL files."),
		stallsDesc:  d("partita_storage_write_stalls_total", "Write stalls."),
		stallSecs:   d("partita_storage_write_stall_seconds_total", "Time spent in write stalls."),

		logSegments:  d("partita_raftlog_segments", "Segment files of the raft log."),
		logDisk:      d("partita_raftlog_disk_bytes", "Bytes of the raft log's segment files."),
		logLive:      d("partita_raftlog_live_bytes", "Bytes of the raft log's live entries."),
		logSyncs:     d("partita_raftlog_syncs_total", "Fdatasyncs of the raft log."),
		logRewritten: d("partita_raftlog_rewritten_bytes_total", "Bytes of live entries the raft log copied forward to free old segments."),
	}
}

// eventListener records write stalls.
func (m *metrics) eventListener() pebble.EventListener {
	return pebble.EventListener{
		WriteStallBegin: func(pebble.WriteStallBeginInfo) {
			m.stalls.Add(1)
			m.stallStarted.Store(time.Now().UnixNano())
		},
		WriteStallEnd: func() {
			if start := m.stallStarted.Swap(0); start != 0 {
				m.stallNanos.Add(time.Now().UnixNano() - start)
			}
		},
	}
}

// Describe implements prometheus.Collector.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{m.compactions, m.l0Files, m.l0Sublevels, m.disk, m.memtable, m.walFiles, m.stallsDesc, m.stallSecs,
		m.logSegments, m.logDisk, m.logLive, m.logSyncs, m.logRewritten} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	pm := m.eng.db.Metrics()
	g := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	c := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	c(m.compactions, float64(pm.Compact.Count))
	g(m.l0Files, float64(pm.Levels[0].TablesCount))
	g(m.l0Sublevels, float64(pm.Levels[0].Sublevels))
	g(m.disk, float64(pm.DiskSpaceUsage()))
	g(m.memtable, float64(pm.MemTable.Size))
	g(m.walFiles, float64(pm.WAL.Files))
	c(m.stallsDesc, float64(m.stalls.Load()))
	c(m.stallSecs, time.Duration(m.stallNanos.Load()).Seconds())
	if m.eng.log != nil {
		lm := m.eng.log.Metrics()
		g(m.logSegments, float64(lm.Segments))
		g(m.logDisk, float64(lm.DiskBytes))
		g(m.logLive, float64(lm.LiveBytes))
		c(m.logSyncs, float64(lm.Syncs))
		c(m.logRewritten, float64(lm.RewrittenBytes))
	}
}
