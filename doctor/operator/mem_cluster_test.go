package operator_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/partitadb/partita/cluster"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/doctor/operator"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/replica"
	"github.com/partitadb/partita/topology"
)

// memCluster is an in-memory cluster for the operators: one table "t"
// whose partitions have a raft configuration and a leader, nodes that
// host replicas, and a log of the changes made (to tell a step that acted
// from one that found its work done).
type memCluster struct {
	mu       sync.Mutex
	now      time.Time
	snap     *directory.Snapshot
	hosted   map[uint64]map[uint64]bool // node -> partitions
	voters   map[uint64][]uint64        // partition -> voters
	learners map[uint64][]uint64
	leader   map[uint64]uint64
	changes  []string
	down     map[uint64]bool // nodes that cannot be reached
}

var _ operator.Cluster = (*memCluster)(nil)

// newMemCluster makes nodes 1..nodes alive and table "t" with the given
// partitions, each on its replicas, led by the first.
func newMemCluster(nodes int, parts map[uint64][]uint64) *memCluster {
	c := &memCluster{now: time.Unix(1_000_000, 0), hosted: map[uint64]map[uint64]bool{},
		voters: map[uint64][]uint64{}, learners: map[uint64][]uint64{}, leader: map[uint64]uint64{}}
	t := &partitapb.Table{Name: "t", Id: 1}
	var snap directory.Snapshot
	for id := uint64(1); id <= uint64(nodes); id++ {
		snap.Nodes = append(snap.Nodes, &partitapb.Node{Id: id, PeerAddr: fmt.Sprintf("n%d:1", id), HeartbeatUnixNanos: c.now.UnixNano()})
		c.hosted[id] = map[uint64]bool{}
	}
	for _, p := range slices.Sorted(maps.Keys(parts)) {
		reps := parts[p]
		t.Partitions = append(t.Partitions, &partitapb.Partition{Id: p, TableId: 1, Replicas: slices.Clone(reps), Generation: 1})
		c.voters[p], c.leader[p] = slices.Clone(reps), reps[0]
		for _, n := range reps {
			c.hosted[n][p] = true
		}
	}
	snap.Tables = []*partitapb.Table{t}
	c.snap = &snap
	return c
}

func (c *memCluster) log(format string, args ...any) {
	c.changes = append(c.changes, fmt.Sprintf(format, args...))
}

func (c *memCluster) Directory(context.Context) *directory.Snapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.snap
}

func (c *memCluster) Now() time.Time { return c.now }

func (c *memCluster) Node(node uint64) operator.Replicas { return memNode{c, node} }

func (c *memCluster) SetReplicas(_ context.Context, table string, partition uint64, replicas []uint64, generation uint64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.snap.Table(table)
	for i, p := range t.GetPartitions() {
		if p.GetId() != partition {
			continue
		}
		if p.GetGeneration() != generation {
			return partitapb.Errorf(partitapb.Error_CONDITION_FAILED, "generation moved")
		}
		// A new snapshot: readers hold the old one.
		nt := &partitapb.Table{Name: t.Name, Id: t.Id, Partitions: slices.Clone(t.Partitions)}
		nt.Partitions[i] = &partitapb.Partition{Id: partition, TableId: p.TableId, Replicas: slices.Clone(replicas), Generation: generation + 1}
		c.snap = &directory.Snapshot{Tables: []*partitapb.Table{nt}, Nodes: c.snap.Nodes, MetaReplicas: c.snap.MetaReplicas}
		c.log("set-replicas %d %v", partition, replicas)
		return nil
	}
	return fmt.Errorf("no partition %d", partition)
}

// Split records the split in the directory only: the memory cluster keeps
// no data or raft groups per range.
func (c *memCluster) Split(_ context.Context, table string, partition, hash uint64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.snap.Table(table)
	for i, p := range t.GetPartitions() {
		if p.GetId() != partition {
			continue
		}
		if hash == 0 {
			hash = p.GetHashStart() + (p.GetHashEnd()-1-p.GetHashStart())/2 + 1
		}
		nt := &partitapb.Table{Name: t.Name, Id: t.Id, Partitions: slices.Clone(t.Partitions)}
		left := &partitapb.Partition{Id: partition, TableId: p.TableId, Replicas: slices.Clone(p.Replicas),
			HashStart: p.HashStart, HashEnd: hash, Generation: p.Generation + 1, RangeGeneration: p.RangeGeneration + 1}
		right := &partitapb.Partition{Id: partition + 1000, TableId: p.TableId, Replicas: slices.Clone(p.Replicas),
			HashStart: hash, HashEnd: p.HashEnd, Generation: 1, RangeGeneration: p.RangeGeneration + 1}
		nt.Partitions = slices.Insert(nt.Partitions, i+1, right)
		nt.Partitions[i] = left
		c.snap = &directory.Snapshot{Tables: []*partitapb.Table{nt}, Nodes: c.snap.Nodes, MetaReplicas: c.snap.MetaReplicas}
		c.log("split %d at %#x", partition, hash)
		return nil
	}
	return fmt.Errorf("no partition %d", partition)
}

func (c *memCluster) Merge(_ context.Context, table string, partition, with uint64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.snap.Table(table)
	parts := t.GetPartitions()
	for i, p := range parts {
		if p.GetId() != partition || i+1 >= len(parts) || parts[i+1].GetId() != with {
			continue
		}
		r := parts[i+1]
		nt := &partitapb.Table{Name: t.Name, Id: t.Id, Partitions: slices.Clone(parts)}
		nt.Partitions[i] = &partitapb.Partition{Id: partition, TableId: p.TableId, Replicas: slices.Clone(p.Replicas),
			HashStart: p.HashStart, HashEnd: r.HashEnd, Generation: p.Generation + 1,
			RangeGeneration: max(p.RangeGeneration, r.RangeGeneration) + 1}
		nt.Partitions = slices.Delete(nt.Partitions, i+1, i+2)
		c.snap = &directory.Snapshot{Tables: []*partitapb.Table{nt}, Nodes: c.snap.Nodes, MetaReplicas: c.snap.MetaReplicas}
		c.log("merge %d with %d", partition, r.GetId())
		return nil
	}
	return fmt.Errorf("no partition %d with a right neighbour", partition)
}

func (c *memCluster) RemoveNode(_ context.Context, node uint64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	nodes := slices.DeleteFunc(slices.Clone(c.snap.Nodes), func(n *partitapb.Node) bool { return n.GetId() == node })
	c.snap = &directory.Snapshot{Tables: c.snap.Tables, Nodes: nodes, MetaReplicas: c.snap.MetaReplicas}
	c.log("remove-node %d", node)
	return nil
}

// memNode is one node of a memCluster.
type memNode struct {
	c  *memCluster
	id uint64
}

func (n memNode) CreateReplica(_ context.Context, partition uint64) error {
	n.c.mu.Lock()
	defer n.c.mu.Unlock()
	if !n.c.hosted[n.id][partition] {
		n.c.hosted[n.id][partition] = true
		n.c.log("create %d on %d", partition, n.id)
	}
	return nil
}

func (n memNode) ReplicaStatus(context.Context) (topology.LocalReplicas, error) {
	n.c.mu.Lock()
	defer n.c.mu.Unlock()
	if err := n.reach(); err != nil {
		return topology.LocalReplicas{}, err
	}
	out := topology.LocalReplicas{Node: n.id}
	for p := range n.c.hosted[n.id] {
		out.Replicas = append(out.Replicas, topology.LocalReplica{Partition: p, Leader: n.c.leader[p] == n.id, Lead: n.c.leader[p],
			Term: 1, Voters: slices.Clone(n.c.voters[p]), Learners: slices.Clone(n.c.learners[p])})
	}
	return out, nil
}

// reach fails when n is down; called with mu held.
func (n memNode) reach() error {
	if n.c.down[n.id] {
		return fmt.Errorf("mem: node %d: %w", n.id, cluster.ErrUnreachable)
	}
	return nil
}

// leading fails unless n leads partition; called with mu held.
func (n memNode) leading(partition uint64) error {
	if l := n.c.leader[partition]; l != n.id {
		return &replica.NotLeaderError{Partition: partition, Leader: l}
	}
	return nil
}

func (n memNode) membership(partition uint64) cluster.Membership {
	return cluster.Membership{Voters: slices.Clone(n.c.voters[partition]), Learners: slices.Clone(n.c.learners[partition])}
}

func (n memNode) AddLearner(_ context.Context, partition, node uint64) (cluster.Membership, error) {
	n.c.mu.Lock()
	defer n.c.mu.Unlock()
	if err := n.leading(partition); err != nil {
		return cluster.Membership{}, err
	}
	if !slices.Contains(n.c.voters[partition], node) && !slices.Contains(n.c.learners[partition], node) {
		n.c.learners[partition] = append(n.c.learners[partition], node)
		n.c.log("add-learner %d %d", partition, node)
	}
	return n.membership(partition), nil
}

func (n memNode) PromoteLearner(_ context.Context, partition, node uint64) (cluster.Membership, error) {
	n.c.mu.Lock()
	defer n.c.mu.Unlock()
	if err := n.leading(partition); err != nil {
		return cluster.Membership{}, err
	}
	if i := slices.Index(n.c.learners[partition], node); i >= 0 {
		n.c.learners[partition] = slices.Delete(n.c.learners[partition], i, i+1)
		n.c.voters[partition] = append(n.c.voters[partition], node)
		n.c.log("promote %d %d", partition, node)
	}
	return n.membership(partition), nil
}

func (n memNode) RemoveVoter(_ context.Context, partition, node uint64) (cluster.Membership, error) {
	n.c.mu.Lock()
	defer n.c.mu.Unlock()
	if err := n.leading(partition); err != nil {
		return cluster.Membership{}, err
	}
	if node == n.id {
		n.transferLocked(partition)
		return cluster.Membership{}, fmt.Errorf("mem: %w", cluster.ErrLeadershipMoved)
	}
	if i := slices.Index(n.c.voters[partition], node); i >= 0 {
		n.c.voters[partition] = slices.Delete(n.c.voters[partition], i, i+1)
		n.c.log("remove-voter %d %d", partition, node)
	}
	return n.membership(partition), nil
}

// transferLocked hands partition's leadership to the next voter.
func (n memNode) transferLocked(partition uint64) uint64 {
	for _, v := range n.c.voters[partition] {
		if v != n.id {
			n.c.leader[partition] = v
			n.c.log("leader %d %d", partition, v)
			return v
		}
	}
	return n.id
}

func (n memNode) TransferLeadership(_ context.Context, partition, _ uint64) (uint64, error) {
	n.c.mu.Lock()
	defer n.c.mu.Unlock()
	if err := n.reach(); err != nil {
		return 0, err
	}
	if err := n.leading(partition); err != nil {
		return 0, err
	}
	return n.transferLocked(partition), nil
}

func (n memNode) DestroyReplica(_ context.Context, partition uint64) error {
	n.c.mu.Lock()
	defer n.c.mu.Unlock()
	if err := n.reach(); err != nil {
		return err
	}
	if slices.Contains(n.c.snap.Replicas(partition), n.id) {
		return fmt.Errorf("mem: %w", cluster.ErrStillListed)
	}
	if n.c.hosted[n.id][partition] {
		delete(n.c.hosted[n.id], partition)
		n.c.log("destroy %d on %d", partition, n.id)
	}
	return nil
}
