package store_test

import (
	"fmt"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

// TestReplicasRefuseOutOfRangeAlike runs a partition owning the lower half
// of table 1's hash space on three nodes. A command for a key of the upper
// half is refused by one leader, then, proposed again with the same id, by
// another: both answer the same WRONG_RANGE, and no replica keeps a trace
// of it while all apply the commands around it.
func TestReplicasRefuseOutOfRangeAlike(t *testing.T) {
	c := newTestCluster(t, 3)
	const p = 2
	const half = uint64(1) << 63
	lower := directory.Spans(&partitapb.Partition{Id: p, TableId: 1, HashStart: 0, HashEnd: half})
	for _, s := range c.stores {
		if err := s.Bootstrap(p, []uint64{1, 2, 3}, lower...); err != nil {
			t.Fatal(err)
		}
	}
	in, in2, out := keyHashing(t, false, half, 0), keyHashing(t, false, half, 1), keyHashing(t, true, half, 0)
	put := func(id string, pk string) *partitapb.Command {
		k, _ := engine.DataKey(nil, 1, item.S(pk), item.Value{})
		return &partitapb.Command{Id: []byte(id), Op: &partitapb.Command_PutItem{PutItem: &partitapb.PutItem{
			Key: k, Item: item.EncodeItem(item.Item{"pk": item.S(pk)}),
		}}}
	}
	if res := c.propose(p, put("before", in)); res.GetError() != nil {
		t.Fatal(res.GetError())
	}
	first := c.leader(p)
	refusedBy := map[int]*partitapb.Result{first: c.propose(p, put("outside", out))}
	next := (first + 1) % 3
	waitFor(t, "leadership to move", func() bool {
		if err := c.stores[c.leader(p)].TransferLeader(p, uint64(next+1)); err != nil {
			t.Fatal(err)
		}
		return c.leader(p) == next
	})
	refusedBy[next] = c.propose(p, put("outside", out))
	if len(refusedBy) != 2 {
		t.Fatalf("refusals from %d leaders, want 2", len(refusedBy))
	}
	if !proto.Equal(refusedBy[first], refusedBy[next]) || refusedBy[first].GetError().GetCode() != partitapb.Error_WRONG_RANGE {
		t.Fatalf("replicas %d and %d answered %v and %v, want the same WRONG_RANGE", first, next, refusedBy[first], refusedBy[next])
	}
	if res := c.propose(p, put("after", in2)); res.GetError() != nil {
		t.Fatal(res.GetError())
	}
	last := c.stores[c.leader(p)].Replica(p).Applied()
	waitFor(t, "every replica to apply the log", func() bool {
		for _, s := range c.stores {
			if s.Replica(p).Applied() < last {
				return false
			}
		}
		return true
	})
	outKey, _ := engine.DataKey(nil, 1, item.S(out), item.Value{})
	for i, eng := range c.engs {
		if _, err := eng.Get(outKey); err == nil {
			t.Fatalf("replica %d wrote the refused item", i)
		}
		// The applied-command record, as replica/ready.go keys it.
		if _, err := eng.Get(engine.LocalKey(p, engine.ReplicatedLocal+"i"+"outside")); err == nil {
			t.Fatalf("replica %d recorded the refused command as applied", i)
		}
		if st, err := fsm.ReadStats(eng.Reader(), p); err != nil || st.Items != 2 {
			t.Fatalf("replica %d: stats %+v (%v), want the 2 items inside", i, st, err)
		}
	}
}

// keyHashing returns the nth partition key whose hash is below bound
// (upper false) or at or above it (upper true).
func keyHashing(t *testing.T, upper bool, bound uint64, nth int) string {
	t.Helper()
	for i := range 1000 {
		pk := fmt.Sprint("k", i)
		if (item.Hash(item.S(pk)) >= bound) == upper {
			if nth == 0 {
				return pk
			}
			nth--
		}
	}
	t.Fatal("no key found")
	return ""
}
