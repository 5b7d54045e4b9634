package node

import (
	"context"
	"time"

	"github.com/partitadb/partita/daemon"
	"github.com/partitadb/partita/member"
	"github.com/partitadb/partita/router"
)

// startJobs creates the node's job manager, registers its jobs and starts
// them. The jobs live until Close, whatever becomes of ctx.
func (n *Node) startJobs(ctx context.Context) error {
	m, err := daemon.New(daemon.Config{
		Clock:      daemon.RealClock(),
		Logger:     n.log,
		Registerer: n.reg,
		Tracer:     n.tracer("daemon"),
		OnCycle:    n.cfg.OnJobCycle,
	})
	if err != nil {
		return err
	}
	n.jobs = m
	ts, err := router.NewTableStatsJob(n.router, n.reg)
	if err != nil {
		return err
	}
	if err := m.Register(daemon.JobSpec{
		Name:       TableStatsJob,
		Kind:       daemon.Periodic,
		Interval:   n.cfg.TableStatsInterval,
		Jitter:     n.cfg.TableStatsInterval / 6,
		Timeout:    n.cfg.TableStatsInterval,
		RunAtStart: true,
		Run:        ts.Run,
	}); err != nil {
		return err
	}
	if err := n.registerClusterJobs(m); err != nil {
		return err
	}
	if err := n.registerClusterVersionJob(m); err != nil {
		return err
	}
	if err := n.registerHistoryJob(m); err != nil {
		return err
	}
	n.watchDirectory()
	if err := n.registerIndexJob(m); err != nil {
		return err
	}
	if err := n.registerIndexSweepJob(m); err != nil {
		return err
	}
	if err := n.registerSplitJob(m); err != nil {
		return err
	}
	if err := n.registerRecountJob(m); err != nil {
		return err
	}
	if err := n.registerTTLJob(m); err != nil {
		return err
	}
	if err := n.registerTxnSweepJob(m); err != nil {
		return err
	}
	if err := n.registerOrphanSweepJob(m); err != nil {
		return err
	}
	if err := n.registerDeletedStreamsJob(m); err != nil {
		return err
	}
	if err := n.registerStreamStatusJob(m); err != nil {
		return err
	}
	if err := n.registerBackupJob(ctx, m); err != nil {
		return err
	}
	if err := n.registerExportJob(m); err != nil {
		return err
	}
	if err := n.registerTopologyJobs(ctx, m); err != nil {
		return err
	}
	if err := n.startSettings(m); err != nil {
		return err
	}
	// Every metric labelled by table is registered by now.
	ts.Prune(n.tableSeries...)
	return m.Start(context.WithoutCancel(ctx))
}

// TableStatsJob is the name of the job exporting per-table figures and
// deleting the series of tables that are gone (router.TableStatsJob).
const TableStatsJob = "table-stats"

// RecountJob is the name of the job settling the statistics of the
// partitions that counted blind puts.
const RecountJob = "recount"

// registerRecountJob registers the job recounting the items of the
// partitions this node leads whose statistics counted blind puts.
func (n *Node) registerRecountJob(m *daemon.Manager) error {
	every := n.cfg.RecountInterval
	if every <= 0 {
		every = member.DefaultRecountInterval
	}
	return m.Register(daemon.JobSpec{
		Name:     RecountJob,
		Kind:     daemon.Periodic,
		Interval: every / 2,
		Jitter:   every / 10,
		Timeout:  max(every, time.Minute),
		Run: func(ctx context.Context, _ *daemon.Cycle) error {
			return n.member.RecountStats(ctx, every)
		},
	})
}

// SplitJob is the name of the job splitting oversized partitions.
const SplitJob = "split"

// registerSplitJob registers the job splitting the partitions this node
// leads once they pass PartitionMaxBytes.
func (n *Node) registerSplitJob(m *daemon.Manager) error {
	if n.cfg.PartitionMaxBytes <= 0 || n.cfg.SplitInterval <= 0 {
		return nil
	}
	return m.Register(daemon.JobSpec{
		Name:     SplitJob,
		Kind:     daemon.Periodic,
		Interval: n.cfg.SplitInterval,
		Jitter:   n.cfg.SplitInterval / 5,
		Timeout:  max(n.cfg.SplitInterval, time.Minute),
		Run: func(ctx context.Context, _ *daemon.Cycle) error {
			return n.member.SplitOversized(ctx, n.cfg.PartitionMaxBytes)
		},
	})
}
