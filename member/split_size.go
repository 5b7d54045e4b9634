package member

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"go.etcd.io/raft/v3"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/replica"
	"github.com/partitadb/partita/route"
)

// DefaultPartitionMaxBytes is the size past which a partition splits
// (partition-max-bytes).
const DefaultPartitionMaxBytes = 256 << 20

// SplitOversized splits, once each, the partitions this node leads whose
// items weigh more than maxBytes, at the partition key that divides their
// bytes in two: the job, on every node, that splits by size (the leader
// has the data to find that key; the Doctor splits by load). A partition whose followers have not caught up (on a previous
// split, say) waits for a later cycle, so that a burst of splits does not
// turn into a burst of snapshots; one made of a single partition key
// cannot be split, and is logged.
//
// It stands behind the Doctor's gates like the Doctor's own splits: while
// the Doctor is paused, or an operator set the split gate red, it splits
// nothing.
func (m *Member) SplitOversized(ctx context.Context, maxBytes int64) error {
	snap := m.dir.Snapshot()
	if s := snap.DoctorSettings; s.GetPaused() || s.GetGates()["split"] == partitapb.GateColor_RED {
		return nil
	}
	var errs []error
	for _, t := range snap.Tables {
		if directory.IsDeleted(t) {
			continue // kept for its streams only: it takes no writes
		}
		for _, p := range t.GetPartitions() {
			r := m.cfg.Store.Replica(p.GetId())
			if r == nil || r.Leader() != m.cfg.Self || !caughtUp(r) {
				continue
			}
			if err := m.splitIfOversized(ctx, t, p, r, maxBytes); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func (m *Member) splitIfOversized(ctx context.Context, t *partitapb.Table, p *partitapb.Partition, r *replica.Replica, maxBytes int64) error {
	d := r.Descriptor()
	if d.GetGeneration() != p.GetRangeGeneration() || len(d.GetSpans()) != 1 {
		return nil // the directory lags the range: the reconciler first
	}
	st, err := fsm.ReadStats(m.cfg.Engine.Reader(), p.GetId())
	if err != nil || st.Bytes <= maxBytes {
		return err
	}
	if st.Blind > 0 {
		// Blind puts may have counted replaced items twice: split on the
		// settled size.
		if err := m.recount(ctx, t, p, r); err != nil {
			return err
		}
		if st, err = fsm.ReadStats(m.cfg.Engine.Reader(), p.GetId()); err != nil || st.Bytes <= maxBytes {
			return err
		}
	}
	h, ok, err := m.medianHash(d.GetSpans()[0])
	if err != nil {
		return err
	}
	if !ok || h <= p.GetHashStart() {
		m.cfg.Logger.Warn("an oversized partition holds one partition key: it cannot split",
			"table", t.GetName(), "partition", p.GetId(), "bytes", st.Bytes)
		return nil
	}
	m.cfg.Logger.Info("splitting an oversized partition", "table", t.GetName(), "partition", p.GetId(),
		"bytes", st.Bytes, "max", maxBytes, "at", fmt.Sprintf("%#x", h))
	_, err = m.cfg.Sender.Split(ctx, route.SplitRequest{Table: t, Partition: p.GetId(), Hash: h, Exact: true,
		Voters: r.ConfState().Voters})
	return err
}

// medianHash returns the hash of the partition key starting the right
// half: the first key boundary past which half of the span's encoded
// bytes lie, or the last boundary when one heavy key holds the middle;
// ok is false when the span holds a single partition key.
func (m *Member) medianHash(sp *partitapb.Span) (uint64, bool, error) {
	var total int64
	if err := m.eachKeyHash(sp, func(_ uint64, size int64) bool { total += size; return true }); err != nil {
		return 0, false, err
	}
	var seen int64
	var prev, boundary uint64
	started, found := false, false
	err := m.eachKeyHash(sp, func(h uint64, size int64) bool {
		if started && h != prev {
			boundary, found = h, true
			if seen*2 >= total {
				return false
			}
		}
		started, prev = true, h
		seen += size
		return true
	})
	return boundary, found, err
}

// eachKeyHash calls f with the hash and size of every item of sp, in key
// order, until f returns false.
func (m *Member) eachKeyHash(sp *partitapb.Span, f func(h uint64, size int64) bool) error {
	it, err := m.cfg.Engine.NewIter(sp.GetStart(), sp.GetEnd())
	if err != nil {
		return err
	}
	for ok := it.First(); ok; ok = it.Next() {
		if k := it.Key(); len(k) >= 17 && !f(binary.BigEndian.Uint64(k[9:17]), int64(len(k)+len(it.Value()))) {
			break
		}
	}
	if err := it.Error(); err != nil {
		it.Close()
		return fmt.Errorf("member: scan partition for its median: %w", err)
	}
	return it.Close()
}

// caughtUp says every voter of the group r leads has every entry.
func caughtUp(r *replica.Replica) bool {
	st := r.Status()
	for id, pr := range st.Progress {
		if !pr.IsLearner && pr.Match < st.Commit && id != st.ID {
			return false
		}
	}
	return st.RaftState == raft.StateLeader
}
