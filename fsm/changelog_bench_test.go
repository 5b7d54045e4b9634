package fsm_test

import (
	"strconv"
	"testing"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

// BenchmarkApplyEffectsChangeLog measures applying the Effects of a put
// over an existing item (256 B), one entry a batch committed without
// fsync, for each change view: none is the peer the others pay over
// (the log's record, its state and the old image in the entry).
func BenchmarkApplyEffectsChangeLog(b *testing.B) {
	for _, view := range []partitapb.ChangeView{
		partitapb.ChangeView_CHANGE_VIEW_NONE, partitapb.ChangeView_KEYS_ONLY, partitapb.ChangeView_NEW_AND_OLD_IMAGES,
	} {
		b.Run("view="+view.String(), func(b *testing.B) { benchApplyEffects(b, view) })
	}
}

func benchApplyEffects(b *testing.B, view partitapb.ChangeView) {
	eng, err := engine.Open(engine.Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close()
	const keys = 1024
	effects := make([]*partitapb.Effects, keys)
	for i := range effects {
		pk := "user#" + strconv.Itoa(i)
		k, err := engine.DataKey(nil, 1, item.S(pk), item.Value{})
		if err != nil {
			b.Fatal(err)
		}
		v := item.EncodeItem(item.Item{"pk": item.S(pk), "v": item.B(make([]byte, 240))})
		effects[i] = &partitapb.Effects{Term: 1, Key: k, Value: v, Items: 1, Bytes: int64(len(v)), UnixNanos: 1}
		fsm.WithChange(effects[i], &partitapb.Result{OldItem: v, HasOld: true, NewItem: v, HasNew: true}, view, 1)
	}
	desc := rangeOf(part)
	lai := uint64(0)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		e := effects[i%keys]
		lai++
		e.LeaseIndex = lai
		batch := eng.NewIndexedBatch()
		a := fsm.NewApplier(batch, desc)
		res, err := a.ApplyEffects(e, 1)
		if err != nil || res.GetError() != nil {
			b.Fatalf("apply: %v %v", res, err)
		}
		if err := a.Flush(); err != nil {
			b.Fatal(err)
		}
		if err := eng.CommitNoSync(batch); err != nil {
			b.Fatal(err)
		}
	}
}
