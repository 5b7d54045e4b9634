package harness_test

import (
	"context"
	"errors"
	"testing"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/harness"
	"github.com/partitadb/partita/item"
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
	checkChangeLog(t, c, h)

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

// checkChangeLog checks the change log of the table against the history:
// every acknowledged write has exactly one record, a write of unknown
// outcome at most one, and no other write has any. Before a split, a
// partition's log holds both halves' keys, and the left half keeps it:
// the logs of the partitions of the table hold every record.
func checkChangeLog(t *testing.T, c *harness.Cluster, h *harness.History) {
	t.Helper()
	applied, maybe := h.Writes()
	seen := map[string]int{}
	total := 0
	for p := range c.Layout(testPartition) {
		ch, err := c.Store(c.Members(p)[0]).ReadChanges(context.Background(), p, 0, 0, false)
		if err != nil {
			t.Fatal(err)
		}
		if ch.First != 1 || uint64(len(ch.Records)) != ch.Last {
			t.Fatalf("partition %d: log [%d, %d] holds %d records", p, ch.First, ch.Last, len(ch.Records))
		}
		for _, r := range ch.Records {
			it, err := item.DecodeItem(r.Record.GetNewImage())
			if err != nil {
				t.Fatal(err)
			}
			v := it["v"].S
			seen[v]++
			if key, ok := applied[v]; !ok && maybe[v] == "" || ok && key != it["pk"].S {
				t.Fatalf("partition %d: record %d writes %s=%s, which no write of the history did", p, r.Seq, it["pk"].S, v)
			}
		}
		total += len(ch.Records)
	}
	for v, key := range applied {
		if seen[v] != 1 {
			t.Fatalf("the acknowledged write %s=%s has %d change records", key, v, seen[v])
		}
	}
	for v, key := range maybe {
		if seen[v] > 1 {
			t.Fatalf("the write %s=%s of unknown outcome has %d change records", key, v, seen[v])
		}
	}
	t.Logf("%d change records for %d acknowledged writes and %d of unknown outcome", total, len(applied), len(maybe))
}
