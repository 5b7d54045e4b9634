package node

import (
	"context"

	"github.com/partitadb/partita/daemon"
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
	if err := n.registerTopologyJobs(ctx, m); err != nil {
		return err
	}
	return m.Start(context.WithoutCancel(ctx))
}

// TableStatsJob is the name of the job exporting per-table figures.
const TableStatsJob = "table-stats"
