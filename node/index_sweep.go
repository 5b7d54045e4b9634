package node

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/partitadb/partita/daemon"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/router"
)

// IndexSweepJob is the name of the job sealing the partitions of global
// indexes whose backfill round is over and collecting their tombstones
// (docs/indexes.md, "Tombstones").
const IndexSweepJob = "index-tombstones"

// sweepPage is how many keys of an index partition one IndexSweep
// command looks at.
const sweepPage = 1024

// indexSweepJob seals and sweeps the index partitions this node leads.
type indexSweepJob struct {
	n         *Node
	collected *prometheus.CounterVec
	mu        sync.Mutex
	// swept is, per index partition, the seal its last full sweep on this
	// node ran under: once swept, a sealed partition's deletes leave no
	// tombstone, so it is swept again only under a new seal.
	swept map[uint64]uint64
}

// registerIndexSweepJob registers the job and its counter.
func (n *Node) registerIndexSweepJob(m *daemon.Manager) error {
	if n.cfg.IndexSweepInterval <= 0 {
		return nil
	}
	j := &indexSweepJob{n: n, swept: map[uint64]uint64{}, collected: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "partita_gsi_tombstones_collected_total",
		Help: "Tombstones of global secondary index entries collected by this node's index partition leaders.",
	}, []string{"table", "index"})}
	if err := n.reg.Register(j.collected); err != nil {
		return fmt.Errorf("node: register the index tombstone counter: %w", err)
	}
	n.addTableSeries(j.collected.MetricVec)
	return m.Register(daemon.JobSpec{
		Name:     IndexSweepJob,
		Kind:     daemon.Periodic,
		Interval: n.cfg.IndexSweepInterval,
		Jitter:   n.cfg.IndexSweepInterval / 5,
		Timeout:  max(10*n.cfg.IndexSweepInterval, time.Minute),
		Run:      j.run,
	})
}

// run seals, in every index partition this node leads, the backfill
// rounds the directory says are over, then sweeps the partitions sealed
// since their last sweep here.
func (j *indexSweepJob) run(ctx context.Context, _ *daemon.Cycle) error {
	if !j.n.router.IndexRounds() {
		return nil
	}
	j.forgetGone()
	snap := j.n.dir.Snapshot()
	var firstErr error
	for _, t := range snap.Tables {
		if t.GetIndexBase() != "" {
			continue
		}
		tables := router.IndexTables(snap, t)
		for _, gi := range t.GetGlobalIndexes() {
			it := tables[gi.GetName()]
			if it == nil || gi.GetBackfilling() || gi.GetStatus() != directory.Active.String() {
				continue // a round runs (or the index goes): tombstones stay
			}
			if err := j.sweepIndex(ctx, t, gi, it); err != nil && firstErr == nil {
				firstErr = fmt.Errorf("node: tombstones of index %s of %s: %w", gi.GetName(), t.GetName(), err)
			}
		}
	}
	return firstErr
}

// forgetGone drops the sweep marks of partitions this node no longer
// hosts (moved away, merged, their table deleted): kept, they would
// number every partition the node ever held. One hosted again is swept
// once more, which finds nothing left to collect.
func (j *indexSweepJob) forgetGone() {
	j.mu.Lock()
	defer j.mu.Unlock()
	maps.DeleteFunc(j.swept, func(p, _ uint64) bool { return j.n.store.Replica(p) == nil })
}

// sweepIndex seals the rounds gi's base record says are over in the
// partitions of index table it this node leads, and sweeps them.
func (j *indexSweepJob) sweepIndex(ctx context.Context, t *partitapb.Table, gi *partitapb.GlobalIndex, it *partitapb.Table) error {
	// The rounds up to the one the base record says the index completed
	// are over. Not up to index_epoch: that is in the index table's
	// record, which a rebuild raises after marking the index backfilling
	// in the base record, and this node's copy of the two may show the
	// raise without the mark (or an older binary's rebuild raise it
	// first): the new round would be sealed before its first write.
	seal := gi.GetRound() + 1
	for _, p := range it.GetPartitions() {
		r := j.n.store.Replica(p.GetId())
		if r == nil || r.Leader() != j.n.replicaID() {
			continue
		}
		round, err := fsm.ReadIndexRound(j.n.eng.Reader(), p.GetId())
		if err != nil {
			return err
		}
		if round.Sealed < seal {
			if err := j.n.router.SealIndexRound(ctx, it, p, seal); err != nil {
				return err
			}
			round.Sealed = seal
		}
		j.mu.Lock()
		done := j.swept[p.GetId()] == round.Sealed
		j.mu.Unlock()
		if done {
			continue
		}
		n, complete, err := j.sweepPartition(ctx, it, p)
		j.collected.WithLabelValues(t.GetName(), gi.GetName()).Add(float64(n))
		if err != nil {
			return err
		}
		if complete {
			j.mu.Lock()
			j.swept[p.GetId()] = round.Sealed
			j.mu.Unlock()
			if n > 0 {
				j.n.log.Info("collected index tombstones", "table", t.GetName(), "index", gi.GetName(), "partition", p.GetId(), "tombstones", n)
			}
		}
	}
	return nil
}

// sweepPartition sweeps partition p of index table it, a page at a time,
// and returns the tombstones collected and whether it reached the end
// (false: the partition refused, as a round opened meanwhile).
func (j *indexSweepJob) sweepPartition(ctx context.Context, it *partitapb.Table, p *partitapb.Partition) (uint64, bool, error) {
	var from []byte
	var total uint64
	for {
		out, err := j.n.router.SweepIndexPartition(ctx, it, p, from, sweepPage)
		if err != nil {
			return total, false, err
		}
		if out.GetRefused() {
			return total, false, nil
		}
		total += out.GetCollected()
		if from = out.GetNext(); len(from) == 0 {
			return total, true, nil
		}
	}
}
