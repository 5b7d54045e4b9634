package member

import (
	"context"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/partitapb"
)

// HandOffTimeout bounds the leadership transfers of a graceful shutdown.
const HandOffTimeout = 5 * time.Second

// markStoppedTimeout bounds the recording of a clean stop: one write to
// the meta partition, which commits in milliseconds when it has a quorum;
// without one (the last nodes of a cluster stopping) the stop is not
// recorded, and waiting longer would only delay the shutdown.
const markStoppedTimeout = time.Second

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

// MarkStopped records in the directory that this node is stopping
// cleanly (Node.stopped_unix_nanos), so that the Doctor takes its silence
// for a restart, not a death, for its restart grace. Its next heartbeat
// after a start clears the mark. Best effort: a directory out of reach
// leaves the node to be judged by its heartbeats alone.
func (m *Member) MarkStopped(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, markStoppedTimeout)
	defer cancel()
	own := m.record.Load()
	if own == nil {
		return
	}
	rec := proto.Clone(own).(*partitapb.Node)
	now := m.cfg.Now().UnixNano()
	rec.StoppedUnixNanos, rec.HeartbeatUnixNanos = now, now
	// The record the heartbeat keeps in the directory carries the stop
	// too: a directory cycle running until the jobs stop must not clear
	// it.
	m.record.Store(rec)
	cmd := &partitapb.Command{Id: m.cfg.NewID(), UnixNanos: now,
		Op: &partitapb.Command_PutNode{PutNode: &partitapb.PutNode{Node: rec}}}
	res, err := m.cfg.Sender.Propose(ctx, directory.MetaPartition, cmd)
	if err == nil && res.GetError() != nil {
		err = res.GetError()
	}
	if err != nil {
		m.cfg.Logger.Warn("could not record a clean stop in the directory: the Doctor judges this node by its heartbeats", "err", err)
		return
	}
	m.cfg.Logger.Info("recorded a clean stop in the directory")
}
