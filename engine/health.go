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
// own, the raft log's durable writes (same buckets).
func (e *Engine) Health() Health {
	pm := e.db.Metrics()
	h := Health{DiskBytes: pm.DiskSpaceUsage()}
	if e.log != nil {
		h.DiskBytes += uint64(e.log.Metrics().DiskBytes)
	}
	for _, hist := range []prometheus.Histogram{pm.LogWriter.FsyncLatency, e.logSyncs} {
		if hist != nil {
			h.Fsync = addFsyncs(h.Fsync, hist)
		}
	}
	return h
}

// addFsyncs adds the cumulative buckets of hist, which observes fsync
// latencies in nanoseconds, to into's (nil, or buckets of the same bounds).
func addFsyncs(into []FsyncBucket, hist prometheus.Histogram) []FsyncBucket {
	var m dto.Metric
	if err := hist.Write(&m); err != nil {
		return into
	}
	var own []FsyncBucket
	for _, b := range m.GetHistogram().GetBucket() {
		own = append(own, FsyncBucket{UpperBound: time.Duration(b.GetUpperBound()), Count: b.GetCumulativeCount()})
	}
	if n := len(own); n > 0 && own[n-1].Count < m.GetHistogram().GetSampleCount() {
		own = append(own, FsyncBucket{UpperBound: own[n-1].UpperBound, Count: m.GetHistogram().GetSampleCount()})
	} else if n > 0 {
		own = append(own, own[n-1]) // the same shape: a last bucket counting every fsync
	}
	if into == nil {
		return own
	}
	for i := range min(len(into), len(own)) {
		into[i].Count += own[i].Count
	}
	return into
}
