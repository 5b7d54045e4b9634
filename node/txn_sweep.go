package node

import (
	"context"
	"fmt"
	"time"

	"github.com/partitadb/partita/daemon"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/router"
)

// TxnSweepJob is the name of the job that settles and collects the
// transaction records coordinators left behind.
const TxnSweepJob = "txn-records"

// txnSweepEvery is the period of the txn-records job.
const txnSweepEvery = 10 * time.Second

// registerTxnSweepJob registers the job: on each node, for every table
// partition it leads, the records whose deadline passed more than
// router.TxnDeadline ago (their coordinator is gone: a live one forgets
// its record before then) are settled and forgotten
// (router.SweepTxnRecord), so that no record stands in the way of its
// partition's splits for ever, and aborted ones do not pile up. On the
// meta partition's leader it also expires the ClientRequestToken records
// older than their window.
func (n *Node) registerTxnSweepJob(m *daemon.Manager) error {
	return m.Register(daemon.JobSpec{
		Name:     TxnSweepJob,
		Kind:     daemon.Periodic,
		Interval: txnSweepEvery,
		Jitter:   txnSweepEvery / 5,
		Timeout:  time.Minute,
		Run:      func(ctx context.Context, _ *daemon.Cycle) error { return n.sweepTxnRecords(ctx) },
	})
}

func (n *Node) sweepTxnRecords(ctx context.Context) error {
	cutoff := n.now().Add(-router.TxnDeadline).UnixNano()
	firstErr := n.expireRequestTokens(ctx)
	for _, t := range n.dir.Snapshot().Tables {
		for _, p := range t.GetPartitions() {
			r := n.store.Replica(p.GetId())
			if r == nil || r.Leader() != n.replicaID() {
				continue
			}
			recs, err := fsm.ReadTxnRecords(n.eng.Reader(), p.GetId())
			if err != nil {
				return fmt.Errorf("node: transaction records of partition %d: %w", p.GetId(), err)
			}
			for _, e := range recs {
				if e.Record.GetDeadlineUnixNanos() >= cutoff {
					continue
				}
				swept, err := n.router.SweepTxnRecord(ctx, e.ID, e.Record)
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("node: sweep a transaction record of partition %d: %w", p.GetId(), err)
				}
				if swept {
					n.log.Info("settled and collected a transaction record its coordinator left",
						"table", t.GetName(), "partition", p.GetId(), "status", e.Record.GetStatus().String())
				}
			}
		}
	}
	return firstErr
}

// expireRequestTokens deletes, on the meta partition's leader, the
// ClientRequestToken records older than their window.
func (n *Node) expireRequestTokens(ctx context.Context) error {
	r := n.store.Replica(directory.MetaPartition)
	if r == nil || r.Leader() != n.replicaID() {
		return nil
	}
	if old, err := n.hasExpiredTokens(); err != nil || !old {
		return err // none: no proposal
	}
	gone, err := n.router.ExpireRequestTokens(ctx)
	if err != nil {
		return fmt.Errorf("node: expire request tokens: %w", err)
	}
	if gone > 0 {
		n.log.Debug("expired request tokens", "count", gone)
	}
	return nil
}

// hasExpiredTokens says this node's copy of the meta partition holds a
// token record older than its window.
func (n *Node) hasExpiredTokens() (bool, error) {
	lo, hi := directory.RequestTokensSpan()
	it, err := n.eng.Reader().NewIter(lo, hi)
	if err != nil {
		return false, fmt.Errorf("node: scan request tokens: %w", err)
	}
	defer it.Close()
	before := n.now().Add(-directory.RequestTokenWindow).UnixNano()
	for ok := it.First(); ok; ok = it.Next() {
		rec, err := directory.DecodeRequestToken(it.Value())
		if err != nil {
			return false, fmt.Errorf("node: %w", err)
		}
		if rec.GetClaimedUnixNanos() < before {
			return true, nil
		}
	}
	return false, nil
}
