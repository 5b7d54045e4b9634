package member_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/member"
	"github.com/partitadb/partita/partitapb"
)

// mergeHarness is a harness with table t of two partitions, left and
// right, on this node.
type mergeHarness struct {
	*harness
	table       *partitapb.Table
	left, right uint64
}

func newMergeHarness(t *testing.T) mergeHarness {
	h := newHarness(t)
	if _, err := h.m.Join(context.Background(), &partitapb.Node{Version: "test"}); err != nil {
		t.Fatal(err)
	}
	ids := h.createTable(t, "t")
	h.reconcile(t)
	return mergeHarness{harness: h, table: h.sender.Directory().Snapshot().Table("t"), left: ids[0], right: ids[1]}
}

// propose applies cmd to partition and returns its rejection, if any.
func (h mergeHarness) propose(t *testing.T, partition uint64, cmd *partitapb.Command) *partitapb.Error {
	t.Helper()
	cmd.Id = fmt.Appendf(nil, "%s-%d", t.Name(), h.ids.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := h.sender.Propose(ctx, partition, cmd)
	if err != nil {
		t.Fatal(err)
	}
	return res.GetError()
}

// put writes the item of partition key pk to partition.
func (h mergeHarness) put(t *testing.T, partition uint64, pk string) *partitapb.Error {
	t.Helper()
	k, err := engine.DataKey(nil, h.table.GetId(), item.S(pk), item.Value{})
	if err != nil {
		t.Fatal(err)
	}
	return h.propose(t, partition, &partitapb.Command{Op: &partitapb.Command_PutItem{PutItem: &partitapb.PutItem{
		Key: k, Item: item.EncodeItem(item.Item{"pk": item.S(pk)})}}})
}

// begin records a merge intent begun at started and freezes both halves,
// as a coordinator that then dies would.
func (h mergeHarness) begin(t *testing.T, id string, started time.Time) *partitapb.MergeIntent {
	t.Helper()
	m := &partitapb.MergeIntent{Id: []byte(id), TableId: h.table.GetId(), Left: h.left, Right: h.right,
		LeftGeneration: 1, RightGeneration: 1, Voters: []uint64{1}}
	if e := h.propose(t, directory.MetaPartition, &partitapb.Command{UnixNanos: started.UnixNano(),
		Op: &partitapb.Command_BeginMerge{BeginMerge: &partitapb.BeginMerge{Table: "t", Merge: m}}}); e != nil {
		t.Fatalf("begin: %v", e)
	}
	for _, p := range []uint64{h.right, h.left} {
		if e := h.propose(t, p, &partitapb.Command{Op: &partitapb.Command_FreezeRange{FreezeRange: &partitapb.FreezeRange{
			Merge: m, Left: p == h.left}}}); e != nil {
			t.Fatalf("freeze %d: %v", p, e)
		}
	}
	return m
}

// rightKey is a partition key the right half owns ("b" hashes above
// 2^63), leftKey one the left owns.
const rightKey, leftKey = "b", "a"

// TestMergeAbandonedIsAbortedByTheReconciler plays a coordinator that
// froze both halves and died before committing: once the intent is older
// than MergeAbandonAfter, the reconciler aborts it in the directory and
// unfreezes both halves, which take writes again.
func TestMergeAbandonedIsAbortedByTheReconciler(t *testing.T) {
	h := newMergeHarness(t)
	h.begin(t, "abandoned", time.Now().Add(-member.MergeAbandonAfter-time.Minute))
	if e := h.put(t, h.right, rightKey); !partitapb.IsWrongRange(e) {
		t.Fatalf("write to the frozen right half: %v, want WRONG_RANGE", e)
	}
	h.reconcile(t) // aborts the intent
	h.reconcile(t) // unfreezes both halves, the directory copy showing the abort
	if e := h.put(t, h.right, rightKey); e != nil {
		t.Fatalf("write to the right half after the abort: %v", e)
	}
	for _, p := range []uint64{h.left, h.right} {
		if f, _ := h.st.Replica(p).Frozen(); f != nil {
			t.Fatalf("partition %d still frozen", p)
		}
	}
	if parts := h.sender.Directory().Snapshot().Table("t").GetPartitions(); len(parts) != 2 || parts[1].GetMerge() != nil {
		t.Fatalf("the directory after the abort: %v", parts)
	}
	// A fresh intent, frozen halves: the reconciler leaves it alone.
	h.begin(t, "fresh", time.Now())
	h.reconcile(t)
	if f, _ := h.st.Replica(h.right).Frozen(); f == nil {
		t.Fatal("the reconciler unfroze a merge in flight")
	}
}

// TestMergeCommittedIsFinishedByTheReconciler plays a coordinator that
// died after the directory committed the merge: the reconciler has the
// left half apply it, and the right half's replica goes. Then Merge
// refuses a partition without a right neighbour.
func TestMergeCommittedIsFinishedByTheReconciler(t *testing.T) {
	h := newMergeHarness(t)
	if e := h.put(t, h.right, rightKey); e != nil {
		t.Fatal(e)
	}
	m := h.begin(t, "committed", time.Now())
	if e := h.propose(t, directory.MetaPartition, &partitapb.Command{Op: &partitapb.Command_CommitMerge{CommitMerge: &partitapb.CommitMerge{
		Table: "t", MergeId: m.GetId()}}}); e != nil {
		t.Fatalf("commit: %v", e)
	}
	h.reconcile(t)
	for deadline := time.Now().Add(10 * time.Second); h.st.Replica(h.right) != nil; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the right half's replica was not removed")
		}
	}
	d := h.st.Replica(h.left).Descriptor()
	if _, lo, hi, ok := fsm.ParseHashSpan(d.GetSpans()[0]); !ok || lo != 0 || hi != 0 || d.GetGeneration() != 2 || d.GetFrozen() != nil {
		t.Fatalf("the left half after the merge: %v", d)
	}
	if st, err := fsm.ReadStats(h.eng.Reader(), h.left); err != nil || st.Items != 1 {
		t.Fatalf("the left half's statistics: %+v %v", st, err)
	}
	if e := h.put(t, h.left, rightKey); e != nil {
		t.Fatalf("write of a right key to the merged left: %v", e)
	}
	if e := h.put(t, h.right, leftKey); !partitapb.IsWrongRange(e) {
		t.Fatalf("write to the merged-away right half: %v, want WRONG_RANGE", e)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, _, err := h.m.Merge(ctx, "t", h.left); !errors.Is(err, member.ErrMerge) {
		t.Fatalf("merge of the last partition: %v, want ErrMerge", err)
	}
}

// TestMergeThroughTheMember merges the two partitions of a table on one
// node through Member.Merge, and refuses a pair not on the same nodes.
func TestMergeThroughTheMember(t *testing.T) {
	h := newMergeHarness(t)
	for _, pk := range []string{leftKey, rightKey} {
		if e := h.put(t, map[string]uint64{leftKey: h.left, rightKey: h.right}[pk], pk); e != nil {
			t.Fatal(e)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tbl, right, err := h.m.Merge(ctx, "t", h.left)
	if err != nil || right != h.right || len(tbl.GetPartitions()) != 1 || tbl.GetPartitions()[0].GetRangeGeneration() != 2 {
		t.Fatalf("merge: %v %d %v", tbl, right, err)
	}
	if st, err := fsm.ReadStats(h.eng.Reader(), h.left); err != nil || st.Items != 2 {
		t.Fatalf("the merged statistics: %+v %v", st, err)
	}
	h2 := newMergeHarness(t)
	h2.meta(t, &partitapb.Command{Op: &partitapb.Command_SetReplicas{SetReplicas: &partitapb.SetReplicas{
		Table: "t", Partition: h2.right, Replicas: []uint64{1, 2}, ExpectedGeneration: 1}}})
	if _, _, err := h2.m.Merge(ctx, "t", h2.left); !errors.Is(err, member.ErrMerge) {
		t.Fatalf("merge of partitions on other nodes: %v, want ErrMerge", err)
	}
}
