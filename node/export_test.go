package node

import (
	"context"
	"fmt"

	"github.com/partitadb/partita/fsm"
)

// SendNoPeerCredential makes the node of cfg send no peer credential, as a
// binary from before the credential does.
func SendNoPeerCredential(cfg *Config) { cfg.Auth.sendNoPeerCredential = true }

// TableChanges returns the change records of every partition of table
// on n, partition by partition (read on n's replicas).
func TableChanges(ctx context.Context, n *Node, table string) ([]fsm.Change, error) {
	t := n.dir.Snapshot().Table(table)
	if t == nil {
		return nil, fmt.Errorf("no table %s", table)
	}
	var out []fsm.Change
	for _, p := range t.GetPartitions() {
		ch, err := n.store.ReadChanges(ctx, p.GetId(), 0, 0, false)
		if err != nil {
			return nil, err
		}
		out = append(out, ch.Records...)
	}
	return out, nil
}

// TableFloors returns the change floor of every partition of table on n
// (read on n's replicas).
func TableFloors(n *Node, table string) ([]fsm.ChangeFloor, error) {
	t := n.dir.Snapshot().Table(table)
	if t == nil {
		return nil, fmt.Errorf("no table %s", table)
	}
	var out []fsm.ChangeFloor
	for _, p := range t.GetPartitions() {
		f, err := fsm.ReadChangeFloor(n.eng.Reader(), p.GetId())
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// HostedReplicas describes the replicas n hosts: partition, voters,
// learners, leader.
func HostedReplicas(n *Node) []string {
	var out []string
	for _, r := range n.store.Replicas() {
		cs := r.ConfState()
		out = append(out, fmt.Sprintf("p%d voters=%v learners=%v leader=%d", r.Partition(), cs.Voters, cs.Learners, r.Leader()))
	}
	return out
}
