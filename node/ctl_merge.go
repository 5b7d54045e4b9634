package node

import (
	"context"

	"github.com/partitadb/partita/admin"
)

// MergePartition runs a merge (member.Member.Merge) for the admin route.
func (c ctl) MergePartition(ctx context.Context, table string, partition uint64) (admin.MergeResult, error) {
	t, right, err := c.n.member.Merge(ctx, table, partition)
	if err != nil {
		return admin.MergeResult{}, err
	}
	res := admin.MergeResult{Table: t.GetName(), Left: partition, Right: right}
	for _, p := range t.GetPartitions() {
		res.Partitions = append(res.Partitions, admin.PartitionRange{
			ID: p.GetId(), HashStart: hashHex(p.GetHashStart()), HashEnd: hashHex(p.GetHashEnd()),
			RangeGeneration: p.GetRangeGeneration(), Replicas: p.GetReplicas(),
		})
	}
	return res, nil
}
