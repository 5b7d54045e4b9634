package fsm_test

import (
	"bytes"
	"fmt"
	"math"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

const half = uint64(1) << 63

// lowerHalf is partition 7 owning the lower half of table 1's hash space,
// at range generation 3.
func lowerHalf() *partitapb.Descriptor {
	p := &partitapb.Partition{Id: part, TableId: 1, HashStart: 0, HashEnd: half}
	return &partitapb.Descriptor{Partition: part, Spans: directory.Spans(p), Generation: 3}
}

// pkHashing returns a partition key of table 1 whose hash is below half
// (upper false) or at or above it (upper true).
func pkHashing(t *testing.T, upper bool) string {
	t.Helper()
	for i := range 1000 {
		pk := fmt.Sprint("k", i)
		if (item.Hash(item.S(pk)) >= half) == upper {
			return pk
		}
	}
	t.Fatal("no key found")
	return ""
}

func wantWrongRange(t *testing.T, what string, res *partitapb.Result) {
	t.Helper()
	if res.GetError().GetCode() != partitapb.Error_WRONG_RANGE {
		t.Fatalf("%s: %v, want WRONG_RANGE", what, res)
	}
	if res.GetHasOld() || res.GetHasNew() || res.GetTable() != nil {
		t.Fatalf("%s: a refusal carries images: %v", what, res)
	}
}

// contents returns every key and value of eng.
func contents(t *testing.T, eng *engine.Engine) [][2][]byte {
	t.Helper()
	it, err := eng.NewIter(nil, []byte{0xff})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	var out [][2][]byte
	for ok := it.First(); ok; ok = it.Next() {
		out = append(out, [2][]byte{bytes.Clone(it.Key()), bytes.Clone(it.Value())})
	}
	return out
}

func sameContents(a, b [][2][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i][0], b[i][0]) || !bytes.Equal(a[i][1], b[i][1]) {
			return false
		}
	}
	return true
}

// Item commands apply only to keys inside the replica's spans; outside, they
// are refused and write nothing, statistics included.
func TestFenceItemKeys(t *testing.T) {
	eng := openEngine(t)
	d := lowerHalf()
	in, out := pkHashing(t, false), pkHashing(t, true)
	if res := applyIn(t, eng, d, put(key(t, in), item.Item{"pk": item.S(in)}, nil)); res.GetError() != nil {
		t.Fatalf("put inside: %v", res)
	}
	before := contents(t, eng)
	otherTable, err := engine.DataKey(nil, 2, item.S(in), item.Value{})
	if err != nil {
		t.Fatal(err)
	}
	for name, cmd := range map[string]*partitapb.Command{
		"put outside":          put(key(t, out), item.Item{"pk": item.S(out)}, nil),
		"update outside":       update(key(t, out), item.Item{"pk": item.S(out)}, cond("SET v = :v", item.Item{":v": item.S("x")}), nil),
		"delete outside":       del(key(t, out), nil),
		"put in another table": put(otherTable, item.Item{"pk": item.S(in)}, nil),
		"put without a key":    put(nil, item.Item{"pk": item.S(in)}, nil),
		"meta command":         createTable("t"),
	} {
		wantWrongRange(t, name, applyIn(t, eng, d, cmd))
	}
	if !sameContents(before, contents(t, eng)) {
		t.Fatal("a refused command wrote")
	}
	if st, _ := fsm.ReadStats(eng.Reader(), part); st.Items != 1 {
		t.Fatalf("stats %+v after refusals, want 1 item", st)
	}
	if res := applyIn(t, eng, d, del(key(t, in), nil)); res.GetError() != nil || !res.GetHasOld() {
		t.Fatalf("delete inside: %v", res)
	}
}

// DestroyRange must name a hash range the replica owns whole.
func TestFenceDestroyRange(t *testing.T) {
	eng := openEngine(t)
	d := lowerHalf()
	in := pkHashing(t, false)
	applyIn(t, eng, d, put(key(t, in), item.Item{"pk": item.S(in)}, nil))
	destroy := func(lo, hi uint64) *partitapb.Command {
		return &partitapb.Command{Op: &partitapb.Command_DestroyRange{DestroyRange: &partitapb.DestroyRange{TableId: 1, HashStart: lo, HashEnd: hi}}}
	}
	wantWrongRange(t, "the whole table", applyIn(t, eng, d, destroy(0, 0)))
	wantWrongRange(t, "the upper half", applyIn(t, eng, d, destroy(half, 0)))
	wantWrongRange(t, "across the boundary", applyIn(t, eng, d, destroy(half-1, half+1)))
	if _, err := eng.Get(key(t, in)); err != nil {
		t.Fatalf("refused DestroyRange removed an item: %v", err)
	}
	if res := applyIn(t, eng, d, destroy(0, half)); res.GetError() != nil {
		t.Fatalf("own range: %v", res)
	}
	if _, err := eng.Get(key(t, in)); err == nil {
		t.Fatal("DestroyRange of the own range left the item")
	}
}

// A command routed by an older range generation is refused even for a key
// the range holds; a current or newer one applies, and 0 is checked by key
// alone.
func TestFenceGeneration(t *testing.T) {
	eng := openEngine(t)
	d := lowerHalf()
	in, out := pkHashing(t, false), pkHashing(t, true)
	at := func(gen uint64, pk string) *partitapb.Command {
		c := update(key(t, pk), item.Item{"pk": item.S(pk)}, cond("ADD n :one", item.Item{":one": item.N(item.MustNumber("1"))}), nil)
		c.RangeGeneration = gen
		return c
	}
	for _, gen := range []uint64{1, 2} {
		wantWrongRange(t, fmt.Sprint("generation ", gen), applyIn(t, eng, d, at(gen, in)))
	}
	for _, gen := range []uint64{0, 3, 4, math.MaxUint64} {
		if res := applyIn(t, eng, d, at(gen, in)); res.GetError() != nil {
			t.Fatalf("generation %d: %v", gen, res)
		}
	}
	wantWrongRange(t, "generation 0 outside", applyIn(t, eng, d, at(0, out)))
	wantWrongRange(t, "current generation outside", applyIn(t, eng, d, at(3, out)))
	raw, err := eng.Get(key(t, in))
	if err != nil {
		t.Fatal(err)
	}
	if it, _ := item.DecodeItem(raw); it["n"].N.String() != "4" {
		t.Fatalf("n = %s, want 4 (the refused commands must not count)", it["n"].N)
	}
	// A descriptor written before ranges had generations fences by key only.
	old := lowerHalf()
	old.Generation = 0
	if res := applyIn(t, eng, old, at(1, in)); res.GetError() != nil {
		t.Fatalf("generation 1 on an unversioned range: %v", res)
	}
}

// The meta partition applies directory commands and nothing else; a
// partition of a table never applies them.
func TestFenceMetaPartition(t *testing.T) {
	eng := openEngine(t)
	meta := rangeOf(directory.MetaPartition)
	if res := applyIn(t, eng, meta, createTable("t")); res.GetError() != nil {
		t.Fatalf("create table on meta: %v", res)
	}
	node := &partitapb.Command{Op: &partitapb.Command_PutNode{PutNode: &partitapb.PutNode{Node: &partitapb.Node{PeerAddr: "a:1"}}}}
	if res := applyIn(t, eng, meta, node); res.GetError() != nil {
		t.Fatalf("put node on meta: %v", res)
	}
	wantWrongRange(t, "item on meta", applyIn(t, eng, meta, put(key(t, "a"), item.Item{"pk": item.S("a")}, nil)))
	wantWrongRange(t, "put node on a table's partition", applyIn(t, eng, rangeOf(part), node))
	wantWrongRange(t, "create table on a table's partition", applyIn(t, eng, rangeOf(part), createTable("u")))
	if got, _ := directory.ReadTable(eng.Reader(), "u"); got != nil {
		t.Fatal("a refused CreateTable wrote its record")
	}
	// A replica that owns no spans (an empty one waiting for its first
	// snapshot) applies nothing.
	wantWrongRange(t, "no spans", applyIn(t, eng, &partitapb.Descriptor{Partition: part}, put(key(t, "a"), item.Item{"pk": item.S("a")}, nil)))
}

// Two replicas applying the same log, refusals among it, compute the same
// results and the same state.
func TestFenceDeterministic(t *testing.T) {
	in, out := pkHashing(t, false), pkHashing(t, true)
	stale := put(key(t, in), item.Item{"pk": item.S(in), "v": item.S("stale")}, nil)
	stale.RangeGeneration = 2
	log := []*partitapb.Command{
		put(key(t, in), item.Item{"pk": item.S(in)}, nil),
		put(key(t, out), item.Item{"pk": item.S(out)}, nil),
		stale,
		update(key(t, in), item.Item{"pk": item.S(in)}, cond("SET v = :v", item.Item{":v": item.S("x")}), nil),
		del(key(t, out), nil),
		createTable("t"),
	}
	var results [2][]*partitapb.Result
	var state [2][][2][]byte
	for run := range 2 {
		eng := openEngine(t)
		b := eng.NewIndexedBatch()
		a := fsm.NewApplier(b, lowerHalf())
		for _, c := range log {
			res, err := a.Apply(c)
			if err != nil {
				t.Fatal(err)
			}
			results[run] = append(results[run], res)
		}
		if err := a.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := eng.Commit(b); err != nil {
			t.Fatal(err)
		}
		state[run] = contents(t, eng)
	}
	refused := 0
	for i := range results[0] {
		if !proto.Equal(results[0][i], results[1][i]) {
			t.Fatalf("result %d differs: %v vs %v", i, results[0][i], results[1][i])
		}
		if results[0][i].GetError().GetCode() == partitapb.Error_WRONG_RANGE {
			refused++
		}
	}
	if refused != 4 {
		t.Fatalf("%d commands refused, want 4: %v", refused, results[0])
	}
	if len(state[0]) == 0 || !sameContents(state[0], state[1]) {
		t.Fatal("the replicas' states differ")
	}
}
