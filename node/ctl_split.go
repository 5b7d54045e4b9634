package node

import (
	"context"
	"fmt"

	"github.com/partitadb/partita/admin"
)

// SplitPartition runs a split (member.Member.Split) for the admin route.
func (c ctl) SplitPartition(ctx context.Context, table string, partition uint64, at string) (admin.SplitResult, error) {
	t, err := c.n.member.Split(ctx, table, partition, at)
	if err != nil {
		return admin.SplitResult{}, err
	}
	res := admin.SplitResult{Table: t.GetName(), Left: partition}
	parts := t.GetPartitions()
	for i, p := range parts {
		res.Partitions = append(res.Partitions, admin.PartitionRange{
			ID: p.GetId(), HashStart: hashHex(p.GetHashStart()), HashEnd: hashHex(p.GetHashEnd()),
			RangeGeneration: p.GetRangeGeneration(), Replicas: p.GetReplicas(),
		})
		if p.GetId() == partition && i+1 < len(parts) {
			res.Right = parts[i+1].GetId()
		}
	}
	return res, nil
}

func hashHex(h uint64) string { return fmt.Sprintf("%#016x", h) }
