package node

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"gocloud.dev/blob"

	"github.com/partitadb/partita/daemon"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/member"
	"github.com/partitadb/partita/topology/ingest"
	"github.com/partitadb/partita/topology/publish"
	"github.com/partitadb/partita/topology/topologypb"
)

// The topology pipeline of a node (see package topology/publish): every
// TopologyInterval the "topology" job takes a snapshot of the node, queues
// it for the bucket and offers it to the fast path; "topology-publish"
// writes the queue to the bucket, "topology-report" sends the latest
// snapshot to the node standing in for the Doctor (the meta leader, until
// the Doctor holds a lease), and "topology-retention", on the meta leader,
// deletes the history older than TopologyRetention.

// Names of the topology jobs.
const (
	TopologyJob          = "topology"
	TopologyPublishJob   = "topology-publish"
	TopologyReportJob    = "topology-report"
	TopologyRetentionJob = "topology-retention"
)

// topologyPipeline is the node's part of the pipeline.
type topologyPipeline struct {
	producer  *member.TopologyProducer
	bucket    *blob.Bucket       // nil: fast path only
	writer    publish.Bucket     // bucket as written to (wrapped for tests); nil without one
	publisher *publish.Publisher // nil without a bucket
	retention *publish.Retention // nil without a bucket
	reporter  *publish.Reporter  // nil outside a cluster
	latest    atomic.Pointer[topologypb.TopologySnapshot]
	// receiving says this node received the reports at its last snapshot.
	receiving bool
}

// registerTopologyJobs builds the pipeline and registers its jobs.
func (n *Node) registerTopologyJobs(ctx context.Context, m *daemon.Manager) error {
	p := &topologyPipeline{}
	n.topology = p
	var err error
	if p.producer, err = n.member.NewTopologyProducer(member.TopologyConfig{
		Started: n.started, DataDir: n.cfg.DataDir, Registerer: n.reg, IndexLag: n.indexLag,
	}); err != nil {
		return err
	}
	metrics, err := publish.NewMetrics(n.reg)
	if err != nil {
		return err
	}
	if err := n.openTopologyBucket(ctx, p, metrics); err != nil {
		return err
	}
	if n.cfg.PeerAddr != "" {
		if p.reporter, err = publish.NewReporter(publish.ReporterConfig{
			Target: n.TopologyReceiver, Send: n.reportTopology, Timeout: n.cfg.TopologyInterval,
			Metrics: metrics, Logger: n.log,
		}); err != nil {
			return err
		}
	}
	return n.registerTopologySpecs(m, p)
}

// openTopologyBucket opens TopologyBucket, if set, with its publisher and
// retention job.
func (n *Node) openTopologyBucket(ctx context.Context, p *topologyPipeline, metrics *publish.Metrics) error {
	if n.cfg.TopologyBucket == "" {
		n.log.Info("no topology bucket configured (--topology-bucket): topology snapshots are reported to the Doctor only (fast path), with no history kept")
		return nil
	}
	var err error
	if p.bucket, err = publish.OpenBucket(ctx, n.cfg.TopologyBucket); err != nil {
		return fmt.Errorf("node: %w", err)
	}
	var b publish.Bucket = p.bucket
	if n.cfg.TopologyWrapBucket != nil {
		b = n.cfg.TopologyWrapBucket(b)
	}
	p.writer = b
	pcfg := publish.DefaultConfig()
	pcfg.Bucket, pcfg.Metrics, pcfg.Logger = b, metrics, n.log
	if p.publisher, err = publish.New(pcfg); err != nil {
		return err
	}
	rcfg := publish.DefaultRetentionConfig()
	rcfg.Bucket, rcfg.Keep, rcfg.Now, rcfg.Metrics, rcfg.Logger = b, n.cfg.TopologyRetention, n.now, metrics, n.log
	p.retention, err = publish.NewRetention(rcfg)
	return err
}

func (n *Node) registerTopologySpecs(m *daemon.Manager, p *topologyPipeline) error {
	every := n.cfg.TopologyInterval
	specs := []daemon.JobSpec{{
		Name: TopologyJob, Kind: daemon.Periodic, Interval: every, Jitter: every / 10, Timeout: every,
		Run: func(ctx context.Context, _ *daemon.Cycle) error { n.takeTopology(ctx); return nil },
	}}
	if p.publisher != nil {
		specs = append(specs, daemon.JobSpec{Name: TopologyPublishJob, Kind: daemon.Continuous,
			Run: func(ctx context.Context, _ *daemon.Cycle) error { return p.publisher.Run(ctx) }},
			daemon.JobSpec{Name: TopologyRetentionJob, Kind: daemon.Periodic, Interval: retentionInterval,
				Jitter: retentionInterval / 5, Timeout: retentionInterval, Run: n.runRetention})
	}
	if p.reporter != nil {
		specs = append(specs, daemon.JobSpec{Name: TopologyReportJob, Kind: daemon.Continuous,
			Run: func(ctx context.Context, _ *daemon.Cycle) error { return p.reporter.Run(ctx) }})
	}
	for _, s := range specs {
		if err := m.Register(s); err != nil {
			return err
		}
	}
	return nil
}

// retentionInterval is the period of the retention job.
const retentionInterval = 10 * time.Minute

// catchUpWindow is how much history a node that becomes the receiver of
// the reports reads from the bucket: its view then holds the nodes that
// died before it took over, and their last state.
const catchUpWindow = 2 * time.Minute

// takeTopology takes a snapshot and hands it to the bucket's queue and the
// fast path; neither waits. A node that has just become the receiver
// first catches up from the bucket.
func (n *Node) takeTopology(ctx context.Context) {
	p := n.topology
	receiving := n.TopologyReceiver() == n.id
	if receiving && !p.receiving && p.bucket != nil {
		now := n.now()
		r := ingest.BucketReader{Bucket: p.bucket, Ingester: n.ingest}
		st, err := r.Load(ctx, now.Add(-catchUpWindow), now)
		n.log.Info("topology: receiving the reports; caught up from the bucket", "added", st.Added, "read", st.Read, "err", err)
	}
	p.receiving = receiving
	snap := p.producer.Take()
	p.latest.Store(snap)
	if p.publisher != nil {
		if err := p.publisher.Publish(snap); err != nil {
			n.log.Warn("topology snapshot not published", "err", err)
		}
	}
	if p.reporter != nil {
		p.reporter.Offer(snap)
	} else if err := n.ReceiveTopology(snap); err != nil { // a single node is its own receiver
		n.log.Warn("topology snapshot not ingested", "err", err)
	}
}

// runRetention deletes old history, from one node only: the meta leader.
func (n *Node) runRetention(ctx context.Context, _ *daemon.Cycle) error {
	if r := n.store.Replica(directory.MetaPartition); r == nil || r.Leader() != n.id {
		return nil
	}
	_, err := n.topology.retention.Run(ctx)
	return err
}

// reportTopology sends a snapshot on the fast path: to this node's own
// ingester when it is the receiver, else over the cluster service.
func (n *Node) reportTopology(ctx context.Context, node uint64, snap *topologypb.TopologySnapshot) error {
	if node == n.id {
		return n.ReceiveTopology(snap)
	}
	return n.client.ReportTopology(ctx, node, snap)
}

// LatestTopology returns the last snapshot this node took (nil before the
// first interval).
func (n *Node) LatestTopology() *topologypb.TopologySnapshot {
	if n.topology == nil {
		return nil
	}
	return n.topology.latest.Load()
}

// TopologyPublisher returns the node's publisher (nil without a bucket).
func (n *Node) TopologyPublisher() *publish.Publisher {
	if n.topology == nil {
		return nil
	}
	return n.topology.publisher
}

// closeTopology closes the bucket once the jobs have stopped.
func (n *Node) closeTopology() error {
	if n.topology == nil || n.topology.bucket == nil {
		return nil
	}
	if err := n.topology.bucket.Close(); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("node: close topology bucket: %w", err)
	}
	return nil
}
