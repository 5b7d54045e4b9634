package operator

import (
	"context"
	"fmt"
	"time"
)

// Bounds of a drain.
const (
	// DrainTimeout bounds one drain (every transfer of a node).
	DrainTimeout = 30 * time.Second
	// TransferTimeout bounds one leadership transfer.
	TransferTimeout = 5 * time.Second
)

// Drain hands every leadership of node to other voters: one
// TransferLeader step per partition it leads, run concurrently. The node
// keeps its replicas and forwards requests to the new leaders.
func Drain(ctx context.Context, e *Env, node uint64) (DrainResult, error) {
	ctx, cancel := context.WithTimeout(ctx, DrainTimeout)
	defer cancel()
	res := DrainResult{Node: node, Partitions: []DrainPartition{}}
	if e.c.Directory(ctx).Node(node) == nil {
		return res, fmt.Errorf("%w: node %d", ErrNoNode, node)
	}
	st, err := e.c.Node(node).ReplicaStatus(ctx)
	if err != nil {
		return res, fmt.Errorf("operator: replicas of node %d: %w", node, err)
	}
	var steps []*TransferLeader
	for _, r := range st.Replicas {
		if r.Leader {
			steps = append(steps, &TransferLeader{Partition: r.Partition, From: node})
		}
	}
	res.Led = len(steps)
	res.Partitions = make([]DrainPartition, len(steps))
	done := make(chan struct{}, len(steps))
	for i, s := range steps {
		go func() {
			defer func() { done <- struct{}{} }()
			tctx, cancel := context.WithTimeout(ctx, TransferTimeout)
			defer cancel()
			res.Partitions[i] = DrainPartition{Partition: s.Partition}
			if err := s.Run(tctx, e); err != nil {
				res.Partitions[i].Error = err.Error()
				return
			}
			res.Partitions[i].To = s.To
		}()
	}
	for range steps {
		<-done
	}
	for _, p := range res.Partitions {
		if p.Error == "" {
			res.Moved++
		}
	}
	e.log.Info("drained leaderships", "node", node, "led", res.Led, "moved", res.Moved)
	return res, nil
}
