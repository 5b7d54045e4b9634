package node

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/cluster"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/doctor/operator"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/router"
	"github.com/partitadb/partita/topology"
)

// The node's side of the cluster admin routes (package admin) and of the
// operators (package doctor/operator): the directory from this node's
// cache, refreshed first; the other nodes over the cluster service; the
// directory's changes through the meta leader.

// ctlRefreshTimeout bounds the directory refresh before a view.
const ctlRefreshTimeout = 2 * time.Second

// ctlHandler returns the /cluster/ admin routes (a single node shows as a
// cluster of one).
func (n *Node) ctlHandler() http.Handler {
	return admin.ClusterHandler(ctl{n: n})
}

// ctl is the node as admin.Cluster and operator.Cluster. The Doctor's
// ctl (doctorCluster) has the epoch of its Doctor lease, which its
// directory commands carry; an operator's has none.
type ctl struct {
	n     *Node
	epoch uint64
}

var (
	_ admin.Cluster    = ctl{}
	_ operator.Cluster = ctl{}
)

func (c ctl) env() *operator.Env { return operator.NewEnv(c, c.n.log) }

var _ admin.Doctor = ctl{}

func (c ctl) Nodes(ctx context.Context) []topology.NodeInfo {
	return topology.Nodes(c.Directory(ctx), c.n.now())
}

func (c ctl) Tables(ctx context.Context) []topology.TableInfo {
	return topology.Tables(c.Directory(ctx))
}

func (c ctl) Partitions(ctx context.Context, table string) ([]topology.PartitionInfo, error) {
	snap := c.Directory(ctx)
	if table != "" && snap.Table(table) == nil {
		return nil, fmt.Errorf("%w %q", topology.ErrNoTable, table)
	}
	return topology.Partitions(snap, table, topology.Gather(ctx, snap, operator.StatusTimeout, c.env().Status))
}

// Directory refreshes the directory cache, within a bound (on failure the
// cache serves as it is), and returns it.
func (c ctl) Directory(ctx context.Context) *directory.Snapshot {
	c.n.freshDirectory(ctx)
	return c.n.dir.Snapshot()
}

func (c ctl) Now() time.Time { return c.n.now() }

// Node returns node's replica operations; the Doctor's carry its epoch.
func (c ctl) Node(node uint64) operator.Replicas {
	if c.epoch != 0 {
		return epochReplicas{Local: c.n.local(node), epoch: c.epoch}
	}
	return c.n.local(node)
}

// epochReplicas stamps the Doctor's epoch on every replica operation, so
// that a node that knows a newer lease refuses it (member's fence).
type epochReplicas struct {
	cluster.Local
	epoch uint64
}

func (r epochReplicas) CreateReplica(ctx context.Context, partition uint64) error {
	return r.Local.CreateReplica(cluster.WithDoctorEpoch(ctx, r.epoch), partition)
}

func (r epochReplicas) AddLearner(ctx context.Context, partition, node uint64) (cluster.Membership, error) {
	return r.Local.AddLearner(cluster.WithDoctorEpoch(ctx, r.epoch), partition, node)
}

func (r epochReplicas) PromoteLearner(ctx context.Context, partition, node uint64) (cluster.Membership, error) {
	return r.Local.PromoteLearner(cluster.WithDoctorEpoch(ctx, r.epoch), partition, node)
}

func (r epochReplicas) RemoveVoter(ctx context.Context, partition, node uint64) (cluster.Membership, error) {
	return r.Local.RemoveVoter(cluster.WithDoctorEpoch(ctx, r.epoch), partition, node)
}

func (r epochReplicas) TransferLeadership(ctx context.Context, partition, to uint64) (uint64, error) {
	return r.Local.TransferLeadership(cluster.WithDoctorEpoch(ctx, r.epoch), partition, to)
}

func (r epochReplicas) DestroyReplica(ctx context.Context, partition uint64) error {
	return r.Local.DestroyReplica(cluster.WithDoctorEpoch(ctx, r.epoch), partition)
}

func (c ctl) SetReplicas(ctx context.Context, table string, partition uint64, replicas []uint64, generation uint64) error {
	err := c.proposeMeta(ctx, &partitapb.Command{Op: &partitapb.Command_SetReplicas{SetReplicas: &partitapb.SetReplicas{
		Table: table, Partition: partition, Replicas: replicas, ExpectedGeneration: generation}}})
	if err == nil {
		c.n.freshDirectory(ctx)
	}
	return err
}

// RemoveNode deletes node's record. The Doctor's (an epoch) deletes only
// a record marked decommissioning: it never removes a node an operator
// did not decommission, nor one recommissioned since it decided.
func (c ctl) RemoveNode(ctx context.Context, node uint64) error {
	return c.proposeMeta(ctx, &partitapb.Command{Op: &partitapb.Command_RemoveNode{RemoveNode: &partitapb.RemoveNode{
		Id: node, IfDecommissioning: c.epoch != 0}}})
}

// proposeMeta proposes cmd, given an id and a time, to the meta partition
// through its leader.
func (c ctl) proposeMeta(ctx context.Context, cmd *partitapb.Command) error {
	cmd.Id, cmd.UnixNanos, cmd.DoctorEpoch = router.RandomID(), c.n.now().UnixNano(), c.epoch
	res, err := c.n.proposeMeta(ctx, cmd)
	if err != nil {
		return fmt.Errorf("node: directory change: %w", err)
	}
	if res.GetError() != nil {
		return res.GetError()
	}
	return nil
}

// freshDirectory refreshes the directory cache with a read barrier
// (every change acknowledged before shows), within a bound; on failure
// the cache serves as it is.
func (n *Node) freshDirectory(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, ctlRefreshTimeout)
	defer cancel()
	if err := n.member.RefreshConsistent(ctx); err != nil {
		n.log.Debug("cluster view from a cached directory", "err", err)
	}
}

// local returns node's abilities: this node's own, or another's through
// the cluster client.
func (n *Node) local(node uint64) cluster.Local {
	if node == n.id {
		return n.member.Peer()
	}
	return n.client.Local(node)
}
