package node

import (
	"context"

	"github.com/partitadb/partita/clusterversion"
	"github.com/partitadb/partita/doctor/operator"
	"github.com/partitadb/partita/partitapb"
)

// The drain of a node, as the admin routes ask it. From the cluster
// version clusterversion.DrainMarks on, a drain first marks the node's
// directory record: until the node restarts (its heartbeat then carries
// another start time, which clears the mark) or is undrained, the active
// Doctor moves away any leadership it gains (the drain checker) and gives
// it none, and leaderships handed over without a target avoid it. Then
// the drain operator moves its leaderships at once, as it did before the
// mark.

// Drain marks node as draining (at the cluster version that allows it)
// and moves its leaderships to other voters.
func (c ctl) Drain(ctx context.Context, node uint64, by string) (operator.DrainResult, error) {
	snap, err := c.listing(ctx, node)
	if err != nil {
		return operator.DrainResult{}, err
	}
	var rec *partitapb.Node
	if snap.ActiveVersion() >= clusterversion.DrainMarks {
		if rec, err = c.markDraining(ctx, node, true, by); err != nil {
			return operator.DrainResult{}, err
		}
		c.n.log.Info("node marked draining", "node", node, "by", by)
	}
	res, err := operator.Drain(ctx, c.env(), node)
	res.Draining, res.DrainBy = unixTime(rec.GetDrainingUnixNanos()), rec.GetDrainBy()
	return res, err
}

// Undrain clears node's drain mark: the Doctor's balancer may give it
// leaderships again.
func (c ctl) Undrain(ctx context.Context, node uint64, by string) (operator.DrainResult, error) {
	snap, err := c.listing(ctx, node)
	if err != nil {
		return operator.DrainResult{}, err
	}
	if err := needsVersion(snap, clusterversion.DrainMarks, "undrain", "a drain leaves no mark to clear"); err != nil {
		return operator.DrainResult{}, err
	}
	rec, err := c.markDraining(ctx, node, false, by)
	if err != nil {
		return operator.DrainResult{}, err
	}
	c.n.log.Info("node undrained", "node", node, "by", by)
	return operator.DrainResult{Node: node, Partitions: []operator.DrainPartition{},
		Draining: unixTime(rec.GetDrainingUnixNanos()), DrainBy: rec.GetDrainBy()}, nil
}

// markDraining sets or clears node's drain mark and returns the record
// as the command left it.
func (c ctl) markDraining(ctx context.Context, node uint64, on bool, by string) (*partitapb.Node, error) {
	return c.proposeNodeMark(ctx, node, &partitapb.Command{Op: &partitapb.Command_SetNodeDraining{
		SetNodeDraining: &partitapb.SetNodeDraining{Node: node, Draining: on, By: by}}})
}
