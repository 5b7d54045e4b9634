package fsm_test

import (
	"testing"

	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

// TestFenceDeletedTable: once a partition is fenced as a deleted table's,
// item writes (and what was evaluated over them) are refused with
// TABLE_NOT_FOUND; the mark is kept
// with the change floor, which a later SetChangeFloor changes without
// clearing the mark; fencing again changes nothing.
func TestFenceDeletedTable(t *testing.T) {
	eng := openEngine(t)
	k := key(t, "a")
	v := item.EncodeItem(item.Item{"pk": item.S("a")})
	ni := partitapb.ChangeView_NEW_IMAGE
	ok, gone, stale := partitapb.Error_UNKNOWN, partitapb.Error_TABLE_NOT_FOUND, partitapb.Error_STALE_EVALUATION
	fence := &partitapb.Command{Id: []byte("fence"), Op: &partitapb.Command_FenceDeletedTable{FenceDeletedTable: &partitapb.FenceDeletedTable{TableId: 1}}}

	apply(t, eng, part, setFloor(ni, 3))
	if got := applyEffects(t, eng, &partitapb.Effects{Term: 1, LeaseIndex: 1, Key: k, Value: v, Items: 1, ChangeView: ni, ChangeUnixNanos: 1}); !equalCodes(got, []partitapb.Error_Code{ok}) {
		t.Fatalf("before the fence: %v", got)
	}
	if res := apply(t, eng, part, fence); res.GetError() != nil {
		t.Fatalf("fence: %v", res.GetError())
	}
	if f, err := fsm.ReadChangeFloor(eng.Reader(), part); err != nil || f != (fsm.ChangeFloor{View: ni, Revision: 3, Deleted: true}) {
		t.Fatalf("floor %+v, %v", f, err)
	}
	got := applyEffects(t, eng,
		&partitapb.Effects{Term: 1, LeaseIndex: 2, Key: k, Value: v, ChangeView: ni, ChangeUnixNanos: 2},
		&partitapb.Effects{Term: 1, LeaseIndex: 3, Key: k, Delete: true, DependsOn: 2, ChangeView: ni, ChangeUnixNanos: 2},
	)
	if want := []partitapb.Error_Code{gone, stale}; !equalCodes(got, want) {
		t.Fatalf("codes %v, want %v", got, want)
	}
	apply(t, eng, part, setFloor(partitapb.ChangeView_CHANGE_VIEW_NONE, 4))
	apply(t, eng, part, fence)
	if f, _ := fsm.ReadChangeFloor(eng.Reader(), part); f != (fsm.ChangeFloor{Revision: 4, Deleted: true}) {
		t.Fatalf("after a later floor and a second fence: %+v", f)
	}
	if got := applyEffects(t, eng, &partitapb.Effects{Term: 1, LeaseIndex: 5, Key: k, Value: v}); !equalCodes(got, []partitapb.Error_Code{gone}) {
		t.Fatalf("after a later floor: %v", got)
	}
}
