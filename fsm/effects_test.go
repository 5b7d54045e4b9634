package fsm_test

import (
	"testing"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

// applyEffects applies es, each in a term-1 entry, in one batch of the
// partition owning rangeOf(part), commits it and returns the results'
// error codes.
func applyEffects(t *testing.T, eng *engine.Engine, es ...*partitapb.Effects) []partitapb.Error_Code {
	t.Helper()
	b := eng.NewIndexedBatch()
	a := fsm.NewApplier(b, rangeOf(part))
	var codes []partitapb.Error_Code
	for _, e := range es {
		res, err := a.ApplyEffects(e, 1)
		if err != nil {
			t.Fatal(err)
		}
		codes = append(codes, res.GetError().GetCode())
	}
	if err := a.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := eng.Commit(b); err != nil {
		t.Fatal(err)
	}
	return codes
}

// TestEffectsRefusals: Effects apply blind unless their lease index is not
// above the lease-applied index, or they were evaluated over a write that
// was refused (depends_on), or their key is outside the range; the lease
// state survives the batch.
func TestEffectsRefusals(t *testing.T) {
	eng := openEngine(t)
	k := key(t, "a")
	v := func(n string) []byte {
		return item.EncodeItem(item.Item{"pk": item.S("a"), "n": item.N(item.MustNumber(n))})
	}
	outside, err := engine.DataKey(nil, 2, item.S("a"), item.Value{}) // table 2: not in the range
	if err != nil {
		t.Fatal(err)
	}
	ok, stale, wrong := partitapb.Error_UNKNOWN, partitapb.Error_STALE_EVALUATION, partitapb.Error_WRONG_RANGE
	got := applyEffects(t, eng,
		&partitapb.Effects{Term: 1, LeaseIndex: 1, Key: k, Value: v("1"), Items: 1},
		&partitapb.Effects{Term: 1, LeaseIndex: 2, Key: outside, Value: v("9"), Items: 1},
		// Evaluated over entry 2, which was refused.
		&partitapb.Effects{Term: 1, LeaseIndex: 3, Key: outside, Value: v("10"), DependsOn: 2},
		// Evaluated over entry 1, which applied; but entries after it were
		// refused, and apply does not tell items apart: refused too.
		&partitapb.Effects{Term: 1, LeaseIndex: 4, Key: k, Value: v("2"), DependsOn: 1},
		&partitapb.Effects{Term: 1, LeaseIndex: 5, Key: k, Value: v("2")},
		// Evaluated over entry 5: no refusal since.
		&partitapb.Effects{Term: 1, LeaseIndex: 6, Key: k, Value: v("3"), DependsOn: 5},
	)
	if want := []partitapb.Error_Code{ok, wrong, stale, stale, ok, ok}; !equalCodes(got, want) {
		t.Fatalf("codes %v, want %v", got, want)
	}
	// A later batch: entry 1 again, an entry of another term, one over
	// entry 6 (applied), one over entry 3 (refused).
	b := eng.NewIndexedBatch()
	a := fsm.NewApplier(b, rangeOf(part))
	for i, c := range []struct {
		e    *partitapb.Effects
		term uint64
		want partitapb.Error_Code
	}{
		{&partitapb.Effects{Term: 1, LeaseIndex: 1, Key: k, Value: v("1")}, 1, stale},
		{&partitapb.Effects{Term: 1, LeaseIndex: 7, Key: k, Value: v("7")}, 2, stale},
		{&partitapb.Effects{Term: 2, LeaseIndex: 8, Key: k, Value: v("4"), DependsOn: 6}, 2, ok},
		{&partitapb.Effects{Term: 2, LeaseIndex: 9, Key: k, Value: v("7"), DependsOn: 3}, 2, stale},
	} {
		res, err := a.ApplyEffects(c.e, c.term)
		if err != nil {
			t.Fatal(err)
		}
		if res.GetError().GetCode() != c.want {
			t.Fatalf("entry %d of the second batch: %v, want %v", i, res.GetError(), c.want)
		}
	}
	if err := a.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := eng.Commit(b); err != nil {
		t.Fatal(err)
	}
	raw, err := eng.Get(k)
	if err != nil {
		t.Fatal(err)
	}
	if n := decode(t, raw)["n"].N.String(); n != "4" {
		t.Fatalf("n = %s, want 4", n)
	}
	if lai, err := fsm.ReadLeaseIndex(eng, part); err != nil || lai != 9 {
		t.Fatalf("lease-applied index %d (%v), want 9", lai, err)
	}
	if s, err := fsm.ReadStats(eng, part); err != nil || s.Items != 1 {
		t.Fatalf("stats %+v (%v), want one item", s, err)
	}
}

func equalCodes(a, b []partitapb.Error_Code) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
