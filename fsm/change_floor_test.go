package fsm_test

import (
	"testing"

	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

func setFloor(view partitapb.ChangeView, rev uint64) *partitapb.Command {
	return &partitapb.Command{Id: []byte("floor"), Op: &partitapb.Command_SetChangeFloor{SetChangeFloor: &partitapb.SetChangeFloor{
		TableId: 1, View: view, TableRevision: rev}}}
}

// TestChangeFloor: once a partition's change floor applied, an item
// write whose Effects log less than it is refused for re-evaluation
// (and what was evaluated over it too), while writes that log enough,
// refused writes and writes of nothing apply; a floor set at an older
// table revision changes nothing; a floor can be lowered.
func TestChangeFloor(t *testing.T) {
	eng := openEngine(t)
	k := key(t, "a")
	v := item.EncodeItem(item.Item{"pk": item.S("a")})
	none, both := partitapb.ChangeView_CHANGE_VIEW_NONE, partitapb.ChangeView_NEW_AND_OLD_IMAGES
	ok, stale := partitapb.Error_UNKNOWN, partitapb.Error_STALE_EVALUATION

	// No floor: a write logging nothing applies.
	if got := applyEffects(t, eng, &partitapb.Effects{Term: 1, LeaseIndex: 1, Key: k, Value: v, Items: 1}); !equalCodes(got, []partitapb.Error_Code{ok}) {
		t.Fatalf("without a floor: %v", got)
	}
	if res := apply(t, eng, part, setFloor(both, 5)); res.GetError() != nil || res.ChangeLast == nil || res.GetChangeLast() != 0 {
		t.Fatalf("set floor: %v, change_last %v (want 0: nothing logged yet)", res.GetError(), res.ChangeLast)
	}
	if f, err := fsm.ReadChangeFloor(eng.Reader(), part); err != nil || f != (fsm.ChangeFloor{View: both, Revision: 5}) {
		t.Fatalf("floor %+v, %v", f, err)
	}
	got := applyEffects(t, eng,
		&partitapb.Effects{Term: 1, LeaseIndex: 2, Key: k, Value: v},                                                                 // evaluated before the floor was known
		&partitapb.Effects{Term: 1, LeaseIndex: 3, Key: k, Delete: true, DependsOn: 2, ChangeView: both, ChangeUnixNanos: 1},         // over the refused one
		&partitapb.Effects{Term: 1, LeaseIndex: 4, Key: k, Value: v, ChangeView: partitapb.ChangeView_NEW_IMAGE, ChangeUnixNanos: 1}, // logs less
		&partitapb.Effects{Term: 1, LeaseIndex: 5, Key: k, Error: &partitapb.Error{Code: partitapb.Error_CONDITION_FAILED}},          // writes nothing
		&partitapb.Effects{Term: 1, LeaseIndex: 6, Key: k, Value: v, ChangeView: both, ChangeUnixNanos: 1},                           // logs enough
	)
	if want := []partitapb.Error_Code{stale, stale, stale, partitapb.Error_CONDITION_FAILED, ok}; !equalCodes(got, want) {
		t.Fatalf("codes %v, want %v", got, want)
	}
	// An older revision's floor (a node whose directory lags) is ignored.
	// The log's end is reported all the same (a stream's cut): the write
	// that logged enough is its record 1.
	if res := apply(t, eng, part, setFloor(none, 4)); res.ChangeLast == nil || res.GetChangeLast() != 1 {
		t.Fatalf("change_last %v, want 1", res.ChangeLast)
	}
	if f, _ := fsm.ReadChangeFloor(eng.Reader(), part); f.View != both {
		t.Fatalf("an older revision lowered the floor to %v", f.View)
	}
	// The table's view went back to none at a newer revision: lowered.
	apply(t, eng, part, setFloor(none, 6))
	if got := applyEffects(t, eng, &partitapb.Effects{Term: 1, LeaseIndex: 7, Key: k, Value: v}); !equalCodes(got, []partitapb.Error_Code{ok}) {
		t.Fatalf("after lowering: %v", got)
	}
}

func TestUnionView(t *testing.T) {
	n, k, ni, oi, b := partitapb.ChangeView_CHANGE_VIEW_NONE, partitapb.ChangeView_KEYS_ONLY,
		partitapb.ChangeView_NEW_IMAGE, partitapb.ChangeView_OLD_IMAGE, partitapb.ChangeView_NEW_AND_OLD_IMAGES
	for _, c := range []struct{ a, b, want partitapb.ChangeView }{
		{n, n, n}, {n, k, k}, {k, n, k}, {k, ni, ni}, {oi, k, oi}, {ni, oi, b}, {oi, ni, b}, {b, k, b}, {ni, b, b}, {ni, ni, ni},
	} {
		if got := fsm.UnionView(c.a, c.b); got != c.want {
			t.Errorf("UnionView(%v, %v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}
