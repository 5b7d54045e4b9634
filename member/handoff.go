package member

import (
	"context"
	"time"
)

// HandOffTimeout bounds the leadership transfers of a graceful shutdown.
const HandOffTimeout = 5 * time.Second

// HandOff moves the leadership of every partition this node leads to
// another voter, so that stopping it costs no election timeout.
// Partitions with no other voter keep their leader.
func (m *Member) HandOff(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, HandOffTimeout)
	defer cancel()
	moved, kept := 0, 0
	for _, r := range m.cfg.Store.Replicas() {
		if r.Leader() != m.cfg.Self || len(r.ConfState().Voters) < 2 {
			continue
		}
		if err := m.cfg.Store.TransferLeadership(ctx, r.Partition()); err != nil {
			kept++
			continue
		}
		moved++
	}
	m.cfg.Logger.Info("handed off leadership before stopping", "moved", moved, "kept", kept)
}
