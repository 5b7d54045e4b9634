package harness_test

import (
	"context"
	"errors"
	"testing"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/harness"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/replica"
	"github.com/partitadb/partita/store"
)

// TestApplyDeterminism runs a workload with faults and splits, then checks
// every replica of every half applied the same index to the same state
// (the change log of the table, which keeps both images, among it), and
// that the digest does notice a replica whose state differs.
func TestApplyDeterminism(t *testing.T) {
	c := harness.New(t, harness.Config{Seed: 3, Tune: func(cfg *store.Config) {
		logs := &replica.ChangeLogs{}
		logs.SetTables(map[uint64]replica.TableChangeLog{testPartition: {View: partitapb.ChangeView_NEW_AND_OLD_IMAGES}})
		cfg.Replica.ChangeLogs = logs
	}})
	c.Bootstrap(testPartition)
	c.Leader(testPartition)
	ctx, cancel := context.WithTimeout(context.Background(), workloadDuration())
	defer cancel()
	h := harness.NewHistory()
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.RunNemesis(ctx, harness.Nemesis{Partition: testPartition, Seed: 3,
			Faults: []harness.Fault{harness.FaultLossyNetwork, harness.FaultNodeCrash, harness.FaultLeaderTransfer, harness.FaultSplit}}, h)
	}()
	if err := c.RunKV(ctx, harness.Workload{Partition: testPartition, Seed: 3, Keys: 20, Clients: 8}, h); err != nil {
		t.Fatal(err)
	}
	<-done
	c.RequireConsistentTable(t, testPartition)
	logged := uint64(0)
	for p := range c.Layout(testPartition) {
		ch, err := c.Store(c.Members(p)[0]).ReadChanges(context.Background(), p, 0, 0, false)
		if err != nil {
			t.Fatal(err)
		}
		logged += ch.Last
	}
	if logged == 0 {
		t.Fatal("the workload's writes left no change record")
	}
	t.Logf("%d change records across the table's partitions", logged)

	// Corrupt one replica behind raft's back: the digests must differ.
	if _, err := c.WithEngine(2, nil, func(eng *engine.Engine) error {
		b := eng.NewIndexedBatch()
		if err := b.Set(harness.ItemKey(testPartition, "intruder"), []byte{}); err != nil {
			return errors.Join(err, b.Close())
		}
		return eng.Commit(b)
	}); err != nil {
		t.Fatal(err)
	}
	states, err := c.ReplicaStates(c.Owner(testPartition, "intruder"))
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != 3 || states[0].Digest == states[1].Digest || states[0].Digest != states[2].Digest {
		t.Fatalf("digest missed a divergent replica: %+v", states)
	}
}
