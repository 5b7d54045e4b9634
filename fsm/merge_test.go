package fsm_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

// Partitions of the merge script: left owns [0, mergeHash) of table 1,
// right [mergeHash, end), both at range generation 2 on nodes 1, 2, 3.
const (
	mergeLeft  = 7
	mergeRight = 8
	mergeHash  = uint64(1) << 63
)

// mergeNode is one node of the merge script: its engine, with a replica
// of both partitions and one of the meta partition.
type mergeNode struct {
	eng               *engine.Engine
	left, right, meta *partitapb.Descriptor
}

// TestMerge runs testdata/merge.txt on three nodes, each with a replica
// of the two partitions to merge and of the meta partition. Every node
// must return the same result and hold the same state after every
// command.
//
//	put pk=K [to=P]                    PutItem of {pk: K} to the partition owning K (or P)
//	freeze side=left|right [id=I] [gen=G] [voters=..] [members=..] [learners=..]
//	                                   FreezeRange of merge I (default m1)
//	unfreeze to=P [id=I]               UnfreezeRange
//	merge [id=I] [gen=G] [to=P]        MergeRange of the left up to the end of the hash space
//	show                               descriptors, statistics and merge record of both
//	create-table name=T                a table of one partition on nodes 1,2,3 (directory)
//	record-split ..                    SplitPartition (as in split.txt)
//	set-replicas table=T partition=P gen=G replicas=..
//	begin-merge table=T left=L right=R lgen=G rgen=G [id=I]
//	commit-merge table=T [id=I]
//	abort-merge table=T [id=I]
//	partitions table=T                 the table's partitions and merge records
func TestMerge(t *testing.T) {
	var nodes [3]*mergeNode
	for i := range nodes {
		nodes[i] = &mergeNode{eng: openEngine(t), left: halfRange(mergeLeft, 0, mergeHash), right: halfRange(mergeRight, mergeHash, 0),
			meta: rangeOf(directory.MetaPartition)}
	}
	datadriven.RunTest(t, "testdata/merge.txt", func(t *testing.T, td *datadriven.TestData) string {
		m := fsm.Members{Voters: idsArg(t, td, "members", []uint64{1, 2, 3}), Learners: idsArg(t, td, "learners", nil)}
		var cmd *partitapb.Command
		to := uint64(directory.MetaPartition)
		switch td.Cmd {
		case "show":
			return sameOnNodes(t, nodes, func(n *mergeNode) string { return describeMerge(t, n) })
		case "partitions":
			return sameOnNodes(t, nodes, func(n *mergeNode) string { return describeMergePartitions(t, n, scanArg(t, td, "table")) })
		case "put":
			pk := scanArg(t, td, "pk")
			cmd, to = put(key(t, pk), item.Item{"pk": item.S(pk)}, nil), uint64(mergeLeft)
			if item.Hash(item.S(pk)) >= mergeHash {
				to = mergeRight
			}
		case "freeze":
			left := scanArg(t, td, "side") == "left"
			to = mergeRight
			if left {
				to = mergeLeft
			}
			intent := mergeIntent(t, td)
			if td.HasArg("gen") {
				intent.LeftGeneration, intent.RightGeneration = uintArg(t, td, "gen", 0), uintArg(t, td, "gen", 0)
			}
			cmd = &partitapb.Command{Op: &partitapb.Command_FreezeRange{FreezeRange: &partitapb.FreezeRange{Merge: intent, Left: left}}}
		case "split":
			cmd, _ = splitCommand(t, td)
		case "unfreeze":
			cmd = &partitapb.Command{Op: &partitapb.Command_UnfreezeRange{UnfreezeRange: &partitapb.UnfreezeRange{MergeId: []byte(idArg(t, td))}}}
		case "merge":
			intent := mergeIntent(t, td)
			intent.LeftGeneration = uintArg(t, td, "gen", 2)
			cmd, to = &partitapb.Command{Op: &partitapb.Command_MergeRange{MergeRange: &partitapb.MergeRange{Merge: intent}}}, mergeLeft
		default:
			cmd = mergeDirectoryCommand(t, td)
		}
		to = uintArg(t, td, "to", to)
		return sameOnNodes(t, nodes, func(n *mergeNode) string {
			d := n.desc(to)
			b := n.eng.NewIndexedBatch()
			a := fsm.NewApplier(b, *d)
			a.SetMembers(m)
			res, err := a.Apply(proto.Clone(cmd).(*partitapb.Command))
			if err == nil {
				err = a.Flush()
			}
			if err == nil {
				err = n.eng.Commit(b)
			}
			if err != nil {
				t.Fatal(err)
			}
			*d = a.Descriptor()
			return describeMergeResult(res)
		})
	})
}

func (n *mergeNode) desc(p uint64) **partitapb.Descriptor {
	switch p {
	case mergeLeft:
		return &n.left
	case mergeRight:
		return &n.right
	}
	return &n.meta
}

func halfRange(p, lo, hi uint64) *partitapb.Descriptor {
	s, e := engine.HashSpan(1, lo, hi)
	return &partitapb.Descriptor{Partition: p, Spans: []*partitapb.Span{{Start: s, End: e}}, Generation: 2}
}

func idArg(t *testing.T, td *datadriven.TestData) string {
	if td.HasArg("id") {
		return scanArg(t, td, "id")
	}
	return "m1"
}

func mergeIntent(t *testing.T, td *datadriven.TestData) *partitapb.MergeIntent {
	return &partitapb.MergeIntent{
		Id: []byte(idArg(t, td)), TableId: 1, Left: uintArg(t, td, "left", mergeLeft), Right: uintArg(t, td, "right", mergeRight),
		LeftGeneration: uintArg(t, td, "lgen", 2), RightGeneration: uintArg(t, td, "rgen", 2),
		Voters: idsArg(t, td, "voters", []uint64{1, 2, 3}),
	}
}

func mergeDirectoryCommand(t *testing.T, td *datadriven.TestData) *partitapb.Command {
	table, id := "", []byte(idArg(t, td))
	if td.HasArg("table") {
		table = scanArg(t, td, "table")
	}
	switch td.Cmd {
	case "begin-merge":
		return &partitapb.Command{UnixNanos: 1000, Op: &partitapb.Command_BeginMerge{BeginMerge: &partitapb.BeginMerge{
			Table: table, Merge: mergeIntent(t, td)}}}
	case "commit-merge":
		return &partitapb.Command{Op: &partitapb.Command_CommitMerge{CommitMerge: &partitapb.CommitMerge{Table: table, MergeId: id}}}
	case "abort-merge":
		return &partitapb.Command{Op: &partitapb.Command_AbortMerge{AbortMerge: &partitapb.AbortMerge{Table: table, MergeId: id}}}
	case "set-replicas":
		return &partitapb.Command{Op: &partitapb.Command_SetReplicas{SetReplicas: &partitapb.SetReplicas{
			Table: table, Partition: uintArg(t, td, "partition", 0), Replicas: idsArg(t, td, "replicas", nil),
			ExpectedGeneration: uintArg(t, td, "gen", 0)}}}
	}
	return directoryCommand(t, td)
}

func sameOnNodes(t *testing.T, nodes [3]*mergeNode, f func(*mergeNode) string) string {
	t.Helper()
	var out string
	for i, n := range nodes {
		got := f(n)
		if i > 0 && got != out {
			t.Fatalf("node %d says\n%s\nnode 1 says\n%s", i+1, got, out)
		}
		out = got
	}
	return out
}

func describeMergeResult(res *partitapb.Result) string {
	out := describeSplitResult(res)
	if m := res.GetMerge(); m != nil {
		out += fmt.Sprintf("range %s%s\n", descString(m.GetRangeDescriptor()), frozenString(m.GetRangeDescriptor()))
		if m.GetMerged() {
			out += fmt.Sprintf("merged partition %d\n", m.GetMerge().GetRight())
		}
	}
	return out
}

func frozenString(d *partitapb.Descriptor) string {
	switch {
	case d.GetFrozen() == nil:
		return ""
	case d.GetFrozenLeft():
		return fmt.Sprintf(" frozen-left=%s", d.GetFrozen().GetId())
	}
	return fmt.Sprintf(" frozen=%s", d.GetFrozen().GetId())
}

func describeMerge(t *testing.T, n *mergeNode) string {
	var b strings.Builder
	for _, p := range []uint64{mergeLeft, mergeRight} {
		d := &partitapb.Descriptor{}
		if raw, err := n.eng.Get(fsm.DescriptorKey(p)); err == nil {
			if err := proto.Unmarshal(raw, d); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "descriptor %s%s\n", descString(d), frozenString(d))
		}
		s, err := fsm.ReadStats(n.eng.Reader(), p)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "stats %d: items=%d bytes=%d\n", p, s.Items, s.Bytes)
		if raw, err := n.eng.Get(fsm.MergeKey(p)); err == nil {
			m := &partitapb.MergeIntent{}
			if err := proto.Unmarshal(raw, m); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "merge record %d: id=%s right=%d\n", p, m.GetId(), m.GetRight())
		}
	}
	fmt.Fprintf(&b, "fence %s%s\n", descString(n.left), frozenString(n.left))
	fmt.Fprintf(&b, "fence %s%s\n", descString(n.right), frozenString(n.right))
	return b.String()
}

func describeMergePartitions(t *testing.T, n *mergeNode, name string) string {
	tbl, err := directory.ReadTable(n.eng.Reader(), name)
	if err != nil || tbl == nil {
		t.Fatalf("table %s: %v", name, err)
	}
	var b strings.Builder
	for _, p := range tbl.GetPartitions() {
		fmt.Fprintf(&b, "partition %d hashes=[%#x,%#x) generation=%d range-generation=%d replicas=%v",
			p.GetId(), p.GetHashStart(), p.GetHashEnd(), p.GetGeneration(), p.GetRangeGeneration(), p.GetReplicas())
		if m := p.GetMerge(); m != nil {
			fmt.Fprintf(&b, " merging=%s(into %d, started %d)", m.GetId(), m.GetLeft(), m.GetStartedUnixNanos())
		}
		if m := p.GetMerged(); m != nil {
			fmt.Fprintf(&b, " merged=%s(%d)", m.GetId(), m.GetRight())
		}
		b.WriteString("\n")
	}
	return b.String()
}
