package fsm_test

import (
	"fmt"
	"strconv"
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

// splitReplica is one replica of partition 7 in the split script: its
// engine and the range it fences to, which a split narrows.
type splitReplica struct {
	eng  *engine.Engine
	desc *partitapb.Descriptor
}

// TestSplit runs testdata/split.txt: item commands and SplitRange on three
// replicas of partition 7 (table 1, the whole hash space, range generation
// 1, voters 1,2,3), and the directory's split commands on three replicas
// of the meta partition. Every replica must return the same result and
// hold the same state after every command.
//
//	put pk=K [routed=G]            PutItem of {pk: K} in table 1, routed by generation G
//	split at=K|hash=H right=R [gen=G] [routed=G] [voters=..] [members=..] [learners=..] [joint]
//	                               SplitRange at K's hash (or H), the
//	                               replica's membership members (default 1,2,3)
//	show                           descriptor, stats and split record of 7 and R
//	create-table name=T            a table of one partition (directory)
//	allocate                       AllocatePartition
//	record-split table=T partition=P gen=G hash=H right=R replicas=..
//	                               SplitPartition
//	partitions table=T             the table's partitions
func TestSplit(t *testing.T) {
	var parts, meta [3]*splitReplica
	for i := range parts {
		parts[i] = &splitReplica{eng: openEngine(t), desc: rangeOf(part)}
		meta[i] = &splitReplica{eng: openEngine(t), desc: rangeOf(directory.MetaPartition)}
	}
	var right, next uint64
	datadriven.RunTest(t, "testdata/split.txt", func(t *testing.T, td *datadriven.TestData) string {
		group, cmd, m := parts, (*partitapb.Command)(nil), fsm.Members{Voters: []uint64{1, 2, 3}}
		switch td.Cmd {
		case "show":
			return sameOn(t, group, func(r *splitReplica) string { return describePartition(t, r, right) })
		case "partitions":
			return sameOn(t, meta, func(r *splitReplica) string { return describePartitions(t, r, scanArg(t, td, "table")) })
		case "put":
			pk := scanArg(t, td, "pk")
			cmd = put(key(t, pk), item.Item{"pk": item.S(pk)}, nil)
			cmd.RangeGeneration = uintArg(t, td, "routed", 0)
		case "split":
			cmd, m = splitCommand(t, td)
			next = cmd.GetSplitRange().GetRightPartition()
		default:
			group, cmd = meta, directoryCommand(t, td)
		}
		out := sameOn(t, group, func(r *splitReplica) string {
			b := r.eng.NewIndexedBatch()
			a := fsm.NewApplier(b, r.desc)
			a.SetMembers(m)
			res, err := a.Apply(proto.Clone(cmd).(*partitapb.Command))
			if err == nil {
				err = a.Flush()
			}
			if err == nil {
				err = r.eng.Commit(b)
			}
			if err != nil {
				t.Fatal(err)
			}
			r.desc = a.Descriptor()
			return describeSplitResult(res)
		})
		if td.Cmd == "split" && strings.HasPrefix(out, "ok") {
			right = next
		}
		return out
	})
}

// sameOn runs f on every replica and fails unless they all say the same.
func sameOn(t *testing.T, group [3]*splitReplica, f func(*splitReplica) string) string {
	t.Helper()
	var out string
	for i, r := range group {
		got := f(r)
		if i > 0 && got != out {
			t.Fatalf("replica %d says\n%s\nreplica 0 says\n%s", i, got, out)
		}
		out = got
	}
	return out
}

func scanArg(t *testing.T, td *datadriven.TestData, name string) string {
	var v string
	td.ScanArgs(t, name, &v)
	return v
}

func uintArg(t *testing.T, td *datadriven.TestData, name string, def uint64) uint64 {
	if !td.HasArg(name) {
		return def
	}
	v, err := strconv.ParseUint(scanArg(t, td, name), 0, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func idsArg(t *testing.T, td *datadriven.TestData, name string, def []uint64) []uint64 {
	if !td.HasArg(name) {
		return def
	}
	var ids []uint64
	for _, s := range strings.Split(scanArg(t, td, name), ",") {
		if s == "" {
			continue
		}
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, v)
	}
	return ids
}

func splitCommand(t *testing.T, td *datadriven.TestData) (*partitapb.Command, fsm.Members) {
	h := uintArg(t, td, "hash", 0)
	if td.HasArg("at") {
		h = item.Hash(item.S(scanArg(t, td, "at")))
	}
	op := &partitapb.SplitRange{
		TableId: 1, SplitHash: h, RightPartition: uintArg(t, td, "right", 0),
		ExpectedGeneration: uintArg(t, td, "gen", 1), Voters: idsArg(t, td, "voters", []uint64{1, 2, 3}),
	}
	m := fsm.Members{
		Voters: idsArg(t, td, "members", []uint64{1, 2, 3}), Learners: idsArg(t, td, "learners", nil),
		Joint: td.HasArg("joint"),
	}
	return &partitapb.Command{RangeGeneration: uintArg(t, td, "routed", 0), Op: &partitapb.Command_SplitRange{SplitRange: op}}, m
}

func directoryCommand(t *testing.T, td *datadriven.TestData) *partitapb.Command {
	switch td.Cmd {
	case "create-table":
		return &partitapb.Command{Op: &partitapb.Command_CreateTable{CreateTable: &partitapb.CreateTable{
			Table: &partitapb.Table{Name: scanArg(t, td, "name"), Status: "ACTIVE"}, PartitionCount: 1,
			Nodes: []uint64{1, 2, 3}, ReplicationFactor: 3}}}
	case "allocate":
		return &partitapb.Command{Op: &partitapb.Command_AllocatePartition{AllocatePartition: &partitapb.AllocatePartition{}}}
	case "record-split":
		return &partitapb.Command{Op: &partitapb.Command_SplitPartition{SplitPartition: &partitapb.SplitPartition{
			Table: scanArg(t, td, "table"), Partition: uintArg(t, td, "partition", 0),
			ExpectedRangeGeneration: uintArg(t, td, "gen", 1), SplitHash: uintArg(t, td, "hash", 0),
			RightPartition: uintArg(t, td, "right", 0), RightReplicas: idsArg(t, td, "replicas", nil),
		}}}
	}
	t.Fatalf("unknown command %s", td.Cmd)
	return nil
}

func describeSplitResult(res *partitapb.Result) string {
	var b strings.Builder
	if e := res.GetError(); e != nil {
		fmt.Fprintf(&b, "error %s: %s\n", e.GetCode(), e.GetMessage())
	} else {
		b.WriteString("ok\n")
	}
	if s := res.GetSplit(); s != nil {
		fmt.Fprintf(&b, "left %s\nright %s\n", descString(s.GetLeft()), descString(s.GetRight()))
	}
	if id := res.GetPartitionId(); id != 0 {
		fmt.Fprintf(&b, "partition %d\n", id)
	}
	return b.String()
}

// descString prints a descriptor as partition, generation and hash range.
func descString(d *partitapb.Descriptor) string {
	var b strings.Builder
	fmt.Fprintf(&b, "partition=%d generation=%d", d.GetPartition(), d.GetGeneration())
	for _, sp := range d.GetSpans() {
		table, lo, hi, ok := fsm.ParseHashSpan(sp)
		if !ok {
			fmt.Fprintf(&b, " span=[%x,%x)", sp.GetStart(), sp.GetEnd())
			continue
		}
		fmt.Fprintf(&b, " table=%d hashes=[%#x,%#x)", table, lo, hi)
	}
	return b.String()
}

func describePartition(t *testing.T, r *splitReplica, right uint64) string {
	var b strings.Builder
	for _, p := range []uint64{part, right} {
		if p == 0 {
			continue
		}
		d := &partitapb.Descriptor{}
		if raw, err := r.eng.Get(fsm.DescriptorKey(p)); err == nil {
			if err := proto.Unmarshal(raw, d); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "descriptor %s\n", descString(d))
		}
		s, err := fsm.ReadStats(r.eng.Reader(), p)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "stats %d: items=%d bytes=%d\n", p, s.Items, s.Bytes)
		if raw, err := r.eng.Get(fsm.SplitKey(p)); err == nil {
			sr := &partitapb.SplitRange{}
			if err := proto.Unmarshal(raw, sr); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "split record %d: hash=%#x right=%d generation=%d\n", p, sr.GetSplitHash(), sr.GetRightPartition(), sr.GetExpectedGeneration())
		}
	}
	fmt.Fprintf(&b, "fence %s\n", descString(r.desc))
	return b.String()
}

func describePartitions(t *testing.T, r *splitReplica, name string) string {
	tbl, err := directory.ReadTable(r.eng.Reader(), name)
	if err != nil || tbl == nil {
		t.Fatalf("table %s: %v", name, err)
	}
	var b strings.Builder
	for _, p := range tbl.GetPartitions() {
		fmt.Fprintf(&b, "partition %d hashes=[%#x,%#x) generation=%d range-generation=%d replicas=%v\n",
			p.GetId(), p.GetHashStart(), p.GetHashEnd(), p.GetGeneration(), p.GetRangeGeneration(), p.GetReplicas())
	}
	return b.String()
}
