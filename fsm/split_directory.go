package fsm

import (
	"slices"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

// applyAllocatePartition reserves the next partition id.
func applyAllocatePartition(b *engine.Batch) (*partitapb.Result, error) {
	id, err := nextID(b, "partition", directory.MetaPartition+1)
	if err != nil {
		return nil, err
	}
	return &partitapb.Result{PartitionId: id}, nil
}

// applySplitPartition records a split the partition applied: the left
// record shrinks, the right one is inserted after it, both at the next
// range generation. Recording it again is a no-op that succeeds.
func applySplitPartition(b *engine.Batch, op *partitapb.SplitPartition) (*partitapb.Result, error) {
	t, err := directory.ReadTable(b, op.GetTable())
	if err != nil || t == nil {
		return notFound(op.GetTable(), err)
	}
	parts := t.GetPartitions()
	i := slices.IndexFunc(parts, func(p *partitapb.Partition) bool { return p.GetId() == op.GetPartition() })
	if i < 0 {
		return reject(partitapb.Error_VALIDATION, "table %s has no partition %d", op.GetTable(), op.GetPartition()), nil
	}
	p, gen := parts[i], op.GetExpectedRangeGeneration()
	if recordedSplit(parts, i, op) {
		return &partitapb.Result{Table: t}, nil
	}
	if p.GetRangeGeneration() != gen {
		return reject(partitapb.Error_VALIDATION, "partition %d is at range generation %d, not %d",
			p.GetId(), p.GetRangeGeneration(), gen), nil
	}
	h := op.GetSplitHash()
	if h <= p.GetHashStart() || (p.GetHashEnd() != 0 && h >= p.GetHashEnd()) || op.GetRightPartition() == 0 {
		return reject(partitapb.Error_VALIDATION, "split hash %#x is not strictly inside partition %d", h, p.GetId()), nil
	}
	right := &partitapb.Partition{
		Id: op.GetRightPartition(), HashStart: h, HashEnd: p.GetHashEnd(), Generation: 1,
		TableId: p.GetTableId(), Replicas: op.GetRightReplicas(), RangeGeneration: gen + 1,
	}
	p.HashEnd, p.RangeGeneration = h, gen+1
	p.Generation++
	t.Partitions = slices.Insert(parts, i+1, right)
	if err := writeTable(b, t); err != nil {
		return nil, err
	}
	return &partitapb.Result{Table: t}, nil
}

// recordedSplit says the split op describes is already recorded: the
// partition at parts[i] ends at the split hash, one generation on, and
// the right half follows it.
func recordedSplit(parts []*partitapb.Partition, i int, op *partitapb.SplitPartition) bool {
	p := parts[i]
	if p.GetRangeGeneration() != op.GetExpectedRangeGeneration()+1 || p.GetHashEnd() != op.GetSplitHash() || i+1 >= len(parts) {
		return false
	}
	r := parts[i+1]
	return r.GetId() == op.GetRightPartition() && r.GetHashStart() == op.GetSplitHash()
}
