package cluster_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/partitadb/partita/cluster"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/replica"
)

// TestReplicaOperations: the replica operations reach the node's Local
// with their arguments, and their results and errors come back whole.
func TestReplicaOperations(t *testing.T) {
	l := newMemLocal(4, 5)
	_, _, c := serveAsNode1(t, l)
	ctx := context.Background()

	m, err := c.AddLearner(ctx, 1, 4, 7)
	if err != nil || !slices.Equal(m.Voters, []uint64{1}) || !slices.Equal(m.Learners, []uint64{7}) {
		t.Fatalf("AddLearner: %+v, %v", m, err)
	}
	if m, err = c.AddLearner(ctx, 1, 4, 7); err != nil || len(m.Learners) != 1 {
		t.Fatalf("AddLearner again: %+v, %v", m, err)
	}
	if m, err = c.PromoteLearner(ctx, 1, 4, 7); err != nil || !slices.Equal(m.Voters, []uint64{1, 7}) || len(m.Learners) != 0 {
		t.Fatalf("PromoteLearner: %+v, %v", m, err)
	}
	st, err := c.ReplicaStatus(ctx, 1)
	if err != nil || st.Node != 1 || len(st.Replicas) != 2 {
		t.Fatalf("ReplicaStatus: %+v, %v", st, err)
	}
	if r, ok := st.Replica(4); !ok || !r.Leader || r.Term != 2 || !slices.Equal(r.Voters, []uint64{1, 7}) {
		t.Fatalf("ReplicaStatus of partition 4: %+v", st)
	}
	if m, err = c.RemoveVoter(ctx, 1, 4, 7); err != nil || !slices.Equal(m.Voters, []uint64{1}) {
		t.Fatalf("RemoveVoter: %+v, %v", m, err)
	}
	if _, err := c.RemoveVoter(ctx, 1, 4, 1); !errors.Is(err, cluster.ErrLeadershipMoved) {
		t.Fatalf("RemoveVoter of the leader: %v", err)
	}
	var nl *replica.NotLeaderError
	if _, err := c.TransferLeadership(ctx, 1, 4, 0); !errors.As(err, &nl) || nl.Leader != 1 {
		t.Fatalf("TransferLeadership: %v", err)
	}
	if _, err := c.AddLearner(ctx, 1, 4, 0); !errors.Is(err, cluster.ErrInternal) {
		t.Fatalf("AddLearner without a node: %v", err)
	}
	if err := c.DestroyReplica(ctx, 1, 0); !errors.Is(err, cluster.ErrInternal) {
		t.Fatalf("DestroyReplica without a partition: %v", err)
	}

	// DestroyReplica waits for the directory to let the replica go.
	l.setTables(&partitapb.Table{Name: "t", Partitions: []*partitapb.Partition{{Id: 5, Replicas: []uint64{1, 2}}}})
	if err := c.DestroyReplica(ctx, 1, 5); !errors.Is(err, cluster.ErrStillListed) {
		t.Fatalf("DestroyReplica while listed: %v", err)
	}
	l.setTables(&partitapb.Table{Name: "t", Partitions: []*partitapb.Partition{{Id: 5, Replicas: []uint64{2, 3}}}})
	if err := c.DestroyReplica(ctx, 1, 5); err != nil {
		t.Fatalf("DestroyReplica: %v", err)
	}
	if st, err := c.ReplicaStatus(ctx, 1); err != nil || len(st.Replicas) != 1 {
		t.Fatalf("ReplicaStatus after DestroyReplica: %+v, %v", st, err)
	}
}
