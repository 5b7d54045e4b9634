package fsm_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

// changeLeader is the change log script's partition 7: an engine, its
// range, the view of table 1's change log and the lease index of the
// last entry, as a leader would propose them.
type changeLeader struct {
	eng  *engine.Engine
	desc *partitapb.Descriptor
	view partitapb.ChangeView
	lai  uint64
	// right is the right half of the split, once made (its own leader).
	right *changeLeader
}

// TestChangeLog runs testdata/changelog.txt: item writes evaluated as a
// leader does (fsm.Evaluate, fsm.WithChange with the table's view) and
// applied from their Effects, and what partition 7's change log holds.
//
//	view V                          the table's change view from now on
//	put pk=K [v=N] [t=T] [if-absent] [p=P] [returns=R]  PutItem {pk: K, v: N} evaluated at time T (to the right half: p=R),
//	                                its record keeping the images R names (old, new, both; the answer shows them)
//	add pk=K [t=T]                  UpdateItem ADD n 1
//	delete pk=K [t=T] [if-present] [returns=R]  DeleteItem
//	stale pk=K [v=N]                a put whose lease index is not above the applied one
//	trim cutoff=T                   a refused write carrying the trim point of cutoff
//	split at=K right=R              SplitRange at K's hash, right half R
//	merge                           the right half frozen, then merged into the left
//	changes [p=P] [after=N] [limit=N]  ReadChanges and the log's segments
//	adopted origin=O [after=N]       ReadAdoptedChanges and ReadAdoptedSegments of partition 7
func TestChangeLog(t *testing.T) {
	l := &changeLeader{eng: openEngine(t), desc: rangeOf(part)}
	datadriven.RunTest(t, "testdata/changelog.txt", func(t *testing.T, td *datadriven.TestData) string {
		switch td.Cmd {
		case "view":
			l.view = partitapb.ChangeView(partitapb.ChangeView_value[td.CmdArgs[0].Key])
			return ""
		case "changes":
			return describeChanges(t, l.eng, uintArg(t, td, "p", part), uintArg(t, td, "after", 0), int(uintArg(t, td, "limit", 0)))
		case "adopted":
			origin := uintArg(t, td, "origin", 0)
			c, err := fsm.ReadAdoptedChanges(l.eng, part, origin, uintArg(t, td, "after", 0), 0)
			if err != nil {
				t.Fatal(err)
			}
			segs, err := fsm.ReadAdoptedSegments(l.eng, part, origin)
			if err != nil {
				t.Fatal(err)
			}
			return describePage(t, c) + describeSegments(segs)
		case "split":
			return l.split(t, td)
		case "merge":
			return l.merge(t)
		case "trim":
			cutoff := int64(uintArg(t, td, "cutoff", 0))
			to, err := fsm.ChangeTrimPoint(l.eng, part, cutoff)
			if err != nil {
				t.Fatal(err)
			}
			drop, err := fsm.ExpiredAdoptedLogs(l.eng, part, cutoff)
			if err != nil {
				t.Fatal(err)
			}
			l.lai++
			e := &partitapb.Effects{Term: 1, LeaseIndex: l.lai, Key: key(t, "z"), ChangeTrimTo: to, ChangeDropAdopted: drop,
				Error: partitapb.Errorf(partitapb.Error_CONDITION_FAILED, "refused")}
			return fmt.Sprintf("trim to %d, drop adopted %v: %s", to, drop, l.apply(t, e))
		}
		if td.HasArg("p") {
			l.right.view = l.view
			return l.right.write(t, td)
		}
		return l.write(t, td)
	})
}

// write evaluates and applies one item write of the script.
func (l *changeLeader) write(t *testing.T, td *datadriven.TestData) string {
	pk := scanArg(t, td, "pk")
	k := key(t, pk)
	var cmd *partitapb.Command
	switch td.Cmd {
	case "put", "stale":
		it := item.Item{"pk": item.S(pk), "v": item.N(item.MustNumber(strconv.FormatUint(uintArg(t, td, "v", 1), 10)))}
		var c *partitapb.Expression
		if td.HasArg("if-absent") {
			c = cond("attribute_not_exists(pk)", nil)
		}
		cmd = put(k, it, c)
	case "add":
		cmd = update(k, item.Item{"pk": item.S(pk)}, cond("ADD n :one", item.Item{":one": item.N(item.MustNumber("1"))}), nil)
	case "delete":
		var c *partitapb.Expression
		if td.HasArg("if-present") {
			c = cond("attribute_exists(pk)", nil)
		}
		cmd = del(k, c)
	default:
		t.Fatalf("unknown command %q", td.Cmd)
	}
	cmd.UnixNanos = int64(uintArg(t, td, "t", 0))
	if td.HasArg("returns") {
		r := scanArg(t, td, "returns")
		cmd.RecordOld, cmd.RecordNew = r == "old" || r == "both", r == "new" || r == "both"
	}
	e, res, err := fsm.Evaluate(l.eng, l.desc, cmd, nil, fsm.EvalHints{})
	if err != nil {
		t.Fatal(err)
	}
	if e == nil {
		return res.GetError().GetCode().String()
	}
	fsm.WithChange(e, res, l.view, cmd.GetUnixNanos())
	if td.Cmd != "stale" {
		l.lai++
	}
	e.Term, e.LeaseIndex = 1, l.lai
	return l.apply(t, e)
}

// apply applies e in a batch of its own and says what it answered.
func (l *changeLeader) apply(t *testing.T, e *partitapb.Effects) string {
	b := l.eng.NewIndexedBatch()
	a := fsm.NewApplier(b, l.desc)
	res, err := a.ApplyEffects(e, 1)
	if err == nil {
		err = a.Flush()
	}
	if err == nil {
		err = l.eng.Commit(b)
	}
	if err != nil {
		t.Fatal(err)
	}
	out := "ok"
	if code := res.GetError().GetCode(); code != partitapb.Error_UNKNOWN {
		out = code.String()
	}
	if res.GetHasOld() {
		out += " old=" + image(t, res.GetOldItem())
	}
	if res.GetHasNew() {
		out += " new=" + image(t, res.GetNewItem())
	}
	return out
}

func (l *changeLeader) split(t *testing.T, td *datadriven.TestData) string {
	h := item.Hash(item.S(scanArg(t, td, "at")))
	cmd := &partitapb.Command{Op: &partitapb.Command_SplitRange{SplitRange: &partitapb.SplitRange{
		TableId: 1, SplitHash: h, RightPartition: uintArg(t, td, "right", 0),
		ExpectedGeneration: l.desc.GetGeneration(), Voters: []uint64{1}}}}
	b := l.eng.NewIndexedBatch()
	a := fsm.NewApplier(b, l.desc)
	a.SetMembers(fsm.Members{Voters: []uint64{1}})
	res, err := a.Apply(cmd)
	if err == nil {
		err = a.Flush()
	}
	if err == nil {
		err = l.eng.Commit(b)
	}
	if err != nil {
		t.Fatal(err)
	}
	if res.GetError() != nil {
		return res.GetError().GetCode().String()
	}
	l.desc = a.Descriptor()
	l.right = &changeLeader{eng: l.eng, desc: res.GetSplit().GetRight()}
	return fmt.Sprintf("ok: left generation %d", l.desc.GetGeneration())
}

// merge merges the right half of the split back into the left: both
// frozen, then MergeRange on the left.
func (l *changeLeader) merge(t *testing.T) string {
	m := &partitapb.MergeIntent{Id: []byte("m1"), TableId: 1, Left: l.desc.GetPartition(), Right: l.right.desc.GetPartition(),
		LeftGeneration: l.desc.GetGeneration(), RightGeneration: l.right.desc.GetGeneration(), Voters: []uint64{1}}
	steps := []struct {
		on  *changeLeader
		cmd *partitapb.Command
	}{
		{l.right, &partitapb.Command{Op: &partitapb.Command_FreezeRange{FreezeRange: &partitapb.FreezeRange{Merge: m}}}},
		{l, &partitapb.Command{Op: &partitapb.Command_FreezeRange{FreezeRange: &partitapb.FreezeRange{Merge: m, Left: true}}}},
		{l, &partitapb.Command{Op: &partitapb.Command_MergeRange{MergeRange: &partitapb.MergeRange{Merge: m, KeepSegments: true}}}},
	}
	for _, st := range steps {
		b := l.eng.NewIndexedBatch()
		a := fsm.NewApplier(b, st.on.desc)
		a.SetMembers(fsm.Members{Voters: []uint64{1}})
		res, err := a.Apply(st.cmd)
		if err == nil {
			err = a.Flush()
		}
		if err == nil {
			err = l.eng.Commit(b)
		}
		if err != nil {
			t.Fatal(err)
		}
		if res.GetError() != nil {
			return res.GetError().GetCode().String()
		}
		st.on.desc = a.Descriptor()
	}
	return fmt.Sprintf("ok: generation %d", l.desc.GetGeneration())
}

// describeChanges prints partition's change log after a sequence: its
// state, its records and its segments.
func describeChanges(t *testing.T, eng *engine.Engine, partition, after uint64, limit int) string {
	c, err := fsm.ReadChanges(eng, partition, after, limit)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString(describePage(t, c))
	segs, err := fsm.ReadChangeSegments(eng, partition)
	if err != nil {
		t.Fatal(err)
	}
	b.WriteString(describeSegments(segs))
	return b.String()
}

// describeSegments prints a log's segments, one a line.
func describeSegments(segs []*partitapb.ChangeSegment) string {
	var b strings.Builder
	for _, s := range segs {
		fmt.Fprintf(&b, "segment from %d generation %d", s.GetFirstSeq(), s.GetRangeGeneration())
		for _, p := range s.GetParents() {
			fmt.Fprintf(&b, " parent %d..%d", p.GetPartition(), p.GetLastSeq())
		}
		b.WriteString("\n")
	}
	return b.String()
}

// describePage prints a page of a change log: the log's state and the
// records.
func describePage(t *testing.T, c fsm.Changes) string {
	var b strings.Builder
	fmt.Fprintf(&b, "first %d last %d trimmed %v\n", c.First, c.Last, c.Trimmed)
	for _, ch := range c.Records {
		r := ch.Record
		fmt.Fprintf(&b, "%d t=%d %s %s", ch.Seq, r.GetUnixNanos(), r.GetKind(), keyPK(t, r.GetKey()))
		if r.GetOldImage() != nil {
			fmt.Fprintf(&b, " old=%s", image(t, r.GetOldImage()))
		}
		if r.GetNewImage() != nil {
			fmt.Fprintf(&b, " new=%s", image(t, r.GetNewImage()))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// keyPK is the partition key of a table 1 item key.
func keyPK(t *testing.T, k []byte) string {
	for _, pk := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "z"} {
		if string(key(t, pk)) == string(k) {
			return pk
		}
	}
	return fmt.Sprintf("%x", k)
}

// image prints an item's v and n attributes.
func image(t *testing.T, raw []byte) string {
	it := decode(t, raw)
	var parts []string
	for _, a := range []string{"v", "n"} {
		if v, ok := it[a]; ok {
			parts = append(parts, a+":"+v.N.String())
		}
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// TestChangeLogNoneWritesNothing: a table without a view pays nothing:
// its writes leave no change record and no log state.
func TestChangeLogNoneWritesNothing(t *testing.T) {
	eng := openEngine(t)
	l := &changeLeader{eng: eng, desc: rangeOf(part)}
	for i := range 3 {
		e, res, err := fsm.Evaluate(eng, l.desc, put(key(t, "a"), item.Item{"pk": item.S("a"), "v": item.S(strconv.Itoa(i))}, nil), nil, fsm.EvalHints{})
		if err != nil {
			t.Fatal(err)
		}
		fsm.WithChange(e, res, partitapb.ChangeView_CHANGE_VIEW_NONE, 1)
		l.lai++
		e.Term, e.LeaseIndex = 1, l.lai
		if got := l.apply(t, e); got != "ok" {
			t.Fatal(got)
		}
	}
	for _, suffix := range []string{"c", "q", "e"} {
		lo := engine.LocalKey(part, engine.ReplicatedLocal+suffix)
		it, err := eng.NewIter(lo, append(lo[:len(lo):len(lo)], 0xff))
		if err != nil {
			t.Fatal(err)
		}
		if it.First() {
			t.Errorf("key %q written for a table without a change view", it.Key())
		}
		it.Close()
	}
}
