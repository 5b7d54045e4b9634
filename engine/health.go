package engine

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
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

// Health reads the engine's figures (Pebble's metrics: no I/O). Its
// fsyncs are Pebble's WAL's and, where the engine keeps a raft log of its
// own, the raft log's durable writes (both in Pebble's fsync buckets).
func (e *Engine) Health() Health {
	pm := e.db.Metrics()
	h := Health{DiskBytes: pm.DiskSpaceUsage()}
	if e.log != nil {
		h.DiskBytes += uint64(e.log.Metrics().DiskBytes)
	}
	var total uint64
	for _, hist := range []prometheus.Histogram{pm.LogWriter.FsyncLatency, e.logSyncs} {
		var m dto.Metric
		if hist == nil || hist.Write(&m) != nil {
			continue
		}
		total += m.GetHistogram().GetSampleCount()
		for i, b := range m.GetHistogram().GetBucket() {
			if i == len(h.Fsync) {
				// Observed in nanoseconds.
				h.Fsync = append(h.Fsync, FsyncBucket{UpperBound: time.Duration(b.GetUpperBound())})
			}
			h.Fsync[i].Count += b.GetCumulativeCount()
		}
	}
	if n := len(h.Fsync); n > 0 && h.Fsync[n-1].Count < total {
		h.Fsync = append(h.Fsync, FsyncBucket{UpperBound: h.Fsync[n-1].UpperBound, Count: total})
	}
	return h
}
