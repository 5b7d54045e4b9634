package member

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs"

	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/topology/topologypb"
)

// TopologyConfig configures a node's topology producer.
type TopologyConfig struct {
	// Started is when the process started (required).
	Started time.Time
	// DataDir is the data directory, whose file system's capacity and use
	// the snapshots report ("": not reported).
	DataDir string
	// Registerer receives the producer's metrics (nil: not registered).
	Registerer prometheus.Registerer
	// IndexLag returns a base partition's global secondary index lag as
	// this node measured it (nil: none reported).
	IndexLag func(partition uint64) time.Duration
}

// TopologyProducer builds this node's topology snapshots from what the
// node already knows: its replicas' raft state, the store's per-partition
// load counters, the partitions' statistics, the directory cache, the
// engine's metrics and the process's. It adds no raft traffic and scans
// nothing. Take is safe for concurrent use; rates cover the time between
// two Takes.
type TopologyProducer struct {
	m        *Member
	cfg      TopologyConfig
	produced prometheus.Counter
	build    prometheus.Histogram

	mu   sync.Mutex
	seq  uint64
	prev *TopologyReading
}

// NewTopologyProducer returns the producer of this member's node.
func (m *Member) NewTopologyProducer(cfg TopologyConfig) (*TopologyProducer, error) {
	if cfg.Started.IsZero() {
		return nil, errors.New("member: TopologyConfig needs Started")
	}
	p := &TopologyProducer{
		m: m, cfg: cfg,
		produced: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "partita_topology_snapshots_produced_total", Help: "Topology snapshots this node produced.",
		}),
		build: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "partita_topology_snapshot_build_seconds", Help: "Time to build one topology snapshot.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}),
	}
	if cfg.Registerer != nil {
		for _, c := range []prometheus.Collector{p.produced, p.build} {
			if err := cfg.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("member: register topology metrics: %w", err)
			}
		}
	}
	return p, nil
}

// Take reads the node and returns its next snapshot.
func (p *TopologyProducer) Take() *topologypb.TopologySnapshot {
	p.mu.Lock()
	defer p.mu.Unlock()
	start := time.Now()
	p.seq++
	cur := p.read()
	snap := BuildSnapshot(cur, p.prev)
	p.prev = cur
	p.produced.Inc()
	p.build.Observe(time.Since(start).Seconds())
	return snap
}

// read takes this interval's readings.
func (p *TopologyProducer) read() *TopologyReading {
	m := p.m
	rec := m.record.Load()
	if rec == nil {
		rec = &partitapb.Node{}
	}
	node := &partitapb.Node{Id: m.cfg.Self, Zone: rec.GetZone(), ApiAddr: rec.GetApiAddr(),
		PeerAddr: rec.GetPeerAddr(), AdminAddr: rec.GetAdminAddr(), Version: rec.GetVersion()}
	cur := &TopologyReading{Node: node, Started: p.cfg.Started, Seq: p.seq, Taken: m.cfg.Now(),
		Dir: m.dir.Snapshot(), Host: p.readHost()}
	reader := m.cfg.Engine.Reader()
	for _, r := range m.cfg.Store.Replicas() {
		rr := ReplicaReading{Partition: r.Partition(), Status: r.TopologyStatus()}
		if p.cfg.IndexLag != nil {
			rr.IndexLag = p.cfg.IndexLag(r.Partition())
		}
		rr.Load, _ = m.cfg.Store.Load(r.Partition())
		if st, err := fsm.ReadStats(reader, r.Partition()); err == nil {
			rr.Stats = st
		}
		cur.Replicas = append(cur.Replicas, rr)
	}
	sortReadings(cur.Replicas)
	return cur
}

// readHost reads the engine, the file system and the process.
func (p *TopologyProducer) readHost() HostReading {
	eh := p.m.cfg.Engine.Health()
	h := HostReading{StoreBytes: eh.DiskBytes, Goroutines: runtime.NumGoroutine()}
	for _, b := range eh.Fsync {
		h.Fsync = append(h.Fsync, FsyncBucket(b))
	}
	if p.cfg.DataDir != "" {
		h.DiskCapacity, h.DiskUsed = diskUsage(p.cfg.DataDir)
	}
	if proc, err := procfs.NewProc(os.Getpid()); err == nil {
		if st, err := proc.Stat(); err == nil {
			h.CPUSeconds, h.RSS = st.CPUTime(), uint64(st.ResidentMemory())
		}
	}
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() == metrics.KindUint64 {
		h.Heap = sample[0].Value.Uint64()
	}
	return h
}
