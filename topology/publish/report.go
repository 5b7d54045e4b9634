package publish

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/partitadb/partita/topology/topologypb"
)

// ReporterConfig configures a Reporter.
type ReporterConfig struct {
	// Target returns the node to report to: the active Doctor's, or the
	// node standing in for it (0: none known; the report is skipped).
	Target func() uint64
	// Send delivers a snapshot to a node (cluster.Client.ReportTopology).
	Send func(ctx context.Context, node uint64, snap *topologypb.TopologySnapshot) error
	// Timeout bounds one send.
	Timeout time.Duration
	// Metrics are the pipeline's collectors (nil: unregistered ones).
	Metrics *Metrics
	// Logger receives the reporter's logs.
	Logger *slog.Logger
}

// Reporter sends the node's latest snapshot to the active Doctor: the fast
// path, which detection relies on and which must not depend on the
// bucket. Offer never blocks; Run sends the latest snapshot offered,
// skipping those superseded while a send was in flight.
type Reporter struct {
	cfg    ReporterConfig
	m      *metrics
	latest atomic.Pointer[topologypb.TopologySnapshot]
	ready  chan struct{}
}

// NewReporter returns a Reporter; Run is its loop.
func NewReporter(cfg ReporterConfig) (*Reporter, error) {
	if cfg.Target == nil || cfg.Send == nil || cfg.Logger == nil || cfg.Timeout <= 0 {
		return nil, errors.New("publish: ReporterConfig needs Target, Send, Logger and a positive Timeout")
	}
	if cfg.Metrics == nil {
		cfg.Metrics, _ = NewMetrics(nil)
	}
	return &Reporter{cfg: cfg, m: cfg.Metrics.m, ready: make(chan struct{}, 1)}, nil
}

// Offer makes snap the snapshot to report next; it is not modified after.
func (r *Reporter) Offer(snap *topologypb.TopologySnapshot) {
	r.latest.Store(snap)
	select {
	case r.ready <- struct{}{}:
	default:
	}
}

// Run reports offered snapshots until ctx ends, then returns nil.
// Failures are counted and logged at debug level: the next interval
// brings a fresher snapshot, so a failed report is not retried.
func (r *Reporter) Run(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-r.ready:
		}
		r.send(ctx, r.latest.Load())
	}
}

func (r *Reporter) send(ctx context.Context, snap *topologypb.TopologySnapshot) {
	target := r.cfg.Target()
	if target == 0 {
		r.m.reports.WithLabelValues("no_target").Inc()
		return
	}
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	if err := r.cfg.Send(ctx, target, snap); err != nil {
		r.m.reports.WithLabelValues("failed").Inc()
		r.cfg.Logger.Debug("topology report failed", "target", target, "err", err)
		return
	}
	r.m.reports.WithLabelValues("sent").Inc()
}
