package node

import (
	"context"
	"time"

	"github.com/partitadb/partita/daemon"
)

// OrphanSweepJob is the name of the job that clears the data no replica
// on this node owns (store.SweepOrphans).
const OrphanSweepJob = "orphaned-data"

// orphanSweepEvery is the period of the orphaned-data job. Data is
// orphaned only by a destruction that could not read what the replicas
// own, or by an older binary's, so the sweep is rare; its first run, at
// start, clears what an older binary left.
const orphanSweepEvery = 10 * time.Minute

// registerOrphanSweepJob registers the orphaned-data job.
func (n *Node) registerOrphanSweepJob(m *daemon.Manager) error {
	return m.Register(daemon.JobSpec{
		Name:       OrphanSweepJob,
		Kind:       daemon.Periodic,
		Interval:   orphanSweepEvery,
		Jitter:     orphanSweepEvery / 5,
		Timeout:    time.Minute,
		RunAtStart: true,
		Run: func(context.Context, *daemon.Cycle) error {
			_, err := n.store.SweepOrphans()
			return err
		},
	})
}
