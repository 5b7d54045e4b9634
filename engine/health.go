package engine

import (
	"time"

	dto "github.com/prometheus/client_model/go"
)

// Health is what the engine knows of its disk, for the node's topology
// snapshots: the space it uses and Pebble's WAL fsync latency histogram.
type Health struct {
	// DiskBytes is the space the engine's files take.
	DiskBytes uint64
	// Fsync is the cumulative WAL fsync latency histogram since Open:
	// Fsync[i].Count fsyncs took at most Fsync[i].UpperBound; the last
	// bucket counts every fsync (the slowest at the last bound).
	Fsync []FsyncBucket
}

// FsyncBucket is one cumulative bucket of the fsync latency histogram.
type FsyncBucket struct {
	UpperBound time.Duration
	Count      uint64
}

// Health reads the engine's figures (Pebble's metrics: no I/O).
func (e *Engine) Health() Health {
	pm := e.db.Metrics()
	h := Health{DiskBytes: pm.DiskSpaceUsage()}
	if pm.LogWriter.FsyncLatency == nil {
		return h
	}
	var m dto.Metric
	if err := pm.LogWriter.FsyncLatency.Write(&m); err != nil {
		return h
	}
	for _, b := range m.GetHistogram().GetBucket() {
		// Pebble observes fsync latencies in nanoseconds.
		h.Fsync = append(h.Fsync, FsyncBucket{UpperBound: time.Duration(b.GetUpperBound()), Count: b.GetCumulativeCount()})
	}
	if n := len(h.Fsync); n > 0 && h.Fsync[n-1].Count < m.GetHistogram().GetSampleCount() {
		h.Fsync = append(h.Fsync, FsyncBucket{UpperBound: h.Fsync[n-1].UpperBound, Count: m.GetHistogram().GetSampleCount()})
	}
	return h
}
