package node

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/partitadb/partita/clusterversion"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/doctor/checker"
	"github.com/partitadb/partita/doctor/gate"
	"github.com/partitadb/partita/doctor/operator"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/router"
	"github.com/partitadb/partita/topology"
)

// The decommission of a node, as the admin routes ask it. From the
// cluster version clusterversion.DecommissionMarks on it is a mark on the
// node's directory record: the active Doctor moves the node's replicas
// (the decommission checker, one partition at a time, behind the
// decommission gate and the step checks) and removes its record once it
// holds none. Below that version no binary could apply the mark, and the
// decommission operator moves the replicas within the request, as
// before.

// Decommission marks node, or below the version runs the operator.
func (c ctl) Decommission(ctx context.Context, node uint64, by, reason string) (operator.DecommissionResult, error) {
	snap, err := c.listing(ctx, node)
	if err != nil {
		return operator.DecommissionResult{}, err
	}
	if snap.ActiveVersion() < clusterversion.DecommissionMarks {
		return operator.Decommission(ctx, c.env(), node)
	}
	rec, err := c.markDecommissioning(ctx, node, true, by, reason)
	if err != nil {
		return operator.DecommissionResult{}, err
	}
	c.n.log.Info("node marked for decommissioning", "node", node, "by", by, "reason", reason)
	return c.decommissionStatus(ctx, c.Directory(ctx), rec)
}

// Recommission clears node's mark.
func (c ctl) Recommission(ctx context.Context, node uint64, by string) (operator.DecommissionResult, error) {
	snap, err := c.listing(ctx, node)
	if err != nil {
		return operator.DecommissionResult{}, err
	}
	if err := needsVersion(snap, clusterversion.DecommissionMarks, "recommission",
		"a decommission moves the replicas within its request and leaves no mark to clear"); err != nil {
		return operator.DecommissionResult{}, err
	}
	rec, err := c.markDecommissioning(ctx, node, false, by, "")
	if err != nil {
		return operator.DecommissionResult{}, err
	}
	c.n.log.Info("node recommissioned", "node", node, "by", by)
	return c.decommissionStatus(ctx, c.Directory(ctx), rec)
}

// listing is a fresh directory that lists node, or operator.ErrNoNode.
func (c ctl) listing(ctx context.Context, node uint64) (*directory.Snapshot, error) {
	snap := c.Directory(ctx)
	if snap.Node(node) == nil {
		return nil, fmt.Errorf("%w: node %d", operator.ErrNoNode, node)
	}
	return snap, nil
}

// needsVersion refuses what (a VALIDATION rejection) below the cluster
// version v, where, says why.
func needsVersion(snap *directory.Snapshot, v clusterversion.Version, what, where string) error {
	if at := snap.ActiveVersion(); at < v {
		return partitapb.Errorf(partitapb.Error_VALIDATION,
			"%s needs cluster version %d; the cluster runs at version %d, where %s (partita ctl upgrade status)", what, v, at, where)
	}
	return nil
}

// markDecommissioning sets or clears node's mark and returns the record
// as the command left it.
func (c ctl) markDecommissioning(ctx context.Context, node uint64, on bool, by, reason string) (*partitapb.Node, error) {
	return c.proposeNodeMark(ctx, node, &partitapb.Command{Op: &partitapb.Command_SetNodeDecommissioning{
		SetNodeDecommissioning: &partitapb.SetNodeDecommissioning{Node: node, Decommissioning: on, By: by, Reason: reason}}})
}

// proposeNodeMark proposes cmd, a change of node's marks, to the meta
// partition (with a fresh id and the time now), and returns node's record
// as the command left it (the answer shows it, whatever the directory
// cache has caught up with).
func (c ctl) proposeNodeMark(ctx context.Context, node uint64, cmd *partitapb.Command) (*partitapb.Node, error) {
	cmd.Id, cmd.UnixNanos = router.RandomID(), c.n.now().UnixNano()
	res, err := c.n.proposeMeta(ctx, cmd)
	switch {
	case err != nil:
		return nil, fmt.Errorf("node: directory change: %w", err)
	case res.GetError() != nil:
		return nil, res.GetError()
	}
	if res.GetNode() == nil {
		// A retry answered by its at-most-once record, which keeps no
		// node: the change applied; read the record it left.
		if rec := c.Directory(ctx).Node(node); rec != nil {
			return rec, nil
		}
		return nil, fmt.Errorf("node: directory change: node %d's record after the change is unknown", node)
	}
	c.n.dir.AddNode(res.GetNode())
	return res.GetNode(), nil
}

// DecommissionStatus is node's mark, the partitions that still hold it
// (the directory's lists and raft's configurations, as the nodes answer
// now) and why nothing may move, if so.
func (c ctl) DecommissionStatus(ctx context.Context, node uint64) (operator.DecommissionResult, error) {
	snap := c.Directory(ctx)
	rec := snap.Node(node)
	if rec == nil {
		return operator.DecommissionResult{}, fmt.Errorf("%w: node %d", operator.ErrNoNode, node)
	}
	return c.decommissionStatus(ctx, snap, rec)
}

// decommissionStatus is DecommissionStatus of rec's node, the partitions
// read from snap and the nodes' answers.
func (c ctl) decommissionStatus(ctx context.Context, snap *directory.Snapshot, rec *partitapb.Node) (operator.DecommissionResult, error) {
	node := rec.GetId()
	res := operator.DecommissionResult{Node: node, Mode: operator.DecommissionByDoctor, Partitions: []operator.DecommissionPartition{}}
	if snap.ActiveVersion() < clusterversion.DecommissionMarks {
		res.Mode = operator.DecommissionByOperator
	}
	if !directory.Decommissioning(rec) {
		return res, nil
	}
	res.Decommissioning = time.Unix(0, rec.GetDecommissioningUnixNanos()).UTC()
	res.By, res.Reason = rec.GetDecommissionBy(), rec.GetDecommissionReason()
	parts, err := topology.Partitions(snap, "", topology.Gather(ctx, snap, operator.StatusTimeout, c.env().Status))
	if err != nil {
		return res, err
	}
	for _, p := range parts {
		if r, ok := remaining(p, node); ok {
			res.Remaining = append(res.Remaining, r)
		}
	}
	res.Done = len(res.Remaining) == 0
	res.Waiting = decommissionWaiting(snap, c.n.now())
	return res, nil
}

// remaining is node's part in p, if it has one.
func remaining(p topology.PartitionInfo, node uint64) (operator.RemainingReplica, bool) {
	r := operator.RemainingReplica{Partition: p.ID, Table: p.Table, Leader: p.Leader == node}
	switch {
	case slices.Contains(p.Voters, node):
		r.Role = "voter"
	case slices.Contains(p.Learners, node):
		r.Role = "learner"
	case slices.Contains(p.Replicas, node):
		r.Role = "listed"
	default:
		return r, false
	}
	return r, true
}

// decommissionWaiting says why the Doctor moves nothing off a
// decommissioning node for now, "" when it may.
func decommissionWaiting(snap *directory.Snapshot, now time.Time) string {
	settings := settingsOf(snap.DoctorSettings)
	switch {
	case !directory.LeaseHeld(snap.DoctorLease, now):
		return "no Doctor is active: the replicas move once a node runs one (partita start --doctor)"
	case settings.Paused:
		return fmt.Sprintf("the Doctor is paused (by %s: %s): nothing moves until partita ctl doctor resume", settings.ChangedBy, settings.Reason)
	case settings.Color(checker.Decommission) == gate.Red:
		return "gate decommission is red: each move waits for an operator's approval (partita ctl doctor plan, approve)"
	}
	return ""
}
