package fsm_test

import (
	"testing"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

// evalApply evaluates cmd as part's leader with hints, applies its
// Effects (lease index lai) and returns them.
func evalApply(t *testing.T, eng *engine.Engine, cmd *partitapb.Command, prior *fsm.Prior, hints fsm.EvalHints, lai uint64) *partitapb.Effects {
	t.Helper()
	e, res, err := fsm.Evaluate(eng.Reader(), rangeOf(part), cmd, prior, hints)
	if err != nil || e == nil || res.GetError() != nil {
		t.Fatalf("evaluate: %v %v", res, err)
	}
	e.Term, e.LeaseIndex = 1, lai
	if codes := applyEffects(t, eng, e); codes[0] != partitapb.Error_UNKNOWN {
		t.Fatalf("apply: %v", codes)
	}
	return e
}

func stats(t *testing.T, eng *engine.Engine) fsm.Stats {
	t.Helper()
	s, err := fsm.ReadStats(eng.Reader(), part)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func blindPut(k []byte, it item.Item) *partitapb.Command {
	c := put(k, it, nil)
	c.Id, c.Blind = []byte("p"), true
	return c
}

// TestBlindPuts: a put whose command, table and leader need nothing of
// the item it replaces is evaluated without reading it and counted as an
// insert (and among the blind puts); any of those needs makes it read
// the item, and count exactly.
func TestBlindPuts(t *testing.T) {
	eng := openEngine(t)
	a1 := item.Item{"pk": item.S("a"), "v": item.S("one")}
	a2 := item.Item{"pk": item.S("a"), "v": item.S("second")}
	blind := fsm.EvalHints{Blind: true, NoIntents: true}
	lai := uint64(0)
	next := func() uint64 { lai++; return lai }

	evalApply(t, eng, blindPut(key(t, "a"), a1), nil, fsm.EvalHints{NoIntents: true}, next())
	if s := stats(t, eng); s.Items != 1 || s.Bytes != int64(a1.Size()) || s.Blind != 0 {
		t.Fatalf("after an exact put: %+v", s)
	}
	// Each of these needs the old item: the overwrite is counted exactly.
	withCond := blindPut(key(t, "a"), a2)
	withCond.GetPutItem().Condition = cond("attribute_exists(pk)", nil)
	withOld, withSizes, withView, withLocal, notAsked := blindPut(key(t, "a"), a2), blindPut(key(t, "a"), a2),
		blindPut(key(t, "a"), a2), blindPut(key(t, "a"), a2), blindPut(key(t, "a"), a2)
	withOld.RecordOld, withSizes.RecordSizes, withView.ChangeView, notAsked.Blind = true, true, partitapb.ChangeView_KEYS_ONLY, false
	withLocal.LocalIndexes = &partitapb.LocalIndexSpec{HashKey: "pk", Indexes: []*partitapb.LocalIndex{{Name: "byV",
		KeySchema:      []*partitapb.KeyElement{{AttributeName: "pk", KeyType: "HASH"}, {AttributeName: "v", KeyType: "RANGE"}},
		ProjectionType: "KEYS_ONLY", RangeType: "S"}}}
	// (A local index needs a table with a sort key: checked on the
	// command alone.)
	if fsm.Blind(withLocal) {
		t.Error("a put with local index entries to write may be blind")
	}
	for name, c := range map[string]struct {
		cmd   *partitapb.Command
		prior *fsm.Prior
		hints fsm.EvalHints
	}{
		"a condition":          {withCond, nil, blind},
		"an old image":         {withOld, nil, blind},
		"sizes":                {withSizes, nil, blind},
		"a change view":        {withView, nil, blind},
		"a router that cannot": {notAsked, nil, blind},
		"a leader that cannot": {blindPut(key(t, "a"), a2), nil, fsm.EvalHints{NoIntents: true}},
		"intents":              {blindPut(key(t, "a"), a2), nil, fsm.EvalHints{Blind: true}},
		"a write in flight":    {blindPut(key(t, "a"), a2), &fsm.Prior{Key: key(t, "a"), Value: item.EncodeItem(a1)}, blind},
	} {
		e, res, err := fsm.Evaluate(eng.Reader(), rangeOf(part), c.cmd, c.prior, c.hints)
		if err != nil || res.GetError() != nil {
			t.Fatalf("%s: %v %v", name, res, err)
		}
		if e.GetBlind() || e.GetItems() != 0 || e.GetBytes() != int64(a2.Size()-a1.Size()) {
			t.Errorf("with %s: blind %v, items %+d, bytes %+d; want an exact overwrite", name, e.GetBlind(), e.GetItems(), e.GetBytes())
		}
	}

	// Blind: an overwrite counted as an insert, and a true insert.
	e := evalApply(t, eng, blindPut(key(t, "a"), a2), nil, blind, next())
	if !e.GetBlind() || e.GetItems() != 1 || e.GetBytes() != int64(a2.Size()) {
		t.Fatalf("blind put: blind %v, items %+d, bytes %+d", e.GetBlind(), e.GetItems(), e.GetBytes())
	}
	b := item.Item{"pk": item.S("b"), "v": item.S("bee")}
	evalApply(t, eng, blindPut(key(t, "b"), b), nil, blind, next())
	want := fsm.Stats{Items: 3, Bytes: int64(a1.Size() + a2.Size() + b.Size()), Blind: 2}
	if s := stats(t, eng); s != want {
		t.Fatalf("after two blind puts: %+v, want %+v", s, want)
	}
	raw, err := eng.Get(key(t, "a"))
	if err != nil || !item.Equal(item.M(decode(t, raw)), item.M(a2)) {
		t.Fatalf("the blind put wrote %v (%v)", raw, err)
	}
}

// TestRecountStats: a recount corrects the statistics by what it found
// in the state it counted; the writes applied after that state keep their
// deltas; a recount of a state no newer than the last one's changes
// nothing.
func TestRecountStats(t *testing.T) {
	eng := openEngine(t)
	blind := fsm.EvalHints{Blind: true, NoIntents: true}
	lai := uint64(0)
	next := func() uint64 { lai++; return lai }
	it := func(pk, v string) item.Item { return item.Item{"pk": item.S(pk), "v": item.S(v)} }
	for _, v := range []string{"1", "22", "333"} {
		evalApply(t, eng, blindPut(key(t, "a"), it("a", v)), nil, blind, next())
	}
	evalApply(t, eng, blindPut(key(t, "b"), it("b", "x")), nil, blind, next())
	truth := fsm.Stats{Items: 2, Bytes: int64(it("a", "333").Size() + it("b", "x").Size())}

	snap := eng.NewSnapshot()
	seen, err := fsm.ReadStats(snap, part)
	if err != nil {
		t.Fatal(err)
	}
	found, err := fsm.CountItems(snap, rangeOf(part))
	snap.Close()
	if err != nil {
		t.Fatal(err)
	}
	if found.Items != truth.Items || found.Bytes != truth.Bytes {
		t.Fatalf("count found %+v, want %+v", found, truth)
	}
	if seen.Items != 4 || seen.Blind != 4 {
		t.Fatalf("statistics before the recount: %+v", seen)
	}
	// A blind overwrite after the counted state: still counted once the
	// recount applies.
	evalApply(t, eng, blindPut(key(t, "b"), it("b", "y")), nil, blind, next())
	recount := func(at uint64) *partitapb.Command {
		return &partitapb.Command{Id: []byte("r"), Op: &partitapb.Command_RecountStats{RecountStats: &partitapb.RecountStats{
			TableId: 1, AppliedIndex: at, SeenItems: seen.Items, SeenBytes: seen.Bytes, SeenBlind: seen.Blind,
			FoundItems: found.Items, FoundBytes: found.Bytes}}}
	}
	if res := apply(t, eng, part, recount(10)); res.GetError() != nil {
		t.Fatal(res.GetError())
	}
	want := fsm.Stats{Items: truth.Items + 1, Bytes: truth.Bytes + int64(it("b", "y").Size()), Blind: 1, RecountedAt: 10}
	if s := stats(t, eng); s != want {
		t.Fatalf("after the recount: %+v, want %+v", s, want)
	}
	for _, at := range []uint64{10, 9} {
		if res := apply(t, eng, part, recount(at)); res.GetError() != nil {
			t.Fatal(res.GetError())
		}
		if s := stats(t, eng); s != want {
			t.Fatalf("a recount at %d applied again: %+v, want %+v", at, s, want)
		}
	}
}

// TestRecountRefusedOnAFrozenRight: a merge copies the statistics of each
// node's frozen right replica when its left replica applies the merge, so
// a recount must not change them after the freeze (replicas of the left
// would then take different statistics).
func TestRecountRefusedOnAFrozenRight(t *testing.T) {
	eng := openEngine(t)
	d := rangeOf(part)
	d.Frozen = &partitapb.MergeIntent{Id: []byte("m"), Left: part - 1, Right: part}
	res := applyIn(t, eng, d, &partitapb.Command{Id: []byte("r"), Op: &partitapb.Command_RecountStats{RecountStats: &partitapb.RecountStats{
		TableId: 1, AppliedIndex: 5, SeenItems: 3, FoundItems: 1}}})
	if !partitapb.IsWrongRange(res.GetError()) {
		t.Fatalf("recount of a frozen right half: %v, want WRONG_RANGE", res)
	}
	if s := stats(t, eng); s != (fsm.Stats{}) {
		t.Fatalf("statistics after the refused recount: %+v", s)
	}
}

// TestStatsRecordRoundTrip: statistics with blind puts or a recount
// survive their record; those without keep the older, shorter records.
func TestStatsRecordRoundTrip(t *testing.T) {
	for _, s := range []fsm.Stats{
		{Items: 3, Bytes: 40},
		{Items: 3, Bytes: 40, Blind: 2},
		{Items: 3, Bytes: 40, RecountedAt: 9},
		{Items: 3, Bytes: 40, Blind: -1, RecountedAt: 9, Local: [fsm.MaxLocalIndexes]fsm.IndexStats{{Items: 1, Bytes: 2}}},
	} {
		eng := openEngine(t)
		b := eng.NewIndexedBatch()
		if err := fsm.WriteStatsForTest(b, part, s); err != nil {
			t.Fatal(err)
		}
		if err := eng.Commit(b); err != nil {
			t.Fatal(err)
		}
		raw, err := eng.Get(fsm.StatsKey(part))
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int{false: 16, true: 112}[s.Blind != 0 || s.RecountedAt != 0]; len(raw) != want {
			t.Errorf("%+v: record of %d bytes, want %d", s, len(raw), want)
		}
		if got := stats(t, eng); got != s {
			t.Errorf("read back %+v, want %+v", got, s)
		}
	}
}
