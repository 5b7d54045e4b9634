package router

import (
	"context"
	"fmt"

	"github.com/partitadb/partita/clusterversion"
	"github.com/partitadb/partita/partitapb"
)

// Backfill rounds and tombstones of global index partitions
// (docs/indexes.md, "Tombstones"; fsm/index_round.go): a backfill opens
// its round in every partition of the index before it reads an item, a
// finished round is sealed, and a sealed partition with no round open is
// swept of its tombstones.

// IndexRounds says the cluster runs backfill rounds: IndexBackfill,
// IndexOpen, IndexSeal and IndexSweep, which older binaries cannot apply.
func (r *Router) IndexRounds() bool { return r.allows(clusterversion.IndexTombstones) }

// OpenIndexRound opens round epoch in every partition of index table t.
// A partition refusing it for its range (split or merged since t was
// read) fails the call: the caller tries again with a fresh record.
func (r *Router) OpenIndexRound(ctx context.Context, t *partitapb.Table, epoch uint64) error {
	for _, p := range t.GetPartitions() {
		if _, err := r.proposeIndexRound(ctx, t, p, func(c *partitapb.Command) {
			c.Op = &partitapb.Command_IndexOpen{IndexOpen: &partitapb.IndexOpen{Epoch: epoch}}
		}); err != nil {
			return err
		}
	}
	return nil
}

// SealIndexRound seals the rounds below epoch in partition p of index
// table t.
func (r *Router) SealIndexRound(ctx context.Context, t *partitapb.Table, p *partitapb.Partition, epoch uint64) error {
	_, err := r.proposeIndexRound(ctx, t, p, func(c *partitapb.Command) {
		c.Op = &partitapb.Command_IndexSeal{IndexSeal: &partitapb.IndexSeal{Epoch: epoch}}
	})
	return err
}

// SweepIndexPartition collects the tombstones of partition p of index
// table t among up to limit keys from key from, and says what it did.
func (r *Router) SweepIndexPartition(ctx context.Context, t *partitapb.Table, p *partitapb.Partition, from []byte, limit uint32) (*partitapb.IndexSweepOutcome, error) {
	res, err := r.proposeIndexRound(ctx, t, p, func(c *partitapb.Command) {
		c.Op = &partitapb.Command_IndexSweep{IndexSweep: &partitapb.IndexSweep{From: from, Limit: limit}}
	})
	if err != nil {
		return nil, err
	}
	return res.GetIndexSweep(), nil
}

// proposeIndexRound proposes the command set makes to partition p of t,
// fenced by p's range generation; a refusal is an error.
func (r *Router) proposeIndexRound(ctx context.Context, t *partitapb.Table, p *partitapb.Partition, set func(*partitapb.Command)) (*partitapb.Result, error) {
	cmd := r.command()
	cmd.RangeGeneration = p.GetRangeGeneration()
	set(cmd)
	res, err := r.propose(ctx, p.GetId(), cmd)
	if err != nil {
		return nil, fmt.Errorf("router: index table %q: %w", t.GetName(), err)
	}
	if e := res.GetError(); e != nil {
		return nil, fmt.Errorf("router: index table %q, partition %d: %w", t.GetName(), p.GetId(), e)
	}
	return res, nil
}
