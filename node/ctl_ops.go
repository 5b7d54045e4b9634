package node

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/partitadb/partita/cluster"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/replica"
	"github.com/partitadb/partita/router"
	"github.com/partitadb/partita/topology"
)

// Drain and decommission. A drain hands every leadership of a node to
// other voters (the node keeps its replicas and forwards requests). A
// decommission replaces each replica of a node, one partition at a time:
// a live node outside the group gets an empty replica, the partition's
// leader adds it as a learner and promotes it once caught up, then removes
// the old replica (handing leadership over first if it led); the
// partition's directory record then lists the new replicas, and the old
// replica is destroyed on the node.

func (n *Node) ctlDrain(w http.ResponseWriter, r *http.Request) {
	id, err := pathNode(r)
	if err != nil {
		reply(w, nil, err)
		return
	}
	n.freshDirectory(r.Context())
	if _, err := n.nodeRecord(id); err != nil {
		reply(w, nil, err)
		return
	}
	res, err := n.drain(r.Context(), id)
	reply(w, res, err)
}

// drain transfers the leadership of every partition node leads to
// another voter, concurrently, within ctlDrainTimeout.
func (n *Node) drain(ctx context.Context, node uint64) (DrainResult, error) {
	ctx, cancel := context.WithTimeout(ctx, ctlDrainTimeout)
	defer cancel()
	res := DrainResult{Node: node, Partitions: []DrainPartition{}}
	target := n.local(node)
	st, err := target.ReplicaStatus(ctx)
	if err != nil {
		return res, fmt.Errorf("node: replicas of node %d: %w", node, err)
	}
	var led []uint64
	for _, r := range st.Replicas {
		if r.Leader {
			led = append(led, r.Partition)
		}
	}
	res.Led = len(led)
	out := make([]DrainPartition, len(led))
	done := make(chan struct{}, len(led))
	for i, partition := range led {
		go func() {
			defer func() { done <- struct{}{} }()
			tctx, cancel := context.WithTimeout(ctx, ctlTransferTimeout)
			defer cancel()
			out[i] = DrainPartition{Partition: partition}
			to, err := target.TransferLeadership(tctx, partition)
			if err != nil {
				out[i].Error = err.Error()
				return
			}
			out[i].To = to
		}()
	}
	for range led {
		<-done
	}
	for _, p := range out {
		if p.Error == "" {
			res.Moved++
		}
	}
	res.Partitions = out
	n.log.Info("drained leaderships", "node", node, "led", res.Led, "moved", res.Moved)
	return res, nil
}

func (n *Node) ctlDecommission(w http.ResponseWriter, r *http.Request) {
	id, err := pathNode(r)
	if err != nil {
		reply(w, nil, err)
		return
	}
	res, err := n.decommission(r.Context(), id)
	reply(w, res, err)
}

// decommission moves every replica of node gone to other nodes, table
// partitions first and the meta partition last (the node's meta replica
// keeps its directory current meanwhile).
func (n *Node) decommission(ctx context.Context, gone uint64) (DecommissionResult, error) {
	res := DecommissionResult{Node: gone, Partitions: []DecommissionPartition{}}
	n.freshDirectory(ctx)
	if _, err := n.nodeRecord(gone); err != nil {
		return res, err
	}
	parts, _ := n.partitionInfos(ctx)
	// Meta last.
	slices.SortStableFunc(parts, func(a, b topology.PartitionInfo) int {
		return boolInt(a.ID == directory.MetaPartition) - boolInt(b.ID == directory.MetaPartition)
	})
	res.Done = true
	for _, p := range parts {
		if !p.Hosts(gone) {
			continue
		}
		step := n.moveReplica(ctx, p.ID, gone)
		if step.State != StepMoved {
			res.Done = false
		}
		res.Partitions = append(res.Partitions, step)
		n.log.Info("decommission step", "node", gone, "partition", p.ID, "state", step.State, "to", step.To, "err", step.Error)
		if ctx.Err() != nil {
			res.Done = false
			break
		}
	}
	if res.Done {
		if err := n.removeNode(ctx, gone); err != nil {
			return res, err
		}
		res.Removed = true
	}
	return res, nil
}

// removeNode deletes node id's directory record through the meta leader.
func (n *Node) removeNode(ctx context.Context, id uint64) error {
	cmd := &partitapb.Command{Id: router.RandomID(), UnixNanos: n.now().UnixNano(),
		Op: &partitapb.Command_RemoveNode{RemoveNode: &partitapb.RemoveNode{Id: id}}}
	res, err := n.proposeMeta(ctx, cmd)
	if err != nil {
		return fmt.Errorf("node: remove node %d: %w", id, err)
	}
	if res.GetError() != nil {
		return res.GetError()
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// nodeRecord returns node id's directory record.
func (n *Node) nodeRecord(id uint64) (*partitapb.Node, error) {
	for _, rec := range n.dir.Nodes() {
		if rec.GetId() == id {
			return rec, nil
		}
	}
	return nil, statusError(http.StatusNotFound, "no node %d in the directory", id)
}

// moveReplica replaces node gone's replica of partition by one on another
// live node.
func (n *Node) moveReplica(ctx context.Context, partition, gone uint64) DecommissionPartition {
	step := DecommissionPartition{Partition: partition, State: StepFailed}
	fail := func(err error) DecommissionPartition {
		step.Error = err.Error()
		return step
	}
	// A fresh view of this partition: configuration, leader, reachability.
	n.freshDirectory(ctx)
	parts, g := n.partitionInfos(ctx)
	i := slices.IndexFunc(parts, func(p topology.PartitionInfo) bool { return p.ID == partition })
	if i < 0 {
		return fail(errors.New("partition no longer in the directory"))
	}
	p := parts[i]
	step.Table = p.Table
	to, err := n.pickTarget(p, parts, g, gone)
	if err != nil {
		return fail(err)
	}
	step.To = to
	if err := n.client.CreateReplica(ctx, to, partition); err != nil {
		return fail(fmt.Errorf("create a replica on node %d: %w", to, err))
	}
	if err := n.replaceOnLeader(ctx, p, to, gone); err != nil {
		return fail(err)
	}
	if partition == directory.MetaPartition {
		step.Directory = "n/a"
	} else if err := n.setReplicas(ctx, p.Table, partition, gone, to); err != nil {
		return fail(fmt.Errorf("replicas moved, directory not updated: %w", err))
	} else {
		step.Directory = "updated"
	}
	step.State = StepMoved
	if !g.Reachable(gone) {
		step.Error = "node unreachable: its old replica stays until it is wiped"
		return step
	}
	if err := n.destroyOn(ctx, gone, partition); err != nil {
		step.Error = fmt.Sprintf("old replica not destroyed: %v", err)
	} else {
		step.Destroyed = true
	}
	return step
}

// pickTarget chooses the node to take over gone's replica of p: a live,
// reachable node outside p's group, the one holding fewest replicas.
func (n *Node) pickTarget(p topology.PartitionInfo, parts []topology.PartitionInfo, g topology.Answers, gone uint64) (uint64, error) {
	load := map[uint64]int{}
	for _, q := range parts {
		for _, id := range slices.Concat(q.Replicas, q.Voters) {
			load[id]++
		}
	}
	now := n.now()
	best := uint64(0)
	for _, rec := range n.dir.Nodes() {
		id := rec.GetId()
		if id == gone || p.Hosts(id) || !g.Reachable(id) || directory.NodeLiveness(rec, now) != directory.Alive || rec.GetPeerAddr() == "" {
			continue
		}
		if best == 0 || load[id] < load[best] {
			best = id
		}
	}
	if best == 0 {
		return 0, errors.New("no live node outside the partition's group to take the replica")
	}
	return best, nil
}

// replaceOnLeader runs the membership change on the partition's leader,
// following leadership when it moves (the removed replica led, an
// election happened). Each step is skipped by the leader when done
// already, so that a retry is safe.
func (n *Node) replaceOnLeader(ctx context.Context, p topology.PartitionInfo, add, remove uint64) error {
	ctx, cancel := context.WithTimeout(ctx, ctlReplaceTimeout)
	defer cancel()
	leader := p.Leader
	var err error
	for attempt := 0; attempt < 8 && ctx.Err() == nil; attempt++ {
		if leader == 0 {
			time.Sleep(500 * time.Millisecond)
			leader = n.findLeader(ctx, p.ID)
			err = fmt.Errorf("partition %d has no leader", p.ID)
			continue
		}
		err = n.replaceOn(ctx, leader, p.ID, add, remove)
		var nl *replica.NotLeaderError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &nl):
			leader = nl.Leader
		case errors.Is(err, cluster.ErrLeadershipMoved):
			leader = 0
		default:
			return err
		}
	}
	if err == nil {
		err = ctx.Err()
	}
	return fmt.Errorf("replace node %d by %d in partition %d: %w", remove, add, p.ID, err)
}

// replaceOn adds add as a learner, promotes it and removes remove, on
// leader.
func (n *Node) replaceOn(ctx context.Context, leader, partition, add, remove uint64) error {
	l := n.local(leader)
	if _, err := l.AddLearner(ctx, partition, add); err != nil {
		return err
	}
	if _, err := l.PromoteLearner(ctx, partition, add); err != nil {
		return err
	}
	_, err := l.RemoveVoter(ctx, partition, remove)
	return err
}

// findLeader asks the nodes which one leads partition (0: none yet).
func (n *Node) findLeader(ctx context.Context, partition uint64) uint64 {
	for node, reps := range n.gather(ctx, n.dir.Snapshot()).Replicas {
		if r, ok := reps.Replica(partition); ok && r.Leader {
			return node
		}
	}
	return 0
}

// setReplicas replaces gone by to in the directory record of table's
// partition, retrying when the record moved on meanwhile.
func (n *Node) setReplicas(ctx context.Context, table string, partition, gone, to uint64) error {
	var err error
	for attempt := 0; attempt < 5 && ctx.Err() == nil; attempt++ {
		if attempt > 0 {
			time.Sleep(200 * time.Millisecond)
			n.freshDirectory(ctx)
		}
		var cur *partitapb.Partition
		for _, t := range slices.Clone(n.dir.Snapshot().Tables) {
			for _, p := range t.GetPartitions() {
				if t.GetName() == table && p.GetId() == partition {
					cur = p
				}
			}
		}
		if cur == nil {
			return fmt.Errorf("table %s has no partition %d", table, partition)
		}
		replicas := slices.DeleteFunc(slices.Clone(cur.GetReplicas()), func(id uint64) bool { return id == gone })
		if !slices.Contains(replicas, to) {
			replicas = append(replicas, to)
		}
		if slices.Equal(replicas, cur.GetReplicas()) {
			return nil
		}
		cmd := &partitapb.Command{Id: router.RandomID(), UnixNanos: n.now().UnixNano(),
			Op: &partitapb.Command_SetReplicas{SetReplicas: &partitapb.SetReplicas{
				Table: table, Partition: partition, Replicas: replicas, ExpectedGeneration: cur.GetGeneration()}}}
		var res *partitapb.Result
		res, err = n.proposeMeta(ctx, cmd)
		if err == nil && res.GetError() != nil {
			err = res.GetError()
		}
		if err == nil {
			n.freshDirectory(ctx)
			return nil
		}
	}
	if err == nil {
		err = ctx.Err()
	}
	return err
}

// destroyOn destroys node's replica of partition, retrying while its
// directory has not caught up.
func (n *Node) destroyOn(ctx context.Context, node, partition uint64) error {
	var err error
	for attempt := 0; attempt < 10 && ctx.Err() == nil; attempt++ {
		if attempt > 0 {
			time.Sleep(300 * time.Millisecond)
		}
		err = n.local(node).DestroyReplica(ctx, partition)
		if !errors.Is(err, cluster.ErrStillListed) {
			return err
		}
	}
	return err
}
