package fsm_test

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

func openEngine(t *testing.T) *engine.Engine {
	t.Helper()
	eng, err := engine.Open(engine.Options{Dir: "db", FS: engine.NewMemFS()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	return eng
}

// rangeOf is the range the tests' partitions own: the directory for the
// meta partition, the whole of table 1 for any other.
func rangeOf(partition uint64) *partitapb.Descriptor {
	if partition == directory.MetaPartition {
		return &partitapb.Descriptor{Partition: partition, Spans: directory.MetaSpans(), Generation: 1}
	}
	start, end := engine.HashSpan(1, 0, 0)
	return &partitapb.Descriptor{Partition: partition, Spans: []*partitapb.Span{{Start: start, End: end}}, Generation: 1}
}

// apply applies cmd in its own batch, as partition owning rangeOf(partition)
// does, and commits it.
func apply(t *testing.T, eng *engine.Engine, partition uint64, cmd *partitapb.Command) *partitapb.Result {
	t.Helper()
	return applyIn(t, eng, rangeOf(partition), cmd)
}

// applyIn applies cmd in its own batch, as the replica of range d does, and
// commits it.
func applyIn(t *testing.T, eng *engine.Engine, d *partitapb.Descriptor, cmd *partitapb.Command) *partitapb.Result {
	t.Helper()
	b := eng.NewIndexedBatch()
	res, err := fsm.Apply(b, d, cmd)
	if err != nil {
		b.Close()
		t.Fatalf("apply: %v", err)
	}
	if err := eng.Commit(b); err != nil {
		t.Fatal(err)
	}
	return res
}

const part = 7

func key(t *testing.T, pk string) []byte {
	t.Helper()
	k, err := engine.DataKey(nil, 1, item.S(pk), item.Value{})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func cond(text string, values item.Item) *partitapb.Expression {
	e := &partitapb.Expression{Text: text}
	if values != nil {
		e.Values = item.EncodeItem(values)
	}
	return e
}

func put(k []byte, it item.Item, c *partitapb.Expression) *partitapb.Command {
	return &partitapb.Command{Op: &partitapb.Command_PutItem{PutItem: &partitapb.PutItem{
		Key: k, Item: item.EncodeItem(it), Condition: c,
	}}}
}

func update(k []byte, keyItem item.Item, u, c *partitapb.Expression) *partitapb.Command {
	return &partitapb.Command{Op: &partitapb.Command_UpdateItem{UpdateItem: &partitapb.UpdateItem{
		Key: k, KeyItem: item.EncodeItem(keyItem), Update: u, Condition: c,
	}}}
}

func del(k []byte, c *partitapb.Expression) *partitapb.Command {
	return &partitapb.Command{Op: &partitapb.Command_DeleteItem{DeleteItem: &partitapb.DeleteItem{Key: k, Condition: c}}}
}

func decode(t *testing.T, b []byte) item.Item {
	t.Helper()
	it, err := item.DecodeItem(b)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

func TestPutCondition(t *testing.T) {
	eng := openEngine(t)
	k := key(t, "a")
	first := item.Item{"pk": item.S("a"), "v": item.N(item.MustNumber("1"))}
	notExists := cond("attribute_not_exists(pk)", nil)
	if res := apply(t, eng, part, put(k, first, notExists)); res.GetError() != nil || res.GetHasOld() {
		t.Fatalf("first put: %v", res)
	}
	second := item.Item{"pk": item.S("a"), "v": item.N(item.MustNumber("2"))}
	res := apply(t, eng, part, put(k, second, notExists))
	if res.GetError().GetCode() != partitapb.Error_CONDITION_FAILED {
		t.Fatalf("second put: want CONDITION_FAILED, got %v", res)
	}
	if !res.GetHasOld() || !item.Equal(item.M(decode(t, res.GetOldItem())), item.M(first)) {
		t.Fatalf("rejected put must return the stored item, got %v", res)
	}
	raw, err := eng.Get(k)
	if err != nil || !item.Equal(item.M(decode(t, raw)), item.M(first)) {
		t.Fatalf("stored item changed by a rejected put: %v %v", raw, err)
	}
}

func TestUpdateCreatesAndCounts(t *testing.T) {
	eng := openEngine(t)
	k := key(t, "c")
	keyItem := item.Item{"pk": item.S("c")}
	add := cond("ADD n :one", item.Item{":one": item.N(item.MustNumber("1"))})
	for i := 0; i < 5; i++ {
		if res := apply(t, eng, part, update(k, keyItem, add, nil)); res.GetError() != nil {
			t.Fatal(res.GetError())
		}
	}
	raw, err := eng.Get(k)
	if err != nil {
		t.Fatal(err)
	}
	got := decode(t, raw)
	want := item.Item{"pk": item.S("c"), "n": item.N(item.MustNumber("5"))}
	if !item.Equal(item.M(got), item.M(want)) {
		t.Fatalf("got %v, want %v", got, want)
	}
	st, err := fsm.ReadStats(eng.Reader(), part)
	if err != nil || st.Items != 1 || st.Bytes != int64(want.Size()) {
		t.Fatalf("stats %+v (%v), want 1 item of %d bytes", st, err, want.Size())
	}
}

func TestUpdateTypeErrorRejectsWithoutWriting(t *testing.T) {
	eng := openEngine(t)
	k := key(t, "x")
	apply(t, eng, part, put(k, item.Item{"pk": item.S("x"), "s": item.S("str")}, nil))
	bad := cond("SET s = s + :one", item.Item{":one": item.N(item.MustNumber("1"))})
	res := apply(t, eng, part, update(k, item.Item{"pk": item.S("x")}, bad, nil))
	if res.GetError().GetCode() != partitapb.Error_VALIDATION {
		t.Fatalf("want VALIDATION, got %v", res)
	}
}

func TestDeleteAndStats(t *testing.T) {
	eng := openEngine(t)
	for _, pk := range []string{"a", "b", "c"} {
		apply(t, eng, part, put(key(t, pk), item.Item{"pk": item.S(pk)}, nil))
	}
	res := apply(t, eng, part, del(key(t, "b"), cond("attribute_exists(pk)", nil)))
	if res.GetError() != nil || !res.GetHasOld() {
		t.Fatalf("delete: %v", res)
	}
	if res := apply(t, eng, part, del(key(t, "b"), cond("attribute_exists(pk)", nil))); res.GetError().GetCode() != partitapb.Error_CONDITION_FAILED {
		t.Fatalf("second delete: want CONDITION_FAILED, got %v", res)
	}
	st, _ := fsm.ReadStats(eng.Reader(), part)
	if st.Items != 2 {
		t.Fatalf("items = %d, want 2", st.Items)
	}
	apply(t, eng, part, &partitapb.Command{Op: &partitapb.Command_DestroyRange{DestroyRange: &partitapb.DestroyRange{TableId: 1}}})
	if _, err := eng.Get(key(t, "a")); err != engine.ErrNotFound {
		t.Fatalf("item survived DestroyRange: %v", err)
	}
	if st, _ := fsm.ReadStats(eng.Reader(), part); st != (fsm.Stats{}) {
		t.Fatalf("stats survived DestroyRange: %+v", st)
	}
}

func TestItemTooLarge(t *testing.T) {
	eng := openEngine(t)
	big := item.Item{"pk": item.S("a"), "v": item.S(string(bytes.Repeat([]byte("x"), item.MaxItemSize)))}
	res := apply(t, eng, part, put(key(t, "a"), big, nil))
	if res.GetError().GetCode() != partitapb.Error_ITEM_TOO_LARGE {
		t.Fatalf("want ITEM_TOO_LARGE, got %v", res.GetError())
	}
}

func createTable(name string) *partitapb.Command {
	return &partitapb.Command{UnixNanos: 42, Op: &partitapb.Command_CreateTable{CreateTable: &partitapb.CreateTable{
		Table: &partitapb.Table{Name: name, Status: "CREATING"}, PartitionCount: 5,
	}}}
}

func TestCreateTableAssignsIdsAndCoversHashSpace(t *testing.T) {
	eng := openEngine(t)
	res := apply(t, eng, directory.MetaPartition, createTable("t1"))
	tbl := res.GetTable()
	if tbl.GetId() != 1 || tbl.GetCreationUnixNanos() != 42 || len(tbl.GetPartitions()) != 5 {
		t.Fatalf("created %v", tbl)
	}
	parts := tbl.GetPartitions()
	if parts[0].GetHashStart() != 0 || parts[len(parts)-1].GetHashEnd() != 0 {
		t.Fatalf("partitions do not cover the hash space: %v", parts)
	}
	for i := 1; i < len(parts); i++ {
		if parts[i].GetHashStart() != parts[i-1].GetHashEnd() || parts[i].GetHashStart() <= parts[i-1].GetHashStart() {
			t.Fatalf("partitions %d and %d are not adjacent: %v", i-1, i, parts)
		}
		if parts[i].GetId() == parts[i-1].GetId() || parts[i].GetId() == directory.MetaPartition {
			t.Fatalf("partition ids not unique: %v", parts)
		}
	}
	if res := apply(t, eng, directory.MetaPartition, createTable("t1")); res.GetError().GetCode() != partitapb.Error_TABLE_IN_USE {
		t.Fatalf("duplicate create: %v", res)
	}
	t2 := apply(t, eng, directory.MetaPartition, createTable("t2")).GetTable()
	if t2.GetId() != 2 || t2.GetPartitions()[0].GetId() <= parts[len(parts)-1].GetId() {
		t.Fatalf("second table ids: %v", t2)
	}
	tables, err := directory.ReadTables(eng.Reader())
	if err != nil || len(tables) != 2 || tables[0].GetName() != "t1" {
		t.Fatalf("ReadTables = %v, %v", tables, err)
	}
	if res := apply(t, eng, directory.MetaPartition, &partitapb.Command{Op: &partitapb.Command_DeleteTable{DeleteTable: &partitapb.DeleteTable{Name: "t1"}}}); res.GetTable().GetStatus() != "DELETING" {
		t.Fatalf("delete: %v", res)
	}
	if got, _ := directory.ReadTable(eng.Reader(), "t1"); got != nil {
		t.Fatalf("deleted table still readable: %v", got)
	}
	// Ids are never reused: a new table after a delete gets a fresh id.
	if t3 := apply(t, eng, directory.MetaPartition, createTable("t1")).GetTable(); t3.GetId() != 3 {
		t.Fatalf("recreated table id = %d, want 3", t3.GetId())
	}
}

// TestDeterministic applies one command sequence on two engines and checks
// they end with identical results and identical contents.
func TestDeterministic(t *testing.T) {
	var results [2][]*partitapb.Result
	var contents [2][][2][]byte
	for run := range 2 {
		eng := openEngine(t)
		cmds := []*partitapb.Command{
			createTable("t"),
			put(key(t, "a"), item.Item{"pk": item.S("a"), "m": item.M(item.Item{"x": item.S("1"), "y": item.Bool(true)})}, nil),
			update(key(t, "a"), item.Item{"pk": item.S("a")}, cond("SET l = list_append(if_not_exists(l, :e), :e) ADD n :one", item.Item{":e": item.L([]item.Value{item.S("z")}), ":one": item.N(item.MustNumber("1"))}), nil),
			update(key(t, "b"), item.Item{"pk": item.S("b")}, cond("SET v = :v", item.Item{":v": item.NS([]item.Number{item.MustNumber("3"), item.MustNumber("1")})}), nil),
			del(key(t, "a"), cond("n = :one", item.Item{":one": item.N(item.MustNumber("1"))})),
		}
		for i, c := range cmds {
			p := uint64(part)
			if i == 0 {
				p = directory.MetaPartition
			}
			results[run] = append(results[run], apply(t, eng, p, c))
		}
		it, err := eng.NewIter(nil, []byte{0xff})
		if err != nil {
			t.Fatal(err)
		}
		for ok := it.First(); ok; ok = it.Next() {
			contents[run] = append(contents[run], [2][]byte{append([]byte(nil), it.Key()...), append([]byte(nil), it.Value()...)})
		}
		it.Close()
	}
	for i := range results[0] {
		if !proto.Equal(results[0][i], results[1][i]) {
			t.Fatalf("result %d differs: %v vs %v", i, results[0][i], results[1][i])
		}
	}
	if len(contents[0]) != len(contents[1]) || len(contents[0]) == 0 {
		t.Fatalf("contents differ in size: %d vs %d", len(contents[0]), len(contents[1]))
	}
	for i := range contents[0] {
		if !bytes.Equal(contents[0][i][0], contents[1][i][0]) || !bytes.Equal(contents[0][i][1], contents[1][i][1]) {
			t.Fatalf("entry %d differs", i)
		}
	}
}

func TestNodesAndReplicas(t *testing.T) {
	eng := openEngine(t)
	put := func(n *partitapb.Node, at int64) *partitapb.Result {
		return apply(t, eng, directory.MetaPartition, &partitapb.Command{UnixNanos: at, Op: &partitapb.Command_PutNode{PutNode: &partitapb.PutNode{Node: n}}})
	}
	first := put(&partitapb.Node{PeerAddr: "a:7000"}, 100).GetNode()
	second := put(&partitapb.Node{PeerAddr: "b:7000"}, 200).GetNode()
	if first.GetId() != 1 || second.GetId() != 2 || first.GetJoinedUnixNanos() != 100 {
		t.Fatalf("ids %d %d joined %d", first.GetId(), second.GetId(), first.GetJoinedUnixNanos())
	}
	beat := put(&partitapb.Node{Id: 1, PeerAddr: "a2:7000"}, 300).GetNode()
	if beat.GetJoinedUnixNanos() != 100 || beat.GetHeartbeatUnixNanos() != 300 || beat.GetPeerAddr() != "a2:7000" {
		t.Fatalf("heartbeat record %v", beat)
	}
	if res := put(&partitapb.Node{Id: 9}, 400); res.GetError().GetCode() != partitapb.Error_VALIDATION {
		t.Fatalf("unknown node id accepted: %v", res)
	}
	nodes, err := directory.ReadNodes(eng.Reader())
	if err != nil || len(nodes) != 2 {
		t.Fatalf("nodes %v %v", nodes, err)
	}
	tbl := apply(t, eng, directory.MetaPartition, createTable("r")).GetTable()
	p := tbl.GetPartitions()[0]
	set := func(gen uint64) *partitapb.Result {
		return apply(t, eng, directory.MetaPartition, &partitapb.Command{Op: &partitapb.Command_SetReplicas{SetReplicas: &partitapb.SetReplicas{
			Table: "r", Partition: p.GetId(), Replicas: []uint64{1, 2}, ExpectedGeneration: gen,
		}}})
	}
	if res := set(p.GetGeneration()); res.GetError() != nil || res.GetTable().GetPartitions()[0].GetGeneration() != p.GetGeneration()+1 {
		t.Fatalf("set replicas: %v", res)
	}
	if res := set(p.GetGeneration()); res.GetError().GetCode() != partitapb.Error_VALIDATION {
		t.Fatalf("stale generation accepted: %v", res)
	}
}

// An Applier sums the statistics of a batch's commands and writes them
// once; a DestroyRange in the batch drops the changes before it.
func TestApplierStatsInOneBatch(t *testing.T) {
	eng := openEngine(t)
	apply(t, eng, part, put(key(t, "old"), item.Item{"pk": item.S("old")}, nil))
	b := eng.NewIndexedBatch()
	a := fsm.NewApplier(b, rangeOf(part))
	mustApply := func(cmd *partitapb.Command) {
		t.Helper()
		if res, err := a.Apply(cmd); err != nil || res.GetError() != nil {
			t.Fatalf("apply: %v %v", res, err)
		}
	}
	mustApply(put(key(t, "x"), item.Item{"pk": item.S("x")}, nil))
	mustApply(&partitapb.Command{Op: &partitapb.Command_DestroyRange{DestroyRange: &partitapb.DestroyRange{TableId: 1}}})
	for _, pk := range []string{"a", "b", "c"} {
		mustApply(put(key(t, pk), item.Item{"pk": item.S(pk), "v": item.S("12345")}, nil))
	}
	mustApply(put(key(t, "b"), item.Item{"pk": item.S("b")}, nil)) // an overwrite: the size shrinks
	mustApply(del(key(t, "c"), nil))
	if st, _ := fsm.ReadStats(b, part); st.Items != 0 {
		t.Fatalf("statistics written before Flush: %+v", st)
	}
	if err := a.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := eng.Commit(b); err != nil {
		t.Fatal(err)
	}
	got, _ := fsm.ReadStats(eng.Reader(), part)
	want := fsm.Stats{Items: 2, Bytes: int64(item.Item{"pk": item.S("a"), "v": item.S("12345")}.Size() + item.Item{"pk": item.S("b")}.Size())}
	if got != want {
		t.Fatalf("stats = %+v, want %+v", got, want)
	}
}

// TestUpdateTableRevision: an UpdateTable naming the revision it was made
// from applies only at that revision, and moves the revision on; one
// naming none (written before the cluster version allowed revisions)
// applies as it always did and leaves the revision alone.
func TestUpdateTableRevision(t *testing.T) {
	eng := openEngine(t)
	apply(t, eng, directory.MetaPartition, createTable("t1"))
	update := func(class string, expected *uint64) *partitapb.Result {
		t.Helper()
		return apply(t, eng, directory.MetaPartition, &partitapb.Command{Op: &partitapb.Command_UpdateTable{UpdateTable: &partitapb.UpdateTable{
			Name: "t1", Table: &partitapb.Table{TableClass: class}, ExpectedRevision: expected}}})
	}
	if res := update("A", proto.Uint64(0)); res.GetError() != nil || res.GetTable().GetRevision() != 1 {
		t.Fatalf("update at revision 0: %v", res)
	}
	res := update("B", proto.Uint64(0))
	if res.GetError().GetCode() != partitapb.Error_REVISION_CONFLICT {
		t.Fatalf("update made from revision 0 at revision 1: want REVISION_CONFLICT, got %v", res)
	}
	if res := update("C", nil); res.GetError() != nil || res.GetTable().GetRevision() != 1 || res.GetTable().GetTableClass() != "C" {
		t.Fatalf("update naming no revision: %v", res)
	}
	if res := update("D", proto.Uint64(1)); res.GetError() != nil || res.GetTable().GetRevision() != 2 || res.GetTable().GetTableClass() != "D" {
		t.Fatalf("update at revision 1: %v", res)
	}
}
